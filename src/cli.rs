//! Command-line arguments (clap derive only; no logic).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "cachescope",
    version,
    about = "Docker build cache analysis for AWS CodeBuild logs"
)]
pub struct Cli {
    /// More detail on stderr (which input was read, how it was decoded).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every Docker build step in a log: cached, rebuilt, failed, canceled or unfinished.
    Steps(StepsArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct StepsArgs {
    /// A build log: a file (plain or gzip), `-` for stdin, or the JSON printed by
    /// `aws logs get-log-events` / `filter-log-events`.
    pub input: String,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = StepsFormat::Table)]
    pub format: StepsFormat,

    /// Write here instead of stdout (`-` is stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,

    /// Colour the table by status.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepsFormat {
    Table,
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
