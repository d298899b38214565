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
use crate::collect::{self, Collect, Collected, Filter, Projects};
use crate::report::trend as render;
use crate::store::Store;

pub fn run(args: &TrendArgs, verbose: bool) -> Result<ExitCode> {
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
    let store = Store::open_url(args.store.as_deref(), &opts.fetch_options().settings)?;
    let _taken = store.lock()?;
    let how = Collect {
        refresh: args.refresh,
        jobs: args.jobs,
        quiet: args.quiet,
    };
    let sets: Vec<(String, Result<Collected>)> = if !args.inputs.is_empty() {
        let project = match args.project.as_slice() {
            [] => "local".to_string(),
            [one] => one.clone(),
            _ => bail!("local logs go into one project: give one --project"),
        };
        let collected = collect::from_files(&args.inputs, &how, &opts, &store, &project)?;
        vec![(project, Ok(collected))]
    } else if args.all_projects {
        collect::from_projects(&how, &opts, &store, &Projects::All, &filter)?
    } else if !args.project.is_empty() {
        let named = Projects::Named(args.project.clone());
        collect::from_projects(&how, &opts, &store, &named, &filter)?
    } else {
        bail!("give --project (or --all-projects) for CodeBuild builds, or log files, directories or globs");
    };
    if verbose {
        crate::say!("cachescope: store {}", store.describe());
    }
    // Time saved and the rolling windows see each project's whole history in hand; the filter
    // then picks the rows to show.
    let window = args.window;
    let rule = Rule {
        window,
        margin: args.margin,
        min_history: Rule::default().min_history.min(window),
    };
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut projects: Vec<(String, Vec<TrendRow>)> = Vec::new();
    for (project, collected) in sets {
        let Collected {
            keys,
            ready,
            failures: failed,
        } = match collected {
            Ok(c) => c,
            Err(e) => {
                failures.push((format!("project {project}"), format!("{e:#}")));
                continue;
            }
        };
        failures.extend(
            failed
                .into_iter()
                .map(|(id, why)| (format!("build {id}"), why)),
        );
        let wanted: HashSet<&String> = keys.iter().collect();
        let mut rows = trend::trend(ready.into_values().collect(), rule);
        rows.retain(|r| wanted.contains(&r.key));
        projects.push((project, filter.apply(rows)));
    }
    let many = args.all_projects || args.project.len() > 1;
    let shown = projects.iter().map(|(_, rows)| rows.len()).sum::<usize>();
    if many {
        write_projects(args, &projects)?;
    } else if let Some((project, rows)) = projects.first() {
        let mut frame = trend::trend_frame(rows)?;
        if let Some(dir) = &args.out {
            write_out(dir, project, rows, &mut frame)?;
        }
        let bytes = match args.format {
            TrendFormat::Table => render::table(project, rows).into_bytes(),
            TrendFormat::Csv => crate::report::build::csv(&mut frame)?,
            TrendFormat::Json => render::json(rows),
        };
        let mut out = Output::open(None)?;
        out.write_all(&bytes)?;
        out.commit()?;
    }

    for (what, why) in &failures {
        let (what, why) = (
            crate::report::printable(what),
            crate::report::printable(why),
        );
        crate::say!("cachescope: error: {what}: {why}");
    }
    if !failures.is_empty() {
        crate::say!(
            "cachescope: {} build(s) or project(s) failed; the trend has the other {shown} builds",
            failures.len(),
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Several projects: every row with its project (table: the account overview), and in `--out`
/// the overview, the rows of all projects, and each project's charts and summary in its own
/// folder (named as in the store: `project=<name>`).
fn write_projects(args: &TrendArgs, projects: &[(String, Vec<TrendRow>)]) -> Result<()> {
    let mut all: Option<DataFrame> = None;
    for (project, rows) in projects {
        let mut frame = trend::trend_frame(rows)?;
        let names = Column::new("project".into(), vec![project.as_str(); frame.height()]);
        frame.with_column(names)?;
        match &mut all {
            Some(a) => {
                a.vstack_mut(&frame)?;
            }
            None => all = Some(frame),
        }
    }
    let mut all = match all {
        Some(a) => a,
        None => trend::trend_frame(&[])?,
    };
    let overview = trend::project_overview(projects);
    if let Some(dir) = &args.out {
        let mut dirs = Vec::new();
        for (project, rows) in projects {
            let sub = crate::store::partition(project);
            let mut frame = trend::trend_frame(rows)?;
            write_out(&dir.join(&sub), project, rows, &mut frame)?;
            dirs.push((project.clone(), sub));
        }
        let put = |name: &str, bytes: &[u8]| -> Result<()> {
            let mut f = Output::open(Some(&dir.join(name)))?;
            f.write_all(bytes)?;
            f.commit()
        };
        put("trend.csv", &crate::report::build::csv(&mut all)?)?;
        put("trend.parquet", &crate::report::build::parquet(&mut all)?)?;
        put("overview.md", &render::overview_markdown(&overview, &dirs))?;
    }
    let bytes = match args.format {
        TrendFormat::Table => render::overview_table(&overview).into_bytes(),
        TrendFormat::Csv => crate::report::build::csv(&mut all)?,
        TrendFormat::Json => render::json_by_project(projects),
    };
    let mut out = Output::open(None)?;
    out.write_all(&bytes)?;
    out.commit()
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
