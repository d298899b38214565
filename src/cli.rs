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
    /// Analyze one build: hit ratios, the step that broke the cache and why, findings.
    Build(BuildArgs),
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
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// A build log: a file (plain or gzip), `-` for stdin, or `aws logs get-log-events` JSON.
    pub input: String,

    /// Output format; csv and parquet write the frame chosen with --frame.
    #[arg(long, short, value_enum, default_value_t = BuildFormat::Table)]
    pub format: BuildFormat,

    /// The frame to write as csv or parquet.
    #[arg(long, value_enum, default_value_t = Frame::Steps)]
    pub frame: Frame,

    /// Write here instead of stdout (`-` is stdout); written atomically.
    #[arg(long, short)]
    pub output: Option<PathBuf>,

    /// Also draw the steps as a waterfall chart: `.svg` or `.png`.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,

    /// A previous build's log: what changed since, and the time the cache saved here.
    #[arg(long, value_name = "LOG")]
    pub baseline: Option<String>,

    /// Colour the terminal view.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildFormat {
    Table,
    Json,
    Markdown,
    Csv,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Frame {
    Steps,
    Phases,
    Builds,
}
