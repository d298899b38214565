//! CodeBuild's record of a build (`BatchGetBuilds`): where its log is, and the metadata the log
//! lacks — number, status, start and end, commit, phases with their durations.

use anyhow::Result;
use aws_sdk_codebuild::primitives::DateTime;
use aws_sdk_codebuild::types::Build;

use super::{classify, explain, Aws, BuildRef, Failure};
use crate::model::{BuildMeta, Phase};

/// What CodeBuild answered about one build.
#[derive(Debug)]
pub enum Lookup {
    Found(BuildMeta),
    /// `codebuild:BatchGetBuilds` is not allowed; the message is AWS's.
    Denied(String),
}

/// Looks one build up. A build CodeBuild does not know is an error naming it.
pub async fn lookup(aws: &Aws, build: &BuildRef) -> Result<Lookup> {
    aws.limit.wait().await;
    let id = build.id();
    let out = match aws.codebuild.batch_get_builds().ids(&id).send().await {
        Ok(out) => out,
        Err(e) if classify(&e) == Failure::AccessDenied => {
            let message = aws_sdk_codebuild::error::ProvideErrorMetadata::message(&e)
                .unwrap_or("access denied")
                .to_string();
            return Ok(Lookup::Denied(message));
        }
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

/// Milliseconds, rounded: the API sends epoch seconds as a decimal (`1763950000.123`), which
/// arrives as a binary float a hair below the millisecond it names.
fn ms(t: Option<&DateTime>) -> Option<i64> {
    let t = t?;
    let ms = t.secs().checked_mul(1000)?;
    ms.checked_add((i64::from(t.subsec_nanos()) + 500_000) / 1_000_000)
}

fn meta(b: &Build, build: &BuildRef) -> BuildMeta {
    let logs = b.logs();
    BuildMeta {
        id: build.id(),
        project: b
            .project_name()
            .map_or_else(|| build.project.clone(), str::to_string),
        number: b.build_number(),
        status: b.build_status().map(|s| s.as_str().to_string()),
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
                    state: p
                        .phase_status()
                        .map_or("IN_PROGRESS", |s| s.as_str())
                        .to_string(),
                    start_ms,
                    end_ms,
                    // Whole seconds from the API; from the times if it gives none.
                    duration_s: p
                        .duration_in_seconds()
                        .map(|d| d as f64)
                        .or_else(|| Some((end_ms? - start_ms?) as f64 / 1000.0)),
                }
            })
            .collect(),
        log_group: logs.and_then(|l| l.group_name()).map(str::to_string),
        log_stream: logs.and_then(|l| l.stream_name()).map(str::to_string),
    }
}
