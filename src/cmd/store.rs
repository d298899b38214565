//! `cachescope store compact`: merges the store's small parts, project by project.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::output::Output;
use super::read::ReadOptions;
use super::{EXIT_ERROR, EXIT_OK};
use crate::cli::{CompactArgs, StoreCommand};
use crate::report::printable;
use crate::store::Store;

pub fn run(command: &StoreCommand, verbose: bool) -> Result<ExitCode> {
    match command {
        StoreCommand::Compact(args) => compact(args, verbose),
    }
}

fn compact(args: &CompactArgs, verbose: bool) -> Result<ExitCode> {
    let opts = ReadOptions {
        max_line: None,
        aws: &args.aws,
        verbose,
        want_meta: false,
        follow: None,
    };
    let store = Store::open_url(args.store.as_deref(), &opts.fetch_options().settings)?;
    let _taken = store.lock()?;
    let projects = match args.project.is_empty() {
        true => store.projects()?,
        false => args.project.clone(),
    };
    let mut out = Output::open(None)?;
    let mut skipped = 0;
    for project in &projects {
        let done = store.compact(project)?;
        writeln!(
            out,
            "{}: {} parts merged into {} ({} builds)",
            printable(project),
            done.parts_before,
            done.parts_after,
            done.builds
        )?;
        for why in &done.skipped {
            crate::say!("cachescope: warning: left as it is: {}", printable(why));
        }
        skipped += done.skipped.len();
    }
    out.commit()?;
    Ok(ExitCode::from(if skipped == 0 {
        EXIT_OK
    } else {
        EXIT_ERROR
    }))
}
