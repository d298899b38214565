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
    /// A build log — a file (plain or gzip), `-` for stdin, or the JSON printed by
    /// `aws logs get-log-events` — or a CodeBuild build ID (`project:uuid`) or build ARN, read
    /// from CloudWatch Logs. A file by that name wins over a build ID.
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

    #[command(flatten)]
    pub aws: AwsArgs,
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
    /// A build log — a file (plain or gzip), `-` for stdin, or `aws logs get-log-events` JSON —
    /// or a CodeBuild build ID (`project:uuid`) or build ARN, read from CloudWatch Logs.
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

    /// A previous build's log or build ID: what changed since, and the time the cache saved.
    #[arg(long, value_name = "LOG|BUILD_ID")]
    pub baseline: Option<String>,

    /// Colour the terminal view.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,

    #[command(flatten)]
    pub aws: AwsArgs,
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

/// Where and how to read a build from AWS; like the AWS CLI, unset options fall back to the
/// environment (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, ...) and the profile.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "AWS (for a build ID)")]
pub struct AwsArgs {
    /// A named profile from ~/.aws/config.
    #[arg(long)]
    pub profile: Option<String>,

    /// The region [default: the build ARN's, else the environment's or profile's].
    #[arg(long)]
    pub region: Option<String>,

    /// Send requests to this endpoint instead of AWS's (an emulator, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Attempts per request, the first included (SDK standard retry mode).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_attempts: u32,

    /// Requests per second, at most (CloudWatch Logs allows about 10 GetLogEvents/s per
    /// account and region); 0 for no limit.
    #[arg(long, default_value_t = 10.0, value_name = "PER_SECOND")]
    pub rate: f64,

    /// Read this log group instead of the one CodeBuild names.
    #[arg(long)]
    pub log_group: Option<String>,

    /// Read this log stream instead of the one CodeBuild names.
    #[arg(long)]
    pub log_stream: Option<String>,

    /// Stop after this many GetLogEvents pages (a guard against a stream that never ends).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_pages: u64,
}
