//! Inside CodeBuild: `cachescope report` with the `CODEBUILD_*` variables set, reading the build's
//! own CloudWatch stream (moto behind the stub) while its last events arrive late, and comparing
//! with earlier builds of the project (CodeBuild answered by the stub, then the store); and
//! `cachescope doctor` against recorded project settings and builds with each problem.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::aws::{bare, events_of, now_ms, recorded, stderr, Canned, Moto, Stub, LOGS};
use support::logs::codebuild_log;

const PROJECT: &str = "tts-service-build";
const UUID: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

fn build_id() -> String {
    format!("{PROJECT}:{UUID}")
}

fn corpus(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/corpus/logs")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The tool as a CodeBuild build runs it: its variables, credentials from the environment, the
/// stub as endpoint.
fn in_codebuild(stub: &Stub) -> Command {
    let mut cmd = bare();
    cmd.env("CODEBUILD_BUILD_ID", build_id())
        .env("CODEBUILD_BUILD_NUMBER", "12")
        .env("CODEBUILD_RESOLVED_SOURCE_VERSION", "9f3c2b1a7d6e")
        .env("CODEBUILD_START_TIME", (now_ms() - 60_000).to_string())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &stub.url);
    cmd
}

/// The recorded BatchGetBuilds answer for this build, still running (POST_BUILD), logging to
/// the default group.
fn running_build(stub: &Stub) {
    let body = recorded("batch-get-builds-found.json")
        .replace("{{ID}}", &build_id())
        .replace("{{UUID}}", UUID);
    let mut v: Value = serde_json::from_str(&body).unwrap();
    let b = &mut v["builds"][0];
    b["buildStatus"] = json!("IN_PROGRESS");
    b["currentPhase"] = json!("POST_BUILD");
    b["buildComplete"] = json!(false);
    b.as_object_mut().unwrap().remove("endTime");
    stub.codebuild("BatchGetBuilds", Canned::ok(v.to_string()));
}

/// This build's own stream in moto (where the recorded BatchGetBuilds record puts it), and the
/// events of the corpus CodeBuild log, CodeBuild's POST_BUILD line last, to deliver to it.
struct OwnStream {
    moto: Moto,
    stub: Stub,
    events: Vec<(i64, String)>,
}

impl OwnStream {
    const GROUP: &str = "/custom/tts";

    fn name() -> String {
        format!("builds/{UUID}")
    }

    /// The stream holding the first `head` events; `None` (skipped) without moto.
    fn start(head: usize) -> Option<OwnStream> {
        let moto = Moto::start()?;
        let stub = Stub::start(&moto);
        let mut events = events_of(&corpus("020-codebuild-buildkit-pip-no-cache.log"), 1);
        let last = events.last().unwrap().0;
        events.push((
            last + 5,
            "[Container] 2025/03/08 23:04:29.790000 Entering phase POST_BUILD".into(),
        ));
        moto.create_stream(Self::GROUP, &Self::name());
        moto.put_events(Self::GROUP, &Self::name(), &events[..head]);
        Some(OwnStream { moto, stub, events })
    }

    /// More events, as CloudWatch delivers them: late.
    fn deliver(&self, events: &[(i64, String)]) {
        self.moto.put_events(Self::GROUP, &Self::name(), events);
    }
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The steps of a report, as a comparable list.
fn steps(report: &Value) -> Vec<Value> {
    report["steps"].as_array().unwrap().clone()
}

/// `report` on its own stream: the first 100 lines are there when it starts, the rest (the
/// BUILD phase's completion among them) arrive 2.5 s later. It waits for them, stops at the
/// completion line (long before --wait), and reports what `report --log` reports for the file.
#[test]
fn report_follows_its_own_stream_to_the_build_phase_completion() {
    let Some(own) = OwnStream::start(100) else {
        return;
    };
    let (stub, events, stream) = (&own.stub, &own.events, OwnStream::name());
    running_build(stub);
    let log = corpus("020-codebuild-buildkit-pip-no-cache.log");

    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = in_codebuild(stub)
        .args(["report", "--wait", "60", "--min-hit-ratio", "0.6", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(2500));
    own.deliver(&events[100..]);
    let o = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let err = stderr(&o);
    // The gate still judges: the build rebuilt everything.
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("gate failed: min-hit-ratio"), "{err}");
    assert!(
        err.contains("the BUILD phase's completion line arrived"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} events of log stream {stream}", events.len())),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(30),
        "stopped at the line, not after --wait: {took:?}"
    );
    // It polled the end of the stream at least once before the late events came.
    assert!(stub.count(&format!("{LOGS}.GetLogEvents")) >= 3);

    let report = json_file(&out.path().join("report.json"));
    let file = tempfile::tempdir().unwrap();
    let log_path = file.path().join("docker-build.log");
    std::fs::write(&log_path, &log).unwrap();
    let from_file = bare()
        .args(["report", "--out"])
        .arg(file.path().join("r"))
        .arg("--log")
        .arg(&log_path)
        .output()
        .unwrap();
    assert_eq!(from_file.status.code(), Some(0), "{}", stderr(&from_file));
    let expected = json_file(&file.path().join("r/report.json"));
    assert_eq!(steps(&report), steps(&expected));
    assert_eq!(
        report["summary"]["hit_ratio"],
        expected["summary"]["hit_ratio"]
    );
    // CodeBuild's record of the running build names it.
    assert_eq!(report["summary"]["build"]["id"], build_id().as_str());
    assert_eq!(report["summary"]["build"]["number"], 412);
    assert_eq!(report["summary"]["build"]["status"], "IN_PROGRESS");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains(&build_id()), "{md}");
}

/// No completion line ever comes (the report runs in the BUILD phase itself): it waits --wait
/// seconds at the end of the stream, says so, and reports the steps it saw.
#[test]
fn report_gives_up_after_wait_and_says_so() {
    let Some(own) = OwnStream::start(100) else {
        return;
    };
    let stub = &own.stub;
    running_build(stub);

    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = in_codebuild(stub)
        .args(["report", "--wait", "2", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("no BUILD phase completion line, and no new event for 2s at the end"),
        "{err}"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    let report = json_file(&out.path().join("report.json"));
    let seen = steps(&report);
    assert!(!seen.is_empty());
    // The last steps had not finished when the stream was read.
    assert!(seen.iter().any(|s| s["status"] == "unfinished"), "{seen:?}");
}

/// Events keep coming in batches 1.5 s apart, each within --wait (3 s) of the last, for 4.5 s
/// after the reader first reached the end: the wait counts from the last new event, so the read
/// goes on to the completion line.
#[test]
fn report_keeps_following_while_events_arrive() {
    let Some(own) = OwnStream::start(60) else {
        return;
    };
    let (stub, events) = (&own.stub, &own.events);
    running_build(stub);
    let out = tempfile::tempdir().unwrap();
    let child = in_codebuild(stub)
        .args(["report", "--wait", "3", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is at the end once it has made its second GetLogEvents call.
    let polls = || stub.count(&format!("{LOGS}.GetLogEvents"));
    let t = Instant::now();
    while polls() < 2 && t.elapsed() < Duration::from_secs(60) {
        thread::sleep(Duration::from_millis(20));
    }
    for batch in [&events[60..100], &events[100..140], &events[140..]] {
        thread::sleep(Duration::from_millis(1500));
        own.deliver(batch);
    }
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the BUILD phase's completion line arrived"),
        "{err}"
    );
    let report = json_file(&out.path().join("report.json"));
    assert!(steps(&report).iter().all(|s| s["status"] != "unfinished"));
}

/// A finished build's stream is complete: read whole, no waiting for a line that never comes.
#[test]
fn report_on_a_finished_build_does_not_wait() {
    let Some(own) = OwnStream::start(100) else {
        return;
    };
    let stub = &own.stub;
    let body = recorded("batch-get-builds-found.json")
        .replace("{{ID}}", &build_id())
        .replace("{{UUID}}", UUID);
    stub.codebuild("BatchGetBuilds", Canned::ok(body));
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = in_codebuild(stub)
        .args(["report", "--wait", "60", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the build has finished: its stream was read to its end"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// `--log` inside CodeBuild: no AWS request; the build is named from its variables.
#[test]
fn report_on_a_teed_log_names_the_build_from_its_variables() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("docker-build.log");
    std::fs::write(&log, corpus("020-codebuild-buildkit-pip-no-cache.log")).unwrap();
    let o = bare()
        .env("CODEBUILD_BUILD_ID", build_id())
        .env("CODEBUILD_BUILD_NUMBER", "12")
        .env("CODEBUILD_RESOLVED_SOURCE_VERSION", "9f3c2b1a7d6e")
        // Nowhere to send a request: any would fail the run.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["report", "--log"])
        .arg(&log)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = json_file(&dir.path().join("r/report.json"));
    let b = &report["summary"]["build"];
    assert_eq!(b["id"], build_id().as_str());
    assert_eq!(b["project"], PROJECT);
    assert_eq!(b["number"], 12);
    assert_eq!(b["source_version"], "9f3c2b1a7d6e");
    let html = std::fs::read_to_string(dir.path().join("r/report.html")).unwrap();
    assert!(html.contains(&format!("<title>Docker build cache: {}", build_id())));
}

/// Outside CodeBuild, with no log: a clear error, exit 2.
#[test]
fn report_with_nothing_to_read_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let o = bare()
        .env_remove("CODEBUILD_BUILD_ID")
        .args(["report", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give --log FILE"), "{}", stderr(&o));
}

/// Builds 3, 6 and 9 of the project, warm, are in CodeBuild (8 stopped, 10 failed before its
/// docker build, 11 running); build 12 (this one, running) rebuilt from its 4th step. `--compare last` names build 9 and the steps cached there and
/// rebuilt now; `--compare 3` then reads all three, the stored one without a request.
#[test]
fn compare_with_earlier_builds_from_codebuild_then_the_store() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    let group = format!("/aws/codebuild/{PROJECT}");
    let uuid = |n: usize| format!("7a6b5c4d-3e2f-4a1b-8c9d-{n:012x}");
    let earlier = [3usize, 6, 9];
    for &n in &earlier {
        moto.create_stream(&group, &uuid(n));
        moto.put_events(&group, &uuid(n), &events_of(&codebuild_log(n, 1, 5), 1));
    }
    // This build: same Dockerfile (n % 3 == 0), cache broke at COPY requirements.txt.
    let this_log = codebuild_log(12, 2, 2);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("docker-build.log");
    std::fs::write(&log, &this_log).unwrap();
    let this = format!("{PROJECT}:{}", uuid(12));
    // #11 is running too, #10 failed before its docker build and #8 was stopped: none is
    // compared with.
    let failed_early = "[Container] 2026/10/02 09:00:00.000000 Entering phase PRE_BUILD\n\
        [Container] 2026/10/02 09:00:03.000000 Phase complete: PRE_BUILD State: FAILED\n";
    moto.create_stream(&group, &uuid(10));
    moto.put_events(&group, &uuid(10), &events_of(failed_early, 1));
    let ids: Vec<String> = [12usize, 11, 10, 9, 8, 6, 3]
        .iter()
        .map(|n| format!("{PROJECT}:{}", uuid(*n)))
        .collect();
    stub.codebuild_fn("ListBuildsForProject", move |_| {
        Canned::ok(json!({ "ids": ids }).to_string())
    });
    let base = (now_ms() / 1000 - 86_400) as f64;
    stub.codebuild_fn("BatchGetBuilds", move |req| {
        let builds: Vec<Value> = (req["ids"].as_array().unwrap().iter())
            .map(|id| {
                let id = id.as_str().unwrap();
                let n = usize::from_str_radix(&id[id.len() - 12..], 16).unwrap();
                let start = base + n as f64 * 600.0;
                json!({
                    "id": id, "buildNumber": n, "startTime": start, "projectName": PROJECT,
                    "buildStatus": match n { 12 | 11 => "IN_PROGRESS", 10 => "FAILED", 8 => "STOPPED", _ => "SUCCEEDED" },
                    "logs": { "groupName": format!("/aws/codebuild/{PROJECT}"), "streamName": &id[id.len() - 36..] },
                })
            })
            .collect();
        Canned::ok(json!({ "builds": builds, "buildsNotFound": [] }).to_string())
    });
    let store = tempfile::tempdir().unwrap();
    let report = |compare: &str, out: &str| -> (Output, Value) {
        let o = in_codebuild(&stub)
            .env("CODEBUILD_BUILD_ID", &this)
            .env(
                "CODEBUILD_START_TIME",
                ((base + 12.0 * 600.0) * 1000.0).to_string(),
            )
            .env("CODEBUILD_BUILD_SUCCEEDING", "1")
            .args(["report", "--compare", compare, "--log"])
            .arg(&log)
            .arg("--store")
            .arg(store.path())
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (o, json_file(&dir.path().join(out).join("report.json")))
    };

    let (_, last) = report("last", "last");
    let c = &last["compare"];
    let names: Vec<&str> = (c["earlier"].as_array().unwrap().iter())
        .map(|e| e["build"].as_str().unwrap())
        .collect();
    assert_eq!(names, [format!("{PROJECT}:{}", uuid(9))]);
    let rebuilt: Vec<&str> = (c["previous"]["now_rebuilt"].as_array().unwrap().iter())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    // Cached in #9 (its first five steps), rebuilt now (all after the second).
    assert_eq!(
        rebuilt,
        [
            "[3/6] COPY requirements.txt .",
            "[4/6] RUN pip install -r requirements.txt",
            "[5/6] COPY src/ ./src/"
        ]
    );
    // The previous build is the verdict's baseline: the same COPY line, cached there, missed
    // here — its files changed.
    assert_eq!(last["baseline"]["now_rebuilt"].as_array().unwrap().len(), 3);
    assert_eq!(
        last["diagnosis"]["verdict"]["cause"], "dependency-manifest-changed",
        "{}",
        last["diagnosis"]["verdict"]
    );
    let now = last["summary"]["hit_ratio"].as_f64().unwrap();
    let before = c["earlier"][0]["hit_ratio"].as_f64().unwrap();
    assert!(now < before);
    assert!((c["hit_ratio_change"].as_f64().unwrap() - (now - before)).abs() < 1e-9);
    let md = std::fs::read_to_string(dir.path().join("last/report.md")).unwrap();
    assert!(md.contains("### Compared with build #9"), "{md}");
    assert!(
        md.contains("now rebuilt: `[4/6] RUN pip install -r requirements.txt`"),
        "{md}"
    );
    let fetched = stub.count(&format!("{LOGS}.GetLogEvents"));
    assert!(fetched >= 1);
    // This build joined the store, as it stands in post_build (succeeding), with its steps.
    let stored = cachescope::store::Store::open(Some(store.path()))
        .unwrap()
        .load(PROJECT)
        .unwrap();
    let me = &stored.builds[&uuid(12)];
    let status = me.row.column("build_status").unwrap().str().unwrap().get(0);
    assert_eq!(status, Some("SUCCEEDED"));
    assert!(me.steps.height() >= 6, "{}", me.steps);

    // Three earlier builds: #9 from the store (no second read of its log), #6 and #3 fetched.
    let (_, three) = report("3", "three");
    let numbers: Vec<u64> = (three["compare"]["earlier"].as_array().unwrap().iter())
        .map(|e| e["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [9, 6, 3]);
    // Each earlier build cached 4 of its 5 counted steps.
    assert_eq!(three["compare"]["median_hit_ratio"], 0.8);
    // #10 and #9 were read by the first run (2 calls each); #6 and #3 now.
    assert_eq!(fetched, 4);
    assert_eq!(stub.count(&format!("{LOGS}.GetLogEvents")) - fetched, 4);
    let html = std::fs::read_to_string(dir.path().join("three/report.html")).unwrap();
    assert!(html.contains("Compared with build #9"));

    // Outside the build, another build named by --build: CodeBuild places it (#9), so the
    // build before it is #6, not a later one.
    let o = in_codebuild(&stub)
        .env_remove("CODEBUILD_BUILD_ID")
        .args([
            "report",
            "--compare",
            "last",
            "--build",
            &format!("{PROJECT}:{}", uuid(9)),
        ])
        .arg("--log")
        .arg(&log)
        .arg("--store")
        .arg(store.path())
        .arg("--out")
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let other = json_file(&dir.path().join("other/report.json"));
    assert_eq!(other["compare"]["earlier"][0]["number"], 6);
}

/// A BuildKit build of the generated project log with a cache import step: `import` is
/// `Ok(())` for a good import, `Err(text)` for a failed one; `inline` passes the inline cache
/// argument; `from_pull_s` rebuilds FROM with that pull time.
fn buildkit_log(import: Result<(), &str>, inline: bool, from_pull_s: Option<f64>) -> String {
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tts-service:latest";
    let mut log = codebuild_log(3, 1, if from_pull_s.is_some() { 0 } else { 5 });
    if !inline {
        log = log.replace("--build-arg BUILDKIT_INLINE_CACHE=1 ", "");
    }
    let step = match import {
        Ok(()) => format!("#20 importing cache manifest from {image}\n#20 DONE 0.4s\n\n"),
        Err(e) => format!("#20 importing cache manifest from {image}\n#20 ERROR: {e}\n\n"),
    };
    log = log.replace("#1 DONE 0.0s\n\n", &format!("#1 DONE 0.0s\n\n{step}"));
    if let Some(s) = from_pull_s {
        log = log.replace(
            "#2 0.512 working on step 1\n#2 DONE 3.3s",
            &format!("#2 0.512 resolve\n#2 DONE {s:.1}s"),
        );
    }
    log
}

/// `doctor` against recorded BatchGetProjects answers (a good set-up and each bad one) and
/// builds whose logs show each log-side problem; exit 1 on any FAIL, 2 when it cannot check.
#[test]
fn doctor_checks_project_settings_and_the_last_build() {
    let Some(moto) = Moto::start() else { return };
    let stub = Stub::start(&moto);
    let group = format!("/aws/codebuild/{PROJECT}");
    let uuid = |n: usize| format!("5e4d3c2b-1a09-4f8e-9d7c-{n:012x}");
    let logs = [
        (1, buildkit_log(Ok(()), true, None)),
        (2, corpus("031-legacy-npm-install-partial-cache.log")),
        (
            3,
            buildkit_log(
                Err(&format!(
                    "{}: not found",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/tts-service:latest"
                )),
                false,
                None,
            ),
        ),
        (4, buildkit_log(Ok(()), true, Some(48.5))),
    ];
    for (n, log) in &logs {
        moto.create_stream(&group, &uuid(*n));
        moto.put_events(&group, &uuid(*n), &events_of(log, 1));
    }
    // #5 is running; #1 is the most recent finished build (numbers: #1 = 10, others lower).
    let ids: Vec<String> = [5usize, 1, 2, 3, 4]
        .iter()
        .map(|n| format!("{PROJECT}:{}", uuid(*n)))
        .collect();
    stub.codebuild_fn("ListBuildsForProject", move |_| {
        Canned::ok(json!({ "ids": ids }).to_string())
    });
    stub.codebuild_fn("BatchGetBuilds", move |req| {
        let builds: Vec<Value> = (req["ids"].as_array().unwrap().iter())
            .map(|id| {
                let id = id.as_str().unwrap();
                let n = usize::from_str_radix(&id[id.len() - 12..], 16).unwrap();
                json!({
                    "id": id, "projectName": PROJECT,
                    "buildNumber": match n { 5 => 11, 1 => 10, n => n },
                    "buildStatus": if n == 5 { "IN_PROGRESS" } else { "SUCCEEDED" },
                    "logs": { "groupName": format!("/aws/codebuild/{PROJECT}"), "streamName": &id[id.len() - 36..] },
                })
            })
            .collect();
        Canned::ok(json!({ "builds": builds, "buildsNotFound": [] }).to_string())
    });
    let doctor = |projects: Canned, build: Option<usize>| -> (Option<i32>, Value, String) {
        stub.codebuild("BatchGetProjects", projects);
        let mut cmd = in_codebuild(&stub);
        cmd.env_remove("CODEBUILD_BUILD_ID").args([
            "doctor",
            "--project",
            PROJECT,
            "--format",
            "json",
        ]);
        if let Some(n) = build {
            cmd.args(["--build", &format!("{PROJECT}:{}", uuid(n))]);
        }
        let o = cmd.output().unwrap();
        let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        (o.status.code(), v, stderr(&o))
    };
    let status = |v: &Value, check: &str| -> String {
        let c = (v["checks"].as_array().unwrap().iter())
            .find(|c| c["check"] == check)
            .unwrap_or_else(|| panic!("no {check} check in {v}"));
        c["status"].as_str().unwrap().to_string()
    };
    let fix = |v: &Value, check: &str| -> String {
        let c = (v["checks"].as_array().unwrap().iter())
            .find(|c| c["check"] == check)
            .unwrap();
        c["fix"].as_str().unwrap_or("").to_string()
    };
    let recorded_projects =
        |name: &str| Canned::ok(recorded(&format!("batch-get-projects-{name}.json")));

    // A good set-up: every check OK; the build checked is the most recent finished one.
    let (code, v, err) = doctor(recorded_projects("good"), None);
    assert_eq!(code, Some(0), "{err}");
    for c in v["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "OK", "{c}");
    }
    assert_eq!(v["build"], format!("{PROJECT}:{}", uuid(1)));
    assert_eq!(v["checks"].as_array().unwrap().len(), 10);

    // Project-side problems, each with its fix.
    // No layer cache: a FAIL, or a WARN while the registry cache is seen working.
    let (code, v, _) = doctor(
        recorded_projects("local-without-docker-layer-cache"),
        Some(2),
    );
    assert_eq!(code, Some(1));
    assert_eq!(status(&v, "project cache"), "FAIL");
    assert!(fix(&v, "project cache").contains("LOCAL_DOCKER_LAYER_CACHE"));
    assert_eq!(status(&v, "privileged mode"), "OK");
    let (code, v, _) = doctor(recorded_projects("local-without-docker-layer-cache"), None);
    assert_eq!(code, Some(0));
    assert_eq!(status(&v, "project cache"), "WARN");
    let (code, v, err) = doctor(recorded_projects("no-cache-not-privileged"), None);
    assert_eq!(code, Some(1));
    assert_eq!(status(&v, "project cache"), "WARN");
    assert_eq!(status(&v, "privileged mode"), "FAIL");
    assert!(err.contains("1 check(s) failed"), "{err}");
    let (code, v, _) = doctor(recorded_projects("s3-cache"), None);
    assert_eq!(code, Some(0));
    assert_eq!(status(&v, "project cache"), "OK");

    // Log-side problems.
    let (code, v, _) = doctor(recorded_projects("good"), Some(2));
    assert_eq!(code, Some(1));
    assert_eq!(status(&v, "BuildKit"), "FAIL");
    assert!(fix(&v, "BuildKit").contains("DOCKER_BUILDKIT=1"));
    assert_eq!(status(&v, "--cache-from"), "FAIL");
    let (code, v, _) = doctor(recorded_projects("good"), Some(3));
    assert_eq!(code, Some(1));
    assert_eq!(status(&v, "BuildKit"), "OK");
    assert_eq!(status(&v, "cache import"), "FAIL");
    let detail = (v["checks"].as_array().unwrap().iter())
        .find(|c| c["check"] == "cache import")
        .unwrap()["detail"]
        .to_string();
    assert!(
        detail.contains("the cache image was not found: 123456789012.dkr.ecr.us-east-1.amazonaws.com/tts-service:latest"),
        "{detail}"
    );
    assert_eq!(status(&v, "inline cache"), "FAIL");
    let (code, v, _) = doctor(recorded_projects("good"), Some(4));
    assert_eq!(status(&v, "base image pull"), "WARN");
    // That build imported the cache, yet no step came from it: reaching the registry is not
    // a working cache (issue 11: no "cache import ok" when the cache did not work).
    assert_eq!(code, Some(1));
    assert_eq!(status(&v, "cache import"), "FAIL");
    assert_eq!(status(&v, "cache verdict"), "FAIL");
    assert!(fix(&v, "cache verdict").contains("BUILDKIT_INLINE_CACHE=1"));

    // Cannot check: no such project (exit 2); BatchGetProjects denied (skipped, the rest run).
    let (code, _, err) = doctor(recorded_projects("not-found"), None);
    assert_eq!(code, Some(2));
    assert!(err.contains("project tts-service-build not found"), "{err}");
    let denied = Canned::error(
        400,
        "AccessDeniedException",
        "not authorized to perform codebuild:BatchGetProjects",
    );
    let (code, v, _) = doctor(denied, None);
    assert_eq!(code, Some(0));
    assert_eq!(status(&v, "project cache"), "SKIP");
    assert_eq!(status(&v, "BuildKit"), "OK");

    // The builds cannot be listed: the project is still checked, the log check says why not.
    // (A responder wins over a canned answer in the stub.)
    stub.codebuild_fn("ListBuildsForProject", |_| {
        Canned::error(
            400,
            "AccessDeniedException",
            "not authorized to perform codebuild:ListBuildsForProject",
        )
    });
    let (code, v, err) = doctor(recorded_projects("no-cache-not-privileged"), None);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(status(&v, "privileged mode"), "FAIL");
    assert_eq!(status(&v, "build log"), "SKIP");
    let detail = v["checks"].as_array().unwrap().last().unwrap()["detail"].to_string();
    assert!(
        detail.contains("codebuild:ListBuildsForProject"),
        "{detail}"
    );

    // A log file, the project from the build's own variables.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("docker-build.log");
    std::fs::write(&log, buildkit_log(Ok(()), true, None)).unwrap();
    stub.codebuild("BatchGetProjects", recorded_projects("good"));
    let o = in_codebuild(&stub)
        .args(["doctor", "--format", "json", "--log"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["project"], PROJECT);
    assert_eq!(v["checks"].as_array().unwrap().len(), 10);
}
