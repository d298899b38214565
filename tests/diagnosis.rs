//! The verdict ("why the cache missed") on real logs whose cause their source establishes
//! (`testdata/diagnosis/`, labelled by hand from the log and the source, never from this tool),
//! on the multi-stage inline-cache case the diagnosis exists for, and on pairs of consecutive
//! builds where a baseline decides between "inputs changed" and "cache unavailable".

use cachescope::analyze::verdict::{Cause, Confidence, Verdict};
use cachescope::analyze::{summarize, BuildInput, Summary};
use cachescope::parse::parse_bytes;
use serde_json::Value;
use std::path::Path;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/diagnosis")
}

fn input(name: &str, bytes: &[u8]) -> BuildInput {
    BuildInput::from_parsed(name.to_string(), parse_bytes(bytes), None)
}

fn summary_of(text: &str, baseline: Option<&str>) -> Summary {
    let base = baseline.map(|b| parse_bytes(b.as_bytes()).steps);
    summarize(&input("here", text.as_bytes()), base.as_deref()).unwrap()
}

#[test]
fn real_cases_get_their_labelled_cause_with_evidence() {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(root().join("labels")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let label: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        cases.push((name, label));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(cases.len() >= 19, "{} cases", cases.len());
    let codebuild = cases.iter().filter(|c| c.1["ci"] == "codebuild").count();
    assert!(codebuild >= 6, "{codebuild} CodeBuild cases");
    let mut failures = Vec::new();
    let mut right = 0;
    for (name, label) in &cases {
        let bytes = std::fs::read(root().join("logs").join(format!("{name}.log"))).unwrap();
        let sum = summarize(&input(name, &bytes), None).unwrap();
        let v = &sum.verdict;
        let want = label["cause"].as_str().unwrap();
        let also: Vec<&str> = label["also_acceptable"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let lines: Vec<u64> = label["evidence_lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        let got = v.cause.id();
        if got != want && !also.contains(&got) {
            failures.push(format!(
                "{name}: cause {got} ({:?}), labelled {want} (or {also:?})",
                v.confidence
            ));
            continue;
        }
        if !v.evidence.iter().any(|q| lines.contains(&q.line)) {
            failures.push(format!(
                "{name}: {got} quotes lines {:?}, none of the labelled {lines:?}",
                v.evidence.iter().map(|q| q.line).collect::<Vec<_>>()
            ));
            continue;
        }
        right += 1;
    }
    eprintln!("diagnosis: {right} of {} real cases right", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn min_mode_log() -> Vec<u8> {
    std::fs::read(root().join("constructed/codebuild-min-mode-multistage.log")).unwrap()
}

fn quotes(v: &Verdict, needle: &str) -> bool {
    v.evidence.iter().any(|q| q.text.contains(needle))
}

#[test]
fn multistage_inline_cache_is_min_mode_not_an_instruction_change() {
    let sum = summarize(&input("min-mode", &min_mode_log()), None).unwrap();
    let v = &sum.verdict;
    assert_eq!(v.cause, Cause::MinModeMultistage, "{v:#?}");
    assert!(v.confidence <= Confidence::Likely);
    assert!(
        v.title
            .starts_with("builder stage not in the registry cache"),
        "{}",
        v.title
    );
    // Proven by the log's own lines: the import, the builder's first miss, the final stage's hit.
    assert!(quotes(v, "importing cache manifest from"));
    assert!(quotes(v, "[builder 2/8] RUN apt-get"));
    assert!(quotes(v, "[stage-1 2/5]") && quotes(v, "BUILDKIT_INLINE_CACHE=1"));
    assert!(v.fix.contains("mode=max") && v.fix.contains("image-manifest=true"));
    assert!(v.headline().contains("11m 32s rebuilt"), "{}", v.headline());
    // The import reached the registry; the table must not call that healthy.
    let table = cachescope::report::build::table(&sum, &[], false, None);
    assert!(table.contains("but served the final stage only"), "{table}");
    assert!(!table.contains("instruction changed"));
}

#[test]
fn min_mode_needs_the_final_stage_to_hit() {
    // The same build with the final stage's hit turned into a rebuild: nothing after FROM hit,
    // so the imported image served nothing at all.
    let text = String::from_utf8(min_mode_log()).unwrap();
    let cold = text.replace("#8 CACHED", "#8 DONE 12.0s");
    let v = summary_of(&cold, None).verdict;
    assert_eq!(v.cause, Cause::ImportIneffective, "{v:#?}");
    assert_eq!(v.confidence, Confidence::Likely);
    assert!(v.alternatives.contains(&Cause::BaseImageChanged));
}

/// A single-stage build: FROM, then `steps` (header, status line) as BuildKit prints them.
fn buildkit(steps: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n#2 [1/5] FROM docker.io/library/python:3.12-slim@sha256:abc\n#2 CACHED\n\n",
    );
    for (i, (header, end)) in steps.iter().enumerate() {
        let n = i + 3;
        out.push_str(&format!("#{n} [{}/5] {header}\n#{n} {end}\n\n", i + 2));
    }
    out
}

#[test]
fn without_a_baseline_a_missed_run_is_only_possibly_an_instruction_change() {
    let now = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        (
            "RUN apt-get update && apt-get install -y curl",
            "DONE 30.0s",
        ),
        ("COPY . .", "DONE 0.1s"),
    ]);
    let v = summary_of(&now, None).verdict;
    assert_eq!(v.cause, Cause::InstructionChanged);
    assert_eq!(v.confidence, Confidence::Possible);
    assert!(v.alternatives.contains(&Cause::LocalCacheCold), "{v:#?}");
}

#[test]
fn unchanged_but_missed_is_a_cache_problem_not_an_input_change() {
    let base = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        ("RUN apt-get update && apt-get install -y curl", "CACHED"),
        ("COPY . .", "DONE 0.1s"),
    ]);
    let now = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        (
            "RUN apt-get update && apt-get install -y curl",
            "DONE 30.0s",
        ),
        ("COPY . .", "DONE 0.1s"),
    ]);
    let v = summary_of(&now, Some(&base)).verdict;
    assert_eq!(v.cause, Cause::LocalCacheCold, "{v:#?}");
    assert!(v.detail.contains("unchanged since the baseline"));
    assert_ne!(
        v.cause.group(),
        cachescope::analyze::verdict::Group::InputsChanged
    );
}

#[test]
fn a_token_that_differs_from_the_baseline_is_a_build_arg_when_the_command_passes_it() {
    let step = |version: &str| {
        buildkit(&[
            ("WORKDIR /app", "CACHED"),
            (
                &format!("RUN echo \"release {version}\" > /version"),
                "DONE 0.2s",
            ),
        ])
    };
    let with_arg = |version: &str| {
        format!(
            "$ docker build --build-arg RELEASE={version} -t app .\n{}",
            step(version)
        )
    };
    let v = summary_of(&with_arg("1.4.3"), Some(&with_arg("1.4.2"))).verdict;
    assert_eq!(
        (v.cause, v.confidence),
        (Cause::BuildArgChanged, Confidence::Likely),
        "{v:#?}"
    );
    assert!(v.detail.contains("`1.4.2\"` → `1.4.3\"`"), "{}", v.detail);
    // No build arg on the command: as likely an edit of the line (a pinned version bumped).
    let v = summary_of(&step("1.4.3"), Some(&step("1.4.2"))).verdict;
    assert_eq!(
        (v.cause, v.confidence),
        (Cause::InstructionChanged, Confidence::Likely),
        "{v:#?}"
    );
    assert!(v.alternatives.contains(&Cause::BuildArgChanged));
    // A rewritten line is an instruction change, and the baseline makes it certain.
    let edited = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends curl jq",
            "DONE 9.0s",
        ),
    ]);
    let base = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        ("RUN apt-get update && apt-get install -y curl", "CACHED"),
    ]);
    let v = summary_of(&edited, Some(&base)).verdict;
    assert_eq!(
        (v.cause, v.confidence),
        (Cause::InstructionChanged, Confidence::Certain)
    );
}

/// A step that reads a build arg whose value is made per build: build-arg-changed, with or
/// without a baseline (its text may be the same: `RUN echo $BUILD_DATE`); a constant value that
/// happens to appear in the text proves nothing.
#[test]
fn build_args_read_by_the_step() {
    let build = |arg: &str, run: &str| {
        format!(
            "$ docker build --build-arg {arg} -t app .\n{}",
            buildkit(&[("WORKDIR /app", "CACHED"), (run, "DONE 3.0s")])
        )
    };
    let dated = build("BUILD_DATE=1764000000", "RUN echo $BUILD_DATE > /built");
    for base in [None, Some(dated.as_str())] {
        let v = summary_of(&dated, base).verdict;
        assert_eq!(v.cause, Cause::BuildArgChanged, "{v:#?}");
        assert!(v.detail.contains("BUILD_DATE"));
    }
    let expanded = build("GIT_SHA=9f3c2b1a7d6e", "RUN echo 9f3c2b1a7d6e > /sha");
    assert_eq!(
        summary_of(&expanded, None).verdict.cause,
        Cause::BuildArgChanged
    );
    let constant = build(
        "APP_ENV=production",
        "RUN npm run build -- --mode production",
    );
    assert_eq!(
        summary_of(&constant, None).verdict.cause,
        Cause::InstructionChanged
    );
    // `$NODE` is not `$NODE_ENV`.
    let prefix = build("NODE=20", "RUN echo $NODE_ENV");
    assert_eq!(
        summary_of(&prefix, None).verdict.cause,
        Cause::InstructionChanged
    );
}

#[test]
fn a_dependency_manifest_copy_stays_an_input_change_with_a_baseline() {
    let steps = |status: &str| {
        buildkit(&[
            ("WORKDIR /app", "CACHED"),
            ("COPY requirements.txt .", status),
            ("RUN pip install -r requirements.txt", status),
        ])
    };
    let v = summary_of(&steps("DONE 0.1s"), Some(&steps("CACHED"))).verdict;
    assert_eq!(v.cause, Cause::DependencyManifestChanged, "{v:#?}");
    assert!(quotes(&v, "COPY requirements.txt"));
}

#[test]
fn the_build_command_decides_no_cache_and_fresh_builders() {
    let all_ran = buildkit(&[("WORKDIR /app", "DONE 0.1s"), ("RUN make", "DONE 40.0s")]);
    let with = |command: &str, extra: &str| format!("$ {command}\n{extra}{all_ran}");
    let v = summary_of(&with("docker build --no-cache -t app .", ""), None).verdict;
    assert_eq!(
        (v.cause, v.confidence),
        (Cause::NoCacheFlag, Confidence::Certain)
    );
    let booted = "#0 building with \"ci\" instance using docker-container driver\n\n#9 [internal] booting buildkit\n#9 pulling image moby/buildkit:buildx-stable-1 4.7s done\n#9 DONE 5.4s\n\n";
    let sum = summary_of(&with("docker buildx build --load -t app .", booted), None);
    assert_eq!(
        (sum.verdict.cause, sum.verdict.confidence),
        (Cause::FreshBuilder, Confidence::Certain)
    );
    assert!(quotes(&sum.verdict, "booting buildkit"));
    assert_eq!(sum.cache_cost.builder_boot_s, 5.4);
    // Findings from the command line, before they hurt.
    let volatile = summary_of(
        &with(
            "docker build --build-arg BUILD_DATE=$(date +%s) --pull -t app .",
            "",
        ),
        None,
    );
    let messages: Vec<&str> = volatile
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("BUILD_DATE=$(date")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("--pull")),
        "{messages:?}"
    );
}

#[test]
fn every_cause_id_round_trips_and_has_a_fix() {
    for c in Cause::ALL {
        assert_eq!(Cause::parse(c.id()), Some(c));
        assert_eq!(serde_json::to_value(c).unwrap(), c.id());
        assert!(!c.fix().is_empty() && !c.title().is_empty());
    }
}

/// Log text in the verdict is data in Markdown (report.md is posted into pull requests): no
/// HTML, image, link or mention renders from it, and in the terminal no control sequence passes.
#[test]
fn verdict_text_from_the_log_stays_text() {
    let evil = "RUN echo \"<img src=x onerror=alert(1)> @octocat [x](http://evil.example/p.png) ![i](http://evil.example/i.png)\"";
    let now = buildkit(&[("WORKDIR /app", "CACHED"), (evil, "DONE 1.0s")]);
    let sum = summary_of(&now, None);
    assert!(
        sum.verdict.detail.contains("@octocat"),
        "{}",
        sum.verdict.detail
    );
    let md = String::from_utf8(cachescope::report::build::markdown(&sum, &[])).unwrap();
    // Everything before the steps table (whose names are code spans): headline rows, the Why.
    let why = &md[..md.find("### Steps").unwrap_or(md.len())];
    // Outside code spans, and with backslash-escaped characters taken out, nothing of the
    // log's markup is left to render.
    let outside: String = why
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect();
    let mut live_text = String::new();
    let mut chars = outside.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        } else {
            live_text.push(c);
        }
    }
    let outside = live_text;
    for live in ["<img", "](http", "@octocat", "![i]"] {
        assert!(!outside.contains(live), "{live} is live in:\n{why}");
    }
    let terminal = cachescope::report::build::verdict_text(
        &summary_of(
            &buildkit(&[
                ("WORKDIR /app", "CACHED"),
                ("RUN echo \u{1b}]0;pwned\u{7} \u{1b}[2J", "DONE 1.0s"),
            ]),
            None,
        )
        .verdict,
    );
    assert!(
        !terminal.contains('\u{1b}') && !terminal.contains('\u{7}'),
        "{terminal:?}"
    );
    // The terminal table's rows too (the cache-bust step's name is log text).
    let escape = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        ("RUN echo \u{1b}]0;pwned\u{7} \u{1b}[2J", "DONE 1.0s"),
    ]);
    let table = cachescope::report::build::table(&summary_of(&escape, None), &[], false, None);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
}

/// Two builds in one CodeBuild log: each judged with its own command, the second's `docker
/// pull` output not blamed on the first.
#[test]
fn each_run_is_judged_with_its_own_command() {
    let body = buildkit(&[("WORKDIR /app", "CACHED"), ("RUN make", "DONE 30.5s")]);
    let fresh = buildkit(&[("WORKDIR /app", "DONE 0.1s"), ("RUN make", "DONE 1.0s")]);
    let log = format!(
        "[Container] 2026/11/24 02:00:00.000000 Running command docker build -t a .\n{body}\
         [Container] 2026/11/24 02:01:00.000000 Running command docker pull b:latest\n\
         Error response from daemon: manifest for b:latest not found: manifest unknown\n\
         [Container] 2026/11/24 02:01:05.000000 Running command docker build --no-cache -t b .\n{fresh}"
    );
    let sum = summary_of(&log, None);
    // The first run lost the most time; it did not pass --no-cache.
    assert_ne!(sum.verdict.cause, Cause::NoCacheFlag, "{:#?}", sum.verdict);
    assert!(!sum
        .verdict
        .evidence
        .iter()
        .any(|q| q.text.contains("--no-cache")));
    assert!(
        sum.verdict.secondary.contains(&Cause::NoCacheFlag),
        "{:#?}",
        sum.verdict
    );
}

/// A log cut off while FROM was still pulling is not "every step came from cache".
#[test]
fn a_log_cut_during_from_is_not_all_cached() {
    let log = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n\
               #2 [1/3] FROM docker.io/library/node:20@sha256:abc\n\
               #2 sha256:1234 10.5MB / 49.8MB 2.1s\n";
    let v = summary_of(log, None).verdict;
    assert_ne!(v.cause, Cause::AllCached, "{v:#?}");
    assert_eq!(v.confidence, Confidence::Possible);
}

/// doctor does not pass a build whose cache did not serve it: nothing after a CACHED FROM hit
/// (a guess at changed inputs is a WARN), or the import served nothing behind a failing step.
#[test]
fn doctor_does_not_pass_a_cache_that_served_nothing() {
    use cachescope::analyze::doctor::{log_checks, Status};
    let status = |text: &str, check: &str| {
        let sum = summary_of(text, None);
        let steps = parse_bytes(text.as_bytes()).steps;
        (log_checks(&sum, &steps).into_iter())
            .find(|c| c.check == check)
            .map(|c| c.status)
            .unwrap()
    };
    let cold = buildkit(&[
        ("RUN apt-get update", "DONE 40.0s"),
        ("COPY . .", "DONE 0.2s"),
    ]);
    assert_ne!(status(&cold, "cache verdict"), Status::Ok);
    let imported = format!(
        "$ docker build --cache-from repo/a:latest -t a .\n\
         #9 importing cache manifest from repo/a:latest\n\
         #9 inferred cache manifest type: application/vnd.docker.distribution.manifest.v2+json done\n\
         #9 DONE 0.4s\n\n{}",
        buildkit(&[("RUN npm ci", "DONE 50.0s"), ("RUN npm test", "ERROR: process \"/bin/sh -c npm test\" did not complete successfully: exit code: 1")])
    );
    assert_eq!(status(&imported, "cache import"), Status::Fail);
}
