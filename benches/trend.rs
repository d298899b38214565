//! What `cachescope trend` costs over parsing alone, and how long its charts take.
//!
//! On N generated CodeBuild logs (default 1,000, each about 1 MiB), in the same run:
//! - baseline: every log parsed in this process, one after another (the parse alone);
//! - `cachescope trend DIR --jobs 1` into an empty store (parse, analyze, store, trend, charts);
//! - the same with `--jobs 2`;
//! - the same again on the filled store (nothing to analyze);
//! - the four charts for N builds, PNG and SVG, drawn in this process.
//!
//!   cargo bench --bench trend [-- N [KIB_PER_LOG]]

#[path = "support/synth.rs"]
mod synth;

use std::process::Command;
use std::time::{Duration, Instant};

use cachescope::analyze::trend::{trend, Rule, TrendBuild};
use cachescope::chart::{trend::CHARTS, ImageFormat};
use cachescope::parse::parse_bytes;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1000);
    let kib = args.get(1).copied().unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for i in 0..n {
        let mut log = Vec::new();
        synth::write_log(&mut log, kib as u64 * 1024, i as u64 + 1).unwrap();
        total += log.len();
        std::fs::write(dir.path().join(format!("build-{i:04}.log")), log).unwrap();
    }
    println!("{n} logs, {:.0} MB", total as f64 / 1e6);
    let bin = env!("CARGO_BIN_EXE_cachescope");
    let logs = dir.path().to_str().unwrap().to_string();
    let trend_run = |jobs: &str, store: &std::path::Path| {
        let t = Instant::now();
        let out = Command::new(bin)
            .args([
                "trend", &logs, "--quiet", "--format", "csv", "--jobs", jobs, "--store",
            ])
            .arg(store)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed()
    };
    let (mut parse, mut trend1, mut trend2, mut warm) = (vec![], vec![], vec![], vec![]);
    for _ in 0..3 {
        let t = Instant::now();
        let mut steps = 0;
        for i in 0..n {
            let bytes = std::fs::read(dir.path().join(format!("build-{i:04}.log"))).unwrap();
            steps += parse_bytes(&bytes).steps.len();
        }
        std::hint::black_box(steps);
        parse.push(t.elapsed());
        let store = tempfile::tempdir().unwrap();
        trend1.push(trend_run("1", store.path()));
        warm.push(trend_run("1", store.path()));
        let store = tempfile::tempdir().unwrap();
        trend2.push(trend_run("2", store.path()));
    }
    let p = median(parse);

    // Where a cold run's time goes, per stage, in this process (--jobs 1).
    let store = cachescope::store::Store::open(Some(&dir.path().join("breakdown"))).unwrap();
    let mut writer = store.writer("bench");
    let mut stage = [Duration::ZERO; 4];
    for i in 0..n {
        let t = Instant::now();
        let bytes = std::fs::read(dir.path().join(format!("build-{i:04}.log"))).unwrap();
        let parsed = parse_bytes(&bytes);
        stage[0] += t.elapsed();
        let t = Instant::now();
        let input =
            cachescope::analyze::BuildInput::from_parsed(format!("build-{i:04}.log"), parsed, None);
        let summary = cachescope::analyze::summarize(&input, None).unwrap();
        stage[1] += t.elapsed();
        let t = Instant::now();
        let row = cachescope::analyze::frames::builds_frame(&summary).unwrap();
        let steps = cachescope::analyze::frames::steps_frame(&input.steps).unwrap();
        stage[2] += t.elapsed();
        let t = Instant::now();
        writer
            .add("2026-11-24", &format!("b{i}"), &row, &steps)
            .unwrap();
        stage[3] += t.elapsed();
    }
    let t = Instant::now();
    writer.flush().unwrap();
    stage[3] += t.elapsed();
    let names = [
        "read + parse",
        "summarize",
        "frames",
        "store (parts of up to 256 builds)",
    ];
    for (name, d) in names.iter().zip(stage) {
        println!(
            "  {name}: {:.2} ms per build",
            d.as_secs_f64() * 1000.0 / n as f64
        );
    }
    for (label, v) in [
        ("trend --jobs 1", trend1),
        ("trend --jobs 2", trend2),
        ("trend, all stored", warm),
    ] {
        let t = median(v);
        println!("{label}: {t:.2}s = {:.2}× the parse alone ({p:.2}s)", t / p);
    }

    // Charts for n builds, drawn from synthetic rows.
    let builds: Vec<TrendBuild> = (0..n)
        .map(|i| {
            let bytes = std::fs::read(dir.path().join(format!("build-{i:04}.log"))).unwrap();
            let parsed = parse_bytes(&bytes);
            TrendBuild {
                key: format!("b{i}"),
                source: format!("build-{i:04}.log"),
                build_id: None,
                number: Some(i as i64),
                status: Some(cachescope::model::BuildStatus::Succeeded),
                start_ms: Some(1_760_000_000_000 + i as i64 * 3_600_000),
                end_ms: Some(1_760_000_300_000 + i as i64 * 3_600_000),
                hit_ratio: Some((i % 10) as f64 / 10.0),
                hit_ratio_all: None,
                rebuilt_s: 60.0,
                docker_build_s: Some(200.0),
                cache_bust_step: None,
                cache_bust_cause: None,
                scenario: ["no-changes", "app-code-only", "cold"][i % 3].into(),
                cause: None,
                steps: parsed.steps,
            }
        })
        .collect();
    let rows = trend(builds, Rule::default());
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        for (_, draw) in CHARTS {
            for f in [ImageFormat::Png, ImageFormat::Svg] {
                std::hint::black_box(draw(f, "bench", &rows).unwrap());
            }
        }
        times.push(t.elapsed());
    }
    println!("4 charts × PNG + SVG for {n} builds: {:.3}s", median(times));
}
