//! Command-line arguments (clap derive only; no logic).

use crate::source::aws::LogSource;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "cachescope",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CACHESCOPE_COMMIT"), ")"),
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
    /// Many builds of a project over time: an incremental Parquet store, the trend frame, charts.
    Trend(TrendArgs),
    /// Inside the build: the post-build report (Markdown, HTML, JSON, JUnit XML) and its gates.
    Report(ReportArgs),
    /// Check a project's docker layer cache set-up and a build's log: OK / WARN / FAIL with fixes.
    Doctor(DoctorArgs),
    /// The build store: `store compact` merges its small parts.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Merge each project's parts into one part per date (every build once, the newest copy),
    /// written before the old parts are removed, so readers never miss a build.
    Compact(CompactArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// The store: a directory or `s3://bucket/prefix` [default: the user's cache directory].
    #[arg(long, value_name = "DIR|S3_URL")]
    pub store: Option<String>,

    /// Only these projects (`-p a,b`) [default: every project in the store].
    #[arg(long, short, value_delimiter = ',')]
    pub project: Vec<String>,

    #[command(flatten)]
    pub aws: AwsArgs,
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
    #[arg(long, value_name = "BYTES", value_parser = at_least_one)]
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
    #[arg(long, value_name = "BYTES", value_parser = at_least_one)]
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
#[derive(Debug, Clone, Default, clap::Args)]
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

    /// Attempts per request, the first included (SDK standard retry mode) [default:
    /// AWS_MAX_ATTEMPTS, the profile's max_attempts, else 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: Option<u32>,

    /// Requests per second, at most (CloudWatch Logs allows about 10 GetLogEvents/s per
    /// account and region); 0 for no limit.
    #[arg(long, default_value_t = 10.0, value_name = "PER_SECOND", value_parser = non_negative)]
    pub rate: f64,

    /// Where to read a build's log: `auto` reads where CodeBuild says it is (CloudWatch Logs
    /// when it names both) and the other if that fails; `s3` reads the object CodeBuild names
    /// in `logs.s3LogsArn` (gzip, streamed).
    #[arg(long, value_enum, default_value_t = LogSource::Auto, value_name = "SOURCE")]
    pub log_source: LogSource,

    /// Read this log group instead of the one CodeBuild names.
    #[arg(long)]
    pub log_group: Option<String>,

    /// Read this log stream instead of the one CodeBuild names.
    #[arg(long)]
    pub log_stream: Option<String>,

    /// Stop after this many GetLogEvents pages (a guard against a stream that never ends).
    #[arg(long, default_value_t = 10_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pages: u64,
}

#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    /// Local logs instead of CodeBuild: files, directories (every file in them) or glob
    /// patterns; one build per file.
    pub inputs: Vec<String>,

    /// The CodeBuild project, or several (`-p a,b,c` or `-p a -p b`): required without local
    /// inputs; names the store partition of local ones (one name, default `local`).
    #[arg(long, short, value_delimiter = ',')]
    pub project: Vec<String>,

    /// Every CodeBuild project of the account in the region (ListProjects).
    #[arg(long, conflicts_with_all = ["project", "inputs"])]
    pub all_projects: bool,

    /// Only builds started at or after this: a duration back from now (`30d`, `12h`, `2w`) or
    /// a date (`2026-11-01`, RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only builds started before this (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// At most this many builds, the most recent.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub limit: Option<usize>,

    /// Only builds with these CodeBuild statuses (comma-separated: SUCCEEDED,FAILED,...).
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    pub status: Vec<String>,

    /// Builds fetched and analyzed at once (one shared request-rate limit).
    #[arg(long, short, default_value_t = 4, value_name = "N", value_parser = at_least_one)]
    pub jobs: usize,

    /// Write charts (PNG and SVG), the trend frame (CSV, Parquet) and summary.md here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// What to print on stdout: a summary table, or the trend frame.
    #[arg(long, short, value_enum, default_value_t = TrendFormat::Table)]
    pub format: TrendFormat,

    /// The build store: a directory, or `s3://bucket/prefix` to share it [default: the user's
    /// cache directory, e.g. ~/.cache/cachescope].
    #[arg(long, value_name = "DIR|S3_URL")]
    pub store: Option<String>,

    /// Analyze stored builds again instead of reading them from the store.
    #[arg(long)]
    pub refresh: bool,

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,

    /// Previous builds the regression flag compares with.
    #[arg(long, default_value_t = 10, value_name = "BUILDS", value_parser = at_least_one)]
    pub window: usize,

    /// A regression: hit ratio this much below the rolling median, or duration this fraction
    /// above the rolling p90.
    #[arg(long, default_value_t = 0.15, value_name = "FRACTION", value_parser = non_negative)]
    pub margin: f64,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one)]
    pub max_line_bytes: Option<usize>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrendFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The build's log, as `docker build ... 2>&1 | tee docker-build.log` wrote it (`-` for
    /// stdin). Without it the build's own CloudWatch Logs stream is read (inside CodeBuild).
    #[arg(long, value_name = "FILE")]
    pub log: Option<String>,

    /// The build reported on: read from CloudWatch Logs unless --log is given, and named in
    /// the report.
    #[arg(long, value_name = "ID", env = "CODEBUILD_BUILD_ID")]
    pub build: Option<String>,

    /// Reading the build's own stream (still being written; CloudWatch delivers events seconds
    /// late): how long to keep polling its end for the BUILD phase's completion line while no
    /// new event arrives. Following stops after 10 × this in all.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        conflicts_with = "log",
        value_parser = wait_seconds
    )]
    pub wait: f64,

    /// Compare with the previous build of the project (`last`) or the N before this one: the
    /// steps cached last time and rebuilt now, the change in hit ratio and duration. Earlier
    /// builds come from the store, else from CodeBuild (and are stored).
    #[arg(long, value_name = "last|N")]
    pub compare: Option<String>,

    /// Where earlier builds are stored: a directory or `s3://bucket/prefix` [default: the
    /// user's cache directory].
    #[arg(long, value_name = "DIR|S3_URL", requires = "compare")]
    pub store: Option<String>,

    /// Write report.md, report.html, report.json and junit.xml here.
    #[arg(long, value_name = "DIR", default_value = "cachescope-report")]
    pub out: PathBuf,

    /// Fail (exit 1) if the hit ratio is below this fraction (0.6 = 60%).
    #[arg(long, value_name = "RATIO", value_parser = fraction)]
    pub min_hit_ratio: Option<f64>,

    /// Fail (exit 1) if rebuilt Dockerfile steps took longer than this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = non_negative)]
    pub max_rebuilt_seconds: Option<f64>,

    /// Fail (exit 1) if the cache import (`--cache-from`) failed.
    #[arg(long)]
    pub fail_on_cache_import_error: bool,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one)]
    pub max_line_bytes: Option<usize>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The CodeBuild project [default: the --build's, else $CODEBUILD_BUILD_ID's].
    #[arg(long, short)]
    pub project: Option<String>,

    /// Check this build's log [default: the project's most recent finished build].
    #[arg(long, value_name = "ID")]
    pub build: Option<String>,

    /// Check this log file instead of a build's (the project is still checked when known).
    #[arg(long, value_name = "FILE", conflicts_with = "build")]
    pub log: Option<String>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = DoctorFormat::Table)]
    pub format: DoctorFormat,

    /// Lines longer than this many bytes are skipped and reported [default: 1 MiB].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one)]
    pub max_line_bytes: Option<usize>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Table,
    Json,
}

/// A finite number ≥ 0 (`NaN`, `inf` and negatives are usage errors, not a disabled limit).
fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err(format!("{s} is not a finite number of at least 0")),
        Err(e) => Err(format!("{s}: {e}")),
    }
}

/// A count of at least 1 (`--jobs 0` or `--window 0` would be nothing, not a default).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0: give at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s}: {e}")),
    }
}

/// Seconds to wait: a finite number from 0 to a day.
fn wait_seconds(s: &str) -> Result<f64, String> {
    match non_negative(s)? {
        v if v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s} seconds is more than a day")),
    }
}

/// A fraction from 0 to 1.
fn fraction(s: &str) -> Result<f64, String> {
    match non_negative(s)? {
        v if v <= 1.0 => Ok(v),
        _ => Err(format!("{s} is not a fraction from 0 to 1 (0.6 = 60%)")),
    }
}
