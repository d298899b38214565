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

/// Real logs the parser cannot read yet (issue 12: prefix inference, indented lines, UTF-16):
/// their verdict waits on their steps. Listed, checked to still fail, and reported in the run.
const PARSER_GAPS: [&str; 4] = [
    "g-goxis-legacy-copy-source-miss",
    "g-jenkins-frontend-node-base-bumped",
    "g-legacy-make-docker-no-cache",
    "g-powershell-utf16-buildkit-no-cache",
];

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
        if PARSER_GAPS.contains(&name.as_str()) {
            assert_eq!(sum.steps, 0, "{name} parses now: take it off PARSER_GAPS");
            eprintln!("KNOWN GAP {name}: no steps parsed yet (issue 12), verdict not scored");
            continue;
        }
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
    eprintln!(
        "diagnosis: {right} of {} real cases right ({} waiting on the parser)",
        cases.len(),
        PARSER_GAPS.len()
    );
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
fn a_token_that_differs_from_the_baseline_is_a_build_arg() {
    let base = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        ("RUN echo \"release 1.4.2\" > /version", "DONE 0.2s"),
    ]);
    let now = buildkit(&[
        ("WORKDIR /app", "CACHED"),
        ("RUN echo \"release 1.4.3\" > /version", "DONE 0.2s"),
    ]);
    let v = summary_of(&now, Some(&base)).verdict;
    assert_eq!(v.cause, Cause::BuildArgChanged, "{v:#?}");
    assert!(v.detail.contains("`1.4.2\"` → `1.4.3\"`"), "{}", v.detail);
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
