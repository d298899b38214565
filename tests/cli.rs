//! The `cachescope steps` binary end to end: inputs (file, gzip, stdin, CloudWatch JSON), output
//! formats, and bad input — clear messages, the right exit code, never a panic.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cachescope"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/corpus/logs")
        .join(name)
}

const BUILDKIT: &str = "020-codebuild-buildkit-pip-no-cache.log";
const LEGACY: &str = "031-legacy-npm-install-partial-cache.log";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = bin()
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let data = stdin.unwrap_or_default().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "panic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn steps_of(path: &Path) -> Vec<serde_json::Value> {
    let out = run(
        &["steps", path.to_str().unwrap(), "--format", "jsonl"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    jsonl(&out)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

#[test]
fn jsonl_rows_follow_the_contract() {
    let rows = steps_of(&fixture(BUILDKIT));
    assert_eq!(rows.len(), 12);
    let keys = [
        "invocation",
        "vertex",
        "step",
        "name",
        "stage",
        "index",
        "total",
        "instruction",
        "kind",
        "status",
        "duration_s",
        "line",
    ];
    for r in &rows {
        for k in keys {
            assert!(r.get(k).is_some(), "missing {k} in {r}");
        }
    }
    let run = &rows[8];
    assert_eq!(run["step"], "#9");
    assert_eq!(run["instruction"], "RUN");
    assert_eq!(
        (run["index"].as_u64(), run["total"].as_u64()),
        (Some(5), Some(7))
    );
    assert_eq!(run["kind"], "dockerfile");
    assert_eq!(run["status"], "rebuilt");
    assert_eq!(run["duration_s"], 31.9);
    assert_eq!(run["line"], 72);
    assert_eq!(rows[0]["kind"], "internal");
    assert_eq!(rows[11]["kind"], "export");
    let legacy = steps_of(&fixture(LEGACY));
    assert_eq!(legacy[1]["step"], "Step 2/7");
    assert!(legacy[1]["vertex"].is_null());
    assert_eq!(legacy[1]["status"], "cached");
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let plain = std::fs::read(fixture(BUILDKIT)).unwrap();
    let gz = temp_file(&gzip(&plain)); // no .gz suffix
    assert_eq!(steps_of(gz.path()), steps_of(&fixture(BUILDKIT)));
}

#[test]
fn stdin_gives_the_same_rows() {
    let plain = std::fs::read(fixture(BUILDKIT)).unwrap();
    let out = run(&["steps", "-", "--format", "jsonl"], Some(&plain));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(jsonl(&out), steps_of(&fixture(BUILDKIT)));
    let out = run(&["steps", "-", "--format", "jsonl"], Some(&gzip(&plain)));
    assert_eq!(jsonl(&out), steps_of(&fixture(BUILDKIT)));
}

/// `aws logs get-log-events` output: one event per line, timestamps kept.
fn events_json(log: &[u8], key_first: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(log);
    let events: Vec<_> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({"timestamp": 1_700_000_000_000i64 + 1500 * i as i64,
                               "message": l, "ingestionTime": 1_700_000_100_000i64})
        })
        .collect();
    let doc =
        serde_json::json!({ key_first: "f/123", "events": events, "nextBackwardToken": "b/1" });
    serde_json::to_vec_pretty(&doc).unwrap()
}

#[test]
fn cloudwatch_json_gives_the_file_steps_and_legacy_durations() {
    for name in [BUILDKIT, LEGACY] {
        let log = std::fs::read(fixture(name)).unwrap();
        let from_file = steps_of(&fixture(name));
        let json = temp_file(&events_json(&log, "nextForwardToken"));
        let from_events = steps_of(json.path());
        assert_eq!(from_events.len(), from_file.len());
        for (e, f) in from_events.iter().zip(&from_file) {
            assert_eq!(
                (&e["step"], &e["name"], &e["status"]),
                (&f["step"], &f["name"], &f["status"])
            );
            if f["vertex"].is_null() {
                assert!(
                    e["duration_s"].as_f64().is_some(),
                    "legacy step without duration: {e}"
                );
            } else {
                assert_eq!(e["duration_s"], f["duration_s"]);
            }
        }
    }
    // Legacy Step 4/7 (RUN npm install) spans its header to the next step header.
    let log = std::fs::read(fixture(LEGACY)).unwrap();
    let json = temp_file(&gzip(&events_json(&log, "searchedLogStreams")));
    let rows = steps_of(json.path());
    let header = |s: &str| {
        log.split(|&b| b == b'\n')
            .position(|l| l.starts_with(s.as_bytes()))
            .unwrap()
    };
    let want = (header("Step 5/7") - header("Step 4/7")) as f64 * 1.5;
    assert_eq!(rows[3]["duration_s"].as_f64(), Some(want));
}

/// Untrusted input: one CloudWatch JSON message far past the line limit is cut (not held whole),
/// warned about, and the steps around it are still read.
#[test]
fn cloudwatch_json_message_caps_cut_an_over_long_event_and_read_the_rest() {
    let log = std::fs::read(fixture(BUILDKIT)).unwrap();
    let from_file = steps_of(&fixture(BUILDKIT));
    let mut doc: serde_json::Value =
        serde_json::from_slice(&events_json(&log, "nextForwardToken")).unwrap();
    let huge = serde_json::json!({"timestamp": 1_700_000_000_000i64, "message": "#9 ".to_string() + &"y".repeat(3 << 20)});
    doc["events"].as_array_mut().unwrap().insert(3, huge);
    let json = temp_file(&serde_json::to_vec(&doc).unwrap());
    let out = run(
        &["steps", json.path().to_str().unwrap(), "--format", "jsonl"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 JSON string(s) longer than the line limit were cut"),
        "{err}"
    );
    assert!(
        err.contains("skipped 1 line(s) longer than the line limit"),
        "{err}"
    );
    assert_eq!(jsonl(&out).len(), from_file.len());

    // Nesting is refused where it starts, with the position.
    let deep = format!(
        r#"{{"events": [], "x": {}0{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let out = run(
        &["steps", temp_file(deep.as_bytes()).path().to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nesting deeper than 64 at line 1 column 83"),
        "{err}"
    );
}

/// Untrusted input: a step name or error text a megabyte long is cut at 8 KiB (on a character
/// boundary, marked `…`) and the cut is reported with the step's line.
#[test]
fn per_step_text_caps_cut_long_names_and_errors() {
    let long = "é".repeat(300_000);
    let log = format!(
        "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\
         #2 [1/2] FROM docker.io/library/alpine\n#2 CACHED\n\
         #3 [2/2] RUN echo {long}\n#3 ERROR: process \"/bin/sh -c echo\" failed: {long}\n"
    );
    let file = temp_file(log.as_bytes());
    let out = run(
        &["steps", file.path().to_str().unwrap(), "--format", "jsonl"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = jsonl(&out);
    let step = rows.iter().find(|r| r["step"] == "#3").unwrap();
    for field in ["name", "error"] {
        let text = step[field].as_str().unwrap();
        assert!(
            text.len() <= 8 << 10 && text.ends_with('…'),
            "{field}: {} bytes",
            text.len()
        );
        assert!(text.len() > 8000, "{field}: cut too short");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 step(s) with a name or error longer than 8 KiB, cut there (first: the step on line 5)"),
        "{err}"
    );
}

#[test]
fn csv_has_the_same_columns_and_rows() {
    let out = run(
        &[
            "steps",
            fixture(BUILDKIT).to_str().unwrap(),
            "--format",
            "csv",
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with(
        "invocation,vertex,step,name,stage,index,total,instruction,kind,status,duration_s,line"
    ));
    assert_eq!(lines.count(), 12);
}

#[test]
fn table_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("steps.txt");
    let out = run(
        &[
            "steps",
            fixture(BUILDKIT).to_str().unwrap(),
            "-o",
            dest.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let table = std::fs::read_to_string(&dest).unwrap();
    assert!(table.contains("rebuilt") && table.contains("31.9s") && !table.contains("Step 1"));
    assert!(!table.contains('\u{1b}'), "no colour into a file");
    let forced = run(
        &[
            "steps",
            fixture(BUILDKIT).to_str().unwrap(),
            "--color",
            "always",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\u{1b}'));
    // Only the destination is left behind: the temporary file was renamed into place.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unusable_inputs_exit_2_naming_the_file() {
    let empty = temp_file(b"");
    let mut noise = vec![0u8; 64 * 1024];
    let mut x = 0x1234_5678u32;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let binary = temp_file(&noise);
    let bad_gzip = temp_file(&gzip(b"#1 [internal] load build definition")[..20]);
    for f in [empty.path(), binary.path(), bad_gzip.path()] {
        let out = run(&["steps", f.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&f.display().to_string()),
            "{}",
            stderr(&out)
        );
    }
    let missing = run(&["steps", "/nonexistent/build.log"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/build.log"));
    let bad_json =
        temp_file(b"{\"events\": [{\"timestamp\": 1, \"message\": \"#1 x\"}, {\"timestamp\": ");
    let out = run(&["steps", bad_json.path().to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "steps were read before the error: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("warning")
            && stderr(&out).contains(&bad_json.path().display().to_string())
    );
}

#[test]
fn build_lines_behind_an_unknown_prefix_are_named_when_no_step_is_read() {
    let log =
        temp_file(b"intro\n+ echo Step 1/2 : FROM alpine\n\tnothing\nsay ' #3 [1/2] FROM x\n");
    let out = run(&["steps", log.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 2 ") && err.contains("\"+ echo \"") && err.contains("also line 4"),
        "{err}"
    );
}

#[test]
fn truncated_gzip_keeps_the_steps_read_and_warns() {
    let plain = std::fs::read(fixture(BUILDKIT)).unwrap();
    let gz = gzip(&plain);
    let cut = temp_file(&gz[..gz.len() - 30]);
    let out = run(
        &["steps", cut.path().to_str().unwrap(), "--format", "jsonl"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!jsonl(&out).is_empty());
    assert!(stderr(&out).contains(&cut.path().display().to_string()));
}

#[test]
fn hostile_bytes_in_output_lines_change_no_step() {
    let plain = std::fs::read(fixture(BUILDKIT)).unwrap();
    let want = steps_of(&fixture(BUILDKIT));
    let mut dirty = Vec::new();
    for line in plain.split(|&b| b == b'\n') {
        dirty.extend_from_slice(line);
        dirty.push(b'\n');
        if line.starts_with(b"#9 ") && !line.starts_with(b"#9 DONE") {
            dirty.extend_from_slice(b"#9 1.234 \xff\xfe\x00bad \x1b[31mred\x1b[0m DONE 1.0s\n");
        }
    }
    // A 50 MB line in the middle: skipped and reported, the rest still parses.
    let mut with_long = dirty.clone();
    let at = with_long.len() / 2;
    let at = at + with_long[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut long = vec![b'x'; 50 << 20];
    long.push(b'\n');
    with_long.splice(at..at, long);
    for bytes in [dirty, with_long] {
        let f = temp_file(&bytes);
        let out = run(
            &["steps", f.path().to_str().unwrap(), "--format", "jsonl"],
            None,
        );
        assert_eq!(out.status.code(), Some(0));
        let got = jsonl(&out);
        let strip = |v: &[serde_json::Value]| {
            v.iter()
                .map(|r| {
                    (
                        r["step"].clone(),
                        r["status"].clone(),
                        r["duration_s"].clone(),
                        r["name"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&got), strip(&want));
        if bytes.len() > 50 << 20 {
            assert!(
                stderr(&out).contains("skipped 1 line(s) longer than"),
                "{}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn ansi_colour_around_headers_is_ignored() {
    let plain = std::fs::read_to_string(fixture(BUILDKIT)).unwrap();
    let coloured: String = plain
        .lines()
        .map(|l| {
            if l.starts_with('#') && !l.starts_with("#9 ") {
                format!("\x1b[34m{l}\x1b[0m\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let f = temp_file(coloured.as_bytes());
    assert_eq!(steps_of(f.path()), steps_of(&fixture(BUILDKIT)));
}

#[test]
fn completions_are_generated() {
    let out = run(&["completions", "bash"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cachescope"));
}

#[test]
fn build_writes_every_format_and_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture(BUILDKIT);
    let log = log.to_str().unwrap();
    let json = run(&["build", log, "--format", "json"], None);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["scenario"], "cold build (no cache)");
    let md = run(&["build", log, "-f", "markdown"], None);
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("## Docker build cache: cold build"));
    for (frame, ext) in [
        ("steps", "parquet"),
        ("phases", "parquet"),
        ("builds", "csv"),
    ] {
        let dest = dir.path().join(format!("{frame}.{ext}"));
        let out = run(
            &[
                "build",
                log,
                "-f",
                ext,
                "--frame",
                frame,
                "-o",
                dest.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(std::fs::metadata(&dest).unwrap().len() > 0);
    }
    for ext in ["svg", "png"] {
        let chart = dir.path().join(format!("steps.{ext}"));
        let out = run(
            &["build", log, "--chart", chart.to_str().unwrap(), "-o", "-"],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let bytes = std::fs::read(&chart).unwrap();
        assert!(if ext == "png" {
            bytes.starts_with(b"\x89PNG")
        } else {
            bytes.starts_with(b"<svg")
        });
    }
    let bad = run(&["build", log, "--chart", "steps.jpg"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains(".svg or .png"));
}

#[test]
fn build_of_a_log_without_docker_says_so_and_exits_0() {
    let f = temp_file(b"[Container] 2024/01/01 00:00:00 Entering phase BUILD\nnpm test\n");
    let out = run(&["build", f.path().to_str().unwrap(), "-f", "json"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no docker build found"),
        "{}",
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["steps"], 0);
    assert_eq!(doc["summary"]["scenario"], "no docker build");
    let missing = run(&["build", "/nonexistent.log"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent.log"));
}

#[test]
fn build_with_a_baseline_reports_time_saved() {
    let here = fixture("010-render-padded-step-numbers.log");
    // The same log with every CACHED step turned into a 5-second rebuild: the "previous" build.
    let text = std::fs::read_to_string(&here).unwrap();
    let base = temp_file(text.replace(" CACHED", " DONE 5.0s").as_bytes());
    let out = run(
        &[
            "build",
            here.to_str().unwrap(),
            "--baseline",
            base.path().to_str().unwrap(),
            "-f",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 10 Dockerfile steps cached here, each rebuilt in 5.0 s in the baseline.
    assert_eq!(doc["baseline"]["time_saved_s"], 50.0);
    assert_eq!(doc["baseline"]["now_cached"].as_array().unwrap().len(), 10);
}

#[test]
fn steps_parquet_has_the_jsonl_rows() {
    use polars_io::prelude::{ParquetReader, SerReader};
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("steps.parquet");
    let log = fixture(BUILDKIT);
    let out = run(
        &[
            "steps",
            log.to_str().unwrap(),
            "-f",
            "parquet",
            "-o",
            dest.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let df = ParquetReader::new(std::fs::File::open(&dest).unwrap())
        .finish()
        .unwrap();
    let rows = steps_of(&log);
    assert_eq!(df.height(), rows.len());
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, cachescope::analyze::schema::steps::ALL);
    let status = df.column("status").unwrap().str().unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(status.get(i), r["status"].as_str());
    }
    // DuckDB reads the same rows.
    let sql = format!(
        "select step, status from read_parquet('{}')",
        dest.display()
    );
    if let Some(got) = support::duckdb::query(&sql) {
        let want: Vec<String> = (rows.iter())
            .map(|r| {
                format!(
                    "{} {}",
                    r["step"].as_str().unwrap(),
                    r["status"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn output_to_a_fifo_or_device_writes_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("out.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let log = fixture(BUILDKIT);
    let out = run(
        &[
            "steps",
            log.to_str().unwrap(),
            "-f",
            "jsonl",
            "-o",
            fifo.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = reader.join().unwrap();
    assert_eq!(String::from_utf8(got).unwrap().lines().count(), 12);
    // Still a FIFO: not renamed over by a temporary file.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn terminal_tables_show_control_characters_from_the_log() {
    let log = temp_file(
        b"#1 [1/2] FROM alpine\x1b]0;owned\x07\n#1 DONE 0.1s\n#2 [2/2] RUN x\x1b[2J\x1b[31m\rcut\n#2 DONE 1.0s\n",
    );
    for cmd in ["steps", "build"] {
        let out = run(
            &[cmd, log.path().to_str().unwrap(), "--color", "never"],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.stdout
                .iter()
                .any(|&b| b == 0x1b || b == 0x07 || b == b'\r'),
            "{cmd}: raw control bytes reach the terminal: {text:?}"
        );
        assert!(
            text.contains("␛]0;owned␇"),
            "{cmd}: shown as pictures: {text}"
        );
    }
}

#[test]
fn csv_cells_from_the_log_are_not_spreadsheet_formulas() {
    let log = temp_file(
        b"#1 =HYPERLINK(\"http://e.example\",\"x\")\n#1 DONE 0.1s\n#2 [1/1] RUN x\n#2 ERROR: @SUM(1+1)\n",
    );
    for cmd in ["steps", "build"] {
        let out = run(
            &[cmd, log.path().to_str().unwrap(), "--format", "csv"],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut reader = csv::Reader::from_reader(&out.stdout[..]);
        let cells: Vec<String> = reader
            .records()
            .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
            .collect();
        assert!(
            cells.iter().any(|c| c.contains("HYPERLINK")),
            "{cmd}: {cells:?}"
        );
        for c in &cells {
            let formula = c.starts_with(['=', '+', '@', '\t', '\r'])
                || (c.starts_with('-') && c.parse::<f64>().is_err());
            assert!(!formula, "{cmd}: formula cell {c:?}");
        }
    }
}

/// A warning into a stderr nobody reads any more (a broken pipe) is lost, not a panic: the run
/// still succeeds.
#[test]
fn warnings_into_a_broken_stderr_pipe_do_not_crash() {
    let log = temp_file(b"#1 [1/1] FROM alpine\n#1 DONE 0.1s\nan over-long line for the cap\n");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = bin()
        .args([
            "steps",
            log.path().to_str().unwrap(),
            "--max-line-bytes",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn output_through_a_symlink_writes_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.csv");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let out = run(
        &[
            "steps",
            fixture(BUILDKIT).to_str().unwrap(),
            "--format",
            "csv",
            "-o",
            link.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays"
    );
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("invocation,"), "{written}");
}

/// `--version` names the version and the commit the binary was built from.
#[test]
fn version_names_the_commit() {
    let out = run(&["--version"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    let rest = text
        .trim()
        .strip_prefix(&format!(
            "cachescope {} (commit ",
            env!("CARGO_PKG_VERSION")
        ))
        .unwrap_or_else(|| panic!("{text}"));
    let commit = rest.strip_suffix(')').unwrap().trim_end_matches("-dirty");
    let in_git = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".git")
        .exists();
    if in_git {
        assert_eq!(commit.len(), 12, "{text}");
        assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()), "{text}");
    } else {
        assert!(!commit.is_empty(), "{text}");
    }
}
