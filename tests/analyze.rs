//! `cachescope build`'s analysis on every bundled real log, against values worked out by hand
//! from the logs (the comments say how), and its frames read back from CSV and Parquet.

use cachescope::analyze::diagnose::{Cause as BustCause, Scenario, Severity};
use cachescope::analyze::verdict::{Cause, Confidence, ImportOutcome};
use cachescope::analyze::{frames, summarize, BuildInput, Summary};
use cachescope::parse::parse_bytes;
use polars::prelude::*;
use polars_io::prelude::{CsvReadOptions, ParquetReader, SerReader};
use std::path::Path;

/// A bundled log, parsed; `dir` is relative to the package root.
fn load(dir: &str, name: &str) -> BuildInput {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
    let p = parse_bytes(&std::fs::read(path).unwrap());
    BuildInput {
        source: name.to_string(),
        steps: p.steps,
        phases: p.phases,
        commands: p.commands,
        evidence: p.evidence,
        meta: None,
    }
}

fn input(name: &str) -> BuildInput {
    load("testdata/corpus/logs", name)
}

fn summary(name: &str) -> Summary {
    summarize(&input(name), None).unwrap()
}

struct Expect {
    log: &'static str,
    /// cached, rebuilt, error, canceled, unfinished (all steps).
    counts: [u32; 5],
    /// hit_ratio as cached / (cached + rebuilt + error) over Dockerfile steps without FROM.
    hit: (u32, u32),
    /// hit_ratio_all as cached / finished steps.
    hit_all: (u32, u32),
    bust: Option<(&'static str, BustCause)>,
    scenario: Scenario,
}

#[rustfmt::skip]
const EXPECTED: [Expect; 10] = [
    // 3 non-FROM Dockerfile steps: [2/4] [3/4] CACHED, [4/4] ERROR. The RUN after two hits ran
    // and failed: its own text changed (or it never succeeded before).
    Expect { log: "001-jenkins-plugin-cli-error.log", counts: [2, 4, 1, 0, 0], hit: (2, 3), hit_all: (2, 7),
             bust: Some(("#7", BustCause::InstructionChanged)), scenario: Scenario::OtherChange },
    // 15 non-FROM Dockerfile steps, all CACHED; 6 other vertices DONE.
    Expect { log: "002-netalertx-multistage-all-cached.log", counts: [15, 6, 0, 0, 0], hit: (15, 15), hit_all: (15, 21),
             bust: None, scenario: Scenario::NoChanges },
    // 18 CACHED, then #26 RUN was running when the user canceled: a miss, not counted in the
    // ratio's denominator (canceled), but it is where the cache stopped.
    Expect { log: "006-jetson-ros-user-canceled.log", counts: [18, 7, 0, 1, 0], hit: (18, 18), hit_all: (18, 26),
             bust: Some(("#26", BustCause::InstructionChanged)), scenario: Scenario::OtherChange },
    // 10 non-FROM steps CACHED ([ 2/11]..[11/11]); 9 other vertices DONE.
    Expect { log: "010-render-padded-step-numbers.log", counts: [10, 9, 0, 0, 0], hit: (10, 10), hit_all: (10, 19),
             bust: None, scenario: Scenario::NoChanges },
    // Two FROMs DONE, the other 5 Dockerfile steps CACHED.
    Expect { log: "014-gha-build-push-gha-cache-all-cached.log", counts: [5, 14, 0, 0, 0], hit: (5, 5), hit_all: (5, 19),
             bust: None, scenario: Scenario::NoChanges },
    // Run 1: WORKDIR CACHED, then COPY go.mod go.sum ran and everything after it: the Go
    // manifest changed. Run 2: all 4 CACHED. 8 non-FROM steps, 5 cached.
    Expect { log: "016-gha-two-builds-second-all-cached.log", counts: [5, 15, 0, 0, 0], hit: (5, 8), hit_all: (5, 20),
             bust: Some(("#7", BustCause::DependencyManifest)), scenario: Scenario::DependenciesChanged },
    // Fresh CodeBuild host: nothing cached, no cache import: the first step after FROM busts.
    Expect { log: "020-codebuild-buildkit-pip-no-cache.log", counts: [0, 12, 0, 0, 0], hit: (0, 6), hit_all: (0, 12),
             bust: Some(("#6", BustCause::NoCache)), scenario: Scenario::ColdBuild },
    // Legacy builder, no "Using cache" anywhere.
    Expect { log: "022-codebuild-legacy-platform-warning-trailing-spaces.log", counts: [0, 5, 0, 0, 0], hit: (0, 4), hit_all: (0, 5),
             bust: Some(("Step 2/5", BustCause::NoCache)), scenario: Scenario::ColdBuild },
    // Steps 2-14 "Using cache", 15 and 16 ran, 17 unfinished (not counted). Step 15 copies a
    // .groovy script: application source.
    Expect { log: "027-legacy-jenkins-truncated-log.log", counts: [13, 3, 0, 0, 1], hit: (13, 15), hit_all: (13, 16),
             bust: Some(("Step 15/82", BustCause::ApplicationSource)), scenario: Scenario::ApplicationCodeOnly },
    // Only WORKDIR cached; COPY ./package.json broke the chain: dependencies.
    Expect { log: "031-legacy-npm-install-partial-cache.log", counts: [1, 6, 0, 0, 0], hit: (1, 6), hit_all: (1, 7),
             bust: Some(("Step 3/7", BustCause::DependencyManifest)), scenario: Scenario::DependenciesChanged },
];

#[test]
fn counts_ratios_bust_and_scenario_of_every_corpus_log() {
    for e in &EXPECTED {
        let s = summary(e.log);
        let c = &s.counts;
        assert_eq!(
            [c.cached, c.rebuilt, c.error, c.canceled, c.unfinished],
            e.counts,
            "{}: counts",
            e.log
        );
        let ratio = |(a, b): (u32, u32)| Some(f64::from(a) / f64::from(b));
        assert_eq!(s.hit_ratio, ratio(e.hit), "{}: hit_ratio", e.log);
        assert_eq!(
            s.hit_ratio_all,
            ratio(e.hit_all),
            "{}: hit_ratio_all",
            e.log
        );
        let bust = s.cache_bust.as_ref().map(|b| (b.step.as_str(), b.cause));
        assert_eq!(bust, e.bust, "{}: cache bust", e.log);
        assert_eq!(s.scenario, e.scenario, "{}: scenario", e.log);
    }
}

#[test]
fn codebuild_times_phases_and_health() {
    let s = summary("020-codebuild-buildkit-pip-no-cache.log");
    // Running command docker build at 23:03:49.621332 → Phase complete at 23:04:29.781600.
    assert_eq!(s.docker_build_s, Some(40.16));
    assert_eq!(s.runs[0].docker_build_s_from, Some("codebuild-timestamps"));
    assert_eq!(s.phases.len(), 1);
    assert_eq!(
        (s.phases[0].phase.as_str(), s.phases[0].state.as_str()),
        ("BUILD", "SUCCEEDED")
    );
    assert_eq!(s.phases[0].duration_s, Some(40.165));
    // 2.3 + 4.9 + 0.0 + 0.0 + 31.9 + 0.1 + 0.1: rebuilt Dockerfile steps.
    assert_eq!(s.rebuilt_s, 39.3);
    assert_eq!(s.health.cache_from, Some(false));
    assert_eq!(s.health.cache_import, ImportOutcome::Absent);
    // A fresh host: the base layers were downloaded, nothing hit, no registry cache named.
    assert_eq!(s.verdict.cause, Cause::LocalCacheCold);
    assert!(s.verdict.alternatives.contains(&Cause::NoCacheConfigured));
    assert!(s
        .verdict
        .detail
        .contains("no registry cache (--cache-from)"));

    let gha = summary("014-gha-build-push-gha-cache-all-cached.log");
    assert_eq!(gha.health.cache_import, ImportOutcome::Reached);
    assert_eq!(
        gha.health.cache_import_ref.as_deref(),
        Some("gha:15748900788057950132")
    );

    let failed = summary("001-jenkins-plugin-cli-error.log");
    let f = failed
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap();
    assert!(
        f.message.contains("#7") && f.message.contains("exit code: 1"),
        "{}",
        f.message
    );
}

#[test]
fn a_failed_cache_import_is_reported_with_a_fix() {
    let log = "[Container] 2024/05/01 10:00:00.000000 Running command docker build --cache-from 1.dkr.ecr.us-east-1.amazonaws.com/app:latest -t app .\n\
               #0 building with \"default\" instance using docker driver\n\
               #3 importing cache manifest from 1.dkr.ecr.us-east-1.amazonaws.com/app:latest\n\
               #3 ERROR: 1.dkr.ecr.us-east-1.amazonaws.com/app:latest: not found\n\
               #4 [1/2] FROM python:3.12\n#4 DONE 3.0s\n#5 [2/2] RUN pip install flask\n#5 DONE 12.0s\n";
    let p = parse_bytes(log.as_bytes());
    let s = summarize(
        &BuildInput {
            source: "x".into(),
            steps: p.steps,
            phases: p.phases,
            commands: p.commands,
            evidence: p.evidence,
            meta: None,
        },
        None,
    )
    .unwrap();
    assert_eq!(s.health.cache_import, ImportOutcome::Failed);
    assert_eq!(s.health.cache_from, Some(true));
    assert_eq!(s.health.inline_cache, Some(false));
    // The verdict leads with it, quoting the error line, with the fix.
    let v = &s.verdict;
    assert_eq!(
        (v.cause, v.confidence),
        (Cause::ImportNotFound, Confidence::Certain)
    );
    assert!(v
        .evidence
        .iter()
        .any(|q| q.line == 4 && q.text.contains("app:latest: not found")));
    assert!(v.fix.contains("BUILDKIT_INLINE_CACHE=1"));
    assert_eq!(s.scenario, Scenario::ColdBuild);
    // The cache import's failure is not a failed build step.
    assert!(!s.findings.iter().any(|f| f.severity == Severity::Error));
}

#[test]
fn baseline_flips_and_time_saved() {
    // 016 run 1 rebuilt COPY go.mod, RUN go mod download, COPY . . ; run 2 (another Dockerfile
    // with the same instructions) had them cached. Treat run 1 as the baseline of run 2.
    let all = input("016-gha-two-builds-second-all-cached.log");
    let (base, here): (Vec<_>, Vec<_>) = all.steps.into_iter().partition(|s| s.invocation == 1);
    let here_input = BuildInput {
        source: "run2".into(),
        steps: here,
        ..Default::default()
    };
    let s = summarize(&here_input, Some(&base)).unwrap();
    let b = s.baseline.unwrap();
    assert!(b.now_rebuilt.is_empty());
    let names: Vec<&str> = b.now_cached.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "[3/5] COPY go.mod go.sum ./",
            "[4/5] RUN go mod download",
            "[5/5] COPY . ."
        ]
    );
    // Baseline durations: 0.0 + 0.3 + 0.0.
    assert_eq!(b.time_saved_s, 0.3);
}

/// Reads a CSV written by the report module back with polars and casts it to `like`'s schema.
fn read_back_csv(bytes: Vec<u8>, like: &DataFrame) -> DataFrame {
    let read = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .unwrap();
    let cols: Vec<Column> = like
        .columns()
        .iter()
        .map(|c| read.column(c.name()).unwrap().cast(c.dtype()).unwrap())
        .collect();
    DataFrame::new_infer_height(cols).unwrap()
}

#[test]
fn frames_match_the_steps_and_read_back_from_csv_and_parquet() {
    for log in [
        "020-codebuild-buildkit-pip-no-cache.log",
        "027-legacy-jenkins-truncated-log.log",
    ] {
        let inp = input(log);
        let s = summarize(&inp, None).unwrap();
        let mut steps = frames::steps_frame(&inp.steps).unwrap();
        assert_eq!(steps.height(), inp.steps.len());
        let names: Vec<&str> = steps
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, cachescope::analyze::schema::steps::ALL);
        let status = steps.column("status").unwrap().str().unwrap();
        for (i, st) in inp.steps.iter().enumerate() {
            assert_eq!(status.get(i), Some(st.status.as_str()));
        }
        let mut phases = frames::phases_frame(&s.phases).unwrap();
        let mut builds = frames::builds_frame(&s).unwrap();
        assert_eq!(builds.height(), 1);
        assert_eq!(
            builds.column("hit_ratio").unwrap().f64().unwrap().get(0),
            s.hit_ratio
        );
        for frame in [&mut steps, &mut phases, &mut builds] {
            let pq = cachescope::report::build::parquet(frame).unwrap();
            let back = ParquetReader::new(std::io::Cursor::new(pq))
                .finish()
                .unwrap();
            assert!(
                back.equals_missing(frame),
                "{log}: parquet round trip\n{back}\n{frame}"
            );
        }
        for frame in [&mut steps, &mut builds] {
            let csv = cachescope::report::build::csv(frame).unwrap();
            let back = read_back_csv(csv, frame);
            assert!(
                back.equals_missing(frame),
                "{log}: csv round trip\n{back}\n{frame}"
            );
        }
    }
}

/// Small logs written for the analysis rules (tests/data/analyze/), each a shape real builds have.
fn small(name: &str) -> Summary {
    summarize(&load("tests/data/analyze", name), None).unwrap()
}

fn bust_of(s: &Summary) -> Option<(String, BustCause)> {
    s.cache_bust.as_ref().map(|b| (b.step.clone(), b.cause))
}

#[test]
fn review_cases_of_cause_and_scenario() {
    // `COPY package*.json ./` is the manifest copy, and npm ci after it is the right layout.
    let node = small("node.log");
    assert_eq!(
        bust_of(&node),
        Some(("#6".into(), BustCause::DependencyManifest))
    );
    assert!(!node
        .findings
        .iter()
        .any(|f| f.message.contains("reinstalled")));
    // `RUN --mount=type=bind,source=requirements.txt ... pip install`.
    assert_eq!(small("mount.log").scenario, Scenario::DependenciesChanged);
    // A CACHED FROM means a warm cache: not a cold build.
    let warm = small("warm.log");
    assert_eq!(
        bust_of(&warm),
        Some(("#5".into(), BustCause::ApplicationSource))
    );
    assert_eq!(warm.scenario, Scenario::ApplicationCodeOnly);
    // Legacy multi-stage: each FROM starts a stage; the builder stage broke at COPY . .
    let ms = small("legacy_ms2.log");
    assert_eq!(
        bust_of(&ms),
        Some(("Step 5/9".into(), BustCause::ApplicationSource))
    );
    // A build cut off mid-step is not "all cached".
    let cut = small("trunc.log");
    assert_ne!(cut.scenario, Scenario::NoChanges);
    assert_eq!(cut.cache_bust.as_ref().map(|b| b.step.as_str()), Some("#5"));
    // Exporting cache with --cache-to: no advice to add inline cache.
    assert!(!small("reg.log")
        .findings
        .iter()
        .any(|f| f.message.contains("inline cache")));
}

#[test]
fn one_command_running_two_builds_is_not_counted_twice() {
    let s = small("two.log");
    assert_eq!(s.runs.len(), 2);
    assert_eq!(s.runs[0].docker_build_s_from, Some("codebuild-timestamps"));
    assert_eq!(s.runs[1].docker_build_s_from, Some("sum-of-steps"));
}

/// CodeBuild's phases win; the log's fill a phase the API lacks and the end of one it still
/// reports as running.
#[test]
fn api_phases_are_authoritative_and_the_log_fills_gaps() {
    use cachescope::analyze::summary::merge_phases;
    use cachescope::model::Phase;
    let phase = |name: &str, state: &str, start: Option<i64>, end: Option<i64>| Phase {
        phase: name.into(),
        state: state.into(),
        start_ms: start,
        end_ms: end,
        duration_s: start.zip(end).map(|(s, e)| (e - s) as f64 / 1000.0),
    };
    let api = vec![
        phase("QUEUED", "SUCCEEDED", Some(0), Some(1_000)),
        phase("BUILD", "SUCCEEDED", Some(5_000), Some(65_000)),
        phase("POST_BUILD", "IN_PROGRESS", Some(65_000), None),
    ];
    let log = vec![
        phase("PRE_BUILD", "SUCCEEDED", Some(2_000), Some(4_900)),
        phase("BUILD", "SUCCEEDED", Some(5_100), Some(64_000)),
        phase("POST_BUILD", "FAILED", Some(65_100), Some(70_000)),
    ];
    let merged = merge_phases(&api, &log);
    let names: Vec<&str> = merged.iter().map(|p| p.phase.as_str()).collect();
    assert_eq!(names, ["QUEUED", "PRE_BUILD", "BUILD", "POST_BUILD"]);
    assert_eq!(merged[2], api[1], "the API's BUILD, not the log's");
    assert_eq!(merged[3].state, "FAILED");
    assert_eq!(merged[3].start_ms, Some(65_000), "the API's start is kept");
    assert_eq!(merged[3].end_ms, Some(70_000));
    assert_eq!(
        merged[3].duration_s,
        Some(5.0),
        "from the merged start and end"
    );
}
