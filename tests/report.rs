//! `cachescope report` from a teed log: the four files, the gates' exit codes and messages, and
//! log text that cannot break out of the HTML or the JUnit XML.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LOG: &str = "testdata/corpus/logs/020-codebuild-buildkit-pip-no-cache.log"; // 0 of 6 cached
const WARM: &str = "testdata/corpus/logs/002-netalertx-multistage-all-cached.log";

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn report(log: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachescope"))
        .args([
            "report",
            "--log",
            log.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .env_remove("CODEBUILD_BUILD_ID")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn gates_pass_fail_and_a_report_that_cannot_be_built() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // Passing gates: exit 0, nothing said.
    let o = report(
        &path(WARM),
        &out,
        &["--min-hit-ratio", "0.6", "--max-rebuilt-seconds", "600"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("gate failed"));
    for f in ["report.md", "report.html", "report.json", "junit.xml"] {
        assert!(out.join(f).is_file(), "{f}");
    }

    // A failing gate: exit 1, one line naming it, and the report still written.
    let out = dir.path().join("f");
    let o = report(
        &path(LOG),
        &out,
        &["--min-hit-ratio", "0.6", "--max-rebuilt-seconds", "1000"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("gate failed")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("min-hit-ratio") && lines[0].contains("0%") && lines[0].contains("60%")
    );
    assert!(out.join("report.html").is_file() && out.join("junit.xml").is_file());
    let o = report(
        &path(LOG),
        &dir.path().join("g"),
        &["--max-rebuilt-seconds", "10"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("max-rebuilt-seconds"), "{}", stderr(&o));

    // No report: exit 2 with the reason.
    let o = report(&dir.path().join("missing.log"), &dir.path().join("m"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.log"), "{}", stderr(&o));
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "no docker here\n").unwrap();
    let o = report(&empty, &dir.path().join("e"), &["--min-hit-ratio", "0.5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no docker build steps"),
        "{}",
        stderr(&o)
    );
    let o = report(
        &path(LOG),
        &dir.path().join("x"),
        &["--min-hit-ratio", "60"],
    );
    assert_eq!(o.status.code(), Some(2), "60 is not a fraction");
}

/// JUnit XML: one case per Dockerfile step (FROM excluded) with its time, one per gate, a
/// failed gate as a failure; Markdown: the same as `build --format markdown`.
#[test]
fn junit_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = report(
        &path(LOG),
        &out,
        &["--min-hit-ratio", "0.6", "--fail-on-cache-import-error"],
    );
    assert_eq!(o.status.code(), Some(1));
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        cases.len(),
        6 + 2,
        "six Dockerfile steps after FROM, two gates"
    );
    let pip = cases
        .iter()
        .find(|c| {
            c.attribute("name")
                .unwrap()
                .contains("RUN pip install --default-timeout")
        })
        .unwrap();
    assert_eq!(pip.attribute("time"), Some("31.900"));
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(
        failures.len(),
        1,
        "the hit-ratio gate; the cache import did not fail"
    );
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("8"));
    assert_eq!(suite.attribute("failures"), Some("1"));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let build = Command::new(env!("CARGO_BIN_EXE_cachescope"))
        .args(["build", path(LOG).to_str().unwrap(), "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(md, String::from_utf8(build.stdout).unwrap());
}

/// Step names and error text come from the log: they show as text, never as markup.
#[test]
fn log_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read_to_string(path(LOG)).unwrap().replace(
        "#6 [2/7] RUN pip install",
        "#6 [2/7] RUN echo <script>alert(1)</script> && pip install",
    );
    let file = dir.path().join("x.log");
    std::fs::write(&file, log).unwrap();
    let out = dir.path().join("r");
    let o = report(&file, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.contains("<script"),
        "no script element, from the log or otherwise"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("<svg"), "the timeline is inline");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert!(doc
        .descendants()
        .filter_map(|n| n.attribute("name"))
        .any(|n| n.contains("<script>alert(1)</script>")));
}
