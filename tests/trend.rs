//! `cachescope trend`: many builds of a project from CodeBuild (moto server + the stub answering
//! ListBuildsForProject and BatchGetBuilds) or from local files, the incremental store, the trend
//! frame, charts and summary.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cachescope::analyze::{summarize, BuildInput};
use cachescope::parse::parse_bytes;
use polars::prelude::*;
use polars_io::prelude::{ParquetReader, SerReader};
use serde_json::{json, Value};
use support::aws::{
    bare, bin, events_of, now_ms, ok, on_host, run, stderr, Canned, Moto, Stub, LOGS,
};
use support::logs::{codebuild_log, STEPS};

const PROJECT: &str = "tts-service-build";

/// What `build` reports for a log alone: hit_ratio and cache-bust step.
fn alone(log: &str) -> (Option<f64>, Option<String>) {
    let input = BuildInput::from_parsed("x".into(), parse_bytes(log.as_bytes()), None);
    let s = summarize(&input, None).unwrap();
    (s.hit_ratio, s.cache_bust.map(|b| b.name))
}

/// How many of the steps each build takes from cache: mostly warm, some cold, a few regressions.
fn cached_of(n: usize) -> usize {
    match n % 17 {
        0 => 0,
        5 | 11 => 2,
        _ => 4 + n % 3 % 2,
    }
}

fn uuid(n: usize) -> String {
    format!("7a6b5c4d-3e2f-4a1b-8c9d-{n:012x}")
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// Every Parquet file under `dir` with its modification time.
fn stamps(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    files(dir, ".parquet")
        .into_iter()
        .map(|p| {
            let t = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, t)
        })
        .collect()
}

/// Every Parquet file under `dir`, as one frame.
fn table(dir: &Path) -> DataFrame {
    let mut all: Option<DataFrame> = None;
    for p in files(dir, ".parquet") {
        let df = read_parquet(&p);
        match &mut all {
            Some(a) => {
                a.vstack_mut(&df).unwrap();
            }
            None => all = Some(df),
        }
    }
    all.unwrap_or_default()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p, ext));
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// 200 builds in CodeBuild (the stub lists them in pages of 100 and describes them 100 at a
/// time) with their logs in moto: 200 rows equal to each log analyzed alone; a second run
/// fetches no log; a missing stream costs its build only.
#[test]
fn two_hundred_codebuild_builds() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    const N: usize = 200;
    let group = format!("/aws/codebuild/{PROJECT}");
    let mut logs = Vec::new();
    for n in 0..N {
        let log = codebuild_log(n, 1 + (n / 10) as u32 % 28, cached_of(n));
        moto.create_stream(&group, &uuid(n));
        moto.put_events(&group, &uuid(n), &events_of(&log, 1));
        logs.push(log);
    }
    let mut ids: Vec<String> = (0..N).map(|n| format!("{PROJECT}:{}", uuid(n))).collect();
    // One more, still running: listed, never analyzed or counted.
    ids.push(format!("{PROJECT}:{}", uuid(N)));
    // Newest first, as CodeBuild lists them; 100 a page.
    let listed: Vec<String> = ids.iter().rev().cloned().collect();
    stub.codebuild_fn("ListBuildsForProject", move |req| {
        let start: usize = req["nextToken"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let page = &listed[start..(start + 100).min(listed.len())];
        let mut body = json!({ "ids": page });
        if start + 100 < listed.len() {
            body["nextToken"] = json!((start + 100).to_string());
        }
        Canned::ok(body.to_string())
    });
    let base = (now_ms() / 1000 - 30 * 86_400) as f64;
    stub.codebuild_fn("BatchGetBuilds", move |req| {
        let asked: Vec<&str> = req["ids"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert!(asked.len() <= 100, "BatchGetBuilds takes at most 100 ids");
        let builds: Vec<Value> = asked
            .iter()
            .map(|id| {
                let n = usize::from_str_radix(&id[id.len() - 12..], 16).unwrap();
                let start = base + n as f64 * 3600.0;
                json!({
                    "id": id, "arn": format!("arn:aws:codebuild:us-east-1:123456789012:build/{id}"),
                    "buildNumber": n + 1, "startTime": start, "endTime": start + 300.0 + (n % 7) as f64 * 20.0,
                    "currentPhase": "COMPLETED", "projectName": PROJECT,
                    "buildStatus": if n == N { "IN_PROGRESS" } else { "SUCCEEDED" },
                    "resolvedSourceVersion": format!("{n:040x}"),
                    "logs": { "groupName": format!("/aws/codebuild/{PROJECT}"), "streamName": &id[id.len() - 36..] },
                })
            })
            .collect();
        Canned::ok(json!({ "builds": builds, "buildsNotFound": [] }).to_string())
    });
    let store = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        "--project",
        PROJECT,
        "--store",
        store.path().to_str().unwrap(),
        "--format",
        "json",
        "--rate",
        "0",
        "--jobs",
        "8",
        "--out",
        out.path().to_str().unwrap(),
    ];
    let rows: Vec<Value> = serde_json::from_str(&ok(&run(&stub, &args))).unwrap();
    assert_eq!(rows.len(), N);
    for r in &rows {
        let n = r["number"].as_u64().unwrap() as usize - 1;
        let (hit, bust) = alone(&logs[n]);
        assert_eq!(r["hit_ratio"].as_f64(), hit, "build {n}");
        assert_eq!(r["cache_bust_step"].as_str(), bust.as_deref(), "build {n}");
        assert_eq!(r["build_id"], ids[n].as_str());
    }
    let numbers: Vec<u64> = rows.iter().map(|r| r["number"].as_u64().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let get_log_events = stub.count(&format!("{LOGS}.GetLogEvents"));
    assert_eq!(
        get_log_events,
        2 * N as u64,
        "pages + 1 per build (one page each)"
    );
    // 201 IDs: three pages of a listing, three BatchGetBuilds calls of at most 100.
    assert_eq!(stub.count("CodeBuild_20161006.ListBuildsForProject"), 3);
    assert_eq!(stub.count("CodeBuild_20161006.BatchGetBuilds"), 3);

    // The store read back equals the frame: one row per build, hive-partitioned.
    let parts = files(&store.path().join("builds"), ".parquet");
    assert!(parts[0]
        .to_string_lossy()
        .contains(&format!("project={PROJECT}/date=")));
    let stored = table(&store.path().join("builds"));
    assert_eq!(stored.height(), N);
    let frame = read_parquet(&out.path().join("trend.parquet"));
    assert_eq!(frame.height(), N);
    let stored_ids = stored.column("build_id").unwrap().str().unwrap().clone();
    for i in 0..N {
        let id = stored_ids.get(i).unwrap();
        let row = stored.slice(i as i64, 1);
        let mask = frame.column("build_id").unwrap().str().unwrap().equal(id);
        let trend_row = frame.filter(&mask).unwrap();
        for col in [
            "hit_ratio",
            "hit_ratio_all",
            "rebuilt_s",
            "cache_bust_step",
            "scenario",
        ] {
            assert_eq!(
                row.column(col).unwrap().get(0).unwrap(),
                trend_row.column(col).unwrap().get(0).unwrap(),
                "{id} {col}"
            );
        }
    }

    // The steps table joins the builds table on build_id: every build's steps, once.
    let steps = table(&store.path().join("steps"));
    let step_ids = steps.column("build_id").unwrap().str().unwrap().clone();
    for (n, log) in logs.iter().enumerate().step_by(37) {
        let id = format!("{PROJECT}:{}", uuid(n));
        let count = (0..step_ids.len())
            .filter(|&i| step_ids.get(i) == Some(id.as_str()))
            .count();
        assert_eq!(count, parse_bytes(log.as_bytes()).steps.len(), "{id}");
    }

    // Second run: everything is in the store; no log is fetched, and only the running build
    // is described again.
    stub.reset_counts();
    let again: Vec<Value> = serde_json::from_str(&ok(&run(&stub, &args))).unwrap();
    assert_eq!(again, rows);
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")), 0);
    assert_eq!(stub.count("CodeBuild_20161006.BatchGetBuilds"), 1);

    // A fresh store with one stream gone: 199 rows, the missing build named, exit 2.
    moto.call(
        &format!("{LOGS}.DeleteLogStream"),
        &json!({ "logGroupName": group, "logStreamName": uuid(57) }),
    );
    let fresh = tempfile::tempdir().unwrap();
    let out = run(
        &stub,
        &[
            "trend",
            "--project",
            PROJECT,
            "--store",
            fresh.path().to_str().unwrap(),
            "--format",
            "json",
            "--rate",
            "0",
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let partial: Vec<Value> =
        serde_json::from_str(&String::from_utf8(out.stdout.clone()).unwrap()).unwrap();
    assert_eq!(partial.len(), N - 1);
    let err = stderr(&out);
    assert!(
        err.contains(&ids[57]) && err.contains("does not exist"),
        "{err}"
    );

    // --limit and --since pick the most recent builds.
    let limited: Vec<Value> = serde_json::from_str(&ok(&run(
        &stub,
        &[
            "trend",
            "--project",
            PROJECT,
            "--store",
            store.path().to_str().unwrap(),
            "--format",
            "json",
            "--limit",
            "20",
        ],
    )))
    .unwrap();
    assert_eq!(limited.len(), 20, "the running build does not take a place");
    assert_eq!(limited.last().unwrap()["number"], N as u64);
    // --refresh redoes the builds the filters pick, and keeps the others stored, once each.
    stub.reset_counts();
    let mut refresh = vec![
        "trend",
        "--project",
        PROJECT,
        "--format",
        "json",
        "--limit",
        "5",
    ];
    refresh.extend([
        "--refresh",
        "--rate",
        "0",
        "--store",
        store.path().to_str().unwrap(),
    ]);
    let redone: Vec<Value> = serde_json::from_str(&ok(&run(&stub, &refresh))).unwrap();
    assert_eq!(redone.len(), 5);
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")), 10);
    assert_eq!(table(&store.path().join("builds")).height(), N);

    // The filter picks rows; time saved still comes from the whole history.
    for r in &limited {
        let full = rows_by_number(&rows, r["number"].as_u64().unwrap());
        assert_eq!(r["time_saved_s"], full["time_saved_s"]);
        assert_eq!(r["regression"], full["regression"]);
    }
    let since = ok(&run(
        &stub,
        &[
            "trend",
            "--project",
            PROJECT,
            "--store",
            store.path().to_str().unwrap(),
            "--format",
            "json",
            "--since",
            "25d",
        ],
    ));
    let since: Vec<Value> = serde_json::from_str(&since).unwrap();
    // Builds start an hour apart from 30 days ago: the last 25 days hold builds 120 and on.
    let cutoff = now_ms() - 25 * 86_400_000;
    let expected = rows
        .iter()
        .filter(|r| r["start_ms"].as_i64().unwrap() >= cutoff)
        .count();
    assert_eq!(since.len(), expected);
    assert!(expected > 0 && expected < N);
}

fn rows_by_number(rows: &[Value], n: u64) -> &Value {
    rows.iter().find(|r| r["number"] == n).unwrap()
}

/// Writes `n` generated logs into `dir`, one per day from October 1st, and returns them.
fn local_logs(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let log = codebuild_log(i, 1 + i as u32 % 28, cached_of(i));
            std::fs::write(dir.join(format!("build-{i:04}.log")), &log).unwrap();
            log
        })
        .collect()
}

#[test]
fn local_logs_store_charts_and_summary() {
    let logs_dir = tempfile::tempdir().unwrap();
    let logs = local_logs(logs_dir.path(), 28);
    let store = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        logs_dir.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--format",
        "csv",
        "--project",
        "app",
    ];
    let csv = ok(&bare().args(args).output().unwrap());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + logs.len(), "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let hit = header.iter().position(|h| *h == "hit_ratio").unwrap();
    let key = header.iter().position(|h| *h == "key").unwrap();
    let cause = header.iter().position(|h| *h == "cause").unwrap();
    let mut per_cause: std::collections::BTreeMap<String, usize> = Default::default();
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split(',').collect();
        let i: usize = cells[key].trim_start_matches("build-")[..4]
            .parse()
            .unwrap();
        let (want, _) = alone(&logs[i]);
        let got: Option<f64> = cells[hit].parse().ok();
        assert_eq!(
            got.map(|g| (g * 1e9).round()),
            want.map(|w| (w * 1e9).round()),
            "{line}"
        );
        // The same verdict as `build` gives the log alone.
        let input = BuildInput::from_parsed("x".into(), parse_bytes(logs[i].as_bytes()), None);
        let verdict = summarize(&input, None).unwrap().verdict;
        assert_eq!(cells[cause], verdict.cause.id(), "{line}");
        *per_cause.entry(cells[cause].to_string()).or_default() += 1;
    }
    assert!(per_cause.len() >= 2, "{per_cause:?}");

    // Charts: decode, right size, not blank; SVG has one point per build and one cell per step.
    for name in ["hit-ratio", "duration", "heatmap", "scenarios"] {
        let png = image::open(out.path().join(format!("{name}.png")))
            .unwrap()
            .to_rgb8();
        assert_eq!(png.width(), 1280, "{name}");
        let colours: std::collections::HashSet<[u8; 3]> = png.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 8, "{name}.png looks blank");
        let svg = std::fs::read_to_string(out.path().join(format!("{name}.svg"))).unwrap();
        roxmltree::Document::parse(&svg).unwrap();
    }
    let svg = std::fs::read_to_string(out.path().join("hit-ratio.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    let regressions = lines[1..].iter().filter(|l| l.contains(",true,")).count();
    // One dot per build, one ring per regression, one ring in the legend.
    assert_eq!(
        circles,
        logs.len() + regressions + 1,
        "{regressions} regressions"
    );
    assert!(regressions > 0, "the generated cold builds are regressions");
    let heat = std::fs::read_to_string(out.path().join("heatmap.svg")).unwrap();
    let doc = roxmltree::Document::parse(&heat).unwrap();
    let cells = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill").is_some_and(|f| f != "#FFFFFF"))
        .count();
    // Five steps per build (FROM excluded), three legend swatches.
    assert!(cells >= logs.len() * (STEPS - 1) + 3, "{cells} cells");

    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    for (cause, n) in &per_cause {
        assert!(
            md.contains(&format!("| `{cause}` | {n} |")),
            "{cause} {n}: {md}"
        );
    }
    for section in [
        "## Worst builds",
        "## Builds per cause",
        "## Biggest regressions",
        "## Steps that break the cache most often",
    ] {
        assert!(md.contains(section), "{md}");
    }
    let parquet = read_parquet(&out.path().join("trend.parquet"));
    assert_eq!(parquet.height(), logs.len());

    // A file named twice is one build.
    let one = logs_dir.path().join("build-0003.log");
    let mut twice = args.to_vec();
    twice.push(one.to_str().unwrap());
    assert_eq!(ok(&bare().args(&twice).output().unwrap()), csv);

    // A second run analyzes nothing: the store's files are untouched.
    let before = stamps(store.path());
    assert!(!before.is_empty());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(ok(&bare().args(args).output().unwrap()), csv);
    let after = stamps(store.path());
    assert_eq!(before, after);

    // A damaged stored part: its builds are analyzed again, the result is the same, and the
    // store holds every build once.
    let victim = files(&store.path().join("steps"), ".parquet").remove(0);
    std::fs::write(&victim, b"PAR1 not really").unwrap();
    let again = bare().args(args).output().unwrap();
    assert_eq!(ok(&again), csv);
    assert!(
        stderr(&again).contains("analyzed again"),
        "{}",
        stderr(&again)
    );
    assert_eq!(table(&store.path().join("builds")).height(), logs.len());

    // --refresh analyzes everything again and still stores each build once.
    let mut refresh = args.to_vec();
    refresh.push("--refresh");
    assert_eq!(ok(&bare().args(&refresh).output().unwrap()), csv);
    assert_eq!(table(&store.path().join("builds")).height(), logs.len());
    assert_eq!(
        table(&store.path().join("steps")).height(),
        table(&store.path().join("builds")).height() * (STEPS + 2)
    );
}

/// A run killed mid-way leaves only whole Parquet files; the next run finishes the job.
#[test]
fn a_killed_run_leaves_a_readable_store() {
    let logs_dir = tempfile::tempdir().unwrap();
    let logs = local_logs(logs_dir.path(), 400);
    let store = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        logs_dir.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--jobs",
        "1",
        "--quiet",
    ];
    let mut child = bare()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while files(&store.path().join("builds"), ".parquet").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for p in files(store.path(), ".parquet") {
        read_parquet(&p); // every file is whole
    }
    let kept = table(&store.path().join("builds")).height();
    assert!(
        kept > 0 && kept < logs.len(),
        "killed mid-way: {kept} builds stored"
    );
    let csv = ok(&bare()
        .args(args)
        .args(["--format", "csv"])
        .output()
        .unwrap());
    assert_eq!(csv.lines().count(), 1 + logs.len());
    assert_eq!(table(&store.path().join("builds")).height(), logs.len());
}

/// A local file without a docker build is named, the others are analyzed, exit 2.
#[test]
fn one_bad_file_does_not_lose_the_others() {
    let logs_dir = tempfile::tempdir().unwrap();
    local_logs(logs_dir.path(), 5);
    std::fs::write(logs_dir.path().join("notes.txt"), "hello\n").unwrap();
    let store = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "trend",
            logs_dir.path().to_str().unwrap(),
            "--store",
            store.path().to_str().unwrap(),
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stdout.clone())
            .unwrap()
            .lines()
            .count(),
        6
    );
    let err = stderr(&out);
    assert!(
        err.contains("notes.txt") && err.contains("no docker build steps"),
        "{err}"
    );
}

/// Four `trend` runs on one store at once: each build is stored exactly once.
#[test]
fn concurrent_runs_on_one_store_store_each_build_once() {
    let logs_dir = tempfile::tempdir().unwrap();
    let logs = local_logs(logs_dir.path(), 60);
    let store = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        logs_dir.path().to_str().unwrap(),
        "--store",
        store.path().to_str().unwrap(),
        "--quiet",
    ];
    let children: Vec<_> = (0..4)
        .map(|_| {
            bare()
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let builds = table(&store.path().join("builds"));
    assert_eq!(builds.height(), logs.len(), "each build once");
}

/// Two different logs with the same name, size and modification second are two builds: local
/// store keys come from the content. A build stored under the older name-size-time key is
/// stored once afterwards, under the new key.
#[test]
fn local_file_keys_are_content_based() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let log = codebuild_log(0, 1, cached_of(0));
    let other = log.replacen("RUN ", "RUN:", 1);
    assert_eq!((log.len(), log == other), (other.len(), false));
    let second = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let paths: Vec<PathBuf> = [&log, &other]
        .iter()
        .zip(&dirs)
        .map(|(text, dir)| {
            let path = dir.path().join("build.log");
            std::fs::write(&path, text).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(second).unwrap();
            path
        })
        .collect();

    // A build stored by an earlier version, under the name-size-time key.
    let store = tempfile::tempdir().unwrap();
    let legacy = format!("build.log-{:x}-{:x}", log.len(), 1_767_225_600);
    {
        let s = cachescope::store::Store::open(Some(store.path())).unwrap();
        let input = BuildInput::from_parsed("x".into(), parse_bytes(log.as_bytes()), None);
        let sum = summarize(&input, None).unwrap();
        let (row, steps) = cachescope::analyze::frames::stored(&input, &sum, &legacy).unwrap();
        let mut w = s.writer("app");
        w.add("unknown", &legacy, &row, &steps).unwrap();
        w.flush().unwrap();
    }
    assert_eq!(table(&store.path().join("builds")).height(), 1);

    let csv = ok(&bare()
        .args(["trend", "--project", "app", "--format", "csv", "--store"])
        .arg(store.path())
        .args(&paths)
        .output()
        .unwrap());
    assert_eq!(csv.lines().count(), 3, "both logs are builds: {csv}");
    let builds = table(&store.path().join("builds"));
    let keys: Vec<String> = builds
        .column("key")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|k| k.unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(!keys.contains(&legacy), "{keys:?}");
}

/// DuckDB's `rows keys` of a store's table, read as Athena would (hive partitions, every part).
fn duckdb_rows_and_keys(store: &Path, table: &str) -> Option<Vec<String>> {
    let files = store.join(table).join("**").join("*.parquet");
    support::duckdb::query(&format!(
        "select count(*), count(distinct key) from read_parquet('{}', hive_partitioning=true)",
        files.display()
    ))
}

/// Four writers on one store at once, killed at random moments, three rounds; then one run to
/// the end. DuckDB reads every build exactly once with exactly its steps, and the builds stored
/// before the chaos are all still there.
#[test]
fn concurrent_writers_killed_at_random_lose_and_double_nothing() {
    let before_dir = tempfile::tempdir().unwrap();
    let before = local_logs(before_dir.path(), 20);
    let more_dir = tempfile::tempdir().unwrap();
    for i in 0..60 {
        let log = codebuild_log(100 + i, 1 + i as u32 % 28, cached_of(i));
        std::fs::write(more_dir.path().join(format!("more-{i:04}.log")), log).unwrap();
    }
    let total = before.len() + 60;
    let store = tempfile::tempdir().unwrap();
    let run = |dirs: &[&Path]| {
        let mut c = bare();
        c.args([
            "trend", "--quiet", "--jobs", "1", "--format", "csv", "--store",
        ])
        .arg(store.path())
        .args(dirs);
        c
    };
    let first = ok(&run(&[before_dir.path()]).output().unwrap());
    let stored_before: Vec<String> = first
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(stored_before.len(), before.len());

    let mut seed = 0x5eed_u64;
    let mut random_ms = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        20 + (seed >> 33) % 1500
    };
    for _round in 0..3 {
        let mut children: Vec<_> = (0..4)
            .map(|_| {
                let child = run(&[before_dir.path(), more_dir.path()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                (child, Instant::now() + Duration::from_millis(random_ms()))
            })
            .collect();
        // One in four runs to the end; the others are killed at their moment.
        children[0].1 += Duration::from_secs(3600);
        for (child, at) in &mut children {
            while Instant::now() < *at && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
        }
        for (mut child, _) in children {
            child.wait().unwrap();
        }
    }
    // A kill between a part's steps file and its builds file (a window too narrow to hit by
    // chance): a steps part without its builds part.
    let a_steps_part = files(&store.path().join("steps"), ".parquet").remove(0);
    let orphan = a_steps_part.with_file_name("part-000000000000-00000-99999.parquet");
    std::fs::copy(&a_steps_part, &orphan).unwrap();
    let last = ok(&run(&[before_dir.path(), more_dir.path()]).output().unwrap());
    assert_eq!(last.lines().count(), 1 + total);
    assert!(!orphan.exists(), "the orphan steps part is moved aside");

    let builds = table(&store.path().join("builds"));
    assert_eq!(builds.height(), total, "each build once (polars)");
    let keys: std::collections::HashSet<&str> = builds
        .column("key")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    for k in &stored_before {
        assert!(keys.contains(k.as_str()), "{k} stored before is lost");
    }
    let count = |table: &str| duckdb_rows_and_keys(store.path(), table);
    if let (Some(builds), Some(steps)) = (count("builds"), count("steps")) {
        assert_eq!(builds, [format!("{total} {total}")], "DuckDB: builds, keys");
        let rows = total * (STEPS + 2);
        assert_eq!(steps, [format!("{rows} {total}")], "DuckDB: steps, keys");
    }
}

/// Counts are checked by the parser: 0 builds, jobs or window is a usage error (exit 2) naming
/// the flag, not a silent default.
#[test]
fn zero_counts_are_usage_errors() {
    let logs_dir = tempfile::tempdir().unwrap();
    local_logs(logs_dir.path(), 1);
    for flag in ["--window", "--jobs", "--limit", "--max-line-bytes"] {
        let out = bare()
            .arg("trend")
            .arg(logs_dir.path())
            .args([flag, "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(stderr(&out).contains(flag), "{flag}: {}", stderr(&out));
    }
}

/// `support::aws::account` with the generated CodeBuild logs: project `p`'s build `n` takes
/// `cached_of(p + n)` steps from cache, so projects differ.
fn account(moto: &Moto, stub: &Stub, projects: usize, per: usize) -> Vec<String> {
    support::aws::account(moto, stub, projects, per, 1, |p, n| {
        codebuild_log(n, 1 + n as u32 % 28, cached_of(p + n))
    })
}

/// `--all-projects`: every project listed (paginated), a row per build with its project, each
/// project's charts and summary in its folder, the overview worst first; `--project a,b` the
/// same for the projects named.
#[test]
fn all_projects_give_rows_per_project_and_an_overview() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    const PROJECTS: usize = 20;
    const PER: usize = 50;
    let names = account(&moto, &stub, PROJECTS, PER);
    let store = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        "--all-projects",
        "--format",
        "json",
        "--rate",
        "0",
        "--quiet",
        "--jobs",
        "8",
    ];
    let rows: Vec<Value> = serde_json::from_str(&ok(&run(
        &stub,
        &[
            &args[..],
            &[
                "--store",
                store.path().to_str().unwrap(),
                "--out",
                out.path().to_str().unwrap(),
            ],
        ]
        .concat(),
    )))
    .unwrap();
    assert_eq!(rows.len(), PROJECTS * PER);
    for name in &names {
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|r| r["project"] == name.as_str())
            .collect();
        assert_eq!(mine.len(), PER, "{name}");
        assert!(mine
            .iter()
            .all(|r| r["build_id"].as_str().unwrap().starts_with(name.as_str())));
        let dir = out.path().join(format!("project={name}"));
        for f in ["summary.md", "hit-ratio.svg", "trend.csv"] {
            assert!(dir.join(f).exists(), "{name}/{f}");
        }
    }
    assert_eq!(
        stub.count("CodeBuild_20161006.ListProjects"),
        3,
        "20 projects, 8 a page"
    );
    assert_eq!(
        stub.count("CodeBuild_20161006.ListBuildsForProject"),
        PROJECTS as u64
    );

    // The overview: every project once, worst (lowest median hit ratio) first.
    let overview = std::fs::read_to_string(out.path().join("overview.md")).unwrap();
    let listed: Vec<&str> = (overview.lines())
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .filter(|cell| cell.starts_with("svc-"))
        .collect();
    assert_eq!(listed.len(), PROJECTS, "{overview}");
    let median = |name: &str| {
        let mut v: Vec<f64> = (rows.iter())
            .filter(|r| r["project"] == name)
            .filter_map(|r| r["hit_ratio"].as_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let medians: Vec<f64> = listed.iter().map(|n| median(n)).collect();
    assert!(
        medians.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {medians:?}"
    );
    let all = read_parquet(&out.path().join("trend.parquet"));
    assert_eq!(all.height(), PROJECTS * PER);
    assert!(all.column("project").is_ok());

    // Two projects by name: stored already, so no log is read again.
    stub.reset_counts();
    let two = format!("{},{}", names[3], names[7]);
    let csv = ok(&run(
        &stub,
        &[
            "trend",
            "--project",
            &two,
            "--format",
            "csv",
            "--store",
            store.path().to_str().unwrap(),
        ],
    ));
    assert_eq!(csv.lines().count(), 1 + 2 * PER);
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")), 0);
}

/// One rate limit for the whole account: every request of an `--all-projects` run is spaced
/// to `--rate`.
#[test]
fn all_projects_share_one_rate_limit() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    account(&moto, &stub, 3, 2);
    let store = tempfile::tempdir().unwrap();
    let started = Instant::now();
    ok(&run(
        &stub,
        &[
            "trend",
            "--all-projects",
            "--rate",
            "5",
            "--quiet",
            "--store",
            store.path().to_str().unwrap(),
        ],
    ));
    let took = started.elapsed().as_secs_f64();
    let requests: u64 = ["ListProjects", "ListBuildsForProject", "BatchGetBuilds"]
        .iter()
        .map(|op| stub.count(&format!("CodeBuild_20161006.{op}")))
        .sum::<u64>()
        + stub.count(&format!("{LOGS}.GetLogEvents"));
    assert_eq!(requests, 1 + 3 + 3 + 3 * 2 * 2);
    // The limiter lets the first request through at once, then one per 1/rate seconds.
    let least = (requests - 1) as f64 / 5.0;
    assert!(
        took >= least * 0.95,
        "{requests} requests in {took:.2}s at 5/s (at least {least:.2}s)"
    );
}

/// `--refresh` forgets a stored build only once it is stored again: a build whose log is gone
/// now keeps its stored copy (and is named as failed).
#[test]
fn refresh_keeps_what_cannot_be_read_again() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    account(&moto, &stub, 1, 3);
    let store = tempfile::tempdir().unwrap();
    let args = [
        "trend",
        "--project",
        "svc-00",
        "--format",
        "csv",
        "--quiet",
        "--store",
    ];
    let first = ok(&run(
        &stub,
        &[&args[..], &[store.path().to_str().unwrap()]].concat(),
    ));
    assert_eq!(first.lines().count(), 4);
    moto.call(
        &format!("{LOGS}.DeleteLogStream"),
        &json!({"logGroupName": "/aws/codebuild/svc-00", "logStreamName": uuid(1)}),
    );
    let out = run(
        &stub,
        &[&args[..], &[store.path().to_str().unwrap(), "--refresh"]].concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&uuid(1)), "{}", stderr(&out));
    let builds = table(&store.path().join("builds"));
    assert_eq!(
        builds.height(),
        3,
        "the unreadable build keeps its copy; the others are not doubled"
    );
}

/// The object keys under `prefix` in moto's bucket.
fn s3_keys(moto: &Moto, bucket: &str, prefix: &str) -> Vec<String> {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request";
    let path = format!("/{bucket}?list-type=2&prefix={prefix}");
    let resp =
        support::aws::http(moto.port, "GET", &path, &[("Authorization", auth)], b"").unwrap();
    let xml = String::from_utf8_lossy(&resp.body).into_owned();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next().map(str::to_string))
        .collect()
}

/// A store in S3: `trend` writes its parts there as objects (hive layout under the prefix);
/// a run on a fresh host (empty cache directory) reads the stored builds from S3 and fetches
/// no log again; a `report --compare` there finds the earlier builds in it too.
#[test]
fn a_store_in_s3_is_shared_between_hosts() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    account(&moto, &stub, 1, 6);
    moto.put_object("team-bucket", "README", b"the team's bucket");
    let url = "s3://team-bucket/cachescope";
    let host = |home: &Path, args: &[&str]| on_host(&stub, home).args(args).output().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = [
        "trend",
        "--project",
        "svc-00",
        "--format",
        "csv",
        "--quiet",
        "--store",
        url,
    ];
    let first = ok(&host(a.path(), &args));
    assert_eq!(first.lines().count(), 7);
    let keys = s3_keys(&moto, "team-bucket", "cachescope/");
    assert!(
        keys.iter()
            .any(|k| k.starts_with("cachescope/builds/project=svc-00/date=")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with("cachescope/steps/project=svc-00/date=")),
        "{keys:?}"
    );

    stub.reset_counts();
    let second = ok(&host(b.path(), &args));
    assert_eq!(
        stub.count(&format!("{LOGS}.GetLogEvents")),
        0,
        "stored builds are read from S3"
    );
    let rows = |csv: &str| {
        let mut v: Vec<String> = csv.lines().skip(1).map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(rows(&second), rows(&first));
    assert_eq!(
        s3_keys(&moto, "team-bucket", "")
            .iter()
            .filter(|k| *k == "README")
            .count(),
        1
    );
}

/// Copies every object under `prefix` of moto's bucket into `dir` (keys as paths).
fn download(moto: &Moto, bucket: &str, prefix: &str, dir: &Path) {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request";
    for key in s3_keys(moto, bucket, prefix) {
        let resp = support::aws::http(
            moto.port,
            "GET",
            &format!("/{bucket}/{key}"),
            &[("Authorization", auth)],
            b"",
        )
        .unwrap();
        assert_eq!(resp.status, 200, "{key}");
        let to = dir.join(key.strip_prefix(prefix).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, resp.body).unwrap();
    }
}

/// Four hosts write one S3 store at once (no lock spans hosts): nothing is lost, every reader
/// sees each build once; `store compact` then leaves one part per date holding every build once,
/// as DuckDB reads it.
#[test]
fn concurrent_hosts_on_an_s3_store_lose_nothing_and_compact_merges() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    const PER: usize = 12;
    account(&moto, &stub, 1, PER);
    moto.put_object("team-bucket", "README", b"x");
    let url = "s3://team-bucket/cs";
    let host = |home: &Path, args: &[&str]| {
        let mut c = on_host(&stub, home);
        c.args(args);
        c
    };
    let homes: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let args = [
        "trend",
        "--project",
        "svc-00",
        "--format",
        "csv",
        "--quiet",
        "--jobs",
        "2",
        "--store",
        url,
    ];
    let children: Vec<_> = homes[..4]
        .iter()
        .map(|h| {
            host(h.path(), &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(ok(&out).lines().count(), 1 + PER);
    }
    let reader = ok(&host(homes[4].path(), &args).output().unwrap());
    assert_eq!(
        reader.lines().count(),
        1 + PER,
        "each build once for a reader"
    );

    let compact = ok(
        &host(homes[4].path(), &["store", "compact", "--store", url])
            .output()
            .unwrap(),
    );
    assert!(compact.starts_with("svc-00: "), "{compact}");
    let builds_parts: Vec<String> = s3_keys(&moto, "team-bucket", "cs/builds/")
        .into_iter()
        .filter(|k| k.ends_with(".parquet"))
        .collect();
    let dates: std::collections::HashSet<&str> = builds_parts
        .iter()
        .map(|k| k.rsplit_once('/').unwrap().0)
        .collect();
    assert_eq!(
        builds_parts.len(),
        dates.len(),
        "one part per date: {builds_parts:?}"
    );
    let local = tempfile::tempdir().unwrap();
    download(&moto, "team-bucket", "cs/", local.path());
    let count = |table: &str| duckdb_rows_and_keys(local.path(), table);
    if let (Some(b), Some(s)) = (count("builds"), count("steps")) {
        assert_eq!(b, [format!("{PER} {PER}")]);
        assert_eq!(s, [format!("{} {PER}", PER * (STEPS + 2))]);
    }
    // And the store still gives the same trend.
    let after = ok(&host(homes[4].path(), &args).output().unwrap());
    assert_eq!(after, reader);
}

/// Inside a CodeBuild build (fresh HOME, endpoint from AWS_ENDPOINT_URL): `report --compare`
/// with the team's S3 store reads the earlier builds from it (no GetLogEvents call) and adds
/// the build it reports on.
#[test]
fn report_compare_with_an_s3_store_reads_no_log_and_joins_it() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    const PER: usize = 6;
    account(&moto, &stub, 1, PER);
    moto.put_object("team-bucket", "README", b"x");
    let url = "s3://team-bucket/cs";
    let a = tempfile::tempdir().unwrap();
    let mut trend = on_host(&stub, a.path());
    trend.args(["trend", "--project", "svc-00", "--quiet", "--store", url]);
    ok(&trend.output().unwrap());

    stub.reset_counts();
    let b = tempfile::tempdir().unwrap();
    let log = b.path().join("docker-build.log");
    std::fs::write(&log, codebuild_log(PER, 2, 2)).unwrap();
    let this = uuid(PER);
    let start = now_ms();
    let mut report = on_host(&stub, b.path());
    report
        .env("CODEBUILD_BUILD_ID", format!("svc-00:{this}"))
        .env("CODEBUILD_BUILD_NUMBER", (PER + 1).to_string())
        .env("CODEBUILD_START_TIME", start.to_string())
        .env("CODEBUILD_BUILD_SUCCEEDING", "1")
        .args(["report", "--compare", "3", "--store", url, "--log"])
        .arg(&log)
        .arg("--out")
        .arg(b.path().join("r"));
    let out = report.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stub.count(&format!("{LOGS}.GetLogEvents")),
        0,
        "{}",
        stderr(&out)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(b.path().join("r/report.json")).unwrap())
            .unwrap();
    assert_eq!(json["compare"]["earlier"].as_array().unwrap().len(), 3);

    let copy = tempfile::tempdir().unwrap();
    download(&moto, "team-bucket", "cs/", copy.path());
    let stored = cachescope::store::Store::open(Some(copy.path()))
        .unwrap()
        .load("svc-00")
        .unwrap();
    assert!(
        stored.builds.contains_key(&this),
        "the report's build joined the store"
    );
    assert_eq!(stored.builds.len(), PER + 1);
}
