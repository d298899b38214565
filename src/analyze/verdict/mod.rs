//! Why the cache missed — the one rule set. `build`, `report`, `doctor` and `trend` all ask this
//! module, so one build gets one answer everywhere.
//!
//! A verdict names a primary cause from a fixed taxonomy (serialized kebab-case: the
//! `diagnosis.verdict.cause` contract), how sure it is, the other causes seen, the log lines that
//! prove it and the change that fixes it. The rules separate *inputs changed* (a step's inputs
//! differ, so a miss is correct) from *cache unavailable or useless* (the inputs may be the same,
//! the cache could not serve them) and *cache export failed*. A claim is earned: a cause with no
//! line to show for it is at most `possible` and names its alternatives; "instruction changed" is
//! only `certain` when a previous build shows the text was different.
//!
//! Pure: steps, commands and the parser's evidence lines in; a verdict out. No I/O. The
//! taxonomy itself — ids, titles, fixes — is in [`cause`].

mod cause;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::baseline;
use super::diagnose::{self, instruction_text, Bust};
use crate::model::{CommandEvent, Evidence, EvidenceKind as K, Step, StepKind, StepStatus};

pub use cause::{Cause, Confidence, Group};

/// A log line quoted as evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub line: u64,
    pub text: String,
}

/// The diagnosis of one build (contract: `diagnosis.verdict` in `build --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub cause: Cause,
    pub confidence: Confidence,
    /// The cause in words, naming the stage or step where that says more.
    pub title: String,
    /// Other causes the log shows (a second run's miss, an export failure behind a build error).
    pub secondary: Vec<Cause>,
    /// For a cause that is not certain: what else leaves the same lines.
    pub alternatives: Vec<Cause>,
    /// The log's own lines, in log order.
    pub evidence: Vec<Quote>,
    /// What the cause means here, with the step or token involved.
    pub detail: String,
    pub fix: &'static str,
    /// Seconds of Dockerfile steps rebuilt (summed step time, not wall-clock).
    pub rebuilt_s: f64,
}

impl Verdict {
    /// Whether the verdict names `cause`, first or beside.
    pub fn names(&self, cause: Cause) -> bool {
        self.cause == cause || self.secondary.contains(&cause)
    }

    /// `Cache missed: the base image changed (likely) — 2m 3s rebuilt`.
    pub fn headline(&self) -> String {
        let lead = match self.cause.group() {
            Group::Healthy => "Cache hit",
            Group::BuildFailed => "Build failed",
            Group::NoBuild => "No docker build",
            Group::ExportFailed => "Cache export failed",
            Group::InputsChanged | Group::CacheUnavailable => "Cache missed",
        };
        let mut out = format!("{lead}: {} ({})", self.title, self.confidence.as_str());
        if self.rebuilt_s > 0.0 {
            out.push_str(&format!(" — {} rebuilt", human_secs(self.rebuilt_s)));
        }
        out
    }
}

/// `11m 20s`, `42.5s`.
pub fn human_secs(s: f64) -> String {
    if s >= 60.0 {
        let whole = s.round() as u64;
        format!("{}m {}s", whole / 60, whole % 60)
    } else {
        format!("{s:.1}s")
    }
}

/// What the cache itself cost this build (summed step time, as BuildKit reports it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheCost {
    pub import_s: f64,
    pub export_s: f64,
    /// Booting a docker-container builder.
    pub builder_boot_s: f64,
    /// `--load` copying the image out of a docker-container builder.
    pub sending_tarball_s: f64,
    pub total_s: f64,
    /// What the cache saved against the baseline (step time), when there is one.
    pub saved_s: Option<f64>,
}

/// How the cache import went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportOutcome {
    /// No import in the log.
    Absent,
    /// The registry answered with a manifest (not proof that anything was served from it).
    /// Serialized `ok`, as before the verdict existed.
    #[serde(rename = "ok")]
    Reached,
    /// The import failed; the cause says how.
    Failed,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Absent => "absent",
            ImportOutcome::Reached => "ok",
            ImportOutcome::Failed => "failed",
        }
    }
}

/// How the cache import went: failed (an error line, or the import step's error), reached (a
/// manifest was read, or the import step finished), or absent. The one place that decides it.
pub fn import_outcome<'a>(
    steps: impl Iterator<Item = &'a Step> + Clone,
    evidence: impl Iterator<Item = &'a Evidence> + Clone,
) -> ImportOutcome {
    let import_steps = steps.filter(|s| s.kind == StepKind::CacheImport);
    let saw = |kind: K| evidence.clone().any(|e| e.kind == kind);
    if saw(K::ImportFailed) || import_steps.clone().any(|s| s.status == StepStatus::Error) {
        ImportOutcome::Failed
    } else if saw(K::CacheManifestType)
        || import_steps
            .clone()
            .any(|s| matches!(s.status, StepStatus::Rebuilt | StepStatus::Cached))
    {
        ImportOutcome::Reached
    } else {
        ImportOutcome::Absent
    }
}

/// Why a cache import (or the legacy builder's `docker pull` of the cache image) failed, from
/// the error text. Registries word it variously; status codes count only with their words
/// (bare digits occur in account IDs and digests).
pub fn import_failure(error: &str) -> (Cause, Confidence) {
    let e = error.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| e.contains(n));
    if any(&[
        "401 unauthorized",
        "unauthorized",
        "no basic auth credentials",
        "status: 401",
    ]) {
        (Cause::ImportUnauthorized, Confidence::Certain)
    } else if any(&["denied", "forbidden", "status: 403", "403 forbidden"]) {
        (Cause::ImportDenied, Confidence::Certain)
    } else if any(&[
        "not found",
        "manifest unknown",
        "does not exist",
        "name unknown",
    ]) {
        (Cause::ImportNotFound, Confidence::Certain)
    } else if any(&[
        "dial tcp",
        "no such host",
        "i/o timeout",
        "connection refused",
        "connection reset",
        "tls:",
        "x509",
        "timeout",
        "eof",
    ]) {
        (Cause::ImportUnreachable, Confidence::Certain)
    } else {
        (Cause::ImportUnreachable, Confidence::Possible)
    }
}

/// Everything the rules read about one docker build run.
struct Run<'a> {
    steps: Vec<&'a Step>,
    /// Dockerfile steps other than FROM (the ones a cache can serve).
    body: Vec<&'a Step>,
    evidence: Vec<&'a Evidence>,
    /// The command that launched it, when the log shows one.
    command: Option<&'a CommandEvent>,
}

impl<'a> Run<'a> {
    fn ev(&self, kind: K) -> impl Iterator<Item = &'a Evidence> + '_ {
        self.evidence
            .iter()
            .copied()
            .filter(move |e| e.kind == kind)
    }

    fn has(&self, kind: K) -> bool {
        self.ev(kind).next().is_some()
    }

    fn command_has(&self, needle: &str) -> Option<bool> {
        self.command.map(|c| diagnose::has_flag(&c.command, needle))
    }

    fn command_contains(&self, needle: &str) -> bool {
        self.command.is_some_and(|c| c.command.contains(needle))
    }

    fn import(&self) -> ImportOutcome {
        import_outcome(self.steps.iter().copied(), self.evidence.iter().copied())
    }

    /// Inline (min-mode) cache is what this build writes: the arg, `type=inline`, or the export.
    fn writes_inline_cache(&self) -> bool {
        self.command_contains("BUILDKIT_INLINE_CACHE=1")
            || self.command_contains("type=inline")
            || self.has(K::InlineCacheExport)
    }

    /// A legacy-builder run: its `--cache-from` can only be a pulled image (min-mode).
    fn vertex_free_legacy(&self) -> bool {
        !self.body.is_empty() && self.body.iter().all(|s| s.vertex.is_none())
    }

    /// The build command as evidence, when the log shows it.
    fn quote_command(&self) -> Option<Quote> {
        self.command.map(|c| Quote {
            line: c.line,
            text: c.command.clone(),
        })
    }

    fn quote_step(s: &Step) -> Quote {
        Quote {
            line: s.line,
            text: format!("{} {}", s.step, s.name),
        }
    }
}

fn quote(e: &Evidence) -> Quote {
    Quote {
        line: e.line,
        text: e.text.clone(),
    }
}

/// A Dockerfile stage of one run, its body steps in index order.
struct Stage<'a> {
    name: String,
    body: Vec<&'a Step>,
}

/// The run's stages with Dockerfile steps other than FROM, in order of their first step.
fn stages<'a>(run_steps: &[&'a Step]) -> Vec<Stage<'a>> {
    (diagnose::stage_groups(run_steps.iter().copied()).into_iter())
        .map(|((_, name), group)| {
            let mut body: Vec<&Step> = (group.into_iter())
                .filter(|s| s.is_cacheable_instruction())
                .collect();
            body.sort_by_key(|s| (s.index.unwrap_or(u32::MAX), s.line));
            Stage {
                name: name.unwrap_or_default(),
                body,
            }
        })
        .filter(|st| !st.body.is_empty())
        .collect()
}

/// The stage the image is made of: one no `COPY --from=` reads, printed last.
fn final_stage<'a, 'b>(stages: &'b [Stage<'a>]) -> Option<&'b Stage<'a>> {
    let read: HashSet<String> = stages
        .iter()
        .flat_map(|st| st.body.iter())
        .flat_map(|s| instruction_text(s).split_whitespace())
        .filter_map(|w| w.strip_prefix("--from="))
        .map(|w| w.trim_matches(['"', '\'']).to_string())
        .collect();
    let last_line = |st: &Stage| st.body.iter().map(|s| s.line).max().unwrap_or(0);
    stages
        .iter()
        .filter(|st| !read.contains(&st.name))
        .max_by_key(|st| last_line(st))
        .or_else(|| stages.iter().max_by_key(|st| last_line(st)))
}

fn hit(s: &Step) -> bool {
    s.status == StepStatus::Cached
}

/// Builds the run views: steps and evidence by invocation, each with its launching command.
fn runs<'a>(
    steps: &'a [Step],
    commands: &'a [CommandEvent],
    evidence: &'a [Evidence],
) -> Vec<Run<'a>> {
    // Steps and evidence by invocation, in one pass each.
    let mut by_run: BTreeMap<u32, (Vec<&Step>, Vec<&Evidence>)> = BTreeMap::new();
    for s in steps {
        by_run.entry(s.invocation).or_default().0.push(s);
    }
    for e in evidence {
        by_run.entry(e.invocation).or_default().1.push(e);
    }
    let mut launches: Vec<&CommandEvent> = diagnose::build_commands(commands).collect();
    launches.sort_by_key(|c| c.line);
    let mut previous_end = 0u64;
    by_run
        .into_values()
        .map(|(steps, evidence)| {
            // Where the run starts: its first step or `#0 building with` line; a run with no
            // step (it failed first) starts at its first evidence line. Lines printed before a
            // build starts (a `docker pull` of its cache image) do not move it.
            let start_lines = steps.iter().map(|s| s.line).chain(
                (evidence.iter())
                    .filter(|e| e.kind == K::BuilderDriver || steps.is_empty())
                    .filter(|e| e.kind != K::PullFailed)
                    .map(|e| e.line),
            );
            let first = start_lines.min().unwrap_or(u64::MAX);
            // The command that launched it: the last one before it and after the run before —
            // or, when streams interleave (PowerShell prints the command line in the error
            // record of the first stderr line), the last one before its first step.
            let first_step = steps.iter().map(|s| s.line).min().unwrap_or(first);
            let last_before = |line: u64| {
                let before = launches.partition_point(|c| c.line < line);
                (before.checked_sub(1))
                    .map(|i| launches[i])
                    .filter(|c| c.line > previous_end)
            };
            let command = last_before(first).or_else(|| last_before(first_step));
            previous_end = (steps.iter().map(|s| s.line))
                .chain(evidence.iter().map(|e| e.line))
                .max()
                .unwrap_or(previous_end)
                .max(previous_end);
            let body = steps
                .iter()
                .copied()
                .filter(|s| s.is_cacheable_instruction())
                .collect();
            Run {
                steps,
                body,
                evidence,
                command,
            }
        })
        .collect()
}

/// A verdict under construction.
struct Finding {
    cause: Cause,
    confidence: Confidence,
    title: Option<String>,
    alternatives: Vec<Cause>,
    evidence: Vec<Quote>,
    detail: String,
}

impl Finding {
    fn new(cause: Cause, confidence: Confidence, detail: impl Into<String>) -> Self {
        Finding {
            cause,
            confidence,
            title: None,
            alternatives: Vec::new(),
            evidence: Vec::new(),
            detail: detail.into(),
        }
    }

    fn or(mut self, alternatives: &[Cause]) -> Self {
        for &c in alternatives {
            if c != self.cause && !self.alternatives.contains(&c) {
                self.alternatives.push(c);
            }
        }
        self
    }

    fn show(mut self, quotes: impl IntoIterator<Item = Quote>) -> Self {
        self.evidence.extend(quotes);
        self
    }
}

/// The verdict for a whole log: each run judged, the run that lost the most time leads.
/// `baseline`: the steps of an earlier build of the same Dockerfile, when known.
pub fn verdict(
    steps: &[Step],
    commands: &[CommandEvent],
    evidence: &[Evidence],
    baseline: Option<&[Step]>,
) -> Verdict {
    let runs = runs(steps, commands, evidence);
    let mut judged: Vec<(f64, Finding, Vec<Cause>)> = runs
        .iter()
        .map(|r| {
            let (f, secondary) = judge(r, baseline);
            (rebuilt_s(&r.body), f, secondary)
        })
        .collect();
    let lead = judged
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            let rank = |f: &Finding| match f.cause.group() {
                Group::NoBuild => 0,
                Group::Healthy => 1,
                _ => 2,
            };
            (rank(&a.1), a.0)
                .partial_cmp(&(rank(&b.1), b.0))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(ib.cmp(ia))
        })
        .map(|(i, _)| i);
    let Some(lead) = lead else {
        let f = Finding::new(
            Cause::NoDockerBuild,
            Confidence::Certain,
            "no docker build step or cache line in the log",
        );
        return finish(f, Vec::new(), 0.0);
    };
    let (rebuilt, f, mut secondary) = judged.swap_remove(lead);
    for (_, other, more) in judged {
        secondary.push(other.cause);
        secondary.extend(more);
    }
    finish(f, secondary, rebuilt)
}

fn finish(f: Finding, mut secondary: Vec<Cause>, rebuilt: f64) -> Verdict {
    secondary.retain(|&c| c != f.cause && !matches!(c, Cause::AllCached | Cause::NoDockerBuild));
    let mut seen = HashSet::new();
    secondary.retain(|c| seen.insert(*c));
    let mut evidence = f.evidence;
    evidence.sort_by_key(|q| q.line);
    evidence.dedup_by_key(|q| q.line);
    Verdict {
        cause: f.cause,
        confidence: f.confidence,
        title: f.title.unwrap_or_else(|| f.cause.title().to_string()),
        secondary,
        alternatives: if f.confidence == Confidence::Certain {
            Vec::new()
        } else {
            f.alternatives
        },
        evidence,
        detail: f.detail,
        fix: f.cause.fix(),
        rebuilt_s: (rebuilt * 1000.0).round() / 1000.0 + 0.0,
    }
}

fn rebuilt_s(body: &[&Step]) -> f64 {
    body.iter()
        .filter(|s| s.status == StepStatus::Rebuilt)
        .filter_map(|s| s.duration_s)
        .sum()
}

/// One run: export and build failures first (they end the build), then why steps missed.
fn judge(run: &Run, baseline: Option<&[Step]>) -> (Finding, Vec<Cause>) {
    let miss = miss(run, baseline);
    let mut secondary: Vec<Cause> = Vec::new();
    let failure = if let Some(e) = run.ev(K::ExportUnsupported).next() {
        Some(
            Finding::new(
                Cause::ExportUnsupportedDriver,
                Confidence::Certain,
                "buildx refused --cache-to: the docker driver writes no cache but inline",
            )
            .show([quote(e)])
            .show(run.ev(K::BuilderDriver).map(quote)),
        )
    } else if let Some(e) = run.ev(K::UnknownFlag).next() {
        Some(
            Finding::new(
                Cause::ExportUnsupportedDriver,
                Confidence::Likely,
                "the docker CLI here has no buildx: it does not know the cache flag",
            )
            .show([quote(e)]),
        )
    } else if let Some(e) = run.ev(K::BadRequest).find(|e| e.text.contains("manifest")) {
        let ecr = e.text.contains(".dkr.ecr.");
        let cause = if ecr {
            Cause::EcrManifestRejected
        } else {
            Cause::ExportFailedOther
        };
        Some(
            Finding::new(
                cause,
                Confidence::Certain,
                "the registry answered 400 Bad Request to the cache manifest",
            )
            .show([quote(e)])
            .show(run.ev(K::CacheExport).take(2).map(quote)),
        )
    } else if let Some(e) = run.ev(K::ExportFailed).next().or_else(|| {
        run.steps
            .iter()
            .any(|s| s.kind == StepKind::CacheExport && s.status == StepStatus::Error)
            .then(|| run.ev(K::StepError).next())
            .flatten()
    }) {
        Some(
            Finding::new(
                Cause::ExportFailedOther,
                Confidence::Certain,
                "writing the cache failed",
            )
            .show([quote(e)]),
        )
    } else if let Some(s) = run
        .steps
        .iter()
        .find(|s| s.kind == StepKind::Dockerfile && s.status == StepStatus::Error)
    {
        let errors = run
            .ev(K::StepError)
            .filter(|e| e.vertex.is_none() || e.vertex == s.vertex)
            .take(2)
            .map(quote);
        Some(
            Finding::new(
                Cause::BuildFailedNotCache,
                Confidence::Certain,
                format!("{} {} failed", s.step, s.name),
            )
            .show([Run::quote_step(s)])
            .show(errors)
            .show(run.ev(K::BuildFailed).take(1).map(quote)),
        )
    } else if let Some(e) = run
        .ev(K::BuildFailed)
        // A build the user stopped did not fail: its misses are the story.
        .find(|e| !e.text.to_ascii_lowercase().contains("canceled"))
        .or_else(|| {
            // The legacy builder's failure line with no step open (a log cut before it).
            run.ev(K::StepError).find(|e| e.vertex.is_none())
        })
    {
        let why = run.ev(K::RateLimited).next();
        Some(
            Finding::new(
                Cause::BuildFailedNotCache,
                Confidence::Likely,
                if why.is_some() {
                    "the docker build failed: a registry refused a pull (rate limit)"
                } else {
                    "the docker build failed"
                },
            )
            .show(why.map(quote))
            .show(run.ev(K::StepError).take(1).map(quote))
            .show([quote(e)]),
        )
    } else {
        None
    };
    match failure {
        Some(f) => {
            // The miss behind a failure, when it is the cache's (a failing step is a miss too,
            // and says nothing new).
            secondary.extend(miss.map(|m| m.cause).filter(|c| {
                c.group() == Group::CacheUnavailable || f.cause.group() != Group::BuildFailed
            }));
            (f, secondary)
        }
        None => match miss {
            Some(m) => (m, secondary),
            None if only_froms_done(run) => (
                Finding::new(
                    Cause::AllCached,
                    Confidence::Likely,
                    "only FROM steps: nothing else to cache",
                )
                .show(
                    run.steps
                        .iter()
                        .filter(|s| hit(s))
                        .take(1)
                        .map(|s| Run::quote_step(s)),
                ),
                secondary,
            ),
            None if run.steps.iter().any(|s| s.kind == StepKind::Dockerfile) => {
                let mut f = Finding::new(
                    Cause::NoDockerBuild,
                    Confidence::Possible,
                    "the log ends (or the build stopped) before any step after FROM",
                );
                f.title = Some("the log ends before the build's steps".into());
                (f.or(&[Cause::BuildFailedNotCache]), secondary)
            }
            None => (
                Finding::new(
                    Cause::NoDockerBuild,
                    Confidence::Certain,
                    "no Dockerfile step in this run",
                )
                .show(run.evidence.iter().take(2).map(|e| quote(e))),
                secondary,
            ),
        },
    }
}

/// A run of FROM steps only (an ONBUILD image did the work) that all finished, with none of
/// their stages' other steps missing from the log.
fn only_froms_done(run: &Run) -> bool {
    let df: Vec<&Step> = (run.steps.iter().copied())
        .filter(|s| s.kind == StepKind::Dockerfile)
        .collect();
    let done = |s: &&Step| matches!(s.status, StepStatus::Cached | StepStatus::Rebuilt);
    let seen = |stage: &Option<String>| df.iter().filter(|s| &s.stage == stage).count() as u32;
    !df.is_empty()
        && df.iter().all(done)
        && df
            .iter()
            .all(|s| s.total.is_none_or(|t| seen(&s.stage) >= t))
}

/// Why steps missed (or that none did); `None` without Dockerfile steps to judge.
fn miss(run: &Run, baseline: Option<&[Step]>) -> Option<Finding> {
    if run.body.is_empty() {
        // Only FROM steps (or none): a failed import still says the cache was not there.
        let e = run.ev(K::ImportFailed).next()?;
        let (cause, _) = import_failure(&e.text);
        return Some(
            Finding::new(
                cause,
                Confidence::Likely,
                format!("the cache import failed: {}", e.text),
            )
            .show([quote(e)]),
        );
    }
    let ran: Vec<&Step> = run.body.iter().copied().filter(|s| !hit(s)).collect();
    if ran.is_empty() {
        let first = run.body.first().map(|s| Run::quote_step(s));
        let last = run.body.last().map(|s| Run::quote_step(s));
        return Some(
            Finding::new(
                Cause::AllCached,
                Confidence::Certain,
                format!("all {} cacheable steps came from cache", run.body.len()),
            )
            .show(first.into_iter().chain(last)),
        );
    }
    let first_ran = Run::quote_step(ran[0]);
    let import = run.import();
    let import_lines: Vec<Quote> = run
        .ev(K::CacheImport)
        .chain(run.ev(K::CacheManifestType))
        .take(2)
        .map(quote)
        .collect();
    let stages = stages(&run.steps);
    let command_quote = run.quote_command();
    let any_hit = run.body.iter().any(|s| hit(s));

    // BuildKit still reports a WORKDIR as CACHED under --no-cache: only a step that makes
    // content (RUN, COPY, ADD) taken from cache says the flag was not in effect.
    let content_hit = run.body.iter().any(|s| {
        hit(s)
            && !matches!(
                s.instruction.as_deref(),
                Some("WORKDIR" | "ENV" | "ARG" | "LABEL")
            )
    });
    if run.command_has("--no-cache") == Some(true) && !content_hit {
        return Some(
            Finding::new(
                Cause::NoCacheFlag,
                Confidence::Certain,
                "the build command passes --no-cache",
            )
            .show(command_quote)
            .show([first_ran]),
        );
    }
    // A registry cache is in use: BuildKit imported one, or the legacy builder was given one.
    let registry = import == ImportOutcome::Reached
        || (run.vertex_free_legacy()
            && run.command_has("--cache-from") == Some(true)
            && !run.has(K::PullFailed));
    if registry && stages.len() >= 2 {
        if let Some(f) = min_mode(run, &stages) {
            return Some(
                f.show(import_lines.clone())
                    .show(command_quote.clone().filter(|_| run.writes_inline_cache())),
            );
        }
    }
    if !any_hit {
        return Some(cold(run, import, import_lines, command_quote, first_ran));
    }
    Some(inputs_changed(run, baseline, import))
}

/// Multi-stage with a registry cache: a stage other than the final one got nothing from it
/// while the final stage hit — the signature of a min-mode export.
fn min_mode(run: &Run, stages: &[Stage]) -> Option<Finding> {
    let last = final_stage(stages)?;
    if !last.body.iter().any(|s| hit(s)) {
        return None;
    }
    let cold: Vec<&Stage> = stages
        .iter()
        .filter(|st| st.name != last.name && !st.body.iter().any(|s| hit(s)))
        .collect();
    if cold.is_empty() {
        return None;
    }
    let names: Vec<&str> = cold.iter().map(|st| st.name.as_str()).collect();
    // Certain when what was imported is an image (inline cache: always min-mode, BuildKit's
    // docs) and the cold stage opens with a step that does not read the context; a stage that
    // opens with COPY may simply have new files.
    let image_manifest = run.ev(K::CacheManifestType).any(|e| {
        e.text
            .contains("application/vnd.docker.distribution.manifest.v2+json")
    }) || run.vertex_free_legacy();
    let opens_with_copy = cold.iter().any(|st| {
        matches!(st.body[0].instruction.as_deref(), Some("COPY" | "ADD"))
            && !instruction_text(st.body[0]).contains("--from=")
    });
    let confidence = if image_manifest && !opens_with_copy {
        Confidence::Certain
    } else {
        Confidence::Likely
    };
    let stage_word = if cold.len() == 1 { "stage" } else { "stages" };
    let mut f = Finding::new(
        Cause::MinModeMultistage,
        confidence,
        format!(
            "{stage_word} {} rebuilt every step while the final stage `{}` came from the cache: the cache holds the final stage only",
            names.join(", "),
            last.name
        ),
    )
    .or(&[inputs_cause_of(cold[0].body[0])]);
    f.title = Some(format!(
        "{} {stage_word} not in the registry cache ({})",
        names.join(", "),
        if run.writes_inline_cache() {
            "inline cache is min-mode"
        } else {
            "the cache holds the final stage only"
        }
    ));
    f = f.show(cold.iter().map(|st| Run::quote_step(st.body[0])));
    f = f.show(
        last.body
            .iter()
            .find(|s| hit(s))
            .map(|s| Run::quote_step(s)),
    );
    f = f.show(run.ev(K::InlineCacheExport).take(1).map(quote));
    Some(f)
}

/// Nothing after FROM hit: which cache was missing, and the line that shows it.
fn cold(
    run: &Run,
    import: ImportOutcome,
    import_lines: Vec<Quote>,
    command: Option<Quote>,
    first_ran: Quote,
) -> Finding {
    let boot: Vec<Quote> = run.ev(K::BuilderBoot).take(1).map(quote).collect();
    let container_driver = run
        .ev(K::BuilderDriver)
        .any(|e| !e.text.contains(" docker driver"));
    let downloads: Vec<Quote> = run.ev(K::LayerDownload).take(2).map(quote).collect();
    match import {
        ImportOutcome::Failed => {
            // The error line, else the import's own line (its step failed with no text).
            let (text, q) = match run.ev(K::ImportFailed).next() {
                Some(e) => (e.text.clone(), Some(quote(e))),
                None => (String::new(), import_lines.first().cloned()),
            };
            let (cause, confidence) = import_failure(&text);
            return Finding::new(
                cause,
                confidence,
                format!("the cache import failed: {text}"),
            )
            .or(&[Cause::ImportUnreachable])
            .show(q)
            .show([first_ran]);
        }
        ImportOutcome::Reached => {
            let mut f = Finding::new(
                Cause::ImportIneffective,
                Confidence::Likely,
                "the cache image was found but no step after FROM came from it: it carries no cache metadata, or was built from other inputs",
            )
            .or(&[Cause::BaseImageChanged, inputs_cause_of(run.body[0])])
            .show(import_lines)
            .show([first_ran]);
            if !boot.is_empty() {
                f = f.show(boot);
            }
            return f;
        }
        ImportOutcome::Absent => {}
    }
    if !boot.is_empty() || container_driver {
        let confidence = if boot.is_empty() {
            Confidence::Likely
        } else {
            Confidence::Certain
        };
        return Finding::new(
            Cause::FreshBuilder,
            confidence,
            "a docker-container builder started empty in this build and no registry cache was imported",
        )
        .or(&[Cause::NoCacheConfigured])
        .show(boot)
        .show(run.ev(K::BuilderDriver).take(1).map(quote))
        .show([first_ran]);
    }
    if let Some(e) = run.ev(K::PullFailed).next() {
        let (cause, _) = import_failure(&e.text);
        return Finding::new(
            cause,
            Confidence::Likely,
            "pulling the cache image before the build failed, so --cache-from had nothing to use",
        )
        .or(&[Cause::NoCacheConfigured])
        .show([quote(e), first_ran]);
    }
    // A CACHED FROM: the base image was already on this host, so its cache was warm and the
    // first step's inputs are what differ (or --no-cache, which leaves FROM CACHED too).
    let froms: Vec<&Step> = (run.steps.iter().copied())
        .filter(|s| s.kind == StepKind::Dockerfile && s.instruction.as_deref() == Some("FROM"))
        .collect();
    if !froms.is_empty() && froms.iter().all(|s| hit(s)) && downloads.is_empty() {
        let first = run.body[0];
        let cause = inputs_cause_of(first);
        let confidence = match cause {
            Cause::InstructionChanged => Confidence::Possible,
            _ => Confidence::Likely,
        };
        let mut alternatives = vec![Cause::LocalCacheCold];
        if run.command.is_none() {
            alternatives.push(Cause::NoCacheFlag);
        }
        return Finding::new(
            cause,
            confidence,
            format!(
                "the base image came from this host's cache, and {} is the first step that missed",
                first.name
            ),
        )
        .or(&alternatives)
        .show(froms.first().map(|s| Run::quote_step(s)))
        .show([first_ran]);
    }
    let cache_from = run.command_has("--cache-from");
    if cache_from == Some(true) {
        return Finding::new(
            Cause::ImportIneffective,
            Confidence::Possible,
            "--cache-from was passed but nothing came from it and no import is shown",
        )
        .or(&[Cause::LocalCacheCold, Cause::ImportNotFound])
        .show(command)
        .show([first_ran]);
    }
    if !downloads.is_empty() {
        let detail = if cache_from == Some(false) {
            "the base image's layers were downloaded and nothing hit: a new host, and the build names no registry cache (--cache-from)"
        } else {
            "the base image's layers were downloaded and nothing hit: a new or evicted host"
        };
        let mut f = Finding::new(Cause::LocalCacheCold, Confidence::Likely, detail)
            .or(&[Cause::NoCacheConfigured])
            .show(downloads)
            .show([first_ran]);
        if cache_from == Some(false) {
            f = f.show(command);
        }
        return f;
    }
    if cache_from == Some(false) {
        return Finding::new(
            Cause::NoCacheConfigured,
            Confidence::Likely,
            "the build names no cache source (--cache-from) and nothing came from a local cache",
        )
        .or(&[Cause::LocalCacheCold])
        .show(command)
        .show([first_ran]);
    }
    // No command, no import, no download: the log shows nothing about the cache.
    Finding::new(
        Cause::NoCacheConfigured,
        Confidence::Possible,
        "nothing came from cache and the log shows no cache source, no import and no base image download",
    )
    .or(&[Cause::LocalCacheCold, Cause::NoCacheFlag, inputs_cause_of(run.body[0])])
    .show([first_ran])
}

/// What the step's instruction says changed, were it the first miss.
fn inputs_cause_of(s: &Step) -> Cause {
    match diagnose::cause_of(s) {
        diagnose::Cause::BaseImage => Cause::BaseImageChanged,
        diagnose::Cause::DependencyManifest => Cause::DependencyManifestChanged,
        diagnose::Cause::ApplicationSource => Cause::SourceChanged,
        diagnose::Cause::UpstreamStage => Cause::UpstreamStageChanged,
        diagnose::Cause::BuildArgOrEnv => Cause::BuildArgChanged,
        diagnose::Cause::InstructionChanged | diagnose::Cause::NoCache => Cause::InstructionChanged,
    }
}

/// Some steps hit, then one missed: what its inputs were, checked against the baseline.
fn inputs_changed(run: &Run, baseline: Option<&[Step]>, import: ImportOutcome) -> Finding {
    let busts = diagnose::stage_busts(run.steps.iter().copied(), import);
    // The stage whose cache broke after a hit tells what changed; a stage cold from its start
    // (a fresh base, a stage the cache never held) only if no stage broke after a hit.
    let hit_before =
        |b: &&Bust| (run.body.iter()).any(|s| hit(s) && s.stage == b.stage && s.line < b.line);
    let Some(bust) = (busts.iter().filter(hit_before).min_by_key(|b| b.line))
        .or_else(|| busts.iter().min_by_key(|b| b.line))
    else {
        // Only canceled/unfinished steps after the hits.
        let s = (run.body.iter())
            .find(|s| !hit(s))
            .copied()
            .unwrap_or(run.body[0]);
        return Finding::new(
            Cause::InstructionChanged,
            Confidence::Possible,
            "the build stopped before the step finished",
        )
        .or(&[Cause::LocalCacheCold])
        .show([Run::quote_step(s)]);
    };
    let step = run
        .body
        .iter()
        .find(|s| s.line == bust.line)
        .copied()
        .unwrap_or(run.body[0]);
    let before = run
        .body
        .iter()
        .rev()
        .find(|s| hit(s) && s.stage == step.stage && s.line < step.line)
        .or_else(|| run.body.iter().rev().find(|s| hit(s)))
        .map(|s| Run::quote_step(s));
    let shown = |f: Finding| f.show(before.clone()).show([Run::quote_step(step)]);
    let unavailable = cache_unavailable_guess(run, import);
    // A stage cold from its start: what its bust rule says (a pulled base), not its first step.
    let cause = match bust.cause {
        _ if hit_before(&bust) => inputs_cause_of(step),
        diagnose::Cause::BaseImage => Cause::BaseImageChanged,
        diagnose::Cause::NoCache => unavailable,
        _ => inputs_cause_of(step),
    };
    // A build arg the step reads decides before the baseline: its text can stay the same
    // (`RUN echo $BUILD_DATE`) while the value changes.
    if let Some((name, value)) = build_arg_in(run, step) {
        return shown(
            Finding::new(
                Cause::BuildArgChanged,
                Confidence::Likely,
                format!("{} reads the build argument {name} (this build: {value}), whose value changes from build to build", step.name),
            )
            .or(&[Cause::InstructionChanged, unavailable])
            .show(run.quote_command()),
        );
    }
    if let Some(base) = baseline {
        if let Some(f) = against_baseline(run, step, base, unavailable) {
            return shown(f);
        }
    }
    let detail = format!(
        "{} is the first step that missed after a cache hit",
        step.name
    );
    let f = match cause {
        // A COPY misses exactly when its files differ; an ARG when its value does.
        Cause::DependencyManifestChanged
        | Cause::SourceChanged
        | Cause::BuildArgChanged
        | Cause::UpstreamStageChanged
        | Cause::BaseImageChanged => {
            Finding::new(cause, Confidence::Likely, detail).or(&[unavailable])
        }
        // A RUN's text can be the same and still miss: with no earlier build to compare, the
        // cache may simply not have had it.
        Cause::InstructionChanged => Finding::new(cause, Confidence::Possible, detail).or(&[
            Cause::BuildArgChanged,
            unavailable,
            Cause::LocalCacheCold,
        ]),
        // A stage that was cold from its start: the cache did not hold it.
        _ => Finding::new(cause, Confidence::Likely, detail).or(&[Cause::InstructionChanged]),
    };
    shown(f)
}

/// A `--build-arg NAME=VALUE` of the build command that the step reads: by name (`$NAME`,
/// `${NAME}`) or by its value expanded into the step's text (BuildKit prints RUN with build args
/// substituted). Trivial values (`true`, short numbers) are not evidence.
fn build_arg_in<'a>(run: &Run<'a>, step: &Step) -> Option<(&'a str, &'a str)> {
    let text = instruction_text(step);
    build_args(run).into_iter().find(|(name, value)| {
        let by_name = [format!("${{{name}}}"), format!("${name}")]
            .iter()
            .any(|r| {
                text.match_indices(r.as_str()).any(|(at, m)| {
                    let next = text[at + m.len()..].chars().next();
                    m.ends_with('}') || !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            });
        by_name || (volatile_value(value) && text.contains(value))
    })
}

/// The build command's `--build-arg NAME=VALUE` pairs.
fn build_args<'a>(run: &Run<'a>) -> Vec<(&'a str, &'a str)> {
    run.command.map_or_else(Vec::new, |c| {
        (diagnose::build_arg_words(&c.command).into_iter())
            .filter_map(|a| a.split_once('='))
            .collect()
    })
}

/// A value that looks made per build: a long number (a build number, a timestamp, a run id) or
/// a commit SHA. `production` or `3.12` in a step's text proves nothing.
fn volatile_value(v: &str) -> bool {
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    (v.len() >= 6 && digits == v.len())
        || (v.len() >= 7 && v.bytes().all(|b| b.is_ascii_hexdigit()) && digits > 0)
}

/// The cache-unavailable cause that fits this run best, for a step that missed unchanged.
fn cache_unavailable_guess(run: &Run, import: ImportOutcome) -> Cause {
    if run.has(K::BuilderBoot) {
        Cause::FreshBuilder
    } else if import == ImportOutcome::Failed {
        run.ev(K::ImportFailed)
            .next()
            .map_or(Cause::ImportUnreachable, |e| import_failure(&e.text).0)
    } else if import == ImportOutcome::Reached {
        Cause::ImportIneffective
    } else {
        Cause::LocalCacheCold
    }
}

/// The bust step against the previous build: same text and cached then → unchanged but missed;
/// same place, text differing in a few tokens → a build arg's value.
fn against_baseline(run: &Run, step: &Step, base: &[Step], unavailable: Cause) -> Option<Finding> {
    let is_copy = matches!(step.instruction.as_deref(), Some("COPY" | "ADD"));
    let key = baseline::key(step);
    if let Some(b) = base.iter().find(|b| baseline::key(b) == key) {
        if is_copy {
            return None; // the same COPY line reads files that may differ: no verdict from text
        }
        let was = if hit(b) { "cached" } else { "built" };
        return Some(
            Finding::new(
                unavailable,
                Confidence::Likely,
                format!("{} is unchanged since the baseline (where it was {was}) and still missed: its cache was not available", step.name),
            )
            .or(&[Cause::BuildArgChanged]),
        );
    }
    // The same place in the same Dockerfile: same stage, index, count and instruction.
    let same_place = base.iter().find(|b| {
        b.kind == StepKind::Dockerfile
            && b.stage == step.stage
            && b.index == step.index
            && b.total == step.total
            && b.instruction == step.instruction
    })?;
    let now: Vec<&str> = instruction_text(step).split_whitespace().collect();
    let then: Vec<&str> = instruction_text(same_place).split_whitespace().collect();
    let changed: Vec<(&str, &str)> = (now.iter().zip(&then))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*b, *a))
        .collect();
    let tokens: Vec<String> = (changed.iter())
        .map(|(a, b)| format!("`{a}` → `{b}`"))
        .collect();
    if now.len() != then.len() || changed.is_empty() || changed.len() > 3 || is_copy {
        return Some(Finding::new(
            Cause::InstructionChanged,
            Confidence::Certain,
            format!(
                "{} reads `{}` in the baseline",
                step.name,
                instruction_text(same_place)
            ),
        ));
    }
    // A few tokens differ: a build arg's expanded value when the command passes that value,
    // else as likely an edit of the line.
    let args = build_args(run);
    let passed =
        (changed.iter()).any(|(_, new)| args.iter().any(|(_, v)| !v.is_empty() && new.contains(v)));
    let (cause, confidence, alternative) = if passed {
        (
            Cause::BuildArgChanged,
            Confidence::Likely,
            Cause::InstructionChanged,
        )
    } else if !args.is_empty() {
        (
            Cause::BuildArgChanged,
            Confidence::Possible,
            Cause::InstructionChanged,
        )
    } else {
        (
            Cause::InstructionChanged,
            Confidence::Likely,
            Cause::BuildArgChanged,
        )
    };
    Some(
        Finding::new(
            cause,
            confidence,
            format!(
                "{} differs from the baseline only in {}",
                step.name,
                tokens.join(", ")
            ),
        )
        .or(&[alternative]),
    )
}

/// Cost of the cache machinery itself, from steps and the evidence's stated times.
pub fn cache_cost(steps: &[Step], evidence: &[Evidence], saved_s: Option<f64>) -> CacheCost {
    let sum = |f: &dyn Fn(&Step) -> bool| -> f64 {
        steps
            .iter()
            .filter(|s| f(s))
            .filter_map(|s| s.duration_s)
            .sum()
    };
    let import_s = sum(&|s| s.kind == StepKind::CacheImport);
    let inline_vertex = |s: &Step| s.name.starts_with("preparing layers for inline cache");
    let mut export_s = sum(&|s| s.kind == StepKind::CacheExport || inline_vertex(s));
    // The same work printed as a sub-status of another vertex (`exporting to image`): its
    // stated time, the latest line of each vertex (`sending tarball 28.6s done`).
    let vertices: HashMap<(u32, u32), &Step> = (steps.iter())
        .filter_map(|s| Some(((s.invocation, s.vertex?), s)))
        .collect();
    let stated = |kind: K, own_vertex: &dyn Fn(&Step) -> bool| -> f64 {
        let mut per_vertex: HashMap<(u32, Option<u32>), f64> = HashMap::new();
        for e in evidence.iter().filter(|e| e.kind == kind) {
            let step = e.vertex.and_then(|v| vertices.get(&(e.invocation, v)));
            if step.is_some_and(|s| own_vertex(s)) {
                continue; // counted as the step's own duration
            }
            if let Some(secs) = e.secs {
                let slot = per_vertex.entry((e.invocation, e.vertex)).or_default();
                *slot = slot.max(secs);
            }
        }
        per_vertex.values().sum()
    };
    export_s += stated(K::InlineCacheExport, &inline_vertex);
    let builder_boot_s = sum(&|s| s.name.contains("booting buildkit"));
    let tarball_vertex = |s: &Step| s.name.starts_with("sending tarball");
    let sending_tarball_s = sum(&tarball_vertex) + stated(K::SendingTarball, &tarball_vertex);
    let r = |x: f64| (x * 1000.0).round() / 1000.0 + 0.0;
    CacheCost {
        import_s: r(import_s),
        export_s: r(export_s),
        builder_boot_s: r(builder_boot_s),
        sending_tarball_s: r(sending_tarball_s),
        total_s: r(import_s + export_s + builder_boot_s + sending_tarball_s),
        saved_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_failures_are_told_apart() {
        use Cause::*;
        for (error, want) in [
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest: not found", ImportNotFound),
            ("failed to resolve source metadata: manifest unknown: manifest unknown", ImportNotFound),
            ("name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'", ImportNotFound),
            ("failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized", ImportUnauthorized),
            ("pull access denied, repository does not exist or may require authorization", ImportDenied),
            ("no basic auth credentials", ImportUnauthorized),
            ("unexpected status from HEAD request to https://1.dkr.ecr.ap-southeast-1.amazonaws.com/v2/x/manifests/buildcache: 403 Forbidden", ImportDenied),
            ("failed to do request: Head \"http://localhost/v2/app/manifests/master\": dial tcp 127.0.0.1:80: connect: connection refused", ImportUnreachable),
        ] {
            assert_eq!(import_failure(error), (want, Confidence::Certain), "{error}");
        }
        assert_eq!(import_failure("something new").1, Confidence::Possible);
    }

    #[test]
    fn flags_are_whole_words() {
        use diagnose::has_flag;
        assert!(has_flag("docker build --no-cache .", "--no-cache"));
        assert!(has_flag("docker build --no-cache=true .", "--no-cache"));
        assert!(!has_flag(
            "docker build --no-cache-filter=builder .",
            "--no-cache"
        ));
    }

    #[test]
    fn human_seconds() {
        assert_eq!(human_secs(680.0), "11m 20s");
        assert_eq!(human_secs(42.46), "42.5s");
    }
}
