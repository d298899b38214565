//! `cachescope build`: one build's log → summary, diagnosis, frames, chart.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::output::Output;
use super::{read, EXIT_OK};
use crate::analyze::{frames, summarize};
use crate::chart::{waterfall, ImageFormat};
use crate::cli::{BuildArgs, BuildFormat, Frame};
use crate::report::build as render;

pub fn run(args: &BuildArgs, verbose: bool) -> Result<ExitCode> {
    let chart_format = match &args.chart {
        Some(p) => Some(ImageFormat::from_path(p).with_context(|| {
            format!(
                "--chart {}: the file name must end in .svg or .png",
                p.display()
            )
        })?),
        None => None,
    };
    let input = read::input(&args.input, verbose);
    let opts = read::ReadOptions {
        max_line: args.max_line_bytes,
        aws: &args.aws,
        verbose,
        want_meta: true,
        follow: None,
    };
    let (build, stats, result) = read::read_build(&input, &opts);
    read::report_problems(&input, &stats, result, build.steps.len(), verbose)?;
    if build.steps.is_empty() {
        crate::say!(
            "cachescope: no docker build found in {input} ({} lines read)",
            stats.lines
        );
    }
    let baseline = match &args.baseline {
        Some(path) => {
            let b = read::input(path, verbose);
            // --log-group / --log-stream name this build's log, not the baseline's.
            let base_aws = crate::cli::AwsArgs {
                log_group: None,
                log_stream: None,
                ..args.aws.clone()
            };
            let base_opts = read::ReadOptions {
                aws: &base_aws,
                ..opts.clone()
            };
            let (base, bstats, bresult) = read::read_build(&b, &base_opts);
            read::report_problems(&b, &bstats, bresult, base.steps.len(), verbose)
                .context("reading the --baseline log")?;
            if base.steps.is_empty() {
                bail!("the --baseline log {b} has no docker build steps");
            }
            Some(base.steps)
        }
        None => None,
    };
    let summary = summarize(&build, baseline.as_deref())?;

    let mut out = Output::open(args.output.as_deref())?;
    let bytes = match args.format {
        BuildFormat::Table => {
            let color = out.use_color(args.color);
            render::table(&summary, &build.steps, color, out.width()).into_bytes()
        }
        BuildFormat::Json => render::json(&summary, &build.steps),
        BuildFormat::Markdown => render::markdown(&summary, &build.steps),
        BuildFormat::Csv | BuildFormat::Parquet => {
            if args.format == BuildFormat::Parquet && out.is_terminal() {
                bail!("Parquet is binary: write it to a file with -o FILE.parquet");
            }
            let mut frame = match args.frame {
                Frame::Steps => frames::steps_frame(&build.steps)?,
                Frame::Phases => frames::phases_frame(&summary.phases)?,
                Frame::Builds => frames::builds_frame(&summary)?,
            };
            if args.format == BuildFormat::Csv {
                render::csv(&mut frame)?
            } else {
                render::parquet(&mut frame)?
            }
        }
    };
    if let (Some(path), Some(format)) = (&args.chart, chart_format) {
        let title = format!(
            "{} — {}, hit_ratio {}",
            input,
            summary.scenario.as_str(),
            summary
                .hit_ratio
                .map_or("n/a".into(), |r| format!("{:.0}%", r * 100.0))
        );
        let image = waterfall::render(format, &build.steps, summary.cache_bust.as_ref(), &title)
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        let mut file = Output::open(Some(path))?;
        file.write_all(&image)?;
        file.commit()?;
    }
    out.write_all(&bytes)?;
    out.commit()?;
    Ok(ExitCode::from(EXIT_OK))
}
