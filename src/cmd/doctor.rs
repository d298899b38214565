//! `cachescope doctor`: gathers a CodeBuild project's settings (`BatchGetProjects`) and one
//! build's log (the most recent finished build, `--build`, or `--log`), runs the checks in
//! [`crate::analyze::doctor`], prints them with their fixes, and exits 1 if any failed.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use super::output::Output;
use super::read::{self, ReadOptions};
use super::{EXIT_GATE, EXIT_OK};
use crate::analyze::doctor::{self, Check, Status};
use crate::analyze::{summarize, BuildInput};
use crate::cli::{DoctorArgs, DoctorFormat};
use crate::collect;
use crate::source::aws::codebuild::{self, ProjectLookup};
use crate::source::aws::{self, Aws, BuildRef};
use crate::source::{Input, LocalInput};

/// What was checked.
#[derive(Serialize)]
struct Doc<'a> {
    project: Option<&'a str>,
    /// The build (or log file) whose log was checked.
    build: Option<String>,
    checks: &'a [Check],
}

pub fn run(args: &DoctorArgs, verbose: bool) -> Result<ExitCode> {
    let build_ref = match args.build.as_deref() {
        Some(id) => Some(BuildRef::parse(id).with_context(|| {
            format!("--build {id:?} is not a CodeBuild build ID (project:uuid or ARN)")
        })?),
        None => None,
    };
    let own_project = std::env::var("CODEBUILD_BUILD_ID")
        .ok()
        .and_then(|id| BuildRef::parse(&id))
        .map(|b| b.project);
    let project = (args.project.clone())
        .or_else(|| build_ref.as_ref().map(|b| b.project.clone()))
        .or(own_project);
    if project.is_none() && args.log.is_none() {
        bail!("give --project P (or --build ID, or --log FILE to check a log alone)");
    }
    let opts = ReadOptions {
        max_line: args.max_line_bytes,
        aws: &args.aws,
        verbose,
        want_meta: true,
        follow: None,
    };

    if let (Some(p), Some(b)) = (&args.project, &build_ref) {
        if p != &b.project {
            crate::say!(
                "cachescope: warning: build {b} belongs to project {}, not {p}: its log is \
                 checked against {p}'s settings",
                b.project
            );
        }
    }
    let mut recent_starts = Vec::new();
    let (setup, aws_build) = match &project {
        Some(p) => from_aws(
            p,
            build_ref.as_ref(),
            args.log.is_none(),
            &opts,
            &mut recent_starts,
        )?,
        None => (None, BuildLog::None),
    };
    let (build, unavailable) = match (&args.log, aws_build) {
        (Some(log), _) => {
            let input = Input::Local(LocalInput::from_arg(log));
            let (build, stats, result) = read::read_build(&input, &opts);
            read::report_problems(&input, &stats, result, build.steps.len(), verbose)?;
            (Some(build), None)
        }
        (None, BuildLog::Parsed(b)) => (Some(*b), None),
        (None, BuildLog::None) => (None, None),
        (None, BuildLog::Unavailable(why)) => (None, Some(why)),
    };
    let summary = build.as_ref().map(|b| summarize(b, None)).transpose()?;
    let registry_works = summary.as_ref().is_some_and(doctor::registry_cache_works);

    let mut checks = Vec::new();
    match setup {
        Some(ProjectLookup::Found(s)) => {
            checks.extend(doctor::project_checks(&s, registry_works));
            checks.extend(doctor::build_gaps(&s, &recent_starts));
        }
        Some(ProjectLookup::NotFound) => bail!(
            "project {} not found: check its name, the account (--profile) and the region (--region)",
            project.as_deref().unwrap_or_default()
        ),
        Some(ProjectLookup::Denied(why)) => checks.push(skipped(
            "project cache",
            format!("codebuild:BatchGetProjects is not allowed ({why})"),
        )),
        None => checks.push(skipped("project cache", "no --project given".into())),
    }
    let name = build.as_ref().map(|b| b.source.clone());
    match (&build, &summary) {
        (Some(b), Some(sum)) => checks.extend(doctor::log_checks(sum, &b.steps)),
        _ => checks.push(skipped(
            "build log",
            unavailable.unwrap_or_else(|| "the project has no finished build yet".into()),
        )),
    }

    let doc = Doc {
        project: project.as_deref(),
        build: name,
        checks: &checks,
    };
    let mut out = Output::open(None)?;
    let bytes = match args.format {
        DoctorFormat::Table => table(&doc).into_bytes(),
        DoctorFormat::Json => {
            let mut v = serde_json::to_vec_pretty(&doc)?;
            v.push(b'\n');
            v
        }
    };
    out.write_all(&bytes)?;
    out.commit()?;
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed > 0 {
        crate::say!("cachescope: doctor: {failed} check(s) failed");
        return Ok(ExitCode::from(EXIT_GATE));
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn skipped(check: &'static str, detail: String) -> Check {
    Check {
        check,
        status: Status::Skip,
        detail,
        fix: None,
    }
}

fn table(doc: &Doc) -> String {
    use crate::report::printable;
    let mut out = String::new();
    if let Some(p) = doc.project {
        out.push_str(&format!("project: {p}\n"));
    }
    if let Some(b) = &doc.build {
        out.push_str(&format!("log checked: {}\n", printable(b)));
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["check", "result", "detail", "fix"]);
    // Wrapped to the terminal's width, or to 120 columns in a file or a CI log.
    if !std::io::stdout().is_terminal() {
        t.force_no_tty().set_width(120);
    }
    // Details quote the log and the project's settings: control characters made visible.
    for c in doc.checks {
        t.add_row([
            c.check.to_string(),
            c.status.as_str().to_string(),
            printable(&c.detail),
            printable(c.fix.as_deref().unwrap_or("")),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out
}

/// The build whose log doctor checks.
enum BuildLog {
    Parsed(Box<BuildInput>),
    /// The project has no finished build, or a log file is checked instead.
    None,
    /// The most recent build could not be found or read: its checks are skipped, with why.
    Unavailable(String),
}

/// The project's settings and, unless a log file is checked instead (`want_build` false), a
/// build parsed: `build` (its errors are the command's), else the most recent finished one (its
/// errors skip the log checks: the project's checks still stand).
fn from_aws(
    project: &str,
    build: Option<&BuildRef>,
    want_build: bool,
    opts: &ReadOptions,
    recent_starts: &mut Vec<i64>,
) -> Result<(Option<ProjectLookup>, BuildLog)> {
    let fetch = opts.fetch_options();
    aws::runtime()?.block_on(async {
        let aws = Aws::connect(&fetch.settings, build.and_then(|b| b.region.as_deref())).await?;
        let setup = codebuild::project(&aws, project).await?;
        if !want_build {
            return Ok((Some(setup), BuildLog::None));
        }
        let (meta, chosen) = match build {
            Some(b) => match codebuild::lookup(&aws, b).await? {
                codebuild::Lookup::Found(m) => (m, true),
                codebuild::Lookup::Denied(why) => {
                    bail!("codebuild:BatchGetBuilds is not allowed ({why}): doctor needs it, or give --log FILE")
                }
            },
            None => match collect::latest_finished(&aws, project).await {
                Ok((Some(m), starts)) => {
                    *recent_starts = starts;
                    (m, false)
                }
                Ok((None, starts)) => {
                    *recent_starts = starts;
                    return Ok((Some(setup), BuildLog::None));
                }
                Err(e) => {
                    let why = format!("finding the project's last build: {e:#}");
                    return Ok((Some(setup), BuildLog::Unavailable(why)));
                }
            },
        };
        if opts.verbose {
            crate::say!("cachescope: checking the log of build {}", meta.id);
        }
        let id = meta.id.clone();
        match read::fetch_parsed(&aws, meta, &fetch, opts.max_line).await {
            Ok(input) => Ok((Some(setup), BuildLog::Parsed(Box::new(input)))),
            Err(e) if !chosen => Ok((
                Some(setup),
                BuildLog::Unavailable(format!("reading the last build {id}: {e:#}")),
            )),
            Err(e) => Err(e),
        }
    })
}
