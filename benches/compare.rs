//! What a shared store saves inside CodeBuild. A project's 10 earlier builds have CloudWatch
//! streams of LINES lines each (moto server behind the test stub); a new build runs
//! `report --compare 10` on a fresh host (empty HOME), in the same run and alternating:
//!
//! - today: a local store, empty on a fresh host, so the 10 logs are read from CloudWatch, and
//! - shared: `--store s3://…` that a `trend` run filled, so they come from S3.
//!
//! Reports the medians, the ratio shared ÷ today, and the requests each makes, at the default
//! rate limit (10 requests/s). Then `trend --all-projects` over 5 projects × 10 builds: requests
//! per build on a first run (empty store) and on a second (everything stored). Needs
//! `moto_server` (pip install 'moto[server]').
//!
//!   cargo bench --bench compare [-- LINES]     default 20000

#[path = "../tests/support/aws.rs"]
mod aws_support;
#[path = "support/synth.rs"]
mod synth;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use aws_support::{account_uuid, now_ms, on_host, Moto, Stub, LOGS};

const RUNS: usize = 5;
const EARLIER: usize = 10;

/// The account with synthetic logs of `lines` lines.
fn account(moto: &Moto, stub: &Stub, projects: usize, per: usize, lines: usize) {
    aws_support::account(moto, stub, projects, per, 50, |p, n| {
        synth::log_with_lines(lines, (p * 1000 + n) as u64)
    });
}

fn must(o: Output) -> Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// Requests the stub saw since the last reset, by kind.
fn requests(stub: &Stub) -> [u64; 4] {
    let cb = |op: &str| stub.count(&format!("CodeBuild_20161006.{op}"));
    [
        stub.count(&format!("{LOGS}.GetLogEvents")),
        stub.count("S3.GET"),
        cb("ListProjects") + cb("ListBuildsForProject") + cb("BatchGetBuilds"),
        stub.count("S3.PUT"),
    ]
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn main() {
    let lines: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let Some(moto) = Moto::start() else {
        eprintln!("moto_server not found: pip install 'moto[server]'");
        return;
    };
    let stub = Stub::start(&moto);
    account(&moto, &stub, 1, EARLIER, lines);
    moto.put_object("team-bucket", "README", b"the team's bucket");
    let url = "s3://team-bucket/cachescope";
    let filler = tempfile::tempdir().unwrap();
    must(
        on_host(&stub, filler.path())
            .args(["trend", "--project", "svc-00", "--quiet", "--store", url])
            .output()
            .unwrap(),
    );

    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("docker-build.log");
    std::fs::write(&log, synth::log_with_lines(lines, 99)).unwrap();
    let report = |store: &str, home: &Path| {
        let mut c = on_host(&stub, home);
        c.env(
            "CODEBUILD_BUILD_ID",
            format!("svc-00:{}", account_uuid(0, EARLIER)),
        )
        .env("CODEBUILD_BUILD_NUMBER", (EARLIER + 1).to_string())
        .env("CODEBUILD_START_TIME", now_ms().to_string())
        .args([
            "report",
            "--compare",
            &EARLIER.to_string(),
            "--store",
            store,
            "--log",
        ])
        .arg(&log)
        .arg("--out")
        .arg(home.join("r"));
        c
    };
    let (mut today, mut shared) = (Vec::new(), Vec::new());
    let (mut today_req, mut shared_req) = ([0; 4], [0; 4]);
    for _ in 0..RUNS {
        let home = tempfile::tempdir().unwrap();
        let local = home.path().join("store");
        stub.reset_counts();
        let t = Instant::now();
        must(
            report(local.to_str().unwrap(), home.path())
                .output()
                .unwrap(),
        );
        today.push(t.elapsed());
        today_req = requests(&stub);

        let home = tempfile::tempdir().unwrap();
        stub.reset_counts();
        let t = Instant::now();
        must(report(url, home.path()).output().unwrap());
        shared.push(t.elapsed());
        shared_req = requests(&stub);
    }
    let (a, b) = (median(today), median(shared));
    println!("report --compare {EARLIER}, {lines}-line logs, fresh host, {RUNS} runs each:");
    println!(
        "  today (CloudWatch re-read): median {a:.2}s; requests: {} GetLogEvents, {} CodeBuild",
        today_req[0], today_req[2]
    );
    println!(
        "  shared (S3 store):          median {b:.2}s; requests: {} GetLogEvents, {} S3 GET, {} CodeBuild",
        shared_req[0], shared_req[1], shared_req[2]
    );
    println!("  ratio shared / today = {:.2}", b / a);

    // trend --all-projects: requests per build.
    let moto2 = Moto::start().expect("moto");
    let stub2 = Stub::start(&moto2);
    let (projects, per) = (5, 10);
    account(&moto2, &stub2, projects, per, lines / 10);
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let builds = (projects * per) as f64;
    for run in ["first run (empty store)", "second run (all stored)"] {
        stub2.reset_counts();
        must(
            on_host(&stub2, home.path())
                .args([
                    "trend",
                    "--all-projects",
                    "--quiet",
                    "--rate",
                    "0",
                    "--store",
                ])
                .arg(&store)
                .output()
                .unwrap(),
        );
        let r = requests(&stub2);
        println!(
            "trend --all-projects, {projects} projects × {per} builds, {run}: {:.2} requests per build \
             ({} GetLogEvents, {} CodeBuild)",
            (r[0] + r[2]) as f64 / builds,
            r[0],
            r[2]
        );
    }
}
