//! Reading a build's log from AWS: CodeBuild for where the log is and what the build was,
//! CloudWatch Logs or S3 for the lines.
//!
//! Settings follow the AWS CLI (profile, region, endpoint URL, the standard environment
//! variables and credential chain). Every request waits its turn at one shared rate limit, and
//! the SDK retries in standard mode; failures come back as messages that say what to do.

pub mod build_ref;
pub mod codebuild;
pub mod logs;
mod rate;
pub mod s3;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudwatchlogs::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

pub use build_ref::BuildRef;
pub use logs::Follow;

use crate::model::BuildMeta;
use crate::source::LogSink;
pub use rate::RateLimit;

/// The AWS CLI's settings, as given on the command line. `None` leaves a setting to the
/// environment and profile, as the AWS CLI does.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per request, first one included (SDK standard retry mode); `None` leaves it to
    /// `AWS_MAX_ATTEMPTS` and the profile, as the AWS CLI does.
    pub max_attempts: Option<u32>,
    /// Requests per second across every request of one connection (see [`RateLimit`]).
    pub requests_per_second: f64,
    /// Say on stderr when an attempt fails and is retried.
    pub verbose: bool,
}

/// Requests sent and attempts that failed, for one service; shared by its clients' clones.
#[derive(Debug, Default)]
pub struct Counters {
    pub attempts: AtomicU64,
    pub failed_attempts: AtomicU64,
}

impl Counters {
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed_attempts.load(Ordering::Relaxed)
    }
}

/// Counts every attempt the SDK makes and, with `-v`, names each failed one: retries happen
/// inside the SDK and would otherwise be invisible.
#[derive(Debug)]
struct AttemptLog {
    service: &'static str,
    counters: Arc<Counters>,
    verbose: bool,
}

impl Intercept for AttemptLog {
    fn name(&self) -> &'static str {
        "cachescope::AttemptLog"
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.counters.attempts.fetch_add(1, Ordering::Relaxed);
        if let Some(Err(e)) = ctx.output_or_error() {
            self.counters
                .failed_attempts
                .fetch_add(1, Ordering::Relaxed);
            if self.verbose {
                let status = ctx.response().map_or("no response".to_string(), |r| {
                    format!("HTTP {}", r.status())
                });
                crate::say!(
                    "cachescope: {} request failed ({status}: {}); the SDK retries it if the error \
                     is retryable and attempts remain",
                    self.service,
                    causes(e)
                );
            }
        }
        Ok(())
    }
}

/// Clients for the three services, the shared rate limit and the request counters.
#[derive(Clone)]
pub struct Aws {
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub codebuild: aws_sdk_codebuild::Client,
    pub s3: aws_sdk_s3::Client,
    pub limit: Arc<RateLimit>,
    pub logs_counters: Arc<Counters>,
    pub codebuild_counters: Arc<Counters>,
    pub s3_counters: Arc<Counters>,
    pub region: String,
    pub max_attempts: u32,
}

impl fmt::Debug for Aws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws").field("region", &self.region).finish()
    }
}

impl Aws {
    /// Loads the configuration the way the AWS CLI does. `region_hint` (from a build ARN) is used
    /// when `--region` is not given.
    pub async fn connect(settings: &AwsSettings, region_hint: Option<&str>) -> Result<Aws> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(n) = settings.max_attempts {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n.max(1)));
        }
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = settings.region.as_deref().or(region_hint) {
            loader = loader.region(Region::new(r.to_string()));
        }
        if let Some(u) = &settings.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            anyhow!(
                "no AWS region: pass --region, set AWS_REGION, or set `region` in the profile \
                 (~/.aws/config)"
            )
        })?;
        let logs_counters = Arc::new(Counters::default());
        let codebuild_counters = Arc::new(Counters::default());
        let log = |service, counters: &Arc<Counters>| AttemptLog {
            service,
            counters: counters.clone(),
            verbose: settings.verbose,
        };
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(&config)
            .interceptor(log("CloudWatch Logs", &logs_counters))
            .build();
        let codebuild = aws_sdk_codebuild::config::Builder::from(&config)
            .interceptor(log("CodeBuild", &codebuild_counters))
            .build();
        let s3_counters = Arc::new(Counters::default());
        // A custom endpoint (--endpoint-url, AWS_ENDPOINT_URL: an emulator, a VPC endpoint)
        // addresses buckets by path.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .interceptor(log("S3", &s3_counters))
            .build();
        Ok(Aws {
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            codebuild: aws_sdk_codebuild::Client::from_conf(codebuild),
            s3: aws_sdk_s3::Client::from_conf(s3),
            limit: Arc::new(RateLimit::per_second(settings.requests_per_second)),
            logs_counters,
            codebuild_counters,
            s3_counters,
            max_attempts: config.retry_config().map_or(3, |r| r.max_attempts()),
            region,
        })
    }
}

/// How a request failed, judged from the error alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    AccessDenied,
    NotFound,
    Throttled,
    NoCredentials,
    BadCredentials,
    Unreachable,
    Other,
}

/// Classifies an SDK error.
pub fn classify<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let code = err.code().unwrap_or("");
    match code {
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            return Failure::AccessDenied
        }
        "ResourceNotFoundException" => return Failure::NotFound,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "LimitExceededException" => return Failure::Throttled,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "ExpiredToken" => return Failure::BadCredentials,
        _ => {}
    }
    if let SdkError::DispatchFailure(d) = err {
        if d.is_io() || d.is_timeout() {
            return Failure::Unreachable;
        }
    }
    if matches!(err, SdkError::TimeoutError(_)) {
        return Failure::Unreachable;
    }
    // Credential resolution fails before anything is sent, whatever the operation.
    if causes(err).contains("credentials") {
        return Failure::NoCredentials;
    }
    Failure::Other
}

/// An error and its causes, each once, joined by `: ` (the SDK's own rendering adds a Debug
/// dump of the whole tree).
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// An SDK error as a message that says what to do. `action` is the IAM action of the request
/// (`logs:GetLogEvents`), `what` the thing asked for.
pub fn explain<E, R>(aws: &Aws, err: &SdkError<E, R>, action: &str, what: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let detail = causes(err);
    let region = &aws.region;
    match classify(err) {
        Failure::AccessDenied => anyhow!(
            "access denied: {action} on {what} (region {region}): the role or user needs \
             `{action}` in its IAM policy ({})",
            err.message().unwrap_or("no message")
        ),
        Failure::NotFound => anyhow!("{what} not found in region {region}: {detail}"),
        Failure::Throttled => anyhow!(
            "{action} on {what} was throttled by AWS after {} attempt(s): lower --rate, raise \
             --max-attempts, or try again later",
            aws.max_attempts
        ),
        Failure::NoCredentials => anyhow!(
            "no AWS credentials found for {action}: set AWS_PROFILE or --profile, run \
             `aws sso login`, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ({detail})"
        ),
        Failure::BadCredentials => anyhow!(
            "AWS rejected the credentials for {action}: they are invalid or expired; refresh \
             them (e.g. `aws sso login`) ({detail})"
        ),
        Failure::Unreachable => anyhow!(
            "could not reach the AWS endpoint for {action} (region {region}): check the \
             network, --region and --endpoint-url / AWS_ENDPOINT_URL ({detail})"
        ),
        Failure::Other => anyhow!("{action} on {what} failed: {detail}"),
    }
}

/// How to read one build's log from AWS.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub settings: AwsSettings,
    /// Override the log group CodeBuild names (or the default `/aws/codebuild/<project>`).
    pub log_group: Option<String>,
    /// Override the log stream CodeBuild names (or the default: the build's UUID).
    pub log_stream: Option<String>,
    /// Stop after this many `GetLogEvents` calls.
    pub max_pages: u64,
    /// Ask CodeBuild for the build's metadata even when the log location is given.
    pub want_meta: bool,
    /// The stream is still being written: read up to this point.
    pub follow: Option<logs::Follow>,
    /// Where to read the log.
    pub log_source: LogSource,
}

/// Where a build's log is read from (`--log-source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogSource {
    /// Where CodeBuild says the log is (CloudWatch Logs first), the other as a fallback.
    #[default]
    Auto,
    Cloudwatch,
    S3,
}

/// A build's log: a CloudWatch Logs stream or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLocation {
    CloudWatch(logs::LogStream),
    S3(s3::S3Object),
}

impl fmt::Display for LogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogLocation::CloudWatch(s) => s.fmt(f),
            LogLocation::S3(o) => o.fmt(f),
        }
    }
}

/// What reading a build from AWS found besides the lines.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub meta: Option<BuildMeta>,
    pub location: LogLocation,
    /// Reading a CloudWatch Logs stream (all zero for an S3 object).
    pub stats: logs::FetchStats,
    /// Reading an S3 object.
    pub s3_stats: Option<s3::S3Stats>,
    /// Attempts sent to each service, retries included.
    pub logs_attempts: u64,
    pub codebuild_attempts: u64,
    pub s3_attempts: u64,
    /// Attempts that failed, whether retried or not (an AccessDenied that led to a fallback
    /// counts too).
    pub failed_attempts: u64,
}

impl Fetched {
    /// What was read: `1234 events in 3 GetLogEvents calls`, `56789 bytes in 1 GetObject calls`.
    pub fn read_text(&self) -> String {
        match &self.s3_stats {
            Some(s) => format!("{} bytes in {} GetObject calls", s.bytes, s.calls),
            None => format!(
                "{} events in {} GetLogEvents calls",
                self.stats.events, self.stats.calls
            ),
        }
    }

    /// Nothing was in the log.
    pub fn is_empty(&self) -> bool {
        match &self.s3_stats {
            Some(s) => s.bytes == 0,
            None => self.stats.events == 0,
        }
    }
}

/// A runtime for one command's AWS work: two workers fetch while the caller's thread parses.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Finds the build's log (CodeBuild, else the default location) and streams it into `sink`.
/// Notes about fallbacks go to stderr once, as they happen.
pub fn read_build(
    build: &BuildRef,
    opts: &FetchOptions,
    sink: &mut dyn LogSink,
) -> Result<Fetched> {
    runtime()?.block_on(async {
        let aws = Aws::connect(&opts.settings, build.region.as_deref()).await?;
        let located = opts.log_group.is_some() && opts.log_stream.is_some();
        let meta = if opts.want_meta || !located {
            match codebuild::lookup(&aws, build).await? {
                codebuild::Lookup::Found(m) => Some(m),
                codebuild::Lookup::Denied(message) => {
                    let then = if located {
                        "no build metadata"
                    } else {
                        "no build metadata, and the log is read from the default location"
                    };
                    crate::say!(
                        "cachescope: note: codebuild:BatchGetBuilds is not allowed ({message}); {then}"
                    );
                    None
                }
            }
        } else {
            None
        };
        fetch_log(&aws, build, meta, opts, sink).await
    })
}

/// How long to wait for the S3 log of a build that ended less than [`S3_FRESH`] ago (CodeBuild
/// writes the object at the end of the build; seen up to a minute later).
const S3_WAIT: Duration = Duration::from_secs(90);
const S3_FRESH: Duration = Duration::from_secs(300);

/// Streams the log of a build whose CodeBuild record (if any) is already known, from where
/// `opts.log_source` says: with `auto`, where CodeBuild says the log is (CloudWatch Logs when
/// it names both), then the other if the first cannot be read before any line came.
pub async fn fetch_log(
    aws: &Aws,
    build: &BuildRef,
    meta: Option<BuildMeta>,
    opts: &FetchOptions,
    sink: &mut dyn LogSink,
) -> Result<Fetched> {
    let located = opts.log_group.is_some() && opts.log_stream.is_some();
    let from_api = meta
        .as_ref()
        .and_then(|m| m.log_group.clone().zip(m.log_stream.clone()));
    let s3_arn = meta.as_ref().and_then(|m| m.s3_log.as_deref());
    let (api_group, api_stream) = from_api.clone().unzip();
    let stream = logs::LogStream {
        group: (opts.log_group.clone())
            .or(api_group)
            .unwrap_or_else(|| build.default_log_group()),
        stream: (opts.log_stream.clone())
            .or(api_stream)
            .unwrap_or_else(|| build.uuid.clone()),
    };
    let cloudwatch_named = located || from_api.is_some();
    let cloudwatch = LogLocation::CloudWatch(stream);
    let mut order: Vec<LogLocation> = match (opts.log_source, s3_arn) {
        // A stream named on the command line is the log: no other is read.
        (LogSource::Cloudwatch, _) | (LogSource::Auto, None) => vec![cloudwatch],
        (LogSource::Auto, Some(_)) if located => vec![cloudwatch],
        (LogSource::S3, Some(arn)) => vec![LogLocation::S3(s3::object_of(arn)?)],
        (LogSource::S3, None) if meta.is_none() => bail!(
            "--log-source s3 needs CodeBuild's record of {build} (codebuild:BatchGetBuilds), \
             which names the log object"
        ),
        (LogSource::S3, None) => bail!(
            "CodeBuild names no S3 log for {build}: S3 logging (logsConfig.s3Logs) was off for \
             it; read CloudWatch Logs instead (--log-source cloudwatch or auto)"
        ),
        (LogSource::Auto, Some(arn)) => {
            let obj = LogLocation::S3(s3::object_of(arn)?);
            match cloudwatch_named {
                true => vec![cloudwatch, obj],
                false => vec![obj, cloudwatch],
            }
        }
    };
    if meta.is_some() && !cloudwatch_named && matches!(order[0], LogLocation::CloudWatch(_)) {
        crate::say!(
            "cachescope: note: CodeBuild names no CloudWatch log stream for {build} \
             (CloudWatch logging off for the project?); trying the default location"
        );
    }
    // Only a running build's log is still being written.
    let running = meta
        .as_ref()
        .is_none_or(|m| m.status == Some(crate::model::BuildStatus::InProgress));
    let just_ended = (meta.as_ref().and_then(|m| m.end_ms)).is_some_and(|end| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        now - end < S3_FRESH.as_millis() as i64
    });
    let s3_wait = if running || just_ended {
        S3_WAIT
    } else {
        Duration::ZERO
    };
    let mut counted = Counting { sink, lines: 0 };
    let mut stats = logs::FetchStats::default();
    let mut s3_stats = None;
    let location = loop {
        let location = order.remove(0);
        if opts.settings.verbose {
            crate::say!("cachescope: reading {location} (region {})", aws.region);
        }
        let read = match &location {
            LogLocation::CloudWatch(stream) => {
                let follow = opts.follow.filter(|_| running);
                logs::stream_into(aws, stream, opts.max_pages, follow, &mut counted)
                    .await
                    .map(|s| stats = s)
            }
            LogLocation::S3(obj) => s3::stream_into(aws, obj, s3_wait, &mut counted)
                .await
                .map(|s| s3_stats = Some(s)),
        };
        match read {
            Ok(()) => break location,
            // Nothing was handed on yet: the other location can still be read whole.
            Err(e) if counted.lines == 0 && !order.is_empty() => {
                crate::say!("cachescope: note: {e:#}; reading {} instead", order[0]);
            }
            Err(e) => return Err(e),
        }
    };
    if stats.capped {
        crate::say!(
            "cachescope: warning: stopped after {} GetLogEvents pages (--max-pages) before \
             the end of {location}: is the build still writing it?",
            stats.calls
        );
    }
    Ok(Fetched {
        meta,
        location,
        stats,
        s3_stats,
        logs_attempts: aws.logs_counters.attempts(),
        codebuild_attempts: aws.codebuild_counters.attempts(),
        s3_attempts: aws.s3_counters.attempts(),
        failed_attempts: aws.logs_counters.failed()
            + aws.codebuild_counters.failed()
            + aws.s3_counters.failed(),
    })
}

/// A sink that counts what it hands on, so a read that failed before any line can fall back.
struct Counting<'s> {
    sink: &'s mut dyn LogSink,
    lines: u64,
}

impl LogSink for Counting<'_> {
    fn bytes(&mut self, chunk: &[u8]) {
        self.lines += 1;
        self.sink.bytes(chunk);
    }
    fn event(&mut self, timestamp_ms: i64, message: &[u8]) {
        self.lines += 1;
        self.sink.event(timestamp_ms, message);
    }
    fn line_limit(&self) -> usize {
        self.sink.line_limit()
    }
}
