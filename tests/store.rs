//! The store is shared and holds what others put there: it deletes nothing it cannot prove is
//! its own and damaged, never loops on bad rows, and writes files others can read.

use cachescope::store::{Store, KEY};
use polars::prelude::*;
use polars_io::prelude::ParquetWriter;
use proptest::prelude::*;
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

fn files_in(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Three parts of four builds, two steps each.
fn seeded_store(root: &Path) -> Store {
    let store = Store::open(Some(root)).unwrap();
    for part in 0..3 {
        let mut w = store.writer("p");
        for b in 0..4 {
            let key = format!("k{part}{b}");
            let row = df!("build_id" => [key.as_str()], "hit_ratio" => [0.5]).unwrap();
            let steps = df!("step" => ["#1", "#2"], "name" => ["FROM x", "RUN y"]).unwrap();
            w.add("2026-01-01", &key, &row, &steps).unwrap();
        }
        w.flush().unwrap();
        // Writers in one millisecond would share a run name.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]
    /// Store fuzz: byte flips, truncations, missing twins, foreign files (some with our
    /// columns) and null keys, in random combinations. Every run ends, nothing panics, no
    /// foreign file is changed or removed, no file of ours is deleted (only moved aside), and
    /// every build whose two parts were left alone is still read whole.
    #[test]
    fn store_fuzz_damage_never_hangs_panics_or_removes_a_file(
        damage in proptest::collection::vec(proptest::collection::vec(any::<u64>(), 12), 1..5)
    ) {
        damage_case(&damage);
    }
}

/// One store fuzz case: each inner list is one damage, its numbers the choices it makes.
fn damage_case(damage: &[Vec<u64>]) {
    let seed = format!("{damage:?}");
    {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        seeded_store(&root);
        let ours = files_in(&root);
        let parts: Vec<_> = ours
            .iter()
            .filter(|p| p.extension().is_some())
            .cloned()
            .collect();
        let mut touched = std::collections::HashSet::new();
        let mut foreign = Vec::new();
        for choices in damage {
            let mut choice = choices.iter().copied().cycle();
            let mut below = |n: usize| (choice.next().unwrap() % n.max(1) as u64) as usize;
            let victim = parts[below(parts.len())].clone();
            match below(7) {
                0 => {
                    let mut bytes = std::fs::read(&victim).unwrap_or_default();
                    for _ in 0..1 + below(8) {
                        if !bytes.is_empty() {
                            let i = below(bytes.len());
                            bytes[i] ^= 1 << below(8);
                        }
                    }
                    std::fs::write(&victim, bytes).unwrap();
                    touched.insert(victim);
                }
                1 => {
                    let bytes = std::fs::read(&victim).unwrap_or_default();
                    std::fs::write(&victim, &bytes[..below(bytes.len())]).unwrap();
                    touched.insert(victim);
                }
                2 => {
                    let _ = std::fs::remove_file(&victim); // a twin goes missing
                    touched.insert(victim);
                }
                3 => {
                    let path = victim.with_file_name(format!("compacted-{}.parquet", below(99)));
                    std::fs::write(&path, b"PAR1 not ours").unwrap();
                    foreign.push(path);
                }
                4 => {
                    // Someone else's file with our columns and our keys.
                    let path = victim.with_file_name(format!("export-{}.parquet", below(99)));
                    let df = df!(KEY => ["k00", "k10"], "build_id" => ["k00", "k10"]).unwrap();
                    write_parquet(&path, df);
                    foreign.push(path);
                }
                5 => {
                    let name = format!("part-ffff-{:05}.parquet", below(99));
                    let keys = [None, Some("z"), None];
                    let builds = df!(KEY => keys, "build_id" => ["a", "b", "c"]).unwrap();
                    let steps = df!(KEY => [None::<&str>, None], "step" => ["#1", "#2"]).unwrap();
                    write_parquet(&part_dir(&root, "builds").join(&name), builds);
                    write_parquet(&part_dir(&root, "steps").join(&name), steps);
                }
                _ => {
                    let path = victim.with_file_name("README.txt");
                    std::fs::write(&path, b"notes").unwrap();
                    foreign.push(path);
                }
            }
        }
        let foreign: Vec<(std::path::PathBuf, Vec<u8>)> = foreign
            .into_iter()
            .filter_map(|p| Some((p.clone(), std::fs::read(&p).ok()?)))
            .collect();

        let (done, wait) = std::sync::mpsc::channel();
        let worker_root = root.clone();
        let worker = std::thread::spawn(move || {
            let store = Store::open(Some(&worker_root)).unwrap();
            let _lock = store.lock().unwrap();
            let first = store.load("p").unwrap();
            let keys: std::collections::HashSet<String> = ["k00", "k21"].map(String::from).into();
            store.forget("p", &keys, None).unwrap();
            let mut w = store.writer("p");
            let row = df!("build_id" => ["new"], "hit_ratio" => [1.0]).unwrap();
            let steps = df!("step" => ["#1"], "name" => ["FROM x"]).unwrap();
            w.add("2026-01-01", "new", &row, &steps).unwrap();
            w.flush().unwrap();
            let again = store.load("p").unwrap();
            let _ = done.send(());
            (first, again)
        });
        let waited = wait.recv_timeout(std::time::Duration::from_secs(60));
        assert_ne!(
            waited,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout),
            "seed {seed}: the store did not finish in 60 s"
        );
        let (first, again) = worker
            .join()
            .unwrap_or_else(|_| panic!("seed {seed}: panicked"));

        for (path, bytes) in &foreign {
            assert_eq!(
                std::fs::read(path).ok().as_ref(),
                Some(bytes),
                "seed {seed}: foreign {} changed or removed",
                path.display()
            );
        }
        // forget() rewrites parts 0 and 2 (k00, k21), the parts in name order.
        let mut part_names: Vec<String> = (ours.iter())
            .filter(|p| p.starts_with(root.join("builds")))
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        part_names.sort();
        let forgotten = |p: &Path| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name == part_names[0] || name == part_names[2]
        };
        for p in &ours {
            if touched.contains(p) || forgotten(p) {
                continue;
            }
            let aside = root.join("quarantine").join(p.strip_prefix(&root).unwrap());
            assert!(
                p.exists() || aside.exists(),
                "seed {seed}: {} was deleted",
                p.display()
            );
        }
        assert!(again.builds.contains_key("new"), "seed {seed}");
        // (A flipped byte inside a data page can decode to other values: a damaged part's
        // builds are not checked, only that nothing hangs, panics or is deleted.)
        // Every build whose parts were left alone is read whole.
        let whole = |name: &str| {
            ["builds", "steps"].iter().all(|t| {
                let p = part_dir(&root, t).join(name);
                !touched.contains(&p)
            })
        };
        let names: Vec<String> = ours
            .iter()
            .filter(|p| p.starts_with(root.join("builds")))
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        for (i, name) in names.iter().enumerate() {
            if whole(name) {
                for b in 0..4 {
                    let key = format!("k{i}{b}");
                    let b = first.builds.get(&key);
                    assert_eq!(b.map(|b| b.steps.height()), Some(2), "seed {seed}: {key}");
                }
            }
        }
    }
}

/// A killed run's temporary files are swept by the next run to take the store, in both tables,
/// once they are an hour old (a running writer's are younger: they stay).
#[test]
fn stale_temporary_files_are_swept_in_both_tables() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3700);
    let mut old = Vec::new();
    let mut fresh = Vec::new();
    for table in ["builds", "steps"] {
        let d = part_dir(root, table);
        std::fs::create_dir_all(&d).unwrap();
        let o = d.join(".partial-killed.tmp");
        std::fs::write(&o, b"half a part").unwrap();
        let f = std::fs::File::options().write(true).open(&o).unwrap();
        f.set_modified(hour_ago).unwrap();
        old.push(o);
        let n = d.join(".partial-running.tmp");
        std::fs::write(&n, b"being written").unwrap();
        fresh.push(n);
    }
    let store = Store::open(Some(root)).unwrap();
    drop(store.lock().unwrap());
    for o in &old {
        assert!(!o.exists(), "{} swept", o.display());
    }
    for n in &fresh {
        assert!(n.exists(), "{} kept", n.display());
    }
}

/// Forgetting every steps row of a part whose builds stay (a build with no steps) keeps the part
/// whole: its other builds are still read.
#[test]
fn forgetting_all_steps_of_a_part_keeps_its_other_builds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path())).unwrap();
    let mut w = store.writer("p");
    let steps = df!("step" => ["#1"]).unwrap();
    let none = steps.clear();
    w.add(
        "2026-01-01",
        "a",
        &df!("build_id" => ["a"]).unwrap(),
        &steps,
    )
    .unwrap();
    w.add("2026-01-01", "b", &df!("build_id" => ["b"]).unwrap(), &none)
        .unwrap();
    w.flush().unwrap();
    let keys = std::collections::HashSet::from(["a".to_string()]);
    store.forget("p", &keys, None).unwrap();
    let loaded = store.load("p").unwrap();
    assert!(loaded.damaged.is_empty(), "{:?}", loaded.damaged);
    assert_eq!(loaded.builds.keys().collect::<Vec<_>>(), ["b"]);
}
