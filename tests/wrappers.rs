//! Any CI's wrapping: every real log of the bundled sets, with every line wrapped the way some
//! CI system wraps it (indentation, console line numbers, tool and service prefixes, varying
//! timestamps, a tag on every line), gives exactly the steps of the unwrapped log. The truth is
//! the unwrapped parse, which the labelled-corpus tests pin to the hand-checked labels.

use cachescope::model::Step;
use cachescope::parse::parse_bytes;
use std::path::Path;

/// How a CI wraps line `n` (0-based); `None` leaves the line as it is.
type Wrap = fn(usize) -> Option<String>;

const WRAPS: [(&str, Wrap); 13] = [
    ("indented", |_| Some("  ".into())),
    ("tab-indented", |_| Some("\t".into())),
    // Console line numbers and a TAB, the first line without one.
    ("line numbers", |n| (n > 0).then(|| format!("{}\t", n + 1))),
    ("act job", |_| Some("[Build/build   ]   | ".into())),
    ("clock and level", |n| {
        let level = ["DEBUG", "INFO ", "WARN "][n % 3];
        Some(format!("10:{:02}:{:02} | {level} | ", n / 60 % 60, n % 60))
    }),
    ("numbered service", |n| {
        Some(format!("{}|webhook  | ", n % 4 + 1))
    }),
    ("cloud build", |_| Some("Step #0: ".into())),
    ("cloud build with id", |_| {
        Some("Step #1 - \"build\": ".into())
    }),
    ("go log", |n| {
        Some(format!("2024/01/02 15:{:02}:{:02} ", n / 60 % 60, n % 60))
    }),
    ("tool and RFC 3339", |n| {
        Some(format!(
            "[build] [2024-01-02T15:{:02}:{:02}.{:03}Z] ",
            n / 60 % 60,
            n % 60,
            n % 1000
        ))
    }),
    ("stderr tag", |_| Some("[error] ".into())),
    ("remote", |_| Some("remote: ".into())),
    // Buildkite's raw log: an APC escape string with the time before each line.
    ("buildkite", |n| {
        Some(format!("\x1b_bk;t={}\x07", 1_696_428_239_123u64 + n as u64))
    }),
];

/// Real logs of the bundled sets. rawjson is left out (a JSON object per line carries no line a
/// wrapper could be learned from), as is the UTF-16 log (its bytes are not lines to wrap).
fn logs() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut out = Vec::new();
    for dir in ["corpus/logs", "formats/logs", "diagnosis/logs", "wild/logs"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            if name.contains("rawjson") || bytes.starts_with(&[0xFF, 0xFE]) {
                continue;
            }
            out.push((format!("{dir}/{name}"), bytes));
        }
    }
    out.sort();
    assert!(out.len() >= 40, "{} logs", out.len());
    out
}

fn wrap(bytes: &[u8], how: Wrap) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for (n, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        if let Some(p) = how(n) {
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(line);
    }
    out
}

fn rows(steps: &[Step]) -> Vec<String> {
    steps
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
        .collect()
}

#[test]
fn every_real_log_reads_the_same_under_every_wrapper() {
    let mut failures = Vec::new();
    let logs = logs();
    for (name, bytes) in &logs {
        let want = parse_bytes(bytes);
        for (how, f) in WRAPS {
            let got = parse_bytes(&wrap(bytes, f));
            if rows(&got.steps) != rows(&want.steps) {
                failures.push(format!(
                    "{name} {how}: {} steps, want {}\n  got  {:?}\n  want {:?}",
                    got.steps.len(),
                    want.steps.len(),
                    rows(&got.steps).first(),
                    rows(&want.steps).first()
                ));
            }
        }
    }
    let total = logs.len() * WRAPS.len();
    eprintln!(
        "wrapped logs: {} of {total} read as unwrapped",
        total - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
