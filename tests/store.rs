//! The store is shared and holds what others put there: it deletes nothing it cannot prove is
//! its own and damaged, never loops on bad rows, and writes files others can read.

use cachescope::store::{Store, KEY};
use polars::prelude::*;
use polars_io::prelude::ParquetWriter;
use std::path::Path;

fn write_parquet(path: &Path, mut df: DataFrame) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut df).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn part_dir(root: &Path, table: &str) -> std::path::PathBuf {
    root.join(table).join("project=p").join("date=2026-01-01")
}

#[test]
fn unreadable_files_are_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Someone else's file, and one of ours damaged.
    let foreign = part_dir(root, "builds").join("compacted.parquet");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, b"not parquet at all").unwrap();
    let ours = part_dir(root, "builds").join("part-0001-00001.parquet");
    std::fs::write(&ours, b"PAR1 damaged").unwrap();
    let store = Store::open(Some(root)).unwrap();
    let loaded = store.load("p").unwrap();
    assert!(loaded.builds.is_empty());
    assert_eq!(loaded.damaged.len(), 2, "{:?}", loaded.damaged);
    assert!(foreign.exists(), "a foreign file stays where it is");
    assert!(!ours.exists(), "our damaged part is moved aside");
    let aside = root.join("quarantine/builds/project=p/date=2026-01-01/part-0001-00001.parquet");
    assert_eq!(std::fs::read(aside).unwrap(), b"PAR1 damaged", "and kept");
    // Loading again neither loops nor loses the foreign file.
    assert_eq!(store.load("p").unwrap().damaged.len(), 1);
    assert!(foreign.exists());
}

#[test]
fn null_keys_in_a_part_do_not_hang_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let name = "part-0002-00001.parquet";
    let builds = df!(KEY => ["a"], "build_id" => ["b:1"]).unwrap();
    let steps = df!(KEY => [None, Some("a"), None], "step" => ["#1", "#2", "#3"]).unwrap();
    write_parquet(&part_dir(root, "builds").join(name), builds);
    write_parquet(&part_dir(root, "steps").join(name), steps);
    let loaded = Store::open(Some(root)).unwrap().load("p").unwrap();
    assert_eq!(loaded.builds["a"].steps.height(), 1);
}

#[cfg(unix)]
#[test]
fn parts_are_readable_by_the_other_users_of_a_shared_store() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path())).unwrap();
    let mut w = store.writer("p");
    let row = df!("build_id" => ["b:1"]).unwrap();
    let steps = df!("step" => ["#1"]).unwrap();
    w.add("2026-01-01", "a", &row, &steps).unwrap();
    w.flush().unwrap();
    let mut n = 0;
    for table in ["builds", "steps"] {
        for f in std::fs::read_dir(part_dir(dir.path(), table)).unwrap() {
            let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o044, 0o044, "{table}: mode {mode:o}");
            n += 1;
        }
    }
    assert_eq!(n, 2);
    assert!(store.load("p").unwrap().builds.contains_key("a"));
}

#[test]
fn any_project_name_is_stored_inside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::open(Some(&root)).unwrap();
    let long = "p".repeat(255);
    for project in ["../../escape", "a/b", long.as_str(), "ünï cødé"] {
        let mut w = store.writer(project);
        let row = df!("build_id" => ["b:1"]).unwrap();
        let steps = df!("step" => ["#1"]).unwrap();
        w.add("2026-01-01", "a", &row, &steps).unwrap();
        w.flush().unwrap();
        assert!(
            store.load(project).unwrap().builds.contains_key("a"),
            "{project}"
        );
    }
    let outside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(outside.len(), 1, "nothing written beside the store");
    // Two long names that share their first 238 characters stay apart.
    let other = format!("{}q", "p".repeat(254));
    assert!(store.load(&other).unwrap().builds.is_empty());
}
