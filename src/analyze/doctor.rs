//! `cachescope doctor`'s checks: the list teams go through by hand when the docker layer cache
//! does not work in CodeBuild — the project's cache and privileged mode, then in a build's log:
//! BuildKit, `--cache-from`, the cache import (and whether the image it named exists), the
//! inline cache argument, the base image's pull time. Each check is OK, WARN or FAIL with the fix.
//!
//! Pure: the command gathers the project and the build; this module only judges them.

use serde::Serialize;

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
    sum.health.cache_import == super::verdict::ImportOutcome::Reached
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
    vec![cache, privileged]
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
    out.push(match h.cache_import.as_str() {
        "ok" => check("cache import", Status::Ok, format!("imported from {image}"), None),
        "failed" => {
            let error = h.cache_import_error.as_deref().unwrap_or("failed");
            let (detail, fix) = match import_failure(error) {
                ImportFailure::Missing => (
                    format!("{image} does not exist ({error})"),
                    "push the image with inline cache first (BUILDKIT_INLINE_CACHE=1) and check \
                     the --cache-from tag: the first build of a repository has nothing to import",
                ),
                ImportFailure::Denied => (
                    format!("not allowed to read {image} ({error})"),
                    "log in before the build (aws ecr get-login-password | docker login \
                     --username AWS --password-stdin <registry>) and allow ecr:BatchGetImage and \
                     ecr:GetDownloadUrlForLayer to the service role",
                ),
                ImportFailure::Other => (
                    format!("from {image}: {error}"),
                    "check the registry's address and that the build can reach it",
                ),
            };
            check("cache import", Status::Fail, detail, Some(fix))
        }
        _ if h.cache_from == Some(true) => check(
            "cache import",
            Status::Warn,
            "--cache-from was passed but no cache manifest was imported".into(),
            Some("the image may have no cache metadata: build it with --build-arg BUILDKIT_INLINE_CACHE=1"),
        ),
        _ => check("cache import", Status::Skip, "no cache import in the log".into(), None),
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
    out
}

/// Why a cache import failed, from BuildKit's error text (registries word it variously).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportFailure {
    /// The image or repository does not exist.
    Missing,
    /// No credentials, or not allowed.
    Denied,
    Other,
}

fn import_failure(error: &str) -> ImportFailure {
    let e = error.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| e.contains(n));
    // Status codes only with their words: bare digits occur in account IDs and digests.
    let denied = [
        "unauthorized",
        "forbidden",
        "denied",
        "no basic auth credentials",
        "status: 401",
        "status: 403",
    ];
    if any(&denied) {
        ImportFailure::Denied
    } else if any(&[
        "not found",
        "does not exist",
        "manifest unknown",
        "name unknown",
    ]) {
        ImportFailure::Missing
    } else {
        ImportFailure::Other
    }
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
    fn import_failures_are_told_apart() {
        use ImportFailure::*;
        for (error, want) in [
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest: not found", Missing),
            ("failed to resolve source metadata: manifest unknown: manifest unknown", Missing),
            ("name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'", Missing),
            ("failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized", Denied),
            ("pull access denied, repository does not exist or may require authorization", Denied),
            ("no basic auth credentials", Denied),
            ("140137401234.dkr.ecr.us-east-1.amazonaws.com/app:latest: not found", Missing),
            ("failed to do request: Head \"http://localhost/v2/app/manifests/master\": dial tcp 127.0.0.1:80: connect: connection refused", Other),
        ] {
            assert_eq!(import_failure(error), want, "{error}");
        }
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
