//! Column names of every frame, in one place: the frames, the writers and the tests use these.

/// The steps frame: the `steps` output contract (DESIGN.md), one row per step.
pub mod steps {
    pub const INVOCATION: &str = "invocation";
    pub const VERTEX: &str = "vertex";
    pub const STEP: &str = "step";
    pub const NAME: &str = "name";
    pub const STAGE: &str = "stage";
    pub const INDEX: &str = "index";
    pub const TOTAL: &str = "total";
    pub const INSTRUCTION: &str = "instruction";
    pub const KIND: &str = "kind";
    pub const STATUS: &str = "status";
    pub const DURATION_S: &str = "duration_s";
    pub const LINE: &str = "line";
    pub const ERROR: &str = "error";
    pub const ALL: [&str; 13] = [
        INVOCATION,
        VERTEX,
        STEP,
        NAME,
        STAGE,
        INDEX,
        TOTAL,
        INSTRUCTION,
        KIND,
        STATUS,
        DURATION_S,
        LINE,
        ERROR,
    ];
}

/// The phases frame: one row per CodeBuild phase.
pub mod phases {
    pub const PHASE: &str = "phase";
    pub const STATE: &str = "state";
    /// Datetime (ms, UTC).
    pub const START: &str = "start";
    /// Datetime (ms, UTC); null while the phase has not completed in the log.
    pub const END: &str = "end";
    pub const DURATION_S: &str = "duration_s";
    pub const ALL: [&str; 5] = [PHASE, STATE, START, END, DURATION_S];
}

/// The builds frame: one row per build (here, one).
pub mod builds {
    pub const SOURCE: &str = "source";
    /// CodeBuild's fields: null for a log read from a file.
    pub const BUILD_ID: &str = "build_id";
    pub const PROJECT: &str = "project";
    pub const BUILD_NUMBER: &str = "build_number";
    pub const BUILD_STATUS: &str = "build_status";
    /// Datetime (ms, UTC).
    pub const BUILD_START: &str = "build_start";
    /// Datetime (ms, UTC).
    pub const BUILD_END: &str = "build_end";
    pub const SOURCE_VERSION: &str = "source_version";
    pub const BUILDER: &str = "builder";
    pub const INVOCATIONS: &str = "invocations";
    pub const STEPS: &str = "steps";
    pub const CACHED: &str = "cached";
    pub const REBUILT: &str = "rebuilt";
    pub const ERROR: &str = "error";
    pub const CANCELED: &str = "canceled";
    pub const UNFINISHED: &str = "unfinished";
    /// Dockerfile steps other than FROM: the `hit_ratio` denominator's universe.
    pub const DOCKERFILE_STEPS: &str = "dockerfile_steps";
    pub const DOCKERFILE_CACHED: &str = "dockerfile_cached";
    pub const HIT_RATIO: &str = "hit_ratio";
    pub const HIT_RATIO_ALL: &str = "hit_ratio_all";
    pub const REBUILT_S: &str = "rebuilt_s";
    pub const DOCKER_BUILD_S: &str = "docker_build_s";
    pub const CACHE_BUST_STEP: &str = "cache_bust_step";
    pub const CACHE_BUST_CAUSE: &str = "cache_bust_cause";
    pub const SCENARIO: &str = "scenario";
    pub const CACHE_FROM: &str = "cache_from";
    pub const INLINE_CACHE: &str = "inline_cache";
    pub const CACHE_IMPORT: &str = "cache_import";
    pub const TIME_SAVED_S: &str = "time_saved_s";
    /// The verdict's primary cause id (`min-mode-multistage`, ...): see `analyze::verdict`.
    pub const CAUSE: &str = "cause";
    /// `certain`, `likely` or `possible`.
    pub const CAUSE_CONFIDENCE: &str = "cause_confidence";
    /// Seconds of cache import, export, builder boot and `--load` (step time).
    pub const CACHE_COST_S: &str = "cache_cost_s";
}

/// The trend frame: one row per build of a project, oldest first.
pub mod trend {
    /// The store's key of the build (its UUID, or the log file's name).
    pub const KEY: &str = "key";
    /// The build ID, or the log file's path.
    pub const SOURCE: &str = super::builds::SOURCE;
    /// Datetime (ms, UTC): when the build started.
    pub const TIME: &str = "time";
    pub const BUILD_ID: &str = "build_id";
    pub const BUILD_NUMBER: &str = "build_number";
    pub const BUILD_STATUS: &str = "build_status";
    /// End − start of the whole build.
    pub const DURATION_S: &str = "duration_s";
    pub const HIT_RATIO: &str = super::builds::HIT_RATIO;
    pub const HIT_RATIO_ALL: &str = super::builds::HIT_RATIO_ALL;
    pub const REBUILT_S: &str = super::builds::REBUILT_S;
    pub const DOCKER_BUILD_S: &str = super::builds::DOCKER_BUILD_S;
    pub const CACHE_BUST_STEP: &str = super::builds::CACHE_BUST_STEP;
    pub const CACHE_BUST_CAUSE: &str = super::builds::CACHE_BUST_CAUSE;
    pub const SCENARIO: &str = super::builds::SCENARIO;
    pub const CAUSE: &str = super::builds::CAUSE;
    /// Priced from the history: see `analyze::trend::TrendRow::time_saved_s`.
    pub const TIME_SAVED_S: &str = super::builds::TIME_SAVED_S;
    pub const ROLLING_MEDIAN_HIT_RATIO: &str = "rolling_median_hit_ratio";
    pub const ROLLING_P90_DURATION_S: &str = "rolling_p90_duration_s";
    pub const REGRESSION: &str = "regression";
    pub const REGRESSION_REASON: &str = "regression_reason";
}
