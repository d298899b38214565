//! Why the cache broke, and what to do about it: the cache-bust step of each stage and its
//! likely cause, the scenario in the words of the build-time table teams use, and cache-health
//! findings read from the log (builder, `--cache-from`, cache import, inline cache, failures).

use serde::Serialize;

use super::verdict::{Cause as Why, Group, ImportOutcome, Verdict};
use crate::model::{CommandEvent, Evidence, Step, StepKind, StepStatus};
use crate::parse::line::launches_docker_build;

/// The likely cause of a cache bust, from the bust step's instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The base image changed (or had to be pulled): every step after FROM rebuilt.
    BaseImage,
    /// A dependency manifest was copied (requirements.txt, package.json, go.mod, ...).
    DependencyManifest,
    /// Application source was copied (`COPY . .`, `COPY src/ ...`).
    ApplicationSource,
    /// `COPY --from=<stage>`: an upstream stage was rebuilt.
    UpstreamStage,
    /// An `ARG` or `ENV` value changed.
    BuildArgOrEnv,
    /// The instruction's own text changed (or a build arg it reads).
    InstructionChanged,
    /// Nothing came from cache: no cache was available to this build.
    NoCache,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::BaseImage => "base image changed",
            Cause::DependencyManifest => "dependency manifest copied",
            Cause::ApplicationSource => "application source copied",
            Cause::UpstreamStage => "upstream stage rebuilt",
            Cause::BuildArgOrEnv => "build arg / env changed",
            Cause::InstructionChanged => "instruction changed",
            Cause::NoCache => "no cache available",
        }
    }
}

/// The first Dockerfile step of a stage that ran, after which nothing in that stage came from
/// cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bust {
    pub invocation: u32,
    pub stage: Option<String>,
    pub step: String,
    pub name: String,
    pub line: u64,
    pub cause: Cause,
    /// Seconds of rebuilt steps in the stage from this step on.
    pub rebuilt_after_s: f64,
}

/// The build's scenario, in the words of the build-time table teams use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    NoChanges,
    ApplicationCodeOnly,
    DependenciesChanged,
    BaseImageChanged,
    ColdBuild,
    /// A RUN, ARG/ENV or other instruction changed.
    OtherChange,
    /// The log holds no Dockerfile step to judge.
    NoDockerBuild,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::NoChanges,
        Scenario::ApplicationCodeOnly,
        Scenario::DependenciesChanged,
        Scenario::BaseImageChanged,
        Scenario::ColdBuild,
        Scenario::OtherChange,
        Scenario::NoDockerBuild,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::NoChanges => "no changes (all cached)",
            Scenario::ApplicationCodeOnly => "application code only",
            Scenario::DependenciesChanged => "dependencies changed",
            Scenario::BaseImageChanged => "base image changed",
            Scenario::ColdBuild => "cold build (no cache)",
            Scenario::OtherChange => "other change (instruction or build arg)",
            Scenario::NoDockerBuild => "no docker build",
        }
    }
}

/// Which builder ran the log's docker builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Builder {
    #[serde(rename = "buildkit")]
    BuildKit,
    #[serde(rename = "legacy")]
    Legacy,
    #[serde(rename = "buildkit+legacy")]
    Both,
    #[serde(rename = "none")]
    None,
}

impl Builder {
    pub fn as_str(self) -> &'static str {
        match self {
            Builder::BuildKit => "buildkit",
            Builder::Legacy => "legacy",
            Builder::Both => "buildkit+legacy",
            Builder::None => "none",
        }
    }

    pub fn buildkit(self) -> bool {
        matches!(self, Builder::BuildKit | Builder::Both)
    }

    pub fn legacy(self) -> bool {
        matches!(self, Builder::Legacy | Builder::Both)
    }
}

/// What the log says about the cache set-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub builder: Builder,
    /// Whether the docker build command passed `--cache-from`; `None` if no command is in the log.
    pub cache_from: Option<bool>,
    /// Whether it passed `BUILDKIT_INLINE_CACHE=1` (or `--cache-to type=inline`).
    pub inline_cache: Option<bool>,
    /// Whether it exported cache anywhere (`--cache-to`).
    pub cache_to: Option<bool>,
    /// The `importing cache manifest` step: `ok` (the registry was reached — not proof that
    /// anything came from it: see the verdict), `failed` or `absent`.
    pub cache_import: ImportOutcome,
    /// The cache import's error text, when it failed.
    pub cache_import_error: Option<String>,
    /// The image or location the cache was imported from.
    pub cache_import_ref: Option<String>,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    /// A one-line fix, where there is one.
    pub fix: Option<String>,
}

/// The log's docker build commands (CodeBuild's `Running command`, shell and CI lines).
pub fn build_commands(commands: &[CommandEvent]) -> impl Iterator<Item = &CommandEvent> {
    commands
        .iter()
        .filter(|c| launches_docker_build(c.command.as_bytes()))
}

/// A build command's words, quotes trimmed.
fn command_words(command: &str) -> impl Iterator<Item = &str> {
    command
        .split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']))
}

/// Whether a build command passes `flag`: `--no-cache` and `--no-cache=true` are the flag,
/// `--no-cache-filter` is another.
pub fn has_flag(command: &str, flag: &str) -> bool {
    command_words(command)
        .any(|w| w == flag || w.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}

/// A build command's `--build-arg` values: `NAME=VALUE`, or `NAME` (the environment's value).
pub fn build_arg_words(command: &str) -> Vec<&str> {
    let words: Vec<&str> = command_words(command).collect();
    (words.iter().enumerate())
        .filter_map(|(i, w)| match w.strip_prefix("--build-arg=") {
            Some(a) => Some(a),
            None if *w == "--build-arg" => words.get(i + 1).copied(),
            None => None,
        })
        .collect()
}

pub fn health(steps: &[Step], commands: &[CommandEvent], evidence: &[Evidence]) -> Health {
    let buildkit = steps.iter().any(|s| s.vertex.is_some());
    let legacy = steps.iter().any(|s| s.vertex.is_none());
    let builder = match (buildkit, legacy) {
        (true, true) => Builder::Both,
        (true, false) => Builder::BuildKit,
        (false, true) => Builder::Legacy,
        (false, false) => Builder::None,
    };
    let builds: Vec<&str> = build_commands(commands)
        .map(|c| c.command.as_str())
        .collect();
    let any = |needles: &[&str]| {
        (!builds.is_empty()).then(|| builds.iter().any(|c| needles.iter().any(|n| c.contains(n))))
    };
    let imports: Vec<&Step> = steps
        .iter()
        .filter(|s| s.kind == StepKind::CacheImport)
        .collect();
    let failed = imports.iter().find(|s| s.status == StepStatus::Error);
    let cache_import = super::verdict::import_outcome(steps.iter(), evidence.iter());
    Health {
        builder,
        cache_from: any(&["--cache-from"]),
        inline_cache: any(&["BUILDKIT_INLINE_CACHE=1", "type=inline"]),
        cache_to: any(&["--cache-to"]),
        cache_import,
        cache_import_error: failed.and_then(|s| s.error.clone()),
        cache_import_ref: imports.first().and_then(|s| {
            s.name
                .strip_prefix("importing cache manifest from ")
                .map(str::to_string)
        }),
    }
}

/// The instruction text without `[stage i/n] ` (BuildKit) — legacy names are already bare.
pub fn instruction_text(step: &Step) -> &str {
    match (step.vertex, step.name.find("] ")) {
        (Some(_), Some(i)) if step.name.starts_with('[') => step.name[i + 2..].trim(),
        _ => step.name.trim(),
    }
}

/// File names whose change means "dependencies changed".
const MANIFESTS: [&str; 30] = [
    "requirements",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "pyproject.toml",
    "poetry.lock",
    "pipfile",
    "pipfile.lock",
    "setup.py",
    "setup.cfg",
    "environment.yml",
    "uv.lock",
    "go.mod",
    "go.sum",
    "cargo.toml",
    "cargo.lock",
    "gemfile",
    "gemfile.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "gradle.properties",
    "composer.json",
    "composer.lock",
    "mix.exs",
    "mix.lock",
];

/// `*` and `?` as in a COPY source (`package*.json`, `go.*`). Log text is the pattern, so the
/// match must stay cheap on any pattern: one pass that, on a mismatch, only moves the name
/// position of the last `*` on — O(pattern × name), never exponential in the stars.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: its pattern position + 1, and the name position it
    // has swallowed up to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((after, swallowed)) => {
                    star = Some((after, swallowed + 1));
                    p = after;
                    n = swallowed + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn is_manifest(path: &str) -> bool {
    let file = path
        .trim_matches(['"', '\'', '[', ']', ','])
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if file.len() > 256 {
        return false;
    }
    let named = |m: &str| {
        file == m
            || (m == "requirements" && file.starts_with(m))
            || glob_match(file.as_bytes(), m.as_bytes())
            || (m == "requirements" && glob_match(file.as_bytes(), b"requirements.txt"))
    };
    MANIFESTS.iter().any(|m| named(m)) || file.ends_with(".csproj") || file == "packages.config"
}

pub fn cause_of(step: &Step) -> Cause {
    let text = instruction_text(step);
    let mut words = text.split_whitespace();
    let instr = words.next().unwrap_or("").to_ascii_uppercase();
    let args: Vec<&str> = words.collect();
    match instr.as_str() {
        "FROM" => Cause::BaseImage,
        "ARG" | "ENV" => Cause::BuildArgOrEnv,
        "COPY" | "ADD" => {
            if args.iter().any(|a| a.starts_with("--from=")) {
                return Cause::UpstreamStage;
            }
            let paths: Vec<&str> = args
                .iter()
                .copied()
                .filter(|a| !a.starts_with("--"))
                .collect();
            let sources = &paths[..paths.len().saturating_sub(1)];
            if sources.iter().any(|p| is_manifest(p)) {
                Cause::DependencyManifest
            } else {
                Cause::ApplicationSource
            }
        }
        // `RUN --mount=type=bind,source=requirements.txt,... pip install ...`
        "RUN"
            if args
                .iter()
                .take_while(|a| a.starts_with("--"))
                .filter_map(|a| a.split(',').find_map(|kv| kv.strip_prefix("source=")))
                .any(is_manifest) =>
        {
            Cause::DependencyManifest
        }
        _ => Cause::InstructionChanged,
    }
}

/// A stage of one docker build run: (invocation, stage name; `None` for an unnamed BuildKit
/// stage).
pub type StageKey = (u32, Option<String>);

/// Dockerfile steps grouped by (invocation, stage), groups in order of their first step.
/// Legacy steps carry no stage: each FROM starts the next one (`stage N`).
pub fn stage_groups<'a>(
    steps: impl IntoIterator<Item = &'a Step>,
) -> Vec<(StageKey, Vec<&'a Step>)> {
    let mut groups: Vec<(StageKey, Vec<&Step>)> = Vec::new();
    let mut index: std::collections::HashMap<StageKey, usize> = Default::default();
    let mut legacy_stage = (0u32, 0u32);
    for s in steps.into_iter().filter(|s| s.kind == StepKind::Dockerfile) {
        let stage = match (&s.stage, s.vertex) {
            (None, None) => {
                if s.instruction.as_deref() == Some("FROM") || legacy_stage.0 != s.invocation {
                    legacy_stage = (
                        s.invocation,
                        legacy_stage.1 * u32::from(legacy_stage.0 == s.invocation) + 1,
                    );
                }
                Some(format!("stage {}", legacy_stage.1))
            }
            (stage, _) => stage.clone(),
        };
        let key = (s.invocation, stage);
        match index.get(&key) {
            Some(&i) => groups[i].1.push(s),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![s]));
            }
        }
    }
    groups
}

/// The cache-bust step of every (invocation, stage) whose later steps all ran. `import`: how
/// the cache import went (a cold run with no import is a cold build, not a changed input).
pub fn stage_busts<'a>(
    steps: impl Iterator<Item = &'a Step> + Clone,
    import: ImportOutcome,
) -> Vec<Bust> {
    let groups = stage_groups(steps.clone());
    // A run with any Dockerfile step from cache (a CACHED FROM too) had a warm cache.
    let warm: std::collections::HashSet<u32> = steps
        .filter(|s| s.kind == StepKind::Dockerfile && s.status == StepStatus::Cached)
        .map(|s| s.invocation)
        .collect();
    let mut out = Vec::new();
    for ((inv, _), mut group) in groups {
        let stage = group[0].stage.clone();
        group.sort_by_key(|s| (s.index.unwrap_or(u32::MAX), s.line));
        let from = group
            .iter()
            .find(|s| s.instruction.as_deref() == Some("FROM"))
            .copied();
        if group[0].vertex.is_none() && from.is_none() {
            continue; // legacy `ARG` lines before the first FROM: no layers, no cache
        }
        let body: Vec<&Step> = group
            .into_iter()
            .filter(|s| s.is_cacheable_instruction())
            .collect();
        let last_cached = body.iter().rposition(|s| s.status == StepStatus::Cached);
        let after = last_cached.map_or(0, |i| i + 1);
        // A canceled or unfinished step was running when the build stopped: a miss too.
        let ran = |s: &&&Step| s.status != StepStatus::Cached;
        let Some(bust) = body[after..].iter().find(ran) else {
            continue;
        };
        let cause = if last_cached.is_some() {
            cause_of(bust)
        } else if !warm.contains(&inv) && import != ImportOutcome::Reached {
            Cause::NoCache
        } else if from.is_some_and(|f| f.duration_s.unwrap_or(0.0) >= 1.0) {
            Cause::BaseImage
        } else {
            cause_of(bust)
        };
        let rebuilt_after_s = body[after..]
            .iter()
            .filter(|s| s.status == StepStatus::Rebuilt)
            .filter_map(|s| s.duration_s)
            .sum::<f64>();
        out.push(Bust {
            invocation: inv,
            stage,
            step: bust.step.clone(),
            name: bust.name.clone(),
            line: bust.line,
            cause,
            // `+ 0.0`: a sum of nothing is -0.0.
            rebuilt_after_s: (rebuilt_after_s * 1000.0).round() / 1000.0 + 0.0,
        });
    }
    out
}

/// The build's scenario follows the verdict: a build that was cold because the cache was
/// unavailable is a cold build, whatever its first step copies. A failed build or export takes
/// the scenario of the miss behind it.
pub fn scenario(
    steps: &[Step],
    hit_ratio: Option<f64>,
    bust: Option<&Bust>,
    verdict: &Verdict,
) -> Scenario {
    if !steps.iter().any(|s| s.kind == StepKind::Dockerfile) {
        return Scenario::NoDockerBuild;
    }
    let of = |c: Why| match c {
        Why::AllCached => Some(Scenario::NoChanges),
        Why::BaseImageChanged => Some(Scenario::BaseImageChanged),
        Why::DependencyManifestChanged => Some(Scenario::DependenciesChanged),
        Why::SourceChanged => Some(Scenario::ApplicationCodeOnly),
        Why::BuildArgChanged | Why::InstructionChanged | Why::UpstreamStageChanged => {
            Some(Scenario::OtherChange)
        }
        c if c.group() == Group::CacheUnavailable => Some(Scenario::ColdBuild),
        _ => None,
    };
    if let Some(s) = std::iter::once(verdict.cause)
        .chain(verdict.secondary.iter().copied())
        .find_map(of)
    {
        return s;
    }
    match bust.map(|b| b.cause) {
        None if hit_ratio == Some(1.0) => Scenario::NoChanges,
        None => Scenario::OtherChange,
        Some(Cause::NoCache) => Scenario::ColdBuild,
        Some(Cause::BaseImage) => Scenario::BaseImageChanged,
        Some(Cause::DependencyManifest) => Scenario::DependenciesChanged,
        Some(Cause::ApplicationSource) => Scenario::ApplicationCodeOnly,
        Some(_) => Scenario::OtherChange,
    }
}

/// A RUN that installs dependencies.
fn installs_dependencies(text: &str) -> bool {
    const TOOLS: [&str; 12] = [
        "pip install",
        "pip3 install",
        "npm ci",
        "npm install",
        "yarn install",
        "pnpm install",
        "go mod download",
        "bundle install",
        "composer install",
        "poetry install",
        "mvn ",
        "gradle",
    ];
    text.starts_with("RUN") && TOOLS.iter().any(|t| text.contains(t))
}

/// Build arguments whose value changes every build: each one busts the cache from its first use.
const VOLATILE: [&str; 9] = [
    "$(date",
    "`date",
    "CODEBUILD_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CODEBUILD_SOURCE_VERSION",
    "CODEBUILD_START_TIME",
    "$(git rev-parse",
    "GITHUB_SHA",
];

/// Findings from the echoed build commands, before they hurt.
fn command_findings(commands: &[CommandEvent], steps: &[Step], out: &mut Vec<Finding>) {
    let mut add = |severity, message: String, fix: &str| {
        out.push(Finding {
            severity,
            message,
            fix: Some(fix.to_string()),
        })
    };
    let multistage = {
        let stages: std::collections::HashSet<_> = steps
            .iter()
            .filter(|s| s.kind == StepKind::Dockerfile)
            .map(|s| (s.invocation, s.stage.as_deref()))
            .collect();
        steps
            .iter()
            .filter(|s| s.instruction.as_deref() == Some("FROM"))
            .count()
            >= 2
            || stages.len() >= 2
    };
    for c in build_commands(commands) {
        let w: Vec<&str> = command_words(&c.command).collect();
        if has_flag(&c.command, "--no-cache") {
            add(
                Severity::Warning,
                format!(
                    "line {}: the build command passes --no-cache: every step rebuilds",
                    c.line
                ),
                Why::NoCacheFlag.fix(),
            );
        }
        if has_flag(&c.command, "--pull") {
            add(Severity::Info, format!("line {}: --pull resolves the base image again on every build: when its tag moves, every step rebuilds", c.line), "pin the base image by digest (FROM image:tag@sha256:…) to move it on your schedule, or accept the rebuild as the price of fresh bases");
        }
        let volatile: Vec<&str> = (build_arg_words(&c.command).into_iter())
            .filter(|a| VOLATILE.iter().any(|v| a.contains(v)))
            .collect();
        if !volatile.is_empty() {
            add(Severity::Warning, format!("line {}: build args that change every build: {} — each busts the cache from the step that first uses it", c.line, volatile.join(", ")), Why::BuildArgChanged.fix());
        }
        let cache_to: Vec<&&str> = w
            .iter()
            .enumerate()
            .filter(|(i, x)| {
                x.starts_with("--cache-to") && (x.contains('=') || w.get(i + 1).is_some())
            })
            .map(|(i, x)| {
                if x.contains("type=") {
                    x
                } else {
                    w.get(i + 1).unwrap_or(x)
                }
            })
            .collect();
        if multistage
            && cache_to
                .iter()
                .any(|t| !t.contains("mode=max") && !t.contains("type=inline"))
        {
            add(Severity::Warning, format!("line {}: --cache-to without mode=max on a multi-stage build exports the final stage only", c.line), "add mode=max: --cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true");
        }
    }
    let creates_builder = commands
        .iter()
        .find(|c| c.command.contains("buildx create"));
    if let Some(c) = creates_builder {
        add(Severity::Info, format!("line {}: a buildx builder is created in every build: it starts with an empty cache on each CodeBuild host", c.line), Why::FreshBuilder.fix());
        if let Some(l) = build_commands(commands).find(|b| has_flag(&b.command, "--load")) {
            add(Severity::Info, format!("line {}: --load copies the image out of the docker-container builder (`sending tarball`) on every build", l.line), "push from the builder instead (--push), or use the default docker driver when the image must be loaded");
        }
    }
}

pub fn findings(
    steps: &[Step],
    commands: &[CommandEvent],
    h: &Health,
    bust: Option<&Bust>,
    verdict: &Verdict,
) -> Vec<Finding> {
    let mut out = Vec::new();
    command_findings(commands, steps, &mut out);
    let mut add = |severity, message: String, fix: Option<&str>| {
        out.push(Finding {
            severity,
            message,
            fix: fix.map(str::to_string),
        })
    };
    for s in steps
        .iter()
        .filter(|s| s.status == StepStatus::Error && s.kind != StepKind::CacheImport)
    {
        let why = s.error.as_deref().unwrap_or("no error text in the log");
        add(
            Severity::Error,
            format!("{} {} failed: {why}", s.step, s.name),
            None,
        );
    }
    // A failed import that the verdict does not lead with (local layers still hit).
    if h.cache_import == ImportOutcome::Failed && verdict.cause.group() != Group::CacheUnavailable {
        let reference = h
            .cache_import_ref
            .as_deref()
            .unwrap_or("the --cache-from image");
        let why = h.cache_import_error.as_deref().unwrap_or("");
        let (cause, _) = super::verdict::import_failure(why);
        add(
            Severity::Warning,
            format!("cache import failed: {reference}: {why}"),
            Some(cause.fix()),
        );
    }
    if h.builder.buildkit()
        && h.cache_from == Some(true)
        && h.inline_cache == Some(false)
        && h.cache_to != Some(true)
    {
        add(
            Severity::Info,
            "the image this build pushes carries no inline cache metadata".into(),
            Some("add --build-arg BUILDKIT_INLINE_CACHE=1 so the next build's --cache-from can use it"),
        );
    }
    if h.builder.legacy() {
        add(
            Severity::Info,
            "the legacy builder ran: no cache import from a registry, no parallel stages".into(),
            Some("set DOCKER_BUILDKIT=1 (or use docker buildx build)"),
        );
    }
    if let Some(b) = bust.filter(|b| b.cause == Cause::ApplicationSource) {
        let reinstall = steps.iter().find(|s| {
            s.invocation == b.invocation
                && s.stage == b.stage
                && s.line > b.line
                && s.status == StepStatus::Rebuilt
                && installs_dependencies(instruction_text(s))
        });
        if let Some(r) = reinstall {
            add(
                Severity::Warning,
                format!(
                    "dependencies are reinstalled on every source change: {} runs after {}",
                    r.name, b.name
                ),
                Some("copy only the dependency manifest and install before copying the source"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious recursive definition, for small inputs only (exponential in the stars).
    fn reference(pattern: &[u8], name: &[u8]) -> bool {
        match (pattern.split_first(), name.split_first()) {
            (None, None) => true,
            (Some((b'*', rest)), _) => {
                reference(rest, name) || (!name.is_empty() && reference(pattern, &name[1..]))
            }
            (Some((b'?', rest)), Some((_, n))) => reference(rest, n),
            (Some((p, rest)), Some((c, n))) if p == c => reference(rest, n),
            _ => false,
        }
    }

    #[test]
    fn glob_agrees_with_the_definition() {
        let alphabet = [b'a', b'b', b'.', b'*', b'?'];
        // Every pattern of up to 5 symbols against every name of up to 5 letters.
        let words = |max: usize, syms: &[u8]| {
            let mut all = vec![Vec::new()];
            let mut layer = vec![Vec::new()];
            for _ in 0..max {
                layer = (layer.iter())
                    .flat_map(|w: &Vec<u8>| {
                        syms.iter().map(move |&c| [w.clone(), vec![c]].concat())
                    })
                    .collect();
                all.extend(layer.iter().cloned());
            }
            all
        };
        let names = words(5, &alphabet[..3]);
        for p in words(5, &alphabet) {
            for n in &names {
                assert_eq!(glob_match(&p, n), reference(&p, n), "{:?} {:?}", p, n);
            }
        }
        assert!(glob_match(b"package*.json", b"package-lock.json"));
        assert!(glob_match(b"go.*", b"go.sum"));
        assert!(!glob_match(b"go.*", b"go"));
    }

    #[test]
    fn many_stars_from_a_log_match_in_linear_time() {
        // A COPY source of 40 stars against every manifest name: exponential backtracking
        // would not finish.
        let source = format!("COPY {}! /app/", "*".repeat(40));
        assert!(!is_manifest(
            &source["COPY ".len()..source.len() - " /app/".len()]
        ));
        assert!(is_manifest(&format!("package{}.json", "*".repeat(40))));
    }
}
