//! `cachescope report` from a teed log: the four files, the gates' exit codes and messages, log
//! text that cannot break out of the HTML or the JUnit XML, the JUnit XML valid under its schema
//! (tests/data/junit/junit.xsd), and report.md snapshots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LOG: &str = "testdata/corpus/logs/020-codebuild-buildkit-pip-no-cache.log"; // 0 of 6 cached
const WARM: &str = "testdata/corpus/logs/002-netalertx-multistage-all-cached.log";

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs from the repository root, so relative log paths (and the reports naming them) are the
/// same on every machine.
fn report(log: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cachescope"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "--log"])
        .arg(log)
        .arg("--out")
        .arg(out)
        .args(extra);
    // Outside CodeBuild, even where the tests run inside it.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CODEBUILD_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().unwrap()
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
/// failed gate as a failure. (report.md: `report_markdown_snapshots`.)
#[test]
fn junit_cases_and_gates() {
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

/// The XML Schema validators the JUnit test can use, the first one installed.
enum Validator {
    /// Python's `xmlschema` (`python3 -m pip install xmlschema`).
    Xmlschema,
    Xmllint,
}

const VALIDATE_PY: &str = r#"
import sys, xmlschema
schema = xmlschema.XMLSchema(sys.argv[1])
for f in sys.argv[2:]:
    try:
        e = next(schema.iter_errors(f), None)
    except Exception as x:
        e = x
    if e is not None:
        print(f, " ".join(str(getattr(e, "reason", None) or e).split()), sep="\t")
"#;

impl Validator {
    fn find() -> Option<Validator> {
        let runs = |cmd: &str, arg: &[&str]| {
            Command::new(cmd)
                .args(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if runs("python3", &["-c", "import xmlschema"]) {
            Some(Validator::Xmlschema)
        } else if runs("xmllint", &["--version"]) {
            Some(Validator::Xmllint)
        } else {
            None
        }
    }

    /// The files that do not validate against `xsd`, each with what it breaks.
    fn errors(&self, xsd: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, String> {
        let (program, head) = match self {
            Validator::Xmlschema => ("python3", vec!["-c", VALIDATE_PY]),
            Validator::Xmllint => ("xmllint", vec!["--noout", "--schema"]),
        };
        let o = Command::new(program)
            .args(head)
            .arg(xsd)
            .args(files)
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        match self {
            Validator::Xmlschema => {
                assert!(o.status.success(), "{program}: {err}");
                out.lines()
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(f, why)| (PathBuf::from(f), why.to_string()))
                    .collect()
            }
            // xmllint says `FILE validates` or reports lines starting with `FILE:`.
            Validator::Xmllint => files
                .iter()
                .filter(|f| !err.contains(&format!("{} validates", f.display())))
                .map(|f| {
                    let prefix = f.to_string_lossy();
                    let why: Vec<&str> = err.lines().filter(|l| l.starts_with(&*prefix)).collect();
                    (f.clone(), why.join(" | "))
                })
                .collect(),
        }
    }
}

fn count(doc: &roxmltree::Document, tag: &str) -> usize {
    doc.descendants().filter(|n| n.has_tag_name(tag)).count()
}

/// junit.xml validates against the strict JUnit schema for logs of every kind, with and without
/// a failing gate and with markup and control characters in step names; its counts agree with
/// its test cases; and the validator does reject what the schema forbids.
#[test]
fn junit_is_valid_under_the_schema() {
    let Some(validator) = Validator::find() else {
        let why = "no XML Schema validator (python3 -m pip install xmlschema, or xmllint)";
        assert!(
            std::env::var("CACHESCOPE_REQUIRE_XMLSCHEMA").as_deref() != Ok("1"),
            "CACHESCOPE_REQUIRE_XMLSCHEMA=1: {why}"
        );
        eprintln!("SKIPPED: {why}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Markup, ANSI colour codes and a control character in a step name.
    let hostile = dir.path().join("hostile.log");
    let text = std::fs::read_to_string(path(LOG)).unwrap().replace(
        "#6 [2/7] RUN pip install",
        "#6 [2/7] RUN echo <script>alert(1)</script> \x1b[31mred\x1b[0m \x01 && pip install",
    );
    std::fs::write(&hostile, text).unwrap();
    let corpus = |name: &str| PathBuf::from(format!("testdata/corpus/logs/{name}.log"));
    let logs = [
        corpus("001-jenkins-plugin-cli-error"), // a step fails
        corpus("002-netalertx-multistage-all-cached"),
        corpus("020-codebuild-buildkit-pip-no-cache"),
        corpus("006-jetson-ros-user-canceled"),
        corpus("016-gha-two-builds-second-all-cached"),
        corpus("022-codebuild-legacy-platform-warning-trailing-spaces"),
        corpus("027-legacy-jenkins-truncated-log"), // a step unfinished
        hostile,
    ];
    let mut good = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        for gate in [&[][..], &["--min-hit-ratio", "0.99"]] {
            let out = dir.path().join(format!("{i}-{}", gate.len()));
            let o = report(log, &out, gate);
            let file = out.join("junit.xml");
            let xml = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}: {}", log.display(), stderr(&o)));
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let suite = doc
                .descendants()
                .find(|n| n.has_tag_name("testsuite"))
                .unwrap();
            let attr = |n: roxmltree::Node, a| n.attribute(a).unwrap().parse::<usize>().unwrap();
            assert_eq!(attr(suite, "tests"), count(&doc, "testcase"), "{file:?}");
            assert_eq!(attr(suite, "failures"), count(&doc, "failure"), "{file:?}");
            assert_eq!(attr(suite, "skipped"), count(&doc, "skipped"), "{file:?}");
            assert_eq!(attr(doc.root_element(), "tests"), attr(suite, "tests"));
            assert_eq!(
                attr(doc.root_element(), "failures"),
                attr(suite, "failures")
            );
            let gate_failed = doc
                .descendants()
                .any(|n| n.has_tag_name("failure") && n.attribute("type") == Some("gate-failed"));
            assert_eq!(o.status.code(), Some(i32::from(gate_failed)), "{file:?}");
            good.push(file);
        }
    }
    let xml = std::fs::read_to_string(good.last().unwrap()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let name = "RUN echo <script>alert(1)</script> \u{FFFD}[31mred\u{FFFD}[0m \u{FFFD} &&";
    assert!(doc
        .descendants()
        .filter_map(|n| n.attribute("name"))
        .any(|n| n.contains(name)));

    // Copies the schema forbids: the validator must reject each one.
    let xml = std::fs::read_to_string(&good[0]).unwrap(); // 001, no gate
    let swap = |from: &str, to: &str| xml.replacen(from, to, 1);
    let stamp = &xml[xml.find("timestamp=").unwrap()..][.."timestamp=\"2026-01-01T00:00:00".len()];
    let broken = [
        swap(" hostname=\"localhost\"", ""),
        swap(" classname=\"docker-build.run1\"", ""),
        swap("time=\"0.000\"><system-out>", "time=\"abc\"><system-out>"),
        swap(
            "time=\"0.000\"><system-out>",
            "time=\"-0.000\"><system-out>",
        ),
        swap(" type=\"step-failed\"", ""),
        swap(stamp, &format!("{stamp}Z")), // a time zone
        swap("</testcase>", "</testcase><system-out/>"), // out of order
        swap("docker build cache", "\x1b[1mdocker build cache"), // not XML 1.0
    ];
    let mut bad = Vec::new();
    for (i, b) in broken.iter().enumerate() {
        assert_ne!(b, &xml, "broken copy {i} is the original");
        let file = dir.path().join(format!("broken-{i}.xml"));
        std::fs::write(&file, b).unwrap();
        bad.push(file);
    }

    let xsd = path("tests/data/junit/junit.xsd");
    let errors = validator.errors(&xsd, &[&good[..], &bad[..]].concat());
    for f in &good {
        assert!(!errors.contains_key(f), "{}: {}", f.display(), errors[f]);
    }
    for f in &bad {
        assert!(errors.contains_key(f), "{} passed validation", f.display());
    }
}

/// report.md as the command writes it: with a failing gate, and without gates on a legacy log
/// cut short (the log named as given, relative to the repository).
#[test]
fn report_markdown_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    for (log, gate, code) in [
        (
            "001-jenkins-plugin-cli-error.log",
            &["--min-hit-ratio", "0.9"][..],
            1,
        ),
        ("027-legacy-jenkins-truncated-log.log", &[], 0),
    ] {
        let out = dir.path().join(log);
        let o = report(&Path::new("testdata/corpus/logs").join(log), &out, gate);
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        insta::assert_snapshot!(format!("report-md-{}", &log[..3]), md);
    }
}

/// A log with a thousand rebuilt steps: report.md stays short enough for a pull-request
/// comment, listing the slowest and counting the rest.
#[test]
fn markdown_fits_a_pull_request_comment() {
    let mut log = String::new();
    for i in 1..=1000u32 {
        let v = i + 1;
        let secs = if i == 777 {
            900.0
        } else {
            f64::from(i % 50) / 10.0
        };
        if i == 5 {
            // A quick failed step: listed whatever the slow ones.
            log.push_str(&format!(
                "#{v} [{i}/1000] RUN step-{i}\n#{v} ERROR: boom\n\n"
            ));
        } else {
            log.push_str(&format!(
                "#{v} [{i}/1000] RUN step-{i}\n#{v} DONE {secs:.1}s\n\n"
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    std::fs::write(&path, log).unwrap();
    let out = dir.path().join("r");
    let o = report(&path, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.len() < 65_536, "{} bytes", md.len());
    assert!(
        md.contains("`[777/1000] RUN step-777`"),
        "the slowest is listed"
    );
    assert!(md.contains("… and 970 more"), "{md}");
    let rows: Vec<u32> = md
        .lines()
        .filter_map(|l| l.strip_prefix("| \\#"))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(rows.len(), 30);
    assert!(rows.contains(&6), "the failed step #6 is listed: {rows:?}");
    assert!(
        rows.windows(2).all(|w| w[0] < w[1]),
        "in log order: {rows:?}"
    );
}

/// Log text is data in report.md, which is posted to pull requests: outside code spans no
/// image, link, HTML or mention made by a step name or an error line reaches the Markdown.
#[test]
fn markdown_injection_from_the_log_stays_text_in_every_section() {
    let evil = r#"<img src=x onerror=alert(1)> @octocat [x](http://e.example/a) ![i](http://e.example/p.png) <details>open"#;
    let log = format!(
        "#0 building with \"default\" instance using docker driver\n\
         #1 [internal] load build definition from Dockerfile\n#1 DONE 0.1s\n\
         #2 [1/3] FROM alpine\n#2 CACHED\n\
         #3 [2/3] RUN echo \"{evil}\"\n#3 DONE 4.0s\n\
         #4 [3/3] RUN make {evil}\n#4 ERROR: process \"/bin/sh -c make\" failed: {evil}\n\
         ERROR: failed to solve: {evil}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.log");
    std::fs::write(&path, log).unwrap();
    let out = dir.path().join("r");
    let o = report(&path, &out, &[]);
    assert!(o.status.code().is_some(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("octocat"), "the text is still there: {md}");
    // Code spans hold text as it is; everything between them must be inert.
    for (i, part) in md.split('`').enumerate().filter(|(i, _)| i % 2 == 0) {
        for bad in ["<img", "<details", "](http", "![", "@octocat", "http://"] {
            // Escaped with a backslash, it renders as the text itself.
            let raw = part
                .match_indices(bad)
                .any(|(at, _)| !part[..at].ends_with('\\'));
            assert!(!raw, "{bad:?} outside a code span (part {i}): {part}");
        }
    }
}

/// Numeric flags are checked by the parser: NaN, infinities and negatives are usage errors
/// (exit 2), not a disabled gate or rate limit.
#[test]
fn numeric_flags_reject_nan_infinity_and_negatives() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        &["--min-hit-ratio", "NaN"][..],
        &["--min-hit-ratio", "1.5"],
        &["--max-rebuilt-seconds", "-1"],
        &["--max-rebuilt-seconds", "inf"],
        &["--rate", "NaN"],
        &["--rate", "-1"],
        &["--max-line-bytes", "0"],
    ] {
        let o = report(&path(WARM), &dir.path().join("r"), bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(bad[1]), "{bad:?} named: {}", stderr(&o));
    }
}

/// Durations that add up past f64 give a JUnit `time` that is still a decimal.
#[test]
fn junit_times_are_finite_decimals() {
    let huge = format!("1{}", "0".repeat(307));
    let log =
        format!("#1 [1/2] FROM alpine\n#1 DONE {huge}.0s\n#2 [2/2] RUN make\n#2 DONE {huge}.0s\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    std::fs::write(&path, log).unwrap();
    let out = dir.path().join("r");
    let o = report(&path, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    for t in xml.split("time=\"").skip(1) {
        let v = &t[..t.find('"').unwrap()];
        assert!(
            !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
            "time={v:?} in {xml}"
        );
    }
}

/// Terminal escapes from the log (a window title, a screen clear) reach stderr as visible
/// pictures, never as escapes: the gate line quotes the cache import's error text.
#[test]
fn terminal_escapes_from_the_log_are_made_visible_in_the_gate_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hostile.log");
    std::fs::write(
        &log,
        "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\
         #2 [1/2] FROM docker.io/library/alpine\n#2 DONE 0.1s\n\
         #3 importing cache manifest from 123.dkr.ecr.us-east-1.amazonaws.com/app:latest\n\
         #3 ERROR: failed \x1b]0;owned\x07 to fetch \x1b[2J manifest\n\
         #4 [2/2] RUN make\n#4 DONE 10.0s\n",
    )
    .unwrap();
    let o = report(
        &log,
        &dir.path().join("r"),
        &["--fail-on-cache-import-error"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let gate = err
        .lines()
        .find(|l| l.starts_with("cachescope: gate failed: cache-import"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        gate.contains("failed ␛]0;owned␇ to fetch ␛[2J manifest"),
        "{gate}"
    );
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");

    // doctor's table quotes the same error.
    let o = Command::new(env!("CARGO_BIN_EXE_cachescope"))
        .args(["doctor", "--log"])
        .arg(&log)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("␛]0;owned␇"), "{out}");
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
}
