//! `steps` and `build` given a CodeBuild build ID, against a real CloudWatch Logs emulator (moto
//! server) behind a stub that answers CodeBuild with recorded responses, counts requests and
//! injects faults. See `support/aws.rs`.

mod support;
#[path = "../benches/support/synth.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use support::aws::{
    bare, bin, events_of, get_log_events_json, ok, recorded, run, stderr, Canned, Faults, Moto,
    Stub, LOGS,
};

const PROJECT: &str = "tts-service-build";

fn uuid(n: usize) -> String {
    format!("0f1e2d3c-4b5a-6978-8796-{n:012x}")
}

fn id(n: usize) -> String {
    format!("{PROJECT}:{}", uuid(n))
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus/logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    logs
}

/// A CodeBuild log with BuildKit steps and `[Container]` phases.
fn codebuild_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/corpus/logs/020-codebuild-buildkit-pip-no-cache.log")
}

/// moto and the stub, or `None` (skipped) when moto is not installed and not required.
fn emulator() -> Option<(Moto, Stub)> {
    let moto = Moto::start()?;
    let stub = Stub::start(&moto);
    Some((moto, stub))
}

/// CodeBuild answers AccessDenied (the recorded response): the default log location is read.
fn deny_codebuild(stub: &Stub) {
    stub.codebuild(
        "BatchGetBuilds",
        Canned {
            status: 400,
            body: recorded("batch-get-builds-denied.json"),
        },
    );
}

/// The JSON report without its `source` (a path for a file, the build ID for AWS).
fn report(json: &str) -> Value {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v.as_object_mut().unwrap().remove("source");
    v["summary"].as_object_mut().unwrap().remove("source");
    v
}

/// For every corpus log: the build read from CloudWatch gives the same steps and report as the
/// same events read from an `aws logs get-log-events` file, and the same as the plain log except
/// that legacy steps gain durations from the event timestamps.
#[test]
fn every_corpus_log_from_cloudwatch_equals_the_file() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    // CodeBuild refuses: the default location `/aws/codebuild/<project>` + UUID is read.
    deny_codebuild(&stub);
    let dir = tempfile::tempdir().unwrap();
    for (n, path) in corpus().iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy();
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        // Several lines per millisecond, as CodeBuild's own events have.
        let events = events_of(&text, 3);
        moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(n));
        moto.put_events(&format!("/aws/codebuild/{PROJECT}"), &uuid(n), &events);
        let export = dir.path().join(format!("{name}.json"));
        std::fs::write(&export, get_log_events_json(&events)).unwrap();
        let export = export.to_str().unwrap();
        let build = id(n);

        let from_aws = ok(&run(&stub, &["steps", &build, "--format", "jsonl"]));
        let from_export = ok(&run(&stub, &["steps", export, "--format", "jsonl"]));
        assert_eq!(from_aws, from_export, "{name}: steps");
        let from_text = ok(&run(
            &stub,
            &["steps", path.to_str().unwrap(), "--format", "jsonl"],
        ));
        let rows = |s: &str| -> Vec<Value> {
            s.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let (aws_rows, text_rows) = (rows(&from_aws), rows(&from_text));
        assert_eq!(aws_rows.len(), text_rows.len(), "{name}");
        assert!(!aws_rows.is_empty(), "{name}");
        for (mut a, mut t) in aws_rows.into_iter().zip(text_rows) {
            if a["vertex"].is_null() {
                // Legacy steps: a duration from event timestamps only where the text has none.
                assert!(t["duration_s"].is_null() || t["duration_s"] == a["duration_s"]);
                a["duration_s"] = Value::Null;
                t["duration_s"] = Value::Null;
            }
            assert_eq!(a, t, "{name}");
        }

        let out = run(&stub, &["build", &build, "--format", "json"]);
        let aws_report = ok(&out);
        assert!(
            stderr(&out).contains("codebuild:BatchGetBuilds is not allowed"),
            "{name}: the fallback is announced: {}",
            stderr(&out)
        );
        let file_report = ok(&run(&stub, &["build", export, "--format", "json"]));
        assert_eq!(report(&aws_report), report(&file_report), "{name}: build");
        let v: Value = serde_json::from_str(&aws_report).unwrap();
        assert_eq!(v["source"], build.as_str());
    }
}

/// A stream of more than 100,000 events over many pages: the same steps as the text, and
/// GetLogEvents calls = pages with events + 1 (the call that sees the token repeat).
#[test]
fn a_hundred_thousand_events_over_many_pages() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    stub.codebuild(
        "BatchGetBuilds",
        Canned::ok(recorded("batch-get-builds-found.json")),
    );
    let log = synth::log_with_lines(100_000, 3);
    let events = events_of(&log, 50);
    assert!(events.len() >= 100_000);
    let uuid = uuid(7);
    moto.create_stream("/custom/tts", &format!("builds/{uuid}"));
    moto.put_events("/custom/tts", &format!("builds/{uuid}"), &events);
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("big.log");
    std::fs::write(&text, &log).unwrap();

    let out = run(
        &stub,
        &["-v", "steps", &id(7), "--format", "jsonl", "--rate", "0"],
    );
    let from_aws = ok(&out);
    let from_text = ok(&run(
        &stub,
        &["steps", text.to_str().unwrap(), "--format", "jsonl"],
    ));
    assert_eq!(from_aws, from_text);
    let calls = stub.count(&format!("{LOGS}.GetLogEvents"));
    let pages = stub.pages_with_events();
    assert!(pages >= 10, "{pages} pages");
    assert_eq!(calls, pages + 1, "GetLogEvents calls per build = pages + 1");
    assert_eq!(stub.count("CodeBuild_20161006.BatchGetBuilds"), 1);
    eprintln!(
        "{} events: {pages} pages, {calls} GetLogEvents calls",
        events.len()
    );
    assert!(
        stderr(&out).contains(&format!(
            "{} events in {calls} GetLogEvents calls",
            events.len()
        )),
        "{}",
        stderr(&out)
    );
}

/// CodeBuild names a custom group and stream; the build's number, status, commit and phases
/// come from it, and the API's phases are authoritative.
#[test]
fn codebuild_metadata_and_log_location() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    stub.codebuild(
        "BatchGetBuilds",
        Canned::ok(recorded("batch-get-builds-found.json")),
    );
    let log = std::fs::read_to_string(codebuild_log()).unwrap();
    let uuid = uuid(1);
    moto.create_stream("/custom/tts", &format!("builds/{uuid}"));
    moto.put_events(
        "/custom/tts",
        &format!("builds/{uuid}"),
        &events_of(&log, 1),
    );

    let arn = format!("arn:aws:codebuild:us-east-1:123456789012:build/{PROJECT}:{uuid}");
    for arg in [id(1), arn] {
        let v: Value =
            serde_json::from_str(&ok(&run(&stub, &["build", &arg, "--format", "json"]))).unwrap();
        let b = &v["summary"]["build"];
        assert_eq!(b["number"], 412, "{arg}");
        assert_eq!(b["status"], "SUCCEEDED");
        assert_eq!(b["project"], PROJECT);
        assert_eq!(
            b["source_version"],
            "9f3c2b1a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
        );
        assert_eq!(b["start_ms"], 1_763_950_000_123i64);
        assert_eq!(b["log_group"], "/custom/tts");
        let phases = v["phases"].as_array().unwrap();
        let build = phases.iter().find(|p| p["phase"] == "BUILD").unwrap();
        assert_eq!(
            build["duration_s"], 265.0,
            "the API's phase duration, not the log's"
        );
        assert!(
            phases.iter().any(|p| p["phase"] == "QUEUED"),
            "API-only phases are kept"
        );
    }

    // The builds frame has the same columns from a file, with the build's fields empty.
    let dir = tempfile::tempdir().unwrap();
    let csv = |args: &[&str]| -> String {
        let out = dir.path().join("b.csv");
        let mut a = args.to_vec();
        a.extend([
            "--format",
            "csv",
            "--frame",
            "builds",
            "-o",
            out.to_str().unwrap(),
        ]);
        ok(&run(&stub, &a));
        std::fs::read_to_string(out).unwrap()
    };
    let from_aws = csv(&["build", &id(1)]);
    let from_file = csv(&["build", codebuild_log().to_str().unwrap()]);
    let header = |s: &str| s.lines().next().unwrap().to_string();
    assert_eq!(header(&from_aws), header(&from_file));
    assert!(header(&from_aws).contains("build_number"));
    assert!(from_aws.contains(",412,"), "{from_aws}");
}

#[test]
fn build_not_found_is_an_error_naming_it() {
    let Some((_moto, stub)) = emulator() else {
        return;
    };
    stub.codebuild(
        "BatchGetBuilds",
        Canned::ok(recorded("batch-get-builds-not-found.json")),
    );
    let out = run(&stub, &["build", &id(3)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("build {} not found in region us-east-1", id(3))),
        "{err}"
    );
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")), 0);
}

#[test]
fn missing_stream_missing_group_and_empty_stream() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);

    // No group at all.
    let out = run(&stub, &["steps", &id(1)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "log group /aws/codebuild/{PROJECT} does not exist"
        )),
        "{}",
        stderr(&out)
    );

    // The group, but not the stream (retention expired).
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(2));
    let out = run(&stub, &["steps", &id(1)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "log stream {} in group /aws/codebuild/{PROJECT} does not exist",
            uuid(1)
        )),
        "{err}"
    );
    assert!(err.contains("retention"), "{err}");

    // An empty stream: said so, never a silent empty result.
    let out = run(&stub, &["steps", &id(2)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is empty") && err.contains("no Docker build steps found"),
        "{err}"
    );
    let out = run(&stub, &["build", &id(2)]);
    assert!(stderr(&out).contains("is empty"), "{}", stderr(&out));
}

/// Overrides skip the CodeBuild lookup for `steps`.
#[test]
fn log_group_and_stream_overrides() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    let log = std::fs::read_to_string(codebuild_log()).unwrap();
    moto.create_stream("/custom/group", "prefix/abc");
    moto.put_events("/custom/group", "prefix/abc", &events_of(&log, 1));
    let out = run(
        &stub,
        &[
            "steps",
            &id(5),
            "--log-group",
            "/custom/group",
            "--log-stream",
            "prefix/abc",
            "--format",
            "jsonl",
        ],
    );
    let from_text = ok(&run(
        &stub,
        &[
            "steps",
            codebuild_log().to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(ok(&out), from_text);
    assert_eq!(stub.count("CodeBuild_20161006.BatchGetBuilds"), 0);
}

/// A third of GetLogEvents requests throttled, the rest delayed: the same result, the retries
/// named with -v; throttled every time: a message that says what to do.
#[test]
fn throttling_is_retried_and_visible() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    let log = synth::log_with_lines(25_000, 5);
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(1));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(1),
        &events_of(&log, 10),
    );
    let clean = ok(&run(&stub, &["steps", &id(1), "--format", "jsonl"]));

    stub.faults(Faults {
        throttle_every: 3,
        delay: Duration::from_millis(30),
        ..Faults::default()
    });
    let out = run(
        &stub,
        &[
            "-v",
            "steps",
            &id(1),
            "--format",
            "jsonl",
            "--max-attempts",
            "5",
        ],
    );
    assert_eq!(ok(&out), clean);
    let err = stderr(&out);
    assert!(
        err.contains("CloudWatch Logs request failed (HTTP 400")
            && err.contains("ThrottlingException"),
        "{err}"
    );

    stub.faults(Faults {
        get_log_events: Some(Canned::error(400, "ThrottlingException", "Rate exceeded")),
        ..Faults::default()
    });
    stub.reset_counts();
    let out = run(&stub, &["steps", &id(1), "--max-attempts", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("throttled by AWS after 2 attempt(s)") && err.contains("--rate"),
        "{err}"
    );
    assert!(
        err.contains(&format!("build {}", id(1))),
        "names the build: {err}"
    );
    assert_eq!(
        stub.count(&format!("{LOGS}.GetLogEvents")),
        2,
        "--max-attempts 2"
    );
    // AWS_MAX_ATTEMPTS works like the AWS CLI's when the flag is not given.
    stub.reset_counts();
    let mut cmd = bare();
    let out = cmd
        .args(["steps", &id(1), "--endpoint-url", &stub.url])
        .env("AWS_ACCESS_KEY_ID", "a")
        .env("AWS_SECRET_ACCESS_KEY", "b")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "4")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stub.count(&format!("{LOGS}.GetLogEvents")),
        4,
        "AWS_MAX_ATTEMPTS=4"
    );
}

/// Requests are spaced to --rate: BatchGetBuilds and two GetLogEvents calls at 2 per second
/// take at least a second (unlimited, they take a few milliseconds each).
#[test]
fn requests_are_spaced_to_the_rate() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    let log = std::fs::read_to_string(codebuild_log()).unwrap();
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(1));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(1),
        &events_of(&log, 1),
    );
    let start = std::time::Instant::now();
    ok(&run(&stub, &["steps", &id(1), "--rate", "2"]));
    let limited = start.elapsed();
    let start = std::time::Instant::now();
    ok(&run(&stub, &["steps", &id(1), "--rate", "0"]));
    let unlimited = start.elapsed();
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")), 4);
    assert!(limited >= Duration::from_secs(1), "{limited:?}");
    assert!(unlimited < limited, "{unlimited:?} vs {limited:?}");
}

/// CodeBuild knows the build but names no CloudWatch stream: said once, default location read.
#[test]
fn no_log_location_from_codebuild_falls_back_once() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    let mut found: Value = serde_json::from_str(&recorded("batch-get-builds-found.json")).unwrap();
    found["builds"][0].as_object_mut().unwrap().remove("logs");
    stub.codebuild("BatchGetBuilds", Canned::ok(found.to_string()));
    let log = std::fs::read_to_string(codebuild_log()).unwrap();
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(6));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(6),
        &events_of(&log, 1),
    );
    let out = run(&stub, &["build", &id(6), "--format", "json"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["summary"]["build"]["number"], 412, "metadata kept");
    let err = stderr(&out);
    assert_eq!(
        err.matches("names no CloudWatch log stream").count(),
        1,
        "{err}"
    );
}

/// A baseline given by build ID is read from its own default stream, not from the overrides
/// meant for the build.
#[test]
fn baseline_by_build_id_ignores_the_overrides() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    // The baseline: 020 as it is, every step rebuilt. This build: the same with the
    // dependency install cached, so the cache saved that step's 31.9 s.
    let before = std::fs::read_to_string(codebuild_log()).unwrap();
    let now = before.replace("#9 DONE 31.9s", "#9 CACHED");
    assert_ne!(now, before);
    moto.create_stream("/custom/g", "now");
    moto.put_events("/custom/g", "now", &events_of(&now, 1));
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(2));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(2),
        &events_of(&before, 1),
    );
    let args = [
        "build",
        &id(1),
        "--log-group",
        "/custom/g",
        "--log-stream",
        "now",
        "--baseline",
        &id(2),
        "--format",
        "json",
    ];
    let v: Value = serde_json::from_str(&ok(&run(&stub, &args))).unwrap();
    assert_eq!(v["baseline"]["time_saved_s"], 31.9, "{}", v["baseline"]);
    assert_eq!(
        v["baseline"]["now_cached"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn access_denied_names_the_iam_action() {
    let Some((_moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    stub.faults(Faults {
        get_log_events: Some(Canned::error(400, "AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: logs:GetLogEvents")),
        ..Faults::default()
    });
    let out = run(&stub, &["build", &id(1)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("access denied: logs:GetLogEvents"), "{err}");
    assert!(
        err.contains("codebuild:BatchGetBuilds is not allowed"),
        "{err}"
    );
}

/// No credentials anywhere, and an endpoint nobody listens on: messages that say what to do.
#[test]
fn no_credentials_and_unreachable_endpoint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = bare();
    cmd.env("AWS_REGION", "us-east-1");
    let out = cmd
        .args(["steps", &id(1), "--endpoint-url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no AWS credentials found"),
        "{}",
        stderr(&out)
    );

    let mut cmd = bare();
    cmd.env("AWS_REGION", "us-east-1");
    let out = cmd
        .args([
            "steps",
            &id(1),
            "--endpoint-url",
            &url,
            "--max-attempts",
            "1",
        ])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("could not reach the AWS endpoint"),
        "{}",
        stderr(&out)
    );

    let mut cmd = bare();
    cmd.env("AWS_REGION", "us-east-1");
    let out = cmd
        .env_remove("AWS_REGION")
        .args(["steps", &id(1)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no AWS region"), "{}", stderr(&out));
}

/// A file named like a build ID is read as the file; -v says so.
#[test]
fn a_file_named_like_a_build_id_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(codebuild_log(), dir.path().join(id(9))).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["-v", "steps", &id(9), "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a file by that name exists"),
        "{}",
        stderr(&out)
    );
    let missing = bin().args(["steps", "nope:not-a-build"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("not a file, nor a CodeBuild build ID"),
        "{}",
        stderr(&missing)
    );
}

/// A named profile gives credentials and region; an ARN gives the region; the endpoint can come
/// from the environment, per service.
#[test]
fn profile_arn_region_and_endpoint_variables() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    let log = std::fs::read_to_string(codebuild_log()).unwrap();
    moto.set_region("ap-south-1");
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(4));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(4),
        &events_of(&log, 1),
    );
    let expected = ok(&run(
        &stub,
        &[
            "steps",
            codebuild_log().to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    ));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile prod]\nregion = ap-south-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s\n",
    )
    .unwrap();
    let aws_cmd = |args: &[&str], env: &[(&str, &str)]| -> Output {
        let mut cmd = bare();
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
    };
    let url = stub.url.as_str();
    let out = aws_cmd(
        &[
            "steps",
            &id(4),
            "--profile",
            "prod",
            "--endpoint-url",
            url,
            "--format",
            "jsonl",
        ],
        &[],
    );
    assert_eq!(
        ok(&out),
        expected,
        "credentials and region from the profile"
    );

    let arn = format!(
        "arn:aws:codebuild:ap-south-1:123456789012:build/{PROJECT}:{}",
        uuid(4)
    );
    let keys = [
        ("AWS_ACCESS_KEY_ID", "a"),
        ("AWS_SECRET_ACCESS_KEY", "b"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = aws_cmd(
        &["steps", &arn, "--endpoint-url", url, "--format", "jsonl"],
        &keys,
    );
    assert_eq!(ok(&out), expected, "the ARN's region wins over AWS_REGION");
    let out = aws_cmd(&["steps", &id(4), "--endpoint-url", url], &keys);
    assert_eq!(out.status.code(), Some(2), "the stream is not in us-east-1");

    let mut env = keys.to_vec();
    env.extend([
        ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", url),
        ("AWS_ENDPOINT_URL_CODEBUILD", url),
    ]);
    let out = aws_cmd(
        &[
            "steps",
            &id(4),
            "--region",
            "ap-south-1",
            "--format",
            "jsonl",
        ],
        &env,
    );
    assert_eq!(ok(&out), expected, "service-specific endpoint variables");
    let mut env = keys.to_vec();
    env.push(("AWS_ENDPOINT_URL", url));
    let out = aws_cmd(&["steps", &arn, "--format", "jsonl"], &env);
    assert_eq!(ok(&out), expected, "AWS_ENDPOINT_URL");
}

/// The multi-stage inline-cache build the diagnosis exists for, read as a CloudWatch stream by
/// build ID: the verdict is min-mode-multistage with the log's own lines quoted, and `doctor`
/// on that build is not OK.
#[test]
fn min_mode_multistage_from_cloudwatch() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    deny_codebuild(&stub);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/diagnosis/constructed/codebuild-min-mode-multistage.log");
    let log = std::fs::read_to_string(&path).unwrap();
    moto.create_stream(&format!("/aws/codebuild/{PROJECT}"), &uuid(77));
    moto.put_events(
        &format!("/aws/codebuild/{PROJECT}"),
        &uuid(77),
        &events_of(&log, 2),
    );
    let v: Value =
        serde_json::from_str(&ok(&run(&stub, &["build", &id(77), "--format", "json"]))).unwrap();
    let verdict = &v["diagnosis"]["verdict"];
    assert_eq!(verdict["cause"], "min-mode-multistage", "{verdict}");
    assert!(["certain", "likely"].contains(&verdict["confidence"].as_str().unwrap()));
    let quoted: Vec<(u64, &str)> = (verdict["evidence"].as_array().unwrap().iter())
        .map(|q| (q["line"].as_u64().unwrap(), q["text"].as_str().unwrap()))
        .collect();
    let line_of = |needle: &str| {
        log.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    for needle in ["importing cache manifest from", "[builder 2/8] RUN apt-get"] {
        assert!(
            quoted
                .iter()
                .any(|(l, t)| *l == line_of(needle) && t.contains(needle)),
            "{needle} not quoted with its line: {quoted:?}"
        );
    }
    // The terminal headline says it in words.
    let table = ok(&run(&stub, &["build", &id(77)]));
    assert!(
        table.contains(
            "Cache missed: builder stage not in the registry cache (inline cache is min-mode)"
        ),
        "{table}"
    );

    stub.codebuild(
        "BatchGetProjects",
        Canned::ok(recorded("batch-get-projects-good.json")),
    );
    stub.codebuild_fn("BatchGetBuilds", |req| {
        let builds: Vec<Value> = (req["ids"].as_array().unwrap().iter())
            .map(|id| {
                let id = id.as_str().unwrap();
                serde_json::json!({
                    "id": id, "projectName": PROJECT, "buildNumber": 77,
                    "buildStatus": "SUCCEEDED",
                    "logs": { "groupName": format!("/aws/codebuild/{PROJECT}"),
                              "streamName": &id[id.len() - 36..] },
                })
            })
            .collect();
        Canned::ok(serde_json::json!({ "builds": builds, "buildsNotFound": [] }).to_string())
    });
    let out = run(&stub, &["doctor", "--build", &id(77), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = (d["checks"].as_array().unwrap().iter())
        .find(|c| c["check"] == "cache verdict")
        .unwrap();
    assert_eq!(check["status"], "FAIL", "{check}");
    assert!(check["fix"].as_str().unwrap().contains("mode=max"));
}

/// BatchGetBuilds for a project that logs to S3 only (`cloudwatch` false) or to both: the
/// recorded answer with its `logs` block rewritten as CodeBuild writes it.
fn s3_logged_build(stub: &Stub, cloudwatch: bool) {
    let mut v: Value = serde_json::from_str(&recorded("batch-get-builds-found.json")).unwrap();
    let logs = &mut v["builds"][0]["logs"];
    if !cloudwatch {
        for k in ["groupName", "streamName", "deepLink", "cloudWatchLogsArn"] {
            logs.as_object_mut().unwrap().remove(k);
        }
        logs["cloudWatchLogs"] = serde_json::json!({"status": "DISABLED"});
    }
    logs["s3Logs"] =
        serde_json::json!({"status": "ENABLED", "location": "logs-bucket/codebuild/logs"});
    logs["s3LogsArn"] = "arn:aws:s3:::logs-bucket/codebuild/logs/{{UUID}}.gz".into();
    logs["s3DeepLink"] = "https://s3.console.aws.amazon.com/s3/object/logs-bucket/codebuild/logs/{{UUID}}.gz?region=us-east-1".into();
    stub.codebuild("BatchGetBuilds", Canned::ok(v.to_string()));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A build whose log is only in S3 (CloudWatch logging off) gives exactly the steps of the
/// same log read from a file, with no CloudWatch Logs call; where both exist they agree, and
/// `--log-source` picks one.
#[test]
fn s3_logs_give_the_file_steps() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    let log = std::fs::read(codebuild_log()).unwrap();
    let from_file = ok(&run(
        &stub,
        &[
            "steps",
            codebuild_log().to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    ));
    moto.put_object(
        "logs-bucket",
        &format!("codebuild/logs/{}.gz", uuid(1)),
        &gzip(&log),
    );

    s3_logged_build(&stub, false);
    stub.reset_counts();
    let out = run(&stub, &["-v", "steps", &id(1), "--format", "jsonl"]);
    assert_eq!(ok(&out), from_file);
    assert_eq!(
        stub.count(&format!("{LOGS}.GetLogEvents")),
        0,
        "{}",
        stderr(&out)
    );
    assert_eq!(stub.count("S3.GET"), 1);
    assert!(
        stderr(&out).contains("s3://logs-bucket/codebuild/logs/"),
        "{}",
        stderr(&out)
    );

    // Both: CloudWatch Logs by default, S3 on request; the same steps.
    s3_logged_build(&stub, true);
    let events = events_of(&String::from_utf8_lossy(&log), 5);
    moto.create_stream("/custom/tts", &format!("builds/{}", uuid(1)));
    moto.put_events("/custom/tts", &format!("builds/{}", uuid(1)), &events);
    stub.reset_counts();
    let cloudwatch = ok(&run(&stub, &["steps", &id(1), "--format", "jsonl"]));
    assert_eq!(
        (
            stub.count("S3.GET"),
            stub.count(&format!("{LOGS}.GetLogEvents")) > 0
        ),
        (0, true)
    );
    let s3 = ok(&run(
        &stub,
        &["steps", &id(1), "--format", "jsonl", "--log-source", "s3"],
    ));
    assert_eq!(stub.count("S3.GET"), 1);
    let cut = |rows: &str| -> Vec<(String, String, String)> {
        rows.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["step"].to_string(),
                    v["name"].to_string(),
                    v["status"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(cut(&cloudwatch), cut(&s3), "CloudWatch Logs and S3 agree");
    assert_eq!(s3, from_file);
}

/// A missing object, denied access, and an S3 read asked of a build that has no S3 log: each a
/// message that says what to do, exit 2.
#[test]
fn s3_log_failures_say_what_to_do() {
    let Some((moto, stub)) = emulator() else {
        return;
    };
    moto.put_object("logs-bucket", "other.gz", b"x");
    s3_logged_build(&stub, false);
    let out = run(&stub, &["steps", &id(2)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the build log s3://logs-bucket/codebuild/logs/{}.gz does not exist",
            uuid(2)
        )),
        "{err}"
    );

    stub.faults(Faults {
        deny_s3: true,
        ..Faults::default()
    });
    let out = run(&stub, &["steps", &id(2)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("s3:GetObject") && err.contains("kms:Decrypt"),
        "{err}"
    );

    stub.faults(Faults::default());
    stub.codebuild(
        "BatchGetBuilds",
        Canned::ok(recorded("batch-get-builds-found.json")),
    );
    let out = run(&stub, &["steps", &id(2), "--log-source", "s3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CodeBuild names no S3 log"),
        "{}",
        stderr(&out)
    );
}
