//! `cachescope report`: run in the build's post_build phase, on the log the build teed or on
//! the build's own CloudWatch stream; writes the report files, then applies the gates (exit 1
//! after writing, so the report is there to read when the gate fails the build).
//!
//! Inside CodeBuild the build names itself (`CODEBUILD_BUILD_ID` and the other `CODEBUILD_*`
//! variables). Its own stream is still being written when the report runs, so the read follows
//! it up to the BUILD phase's completion line, or gives up once no new event has come for
//! `--wait` seconds (or after 10 × `--wait` in all), and says which.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::output::Output;
use super::read::{self, ReadOptions, ReadOutcome};
use super::{EXIT_GATE, EXIT_OK};
use crate::analyze::gates::{self, Gates};
use crate::analyze::history::{self, History};
use crate::analyze::{summarize, BuildInput, Summary};
use crate::chart::{waterfall, ImageFormat};
use crate::cli::ReportArgs;
use crate::collect;
use crate::model::{BuildMeta, BuildStatus, Step};
use crate::parse::line::completes_phase;
use crate::report::{brief, build as render, page};
use crate::source::aws::{BuildRef, Fetched, Follow};
use crate::source::{Input, LocalInput};
use crate::store::Store;

/// The pause between polls at the end of a stream still being written.
const POLL: Duration = Duration::from_secs(1);

/// Following the build's own stream stops after this many `--wait`s in all, even while events
/// keep coming (a build that logs on and never completes its BUILD phase).
const FOLLOW_LIMIT: u32 = 10;

pub fn run(args: &ReportArgs, verbose: bool) -> Result<ExitCode> {
    // (clap checked the numbers: --wait is at most a day)
    let wait = Duration::from_secs_f64(args.wait);
    let compare = args.compare.as_deref().map(parse_compare).transpose()?;
    let build_ref = match args.build.as_deref().filter(|b| !b.is_empty()) {
        Some(id) => Some(BuildRef::parse(id).with_context(|| {
            format!("--build / CODEBUILD_BUILD_ID {id:?} is not a CodeBuild build ID (project:uuid or ARN)")
        })?),
        None => None,
    };
    let input = match (&args.log, &build_ref) {
        // A file (or `-`), never looked up as a build ID.
        (Some(log), _) => Input::Local(LocalInput::from_arg(log)),
        (None, Some(b)) => Input::Build(b.clone()),
        (None, None) => bail!(
            "nothing to report on: give --log FILE (the build's teed output), or run inside \
             CodeBuild (CODEBUILD_BUILD_ID names the build) or give --build ID"
        ),
    };
    let opts = ReadOptions {
        max_line: args.max_line_bytes,
        aws: &args.aws,
        verbose,
        want_meta: true,
        follow: matches!(input, Input::Build(_)).then(|| Follow {
            until: |line| completes_phase(line, b"BUILD"),
            wait,
            limit: wait.saturating_mul(FOLLOW_LIMIT),
            poll: POLL,
        }),
    };
    let (mut build, stats, result) = read::read_build(&input, &opts);
    if let Ok(ReadOutcome::Aws(f)) = &result {
        crate::say!("cachescope: {}", what_was_read(f));
    }
    read::report_problems(&input, &stats, result, build.steps.len(), verbose)
        .context("the report could not be built")?;
    if build.steps.is_empty() {
        bail!(
            "no docker build steps in {input} ({} lines read): was the build's output teed to it \
             (`docker build ... 2>&1 | tee docker-build.log`)?",
            stats.lines
        );
    }
    if build.meta.is_none() {
        build.meta = build_ref.as_ref().map(meta_from_env);
    }
    let mut summary = summarize(&build, None)?;
    // The comparison is extra: when it cannot be made, the report is still written.
    let history = match compare.map(|n| compare_with(args, &opts, &build, &summary, n)) {
        Some(Ok(Some((h, previous)))) => {
            // The previous build is the verdict's baseline: a step unchanged since it and
            // missed now is a cache problem, not an input change.
            if !previous.is_empty() {
                summary = summarize(&build, Some(&previous))?;
            }
            Some(h)
        }
        Some(Ok(None)) => None,
        Some(Err(e)) => {
            crate::say!("cachescope: warning: no comparison with earlier builds: {e:#}");
            None
        }
        None => None,
    };
    let verdicts = gates::check(
        &summary,
        &Gates {
            min_hit_ratio: args.min_hit_ratio,
            max_rebuilt_seconds: args.max_rebuilt_seconds,
            fail_on_cache_import_error: args.fail_on_cache_import_error,
        },
    );
    let title = match &build.meta {
        Some(m) => m.id.clone(),
        None => input.to_string(),
    };
    let chart = waterfall::render(
        ImageFormat::Svg,
        &build.steps,
        summary.cache_bust.as_ref(),
        &title,
    )
    .map_err(|e| anyhow::anyhow!("drawing the timeline: {e}"))?;
    let chart = String::from_utf8_lossy(&chart);

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let put = |name: &str, bytes: &[u8]| -> Result<()> {
        let mut f = Output::open(Some(&args.out.join(name)))?;
        f.write_all(bytes)?;
        f.commit()
    };
    let h = history.as_ref();
    put(
        "report.md",
        &brief::markdown(&title, &summary, &build.steps, &verdicts, h),
    )?;
    put(
        "report.json",
        &render::json_with(&summary, &build.steps, h, &verdicts),
    )?;
    put(
        "report.html",
        &page::html(&title, &summary, &build.steps, &verdicts, h, &chart)?,
    )?;
    put(
        "junit.xml",
        &page::junit(&title, &build.steps, &verdicts, &summary.verdict)?,
    )?;
    // Into the build log itself, where people look first.
    crate::say!(
        "cachescope: {}",
        render::verdict_text(&summary.verdict)
            .replace('\n', "\ncachescope: ")
            .trim_end_matches("cachescope: ")
            .trim_end()
    );
    crate::say!("cachescope: wrote the report to {}", args.out.display());

    let failed: Vec<_> = verdicts.iter().filter(|v| !v.passed).collect();
    for v in &failed {
        let message = crate::report::printable(&v.message);
        crate::say!("cachescope: gate failed: {}: {message}", v.gate);
    }
    Ok(ExitCode::from(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_GATE
    }))
}

/// `last` = 1, or a count of earlier builds.
fn parse_compare(s: &str) -> Result<usize> {
    match s {
        "last" => Ok(1),
        n => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!("--compare {s:?}: give `last` or a number of earlier builds (≥ 1)"),
        },
    }
}

/// One line on how far the build's own stream was read, and whether that is all of it.
fn what_was_read(f: &Fetched) -> String {
    let upto = f
        .stats
        .last_event_ms
        .map_or(String::new(), |ms| format!(" up to {}", render::utc(ms)));
    let how = if f.stats.found {
        "the BUILD phase's completion line arrived, so the BUILD phase is all in".to_string()
    } else if f.stats.capped {
        "stopped by --max-pages before the BUILD phase's completion line".to_string()
    } else if f.stats.limited {
        format!(
            "no BUILD phase completion line after following the stream for {FOLLOW_LIMIT} × \
             --wait: steps logged later are not in this report"
        )
    } else if f
        .meta
        .as_ref()
        .is_some_and(|m| m.status != Some(BuildStatus::InProgress))
    {
        "the build has finished: its stream was read to its end".to_string()
    } else {
        format!(
            "no BUILD phase completion line, and no new event for {:.0}s at the end of the \
             stream: steps logged later are not in this report (run it in post_build, or raise \
             --wait)",
            f.stats.waited.as_secs_f64()
        )
    };
    let what = match &f.s3_stats {
        Some(s) => format!("{} bytes", s.bytes),
        None => format!("{} events", f.stats.events),
    };
    format!("read {what} of {}{upto}; {how}", f.location)
}

/// What CodeBuild tells a build about itself through its environment (a `--log` read has no
/// other record of it).
fn meta_from_env(id: &BuildRef) -> BuildMeta {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    // Only the build that runs this knows its own variables.
    let own = var("CODEBUILD_BUILD_ID").is_some_and(|v| BuildRef::parse(&v).as_ref() == Some(id));
    let own_var = |k: &str| if own { var(k) } else { None };
    BuildMeta {
        id: id.id(),
        project: id.project.clone(),
        number: own_var("CODEBUILD_BUILD_NUMBER").and_then(|n| n.parse().ok()),
        status: own.then_some(BuildStatus::InProgress),
        start_ms: own_var("CODEBUILD_START_TIME").and_then(|t| t.parse().ok()),
        source_version: own_var("CODEBUILD_RESOLVED_SOURCE_VERSION")
            .or_else(|| own_var("CODEBUILD_SOURCE_VERSION")),
        ..BuildMeta::default()
    }
}

/// The build the report is on joins the store, so the next build's comparison finds it without
/// reading its log: once its outcome is known — a finished build, or the running build itself,
/// whose `CODEBUILD_BUILD_SUCCEEDING` says how it stands when `post_build` runs. Its stored copy is
/// what the report read. A store that cannot take it is a warning.
fn add_to_store(store: &Store, meta: &BuildMeta, build: &BuildInput) {
    let succeeding = std::env::var("CODEBUILD_BUILD_SUCCEEDING").ok();
    let status = match (meta.status, succeeding.as_deref()) {
        (Some(BuildStatus::InProgress), Some("1")) => Some(BuildStatus::Succeeded),
        (Some(BuildStatus::InProgress), Some("0")) => Some(BuildStatus::Failed),
        (Some(BuildStatus::InProgress) | None, _) => None,
        (done, _) => done,
    };
    let (Some(status), Some(id)) = (status, BuildRef::parse(&meta.id)) else {
        return;
    };
    let mut input = build.clone();
    input.meta = Some(BuildMeta {
        status: Some(status),
        ..meta.clone()
    });
    if let Err(e) = collect::store_one(store, &meta.project, &id.uuid, &input) {
        crate::say!("cachescope: warning: this build was not added to the store: {e:#}");
    }
}

/// This build against the `n` builds of its project before it: stored ones first, the rest
/// from CodeBuild (and stored). A build that cannot be read is left out with a warning; no
/// earlier build at all is said, not an error.
fn compare_with(
    args: &ReportArgs,
    opts: &ReadOptions,
    build: &BuildInput,
    summary: &Summary,
    n: usize,
) -> Result<Option<(History, Vec<Step>)>> {
    let Some(meta) = &build.meta else {
        bail!("--compare needs the build's project: run inside CodeBuild, or give --build ID");
    };
    // Another build than the one running this (`--build` with `--log`): only CodeBuild knows its
    // number and start, which tell the builds before it.
    let described;
    let meta = if meta.number.is_none() && meta.start_ms.is_none() {
        described = collect::describe(opts, meta).unwrap_or_else(|e| {
            crate::say!(
                "cachescope: warning: {e:#}; comparing with the most recent builds of {}",
                meta.project
            );
            meta.clone()
        });
        &described
    } else {
        meta
    };
    let store = Store::open_url(args.store.as_deref(), &opts.fetch_options().settings)?;
    let _taken = store.lock()?;
    // --log-group / --log-stream name this build's log, not the earlier builds'.
    let aws_args = crate::cli::AwsArgs {
        log_group: None,
        log_stream: None,
        ..opts.aws.clone()
    };
    let opts = ReadOptions {
        follow: None,
        aws: &aws_args,
        ..opts.clone()
    };
    let earlier = collect::earlier(meta, n, &opts, &store)?;
    add_to_store(&store, meta, build);
    if earlier.is_empty() {
        crate::say!(
            "cachescope: note: no earlier build of {} to compare with",
            meta.project
        );
    }
    let previous = earlier.first().map(|b| b.steps.clone()).unwrap_or_default();
    Ok(history::history(summary, &build.steps, &earlier).map(|h| (h, previous)))
}
