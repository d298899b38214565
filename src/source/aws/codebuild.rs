//! CodeBuild's record of a build (`BatchGetBuilds`): where its log is, and the metadata the log
//! lacks — number, status, start and end, commit, phases with their durations; and the builds
//! of a project (`ListBuildsForProject`), and a project's cache set-up (`BatchGetProjects`).

use anyhow::Result;
use aws_sdk_codebuild::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codebuild::primitives::DateTime;
use aws_sdk_codebuild::types::{Build, BuildPhaseType};

use super::{classify, explain, Aws, BuildRef, Failure};
use crate::model::{span_s, BuildMeta, BuildStatus, Phase, ProjectSetup};

/// What CodeBuild answered about one build.
#[derive(Debug)]
pub enum Lookup {
    Found(BuildMeta),
    /// `codebuild:BatchGetBuilds` is not allowed; the message is AWS's.
    Denied(String),
}

/// AWS's words for a refused call.
fn denied<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.message().unwrap_or("access denied").to_string()
}

/// Looks one build up. A build CodeBuild does not know is an error naming it.
pub async fn lookup(aws: &Aws, build: &BuildRef) -> Result<Lookup> {
    aws.limit.wait().await;
    let id = build.id();
    let out = match aws.codebuild.batch_get_builds().ids(&id).send().await {
        Ok(out) => out,
        Err(e) if classify(&e) == Failure::AccessDenied => return Ok(Lookup::Denied(denied(&e))),
        Err(e) => {
            return Err(explain(
                aws,
                &e,
                "codebuild:BatchGetBuilds",
                &format!("build {id}"),
            ))
        }
    };
    match out.builds().iter().find(|b| b.id() == Some(id.as_str())) {
        Some(b) => Ok(Lookup::Found(meta(b, build))),
        None => anyhow::bail!(
            "build {id} not found in region {}: check the ID, the account (--profile) and the \
             region (--region)",
            aws.region
        ),
    }
}

/// What CodeBuild answered about a project.
#[derive(Debug)]
pub enum ProjectLookup {
    Found(ProjectSetup),
    NotFound,
    /// `codebuild:BatchGetProjects` is not allowed; the message is AWS's.
    Denied(String),
}

/// A project's cache and environment settings.
pub async fn project(aws: &Aws, name: &str) -> Result<ProjectLookup> {
    aws.limit.wait().await;
    let out = match aws.codebuild.batch_get_projects().names(name).send().await {
        Ok(out) => out,
        Err(e) if classify(&e) == Failure::AccessDenied => {
            return Ok(ProjectLookup::Denied(denied(&e)))
        }
        Err(e) => {
            let what = format!("project {name}");
            return Err(explain(aws, &e, "codebuild:BatchGetProjects", &what));
        }
    };
    let Some(p) = out.projects().iter().find(|p| p.name() == Some(name)) else {
        return Ok(ProjectLookup::NotFound);
    };
    let cache = p.cache();
    let env = p.environment();
    let logs = p.logs_config();
    Ok(ProjectLookup::Found(ProjectSetup {
        cache_type: cache
            .map_or("NO_CACHE", |c| c.r#type().as_str())
            .to_string(),
        cache_modes: cache.map_or_else(Vec::new, |c| {
            c.modes().iter().map(|m| m.as_str().to_string()).collect()
        }),
        cache_location: cache
            .and_then(|c| c.location())
            .filter(|l| !l.is_empty())
            .map(str::to_string),
        privileged_mode: env.and_then(|e| e.privileged_mode()).unwrap_or(false),
        image: env.map(|e| e.image().to_string()),
        docker_server: env
            .and_then(|e| e.docker_server())
            .map(|d| d.compute_type().as_str().to_string()),
        cloudwatch_logs: logs
            .and_then(|l| l.cloud_watch_logs())
            .map(|c| c.status().as_str() == "ENABLED"),
        s3_logs: logs
            .and_then(|l| l.s3_logs())
            .filter(|s| s.status().as_str() == "ENABLED")
            .map(|s| s.location().unwrap_or("(no location)").to_string()),
    }))
}

/// Every project of the account in the region, by name (ListProjects, 100 a page).
pub async fn list_projects(aws: &Aws) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        aws.limit.wait().await;
        let out = (aws.codebuild.list_projects())
            .sort_by(aws_sdk_codebuild::types::ProjectSortByType::Name)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| explain(aws, &e, "codebuild:ListProjects", "the account's projects"))?;
        names.extend(out.projects().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(names),
        }
    }
}

/// Every build ID of a project. Pages of 100; no `sortOrder` (it fails on projects with more
/// than 100 builds), so callers order by build number themselves.
pub async fn list_build_ids(aws: &Aws, project: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        aws.limit.wait().await;
        let out = aws
            .codebuild
            .list_builds_for_project()
            .project_name(project)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                explain(
                    aws,
                    &e,
                    "codebuild:ListBuildsForProject",
                    &format!("project {project}"),
                )
            })?;
        ids.extend(out.ids().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(ids),
        }
    }
}

/// What `BatchGetBuilds` said about a list of builds.
#[derive(Debug, Default)]
pub struct Described {
    pub found: Vec<BuildMeta>,
    /// IDs CodeBuild does not know.
    pub not_found: Vec<String>,
    /// IDs whose call failed, with the reason (one failed call costs its 100 builds only).
    pub failed: Vec<(String, String)>,
}

/// CodeBuild's records of `ids`, 100 per call.
pub async fn batch_get(aws: &Aws, ids: &[String]) -> Described {
    let mut out = Described::default();
    for chunk in ids.chunks(100) {
        aws.limit.wait().await;
        let sent = aws
            .codebuild
            .batch_get_builds()
            .set_ids(Some(chunk.to_vec()))
            .send()
            .await;
        let answer = match sent {
            Ok(a) => a,
            Err(e) => {
                let what = format!("{} builds", chunk.len());
                let why = format!("{:#}", explain(aws, &e, "codebuild:BatchGetBuilds", &what));
                out.failed
                    .extend(chunk.iter().map(|id| (id.clone(), why.clone())));
                continue;
            }
        };
        for b in answer.builds() {
            let id = b.id().unwrap_or("?");
            match BuildRef::parse(id) {
                Some(r) => out.found.push(meta(b, &r)),
                None => out
                    .failed
                    .push((id.to_string(), "not a CodeBuild build ID".to_string())),
            }
        }
        out.not_found
            .extend(answer.builds_not_found().iter().cloned());
    }
    out
}

/// Milliseconds, rounded: the API sends epoch seconds as a decimal (`1763950000.123`), which
/// arrives as a binary float a hair below the millisecond it names.
fn ms(t: Option<&DateTime>) -> Option<i64> {
    let t = t?;
    let ms = t.secs().checked_mul(1000)?;
    ms.checked_add((i64::from(t.subsec_nanos()) + 500_000) / 1_000_000)
}

fn meta(b: &Build, build: &BuildRef) -> BuildMeta {
    let logs = b.logs();
    let status = |s: Option<&aws_sdk_codebuild::types::LogsConfigStatusType>| {
        s.map(|s| s.as_str() != "DISABLED")
    };
    // A status the record does not give counts as on.
    let cloudwatch =
        logs.filter(|l| status(l.cloud_watch_logs().map(|c| c.status())).unwrap_or(true));
    let s3_on = logs
        .and_then(|l| status(l.s3_logs().map(|c| c.status())))
        .unwrap_or(true);
    BuildMeta {
        id: build.id(),
        project: b
            .project_name()
            .map_or_else(|| build.project.clone(), str::to_string),
        number: b.build_number(),
        status: b
            .build_status()
            .and_then(|s| BuildStatus::parse(s.as_str())),
        start_ms: ms(b.start_time()),
        end_ms: ms(b.end_time()),
        source_version: b
            .resolved_source_version()
            .or(b.source_version())
            .map(str::to_string),
        phases: b
            .phases()
            .iter()
            .map(|p| {
                let (start_ms, end_ms) = (ms(p.start_time()), ms(p.end_time()));
                Phase {
                    phase: p.phase_type().map_or("", |t| t.as_str()).to_string(),
                    // CodeBuild's last phase, COMPLETED, is a marker with no status.
                    state: match (p.phase_status(), p.phase_type()) {
                        (Some(s), _) => s.as_str(),
                        (None, Some(BuildPhaseType::Completed)) => "COMPLETED",
                        (None, _) => "IN_PROGRESS",
                    }
                    .to_string(),
                    start_ms,
                    end_ms,
                    // Whole seconds from the API; from the times if it gives none.
                    duration_s: p
                        .duration_in_seconds()
                        .map(|d| d as f64)
                        .or_else(|| span_s(start_ms, end_ms)),
                }
            })
            .collect(),
        // A stream is named even when CloudWatch logging is off: only an enabled one is read.
        log_group: cloudwatch.and_then(|l| l.group_name()).map(str::to_string),
        log_stream: cloudwatch.and_then(|l| l.stream_name()).map(str::to_string),
        s3_log: (logs.and_then(|l| l.s3_logs_arn()))
            .filter(|_| s3_on)
            .map(str::to_string),
    }
}
