//! `cachescope trend`: the builds of a project (CodeBuild or local files, collected by
//! [`crate::collect`]) → the trend frame, charts and summary. A build that fails is named with
//! its reason and the others go on; exit 2 then says the result is partial.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use super::output::Output;
use super::read::ReadOptions;
use super::{EXIT_ERROR, EXIT_OK};
use crate::analyze::trend::{self, Rule, TrendRow};
use crate::chart::{self, ImageFormat};
use crate::cli::{TrendArgs, TrendFormat};
use crate::collect::{self, Collect, Collected, Filter};
use crate::report::trend as render;
use crate::store::Store;

pub fn run(args: &TrendArgs, verbose: bool) -> Result<ExitCode> {
    let store = Store::open(args.store.as_deref())?;
    let _taken = store.lock()?;
    let filter = Filter::parse(
        args.since.as_deref(),
        args.until.as_deref(),
        &args.status,
        args.limit,
    )?;
    let opts = ReadOptions {
        max_line: args.max_line_bytes,
        aws: &args.aws,
        verbose,
        want_meta: true,
        follow: None,
    };
    let how = Collect {
        refresh: args.refresh,
        jobs: args.jobs,
        quiet: args.quiet,
    };
    let (project, collected) = if args.inputs.is_empty() {
        let Some(project) = args.project.clone() else {
            bail!("give --project for CodeBuild builds, or log files, directories or globs");
        };
        let collected = collect::from_codebuild(&how, &opts, &store, &project, &filter)?;
        (project, collected)
    } else {
        let project = args.project.clone().unwrap_or_else(|| "local".into());
        let collected = collect::from_files(&args.inputs, &how, &opts, &store, &project)?;
        (project, collected)
    };
    let Collected {
        keys,
        ready,
        failures,
    } = collected;
    if verbose {
        crate::say!("cachescope: store {}", store.root().display());
    }
    // Time saved and the rolling windows see the whole history in hand; the filter then picks
    // the rows to show.
    let window = args.window;
    let rule = Rule {
        window,
        margin: args.margin,
        min_history: Rule::default().min_history.min(window),
    };
    let wanted: HashSet<&String> = keys.iter().collect();
    let mut rows = trend::trend(ready.into_values().collect(), rule);
    rows.retain(|r| wanted.contains(&r.key));
    let rows = filter.apply(rows);
    let mut frame = trend::trend_frame(&rows)?;

    if let Some(dir) = &args.out {
        write_out(dir, &project, &rows, &mut frame)?;
    }
    let mut out = Output::open(None)?;
    let bytes = match args.format {
        TrendFormat::Table => render::table(&project, &rows).into_bytes(),
        TrendFormat::Csv => crate::report::build::csv(&mut frame)?,
        TrendFormat::Json => render::json(&rows),
    };
    out.write_all(&bytes)?;
    out.commit()?;

    for (id, why) in &failures {
        crate::say!("cachescope: error: build {id}: {why}");
    }
    if !failures.is_empty() {
        crate::say!(
            "cachescope: {} build(s) failed; the trend has the other {}",
            failures.len(),
            rows.len()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Charts (PNG and SVG), the trend frame (CSV, Parquet) and summary.md in `dir`.
fn write_out(dir: &Path, project: &str, rows: &[TrendRow], frame: &mut DataFrame) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let put = |name: &str, bytes: &[u8]| -> Result<()> {
        let mut f = Output::open(Some(&dir.join(name)))?;
        f.write_all(bytes)?;
        f.commit()
    };
    put("trend.csv", &crate::report::build::csv(frame)?)?;
    put("trend.parquet", &crate::report::build::parquet(frame)?)?;
    put("summary.md", &render::markdown(project, rows))?;
    for (name, draw) in chart::trend::CHARTS {
        for format in [ImageFormat::Png, ImageFormat::Svg] {
            let image =
                draw(format, project, rows).map_err(|e| anyhow::anyhow!("drawing {name}: {e}"))?;
            put(&format!("{name}.{}", format.extension()), &image)?;
        }
    }
    Ok(())
}
