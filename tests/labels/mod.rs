//! Shared checker: every `logs/X.log` under a directory gives exactly `labels/X.json`.

use cachescope::model::StepKind;
use cachescope::parse::{Parsed, Parser};
use cachescope::source::{read_slice, LogSink};
use serde_json::Value;
use std::path::Path;

fn load(dir: &str) -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("logs")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let label = std::fs::read(dir.join("labels").join(format!("{stem}.json"))).unwrap();
        let label: Value = serde_json::from_slice(&label).unwrap();
        out.push((stem, std::fs::read(&path).unwrap(), label));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no fixtures");
    out
}

/// A log file read as the CLI reads it: gzip and CloudWatch JSON exports detected by content.
fn parse_bytes(bytes: &[u8]) -> Parsed {
    struct Sink(Parser);
    impl LogSink for Sink {
        fn bytes(&mut self, chunk: &[u8]) {
            self.0.push(chunk);
        }
        fn event(&mut self, timestamp_ms: i64, message: &[u8]) {
            self.0.push_event(timestamp_ms, message);
        }
    }
    let mut sink = Sink(Parser::default());
    // A truncated export still gives the steps read before the cut, as the CLI does.
    let _ = read_slice(bytes, &mut sink);
    let mut out = Parsed {
        stats: sink.0.finish(),
        ..Default::default()
    };
    sink.0.events().for_each(|e| out.collect(e));
    out
}

/// The label's status words: the corpus says `done` where the contract says `rebuilt`.
fn label_status(s: &str) -> &str {
    if s == "done" {
        "rebuilt"
    } else {
        s
    }
}

/// Checks every fixture; reports all mismatches at once.
#[allow(dead_code)] // each test binary uses one of the two
pub fn check_dir(dir: &str) {
    check_dir_with_gaps(dir, &[]);
}

/// [`check_dir`], except for `gaps`: logs of a rendering the parser does not read yet, each
/// with the reason. A gap is reported in the run and must still fail its label, so that a fix
/// takes it off the list.
pub fn check_dir_with_gaps(dir: &str, gaps: &[(&str, &str)]) {
    let mut failures = Vec::new();
    let mut gaps_seen = 0;
    for (name, bytes, label) in load(dir) {
        if let Some((_, why)) = gaps.iter().find(|g| g.0 == name) {
            gaps_seen += 1;
            let got = parse_bytes(&bytes).steps;
            let right = got.len() == label["steps"].as_array().unwrap().len()
                && got
                    .iter()
                    .zip(label["steps"].as_array().unwrap())
                    .all(|(s, w)| {
                        s.step == w["id"].as_str().unwrap()
                            && s.name == w["name"].as_str().unwrap()
                            && s.status.as_str() == label_status(w["status"].as_str().unwrap())
                    });
            assert!(!right, "{name} parses now: take it off the known gaps");
            eprintln!("KNOWN GAP {dir}/{name}: {why}");
            continue;
        }
        let parsed = parse_bytes(&bytes);
        let got: Vec<String> = parsed
            .steps
            .iter()
            .map(|s| {
                let d = s.duration_s;
                format!(
                    "{} {} {:?} {} {d:?}",
                    s.invocation,
                    s.step,
                    s.name,
                    s.status.as_str()
                )
            })
            .collect();
        let expected: Vec<String> = label["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                format!(
                    "{} {} {:?} {} {:?}",
                    w["invocation"],
                    w["id"].as_str().unwrap(),
                    w["name"].as_str().unwrap(),
                    label_status(w["status"].as_str().unwrap()),
                    w["duration_s"].as_f64()
                )
            })
            .collect();
        if got != expected {
            failures.push(format!(
                "{name}:\n  got      {got:#?}\n  expected {expected:#?}"
            ));
            continue;
        }
        let invocations = parsed.steps.iter().map(|s| s.invocation).max().unwrap_or(0);
        if u64::from(invocations) != label["invocations"].as_u64().unwrap() {
            failures.push(format!("{name}: {invocations} invocations"));
        }
        let dockerfile: Vec<_> = parsed
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Dockerfile)
            .collect();
        let cached = dockerfile
            .iter()
            .filter(|s| s.status.as_str() == "cached")
            .count();
        let want = &label["dockerfile_steps"];
        if (cached as u64, dockerfile.len() as u64)
            != (
                want["cached"].as_u64().unwrap(),
                want["total"].as_u64().unwrap(),
            )
        {
            failures.push(format!(
                "{name}: {cached}/{} dockerfile steps cached",
                dockerfile.len()
            ));
        }
    }
    assert_eq!(gaps_seen, gaps.len(), "a known gap names no log");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
