//! `cachescope doctor`'s checks: the list teams go through by hand when the docker layer cache
//! does not work in CodeBuild — the project's cache and privileged mode, then in a build's log:
//! BuildKit, `--cache-from`, the cache import (and whether the image it named exists), the
//! inline cache argument, the base image's pull time. Each check is OK, WARN or FAIL with the fix.
//!
//! Pure: the command gathers the project and the build; this module only judges them.

use serde::Serialize;

use super::verdict::{self, Cause, Group, ImportOutcome};
use super::Summary;
use crate::model::{ProjectSetup, Step, StepKind, StepStatus};

/// A base image pull slower than this is worth a warning.
pub const SLOW_PULL_S: f64 = 30.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Could not be checked (no permission, nothing to look at).
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

fn check(check: &'static str, status: Status, detail: String, fix: Option<&str>) -> Check {
    Check {
        check,
        status,
        detail,
        fix: fix.map(str::to_string),
    }
}

/// Whether a build's log shows the registry cache working (`--cache-from` imported).
pub fn registry_cache_works(sum: &Summary) -> bool {
    sum.health.cache_import == ImportOutcome::Reached
        && sum.verdict.cause != Cause::ImportIneffective
}

/// The project's settings: a docker layer cache (LOCAL with LOCAL_DOCKER_LAYER_CACHE, or S3)
/// and privileged mode. No layer cache is a FAIL, or a WARN when the registry cache is seen
/// working (`registry_works`), since then builds still reuse layers.
pub fn project_checks(p: &ProjectSetup, registry_works: bool) -> Vec<Check> {
    let no_layer_cache = if registry_works {
        Status::Warn
    } else {
        Status::Fail
    };
    let has_docker_mode = p
        .cache_modes
        .iter()
        .any(|m| m == "LOCAL_DOCKER_LAYER_CACHE");
    let cache = match p.cache_type.as_str() {
        "LOCAL" if has_docker_mode => check(
            "project cache",
            Status::Ok,
            format!("LOCAL: {}", p.cache_modes.join(", ")),
            None,
        ),
        "LOCAL" => check(
            "project cache",
            no_layer_cache,
            format!(
                "LOCAL without LOCAL_DOCKER_LAYER_CACHE (modes: {})",
                if p.cache_modes.is_empty() {
                    "none".to_string()
                } else {
                    p.cache_modes.join(", ")
                }
            ),
            Some("add LOCAL_DOCKER_LAYER_CACHE to the project's cache modes (Artifacts → Cache, or `aws codebuild update-project --cache type=LOCAL,modes=LOCAL_DOCKER_LAYER_CACHE,LOCAL_SOURCE_CACHE`)"),
        ),
        "S3" => check(
            "project cache",
            Status::Ok,
            format!(
                "S3 ({}): layers come from --cache-from; the S3 cache holds the buildspec's cache paths",
                p.cache_location.as_deref().unwrap_or("no location")
            ),
            None,
        ),
        other => check(
            "project cache",
            no_layer_cache,
            format!("{other}: every build starts without local docker layers"),
            Some("set the project's cache to LOCAL with LOCAL_DOCKER_LAYER_CACHE (or rely on a working --cache-from)"),
        ),
    };
    let privileged = if p.privileged_mode {
        let image = p
            .image
            .as_deref()
            .map_or(String::new(), |i| format!(" (image {i})"));
        check("privileged mode", Status::Ok, format!("on{image}"), None)
    } else {
        check(
            "privileged mode",
            Status::Fail,
            "off: the Docker daemon cannot run in the build container".into(),
            Some("turn on privileged mode in the project's environment (`privilegedMode: true`)"),
        )
    };
    let docker_server = match &p.docker_server {
        Some(c) => check(
            "docker server",
            Status::Ok,
            format!("{c}: BuildKit's cache lives on the Docker server, across builds and hosts"),
            None,
        ),
        None => check(
            "docker server",
            Status::Ok,
            "none: the cache lives on the build host (or in a registry)".into(),
            None,
        ),
    };
    let logs = match (p.cloudwatch_logs, &p.s3_logs) {
        (Some(false), None) => check(
            "build logs",
            Status::Fail,
            "CloudWatch Logs and S3 logs are both off: no build log to diagnose".into(),
            Some("turn on CloudWatch Logs in the project's logs configuration (logsConfig.cloudWatchLogs.status=ENABLED)"),
        ),
        (Some(false), Some(s3)) => check(
            "build logs",
            Status::Ok,
            format!(
                "S3 only ({s3}): read from the object BatchGetBuilds names (needs s3:GetObject, \
                 and kms:Decrypt for encrypted logs); the report inside the build needs --log FILE \
                 (the object is written when the build ends)"
            ),
            None,
        ),
        (_, s3) => check(
            "build logs",
            Status::Ok,
            match s3 {
                Some(s3) => format!("CloudWatch Logs, and S3 ({s3})"),
                None => "CloudWatch Logs".into(),
            },
            None,
        ),
    };
    vec![cache, privileged, docker_server, logs]
}

/// Builds further apart than this most likely find CodeBuild's host-local cache gone (users
/// report a full rebuild after about 20 minutes: aws/aws-codebuild-docker-images#26).
pub const LOCAL_CACHE_GAP_S: f64 = 15.0 * 60.0;

/// With LOCAL_DOCKER_LAYER_CACHE: the gaps between the project's recent builds (start times in
/// ms, any order). The local cache is best effort, on one host, for a short time: builds that
/// come rarely find it cold. `None` with fewer than two builds or without the local cache.
pub fn build_gaps(p: &ProjectSetup, starts: &[i64]) -> Option<Check> {
    if !p
        .cache_modes
        .iter()
        .any(|m| m == "LOCAL_DOCKER_LAYER_CACHE")
        || starts.len() < 2
    {
        return None;
    }
    let mut starts = starts.to_vec();
    starts.sort_unstable();
    let mut gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1000.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    let cold = gaps.iter().filter(|g| **g > LOCAL_CACHE_GAP_S).count();
    let detail = format!(
        "{cold} of the last {} gaps between builds exceed {:.0} min (median gap {:.0} min): the host-local cache is likely cold for those builds",
        gaps.len(),
        LOCAL_CACHE_GAP_S / 60.0,
        median / 60.0
    );
    Some(if median > LOCAL_CACHE_GAP_S {
        check(
            "build frequency",
            Status::Warn,
            detail,
            Some(Cause::LocalCacheCold.fix()),
        )
    } else {
        check("build frequency", Status::Ok, detail, None)
    })
}

/// What a build's log shows of the cache set-up.
pub fn log_checks(sum: &Summary, steps: &[Step]) -> Vec<Check> {
    let h = &sum.health;
    let unknown = || "no docker build command in the log".to_string();
    let mut out = Vec::new();
    out.push(match h.builder.as_str() {
        "buildkit" => check("BuildKit", Status::Ok, "on".into(), None),
        "none" => check(
            "BuildKit",
            Status::Skip,
            "no docker build steps in the log".into(),
            None,
        ),
        b => check(
            "BuildKit",
            Status::Fail,
            format!(
                "the legacy builder ran{}: no cache import from a registry",
                if b == "legacy" {
                    ""
                } else {
                    " for some builds"
                }
            ),
            Some("set DOCKER_BUILDKIT=1 in the buildspec's env (or use docker buildx build)"),
        ),
    });
    out.push(match h.cache_from {
        Some(true) => check("--cache-from", Status::Ok, "passed".into(), None),
        Some(false) => check(
            "--cache-from",
            Status::Fail,
            "not passed: a fresh build host has no layers to reuse".into(),
            Some("docker build --cache-from $REPOSITORY_URI:latest ... (after docker pull or a registry login)"),
        ),
        None => check("--cache-from", Status::Skip, unknown(), None),
    });
    let image = h
        .cache_import_ref
        .as_deref()
        .unwrap_or("the --cache-from image");
    out.push(match h.cache_import {
        ImportOutcome::Reached => match sum.verdict.cause {
            _ if sum.verdict.names(Cause::ImportIneffective) || sum.dockerfile_cached == 0 => {
                check(
                    "cache import",
                    Status::Fail,
                    format!("reached {image}, but no step after FROM came from it"),
                    Some(Cause::ImportIneffective.fix()),
                )
            }
            Cause::MinModeMultistage => check(
                "cache import",
                Status::Warn,
                format!("reached {image}; it serves the final stage only"),
                None,
            ),
            _ => check("cache import", Status::Ok, format!("reached {image}"), None),
        },
        ImportOutcome::Failed => {
            let error = h.cache_import_error.as_deref().unwrap_or("failed");
            let (cause, _) = verdict::import_failure(error);
            check(
                "cache import",
                Status::Fail,
                format!("{}: {image} ({error})", cause.title()),
                Some(cause.fix()),
            )
        }
        ImportOutcome::Absent if h.cache_from == Some(true) => check(
            "cache import",
            Status::Warn,
            "--cache-from was passed but no cache manifest was imported".into(),
            Some(Cause::ImportIneffective.fix()),
        ),
        ImportOutcome::Absent => check(
            "cache import",
            Status::Skip,
            "no cache import in the log".into(),
            None,
        ),
    });
    out.push(match (h.inline_cache, h.cache_to) {
        _ if h.cache_from == Some(false) => check(
            "inline cache",
            Status::Skip,
            "no --cache-from, so no build reads it (see --cache-from)".into(),
            None,
        ),
        (Some(true), _) => check("inline cache", Status::Ok, "BUILDKIT_INLINE_CACHE=1 passed".into(), None),
        (Some(false), Some(true)) => check(
            "inline cache",
            Status::Ok,
            "cache exported with --cache-to".into(),
            None,
        ),
        (Some(false), _) => check(
            "inline cache",
            Status::Fail,
            "not passed: the pushed image carries no cache metadata, so the next --cache-from imports nothing".into(),
            Some("docker build --build-arg BUILDKIT_INLINE_CACHE=1 ..."),
        ),
        (None, _) => check("inline cache", Status::Skip, unknown(), None),
    });
    out.push(base_pull(steps));
    out.push(cache_verdict(sum));
    out
}

/// The verdict as a check: the same rule set `build` and `report` use. A cache that cannot serve
/// most of the build is a FAIL; inputs that changed are how a cache is meant to work.
fn cache_verdict(sum: &Summary) -> Check {
    let v = &sum.verdict;
    let lines: Vec<String> = v
        .evidence
        .iter()
        .take(3)
        .map(|q| format!("line {}", q.line))
        .collect();
    let detail = format!("{} — {} ({})", v.headline(), v.detail, lines.join(", "));
    let status = match v.cause.group() {
        Group::Healthy => Status::Ok,
        // Changed inputs are the cache working as meant — when it served the steps before them
        // (whatever changed after them is the build's business, not the set-up's).
        Group::InputsChanged if sum.dockerfile_cached > 0 => Status::Ok,
        Group::InputsChanged => Status::Warn,
        Group::ExportFailed => Status::Fail,
        Group::BuildFailed | Group::NoBuild => Status::Skip,
        Group::CacheUnavailable => {
            // The stages the cache could not serve, against the whole docker build.
            let total = sum.docker_build_s.unwrap_or(0.0).max(sum.rebuilt_s);
            if v.cause == Cause::MinModeMultistage && total > 0.0 && v.rebuilt_s * 2.0 < total {
                Status::Warn
            } else {
                Status::Fail
            }
        }
    };
    let fix = (status != Status::Ok).then_some(v.fix);
    check("cache verdict", status, detail, fix)
}

/// The FROM steps' time: a pulled base image costs it on every build without a layer cache.
fn base_pull(steps: &[Step]) -> Check {
    let result = |status, detail: &str, fix| check("base image pull", status, detail.into(), fix);
    let froms: Vec<&Step> = steps
        .iter()
        .filter(|s| s.kind == StepKind::Dockerfile && s.instruction.as_deref() == Some("FROM"))
        .collect();
    if froms.is_empty() {
        return result(Status::Skip, "no FROM step in the log", None);
    }
    // Cached FROMs cost nothing (and BuildKit gives them no time).
    if froms.iter().all(|s| s.status == StepStatus::Cached) {
        return result(Status::Ok, "base image(s) from cache", None);
    }
    let pulled: Vec<(&Step, f64)> = (froms.into_iter())
        .filter(|s| s.status != StepStatus::Cached)
        .filter_map(|s| Some((s, s.duration_s?)))
        .collect();
    if pulled.is_empty() {
        return result(Status::Skip, "the log has no FROM step times", None);
    }
    let total: f64 = pulled.iter().map(|(_, secs)| secs).sum();
    let which = (pulled.iter())
        .map(|(s, _)| super::diagnose::instruction_text(s).trim_start_matches("FROM "))
        .collect::<Vec<_>>()
        .join(", ");
    if total > SLOW_PULL_S {
        result(
            Status::Warn,
            &format!("{total:.1}s pulling {which}"),
            Some("pull the base image from ECR in the build's region (or an ECR pull-through cache) rather than a public registry"),
        )
    } else {
        result(Status::Ok, &format!("{total:.1}s ({which})"), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StepKind, StepStatus};

    fn from(status: StepStatus, secs: Option<f64>, image: &str) -> Step {
        Step {
            invocation: 1,
            vertex: Some(2),
            step: "#2".into(),
            name: format!("[1/3] FROM {image}"),
            stage: None,
            index: Some(1),
            total: Some(3),
            instruction: Some("FROM".into()),
            kind: StepKind::Dockerfile,
            status,
            duration_s: secs,
            line: 1,
            error: None,
        }
    }

    #[test]
    fn base_pull_counts_only_pulled_froms() {
        let a = from(StepStatus::Cached, None, "golang:1.23");
        let b = from(StepStatus::Rebuilt, Some(41.5), "alpine:3.20");
        let c = base_pull(&[a.clone(), b]);
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.detail.starts_with("41.5s pulling alpine:3.20"), "{c:?}");
        assert_eq!(base_pull(std::slice::from_ref(&a)).status, Status::Ok);
        let quick = from(StepStatus::Rebuilt, Some(2.0), "alpine:3.20");
        assert_eq!(base_pull(&[a, quick]).status, Status::Ok);
        assert_eq!(base_pull(&[]).status, Status::Skip);
    }

    #[test]
    fn rare_builds_find_the_local_cache_cold() {
        let local = ProjectSetup {
            cache_type: "LOCAL".into(),
            cache_modes: vec!["LOCAL_DOCKER_LAYER_CACHE".into()],
            ..ProjectSetup::default()
        };
        let minute = 60_000;
        let hourly: Vec<i64> = (0..6).map(|i| i * 60 * minute).collect();
        let c = build_gaps(&local, &hourly).unwrap();
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.detail.starts_with("5 of the last 5 gaps"), "{c:?}");
        let busy: Vec<i64> = (0..6).map(|i| i * 5 * minute).collect();
        assert_eq!(build_gaps(&local, &busy).unwrap().status, Status::Ok);
        let no_local = ProjectSetup::default();
        assert!(build_gaps(&no_local, &hourly).is_none());
        assert!(build_gaps(&local, &hourly[..1]).is_none());
    }

    #[test]
    fn log_configuration_and_docker_server() {
        let checks = |cw: Option<bool>, s3: Option<&str>| {
            let p = ProjectSetup {
                cloudwatch_logs: cw,
                s3_logs: s3.map(str::to_string),
                docker_server: Some("BUILD_GENERAL1_SMALL".into()),
                ..ProjectSetup::default()
            };
            project_checks(&p, false)
        };
        let status = |c: &[Check], name: &str| c.iter().find(|c| c.check == name).unwrap().status;
        assert_eq!(status(&checks(Some(true), None), "build logs"), Status::Ok);
        assert_eq!(
            status(&checks(Some(false), Some("b/p")), "build logs"),
            Status::Ok,
            "S3 logs are read"
        );
        assert_eq!(
            status(&checks(Some(false), None), "build logs"),
            Status::Fail
        );
        let c = checks(Some(true), None);
        let server = c.iter().find(|c| c.check == "docker server").unwrap();
        assert!(
            server.detail.starts_with("BUILD_GENERAL1_SMALL"),
            "{server:?}"
        );
    }

    #[test]
    fn no_layer_cache_fails_unless_the_registry_cache_works() {
        let p = ProjectSetup {
            cache_type: "NO_CACHE".into(),
            privileged_mode: true,
            ..ProjectSetup::default()
        };
        assert_eq!(project_checks(&p, false)[0].status, Status::Fail);
        assert_eq!(project_checks(&p, true)[0].status, Status::Warn);
        let local = ProjectSetup {
            cache_type: "LOCAL".into(),
            cache_modes: vec!["LOCAL_DOCKER_LAYER_CACHE".into()],
            privileged_mode: false,
            ..p
        };
        let checks = project_checks(&local, false);
        assert_eq!(checks[0].status, Status::Ok);
        assert_eq!(checks[1].status, Status::Fail, "privileged mode off");
    }
}
