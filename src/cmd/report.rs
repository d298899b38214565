//! `cachescope report`: run in the build's post_build phase on the log the build teed; writes
//! the report files, then applies the gates (exit 1 after writing, so the report is there to
//! read when the gate fails the build).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::output::Output;
use super::read::{self, ReadOptions};
use super::{EXIT_GATE, EXIT_OK};
use crate::analyze::gates::{self, Gates};
use crate::analyze::summarize;
use crate::chart::{waterfall, ImageFormat};
use crate::cli::{AwsArgs, ReportArgs};
use crate::report::{build as render, page};
use crate::source::{Input, LocalInput};

pub fn run(args: &ReportArgs, verbose: bool) -> Result<ExitCode> {
    if let Some(r) = args.min_hit_ratio {
        if !(0.0..=1.0).contains(&r) {
            bail!("--min-hit-ratio {r}: give a fraction between 0 and 1 (0.6 = 60%)");
        }
    }
    if args
        .max_rebuilt_seconds
        .is_some_and(|s| !(s.is_finite() && s >= 0.0))
    {
        bail!("--max-rebuilt-seconds must be a number of seconds ≥ 0");
    }
    // Never used: the input is local.
    let aws = AwsArgs::default();
    let opts = ReadOptions {
        max_line: args.max_line_bytes,
        aws: &aws,
        verbose,
        want_meta: false,
    };
    // A file (or `-`), never looked up as a build ID.
    let input = Input::Local(LocalInput::from_arg(&args.log));
    let (build, stats, result) = read::read_build(&input, &opts);
    read::report_problems(&input, &stats, result, build.steps.len(), verbose)
        .context("the report could not be built")?;
    if build.steps.is_empty() {
        bail!(
            "no docker build steps in {input} ({} lines read): was the build's output teed to it \
             (`docker build ... 2>&1 | tee {input}`)?",
            stats.lines
        );
    }
    let summary = summarize(&build, None)?;
    let verdicts = gates::check(
        &summary,
        &Gates {
            min_hit_ratio: args.min_hit_ratio,
            max_rebuilt_seconds: args.max_rebuilt_seconds,
            fail_on_cache_import_error: args.fail_on_cache_import_error,
        },
    );
    // Inside CodeBuild the build names itself.
    let title = std::env::var("CODEBUILD_BUILD_ID").unwrap_or_else(|_| input.to_string());
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
    put("report.md", &render::markdown(&summary, &build.steps))?;
    put("report.json", &render::json(&summary, &build.steps))?;
    put(
        "report.html",
        &page::html(&title, &summary, &build.steps, &verdicts, &chart)?,
    )?;
    put("junit.xml", &page::junit(&title, &build.steps, &verdicts)?)?;
    if verbose {
        eprintln!("cachescope: wrote the report to {}", args.out.display());
    }

    let failed: Vec<_> = verdicts.iter().filter(|v| !v.passed).collect();
    for v in &failed {
        eprintln!("cachescope: gate failed: {}: {}", v.gate, v.message);
    }
    Ok(ExitCode::from(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_GATE
    }))
}
