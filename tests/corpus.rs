//! Every bundled real log gives exactly its hand-checked label.

use cachescope::parse::parse_bytes;
use serde_json::Value;
use std::path::Path;

fn corpus() -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("logs")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let label: Value =
            serde_json::from_slice(&std::fs::read(dir.join("labels").join(format!("{stem}.json"))).unwrap())
                .unwrap();
        out.push((stem, std::fs::read(&path).unwrap(), label));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "corpus missing");
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

#[test]
fn every_corpus_log_matches_its_label() {
    let mut failures = Vec::new();
    for (name, bytes, label) in corpus() {
        let parsed = parse_bytes(&bytes);
        let want = label["steps"].as_array().unwrap();
        let got: Vec<String> = parsed
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{} {} {:?} {} {:?}",
                    s.invocation,
                    s.step,
                    s.name,
                    s.status.as_str(),
                    s.duration_s
                )
            })
            .collect();
        let expected: Vec<String> = want
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
            failures.push(format!("{name}:\n  got      {got:#?}\n  expected {expected:#?}"));
        }
        let invocations = parsed.steps.iter().map(|s| s.invocation).max().unwrap_or(0);
        assert_eq!(
            invocations as u64,
            label["invocations"].as_u64().unwrap(),
            "{name}: invocations"
        );
        let df: Vec<_> = parsed
            .steps
            .iter()
            .filter(|s| s.kind == cachescope::model::StepKind::Dockerfile)
            .collect();
        let cached = df.iter().filter(|s| s.status.as_str() == "cached").count();
        assert_eq!(
            (cached as u64, df.len() as u64),
            (
                label["dockerfile_steps"]["cached"].as_u64().unwrap(),
                label["dockerfile_steps"]["total"].as_u64().unwrap()
            ),
            "{name}: dockerfile steps"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
