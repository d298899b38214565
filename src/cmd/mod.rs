//! One file per subcommand: glue between arguments, sources, the parser and renderers.

pub mod build;
pub mod doctor;
pub mod output;
pub mod read;
pub mod report;
pub mod steps;
pub mod store;
pub mod trend;

use std::process::ExitCode;

/// Exit codes: 0 ok, 1 a gate the user asked for failed, 2 error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_GATE: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: crate::cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        crate::cli::Command::Steps(args) => steps::run(&args, cli.verbose),
        crate::cli::Command::Build(args) => build::run(&args, cli.verbose),
        crate::cli::Command::Trend(args) => trend::run(&args, cli.verbose),
        crate::cli::Command::Report(args) => report::run(&args, cli.verbose),
        crate::cli::Command::Doctor(args) => doctor::run(&args, cli.verbose),
        crate::cli::Command::Store(command) => store::run(&command, cli.verbose),
        crate::cli::Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "cachescope", &mut std::io::stdout());
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}
