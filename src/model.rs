//! The typed vocabulary every other module speaks: a build step, its status and kind, the
//! CodeBuild events found next to the Docker output, and the build's CodeBuild metadata.
//!
//! It exists so the parser, the analysis and the renderers agree on one shape without depending
//! on each other. Serialized field names here are the `steps` output contract (DESIGN.md): add
//! fields, never rename.

use serde::Serialize;

/// How a step ended. Ordered from the most to the least decisive evidence a log can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Served from the build cache (`#N CACHED`, `---> Using cache`).
    Cached,
    /// Ran to completion (`#N DONE 1.2s`, or a legacy step that produced a layer).
    Rebuilt,
    /// Failed (`#N ERROR`, or the legacy builder's failure message).
    Error,
    /// Stopped because the build was canceled (`#N CANCELED`).
    Canceled,
    /// The log ends before the step does.
    Unfinished,
}

impl StepStatus {
    pub const ALL: [StepStatus; 5] = [
        StepStatus::Cached,
        StepStatus::Rebuilt,
        StepStatus::Error,
        StepStatus::Canceled,
        StepStatus::Unfinished,
    ];

    /// The inverse of [`StepStatus::as_str`].
    pub fn parse(s: &str) -> Option<StepStatus> {
        StepStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Cached => "cached",
            StepStatus::Rebuilt => "rebuilt",
            StepStatus::Error => "error",
            StepStatus::Canceled => "canceled",
            StepStatus::Unfinished => "unfinished",
        }
    }
}

/// What a step is, judged from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// A Dockerfile instruction: `[stage i/n] RUN ...`, `[i/n] COPY ...`, or any legacy step.
    Dockerfile,
    /// BuildKit bookkeeping: `[internal] ...`, `[auth] ...`, `resolve image config ...`.
    Internal,
    /// `importing cache manifest from ...`.
    CacheImport,
    /// `exporting cache ...`, `exporting to GitHub Actions Cache`.
    CacheExport,
    /// `exporting to image`, `exporting to docker image format`, `pushing ...`.
    Export,
    /// Anything else (e.g. a bare `FROM image` source of `COPY --from`).
    Other,
}

impl StepKind {
    pub const ALL: [StepKind; 6] = [
        StepKind::Dockerfile,
        StepKind::Internal,
        StepKind::CacheImport,
        StepKind::CacheExport,
        StepKind::Export,
        StepKind::Other,
    ];

    /// The inverse of [`StepKind::as_str`].
    pub fn parse(s: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Dockerfile => "dockerfile",
            StepKind::Internal => "internal",
            StepKind::CacheImport => "cache-import",
            StepKind::CacheExport => "cache-export",
            StepKind::Export => "export",
            StepKind::Other => "other",
        }
    }
}

/// One build step of one `docker build` run (an invocation) — a BuildKit vertex `#N` or a
/// legacy-builder `Step i/n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based number of the docker build run within the log.
    pub invocation: u32,
    /// BuildKit vertex number; `None` for legacy-builder steps.
    pub vertex: Option<u32>,
    /// `#8` for BuildKit, `Step 3/8` (or `Step 3`) for the legacy builder.
    pub step: String,
    /// The header text without `#N ` and surrounding whitespace.
    pub name: String,
    /// `builder` in `[builder 4/8] RUN ...`.
    pub stage: Option<String>,
    /// `4` in `[builder 4/8]` or `Step 4/8`.
    pub index: Option<u32>,
    /// `8` in `[builder 4/8]` or `Step 4/8`.
    pub total: Option<u32>,
    /// The Dockerfile instruction keyword, upper-cased (`RUN`, `COPY`, ...).
    pub instruction: Option<String>,
    pub kind: StepKind,
    pub status: StepStatus,
    /// Seconds, from the last `DONE` line (BuildKit) or from event timestamps (legacy builder
    /// read from CloudWatch events); `None` where the log gives none.
    pub duration_s: Option<f64>,
    /// 1-based line number of the step's first header line.
    pub line: u64,
    /// The error text of a failed step, when the log gives one.
    pub error: Option<String>,
}

impl Step {
    /// The ratio denominators in DESIGN.md count Dockerfile steps other than `FROM`.
    pub fn is_cacheable_instruction(&self) -> bool {
        self.kind == StepKind::Dockerfile && self.instruction.as_deref() != Some("FROM")
    }
}

/// A CodeBuild phase transition from a `[Container]` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseEvent {
    /// `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`, ...
    pub phase: String,
    /// `STARTED` for `Entering phase X`; `SUCCEEDED`, `FAILED`, ... for `Phase complete`.
    pub state: String,
    /// Milliseconds since the Unix epoch (UTC, as CodeBuild writes it).
    pub at_ms: i64,
    pub line: u64,
}

/// A command the log shows being run: CodeBuild's `[Container] ... Running command X` (any
/// command, with its time), or a shell / CI line that starts a docker build (no time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandEvent {
    pub command: String,
    pub at_ms: Option<i64>,
    pub line: u64,
}

/// Seconds from `start_ms` to `end_ms`, when both are known (and their difference fits).
pub fn span_s(start_ms: Option<i64>, end_ms: Option<i64>) -> Option<f64> {
    Some(end_ms?.checked_sub(start_ms?)? as f64 / 1000.0)
}

/// One CodeBuild phase with its times: from the CodeBuild API, or paired from the log's
/// `Entering phase` and `Phase complete` lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub phase: String,
    /// `SUCCEEDED`, `FAILED`, ...; `STARTED` (log) or `IN_PROGRESS` (API) while it runs.
    pub state: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub duration_s: Option<f64>,
}

/// A CodeBuild build's status (`buildStatus`), serialized as CodeBuild writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildStatus {
    Succeeded,
    Failed,
    Fault,
    TimedOut,
    InProgress,
    Stopped,
}

impl BuildStatus {
    pub const ALL: [BuildStatus; 6] = [
        BuildStatus::Succeeded,
        BuildStatus::Failed,
        BuildStatus::Fault,
        BuildStatus::TimedOut,
        BuildStatus::InProgress,
        BuildStatus::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Succeeded => "SUCCEEDED",
            BuildStatus::Failed => "FAILED",
            BuildStatus::Fault => "FAULT",
            BuildStatus::TimedOut => "TIMED_OUT",
            BuildStatus::InProgress => "IN_PROGRESS",
            BuildStatus::Stopped => "STOPPED",
        }
    }

    /// The inverse of [`BuildStatus::as_str`], any case.
    pub fn parse(s: &str) -> Option<BuildStatus> {
        BuildStatus::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// SUCCEEDED or FAILED: it ran its buildspec to an end (a stopped or timed-out build may
    /// never have reached its docker build).
    pub fn ran_to_end(self) -> bool {
        matches!(self, BuildStatus::Succeeded | BuildStatus::Failed)
    }
}

/// What CodeBuild's `BatchGetBuilds` says about a build (none of it is in the log itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildMeta {
    /// `project:uuid`.
    pub id: String,
    pub project: String,
    pub number: Option<i64>,
    pub status: Option<BuildStatus>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// The commit the build ran on (`resolvedSourceVersion`, else `sourceVersion`).
    pub source_version: Option<String>,
    /// Every phase CodeBuild reports, in its order (reports show them merged with the log's).
    #[serde(skip_serializing)]
    pub phases: Vec<Phase>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// `logs.s3LogsArn`: the build's log object when the project logs to S3.
    pub s3_log: Option<String>,
}

/// A CodeBuild project's build-cache set-up (`BatchGetProjects`), as `doctor` checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProjectSetup {
    /// `NO_CACHE`, `LOCAL` or `S3`.
    pub cache_type: String,
    /// `LOCAL_DOCKER_LAYER_CACHE`, `LOCAL_SOURCE_CACHE`, `LOCAL_CUSTOM_CACHE` (LOCAL only).
    pub cache_modes: Vec<String>,
    /// The S3 bucket/prefix (S3 only).
    pub cache_location: Option<String>,
    /// Docker inside the build needs it.
    pub privileged_mode: bool,
    /// The build image.
    pub image: Option<String>,
    /// `environment.dockerServer.computeType`: a CodeBuild Docker server, whose BuildKit cache
    /// outlives the build host.
    pub docker_server: Option<String>,
    /// `logsConfig.cloudWatchLogs.status` is ENABLED (`None`: not reported).
    pub cloudwatch_logs: Option<bool>,
    /// `logsConfig.s3Logs.location` when S3 logs are ENABLED.
    pub s3_logs: Option<String>,
}

/// What a cache-evidence line shows. The parser keeps these few lines per build so the diagnosis
/// can quote the log's own words without reading it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// Base image layers fetched: `sha256:… 1.05MB / 2.81MB`, `extracting sha256:…`, the legacy
    /// builder's `Pulling from`, `Pull complete`, `Status: Downloaded newer image for`.
    LayerDownload,
    /// The legacy builder's `Status: Image is up to date for …`: the layers were already here.
    ImageUpToDate,
    /// `importing cache manifest from …` (the vertex header).
    CacheImport,
    /// `inferred cache manifest type: …`: the import reached the registry and read a manifest.
    CacheManifestType,
    /// The cache import failed: `failed to configure registry cache importer: …`, or an error
    /// line of the import vertex.
    ImportFailed,
    /// `preparing layers for inline cache`: the pushed image carries (min-mode) cache metadata.
    InlineCacheExport,
    /// `exporting cache to …`, `preparing build cache for export`, `writing cache manifest`,
    /// `writing cache image manifest`.
    CacheExport,
    /// `booting buildkit`: a docker-container builder started in this build, with no cache.
    BuilderBoot,
    /// `#0 building with "NAME" instance using DRIVER driver`.
    BuilderDriver,
    /// `sending tarball`: `--load` copying the image out of a docker-container builder.
    SendingTarball,
    /// `Cache export is not supported for the docker driver` (and its older wording).
    ExportUnsupported,
    /// `400 Bad Request` (ECR rejects BuildKit's default cache manifest).
    BadRequest,
    /// A cache export error other than the above (`error writing layer blob`, …).
    ExportFailed,
    /// `toomanyrequests`: a registry's pull rate limit.
    RateLimited,
    /// A `docker pull` before the build failed (`Error response from daemon: manifest for … not
    /// found`, `pull access denied`): the legacy builder's `--cache-from` image is missing.
    PullFailed,
    /// `unknown flag: --cache-to` and the like: the docker CLI is too old for the flag.
    UnknownFlag,
    /// `No output specified with docker-container driver`: the image stays in the builder.
    NoOutput,
    /// A step's own `ERROR` line (`#N ERROR: …`).
    StepError,
    /// The build's failure summary: `ERROR: failed to solve: …`, `failed to build`.
    BuildFailed,
}

/// One log line that carries cache evidence, with where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The docker build run it belongs to (the run open when the line was read).
    pub invocation: u32,
    /// The BuildKit vertex it was printed under, if any.
    pub vertex: Option<u32>,
    pub kind: EvidenceKind,
    /// 1-based line number.
    pub line: u64,
    /// The line's text, trimmed (capped at [`Evidence::MAX_TEXT`] bytes).
    pub text: String,
    /// A time the line states (`sending tarball 28.6s done` → 28.6).
    pub secs: Option<f64>,
}

impl Evidence {
    /// Longer lines are cut: evidence is quoted, never parsed again.
    pub const MAX_TEXT: usize = 400;
}
