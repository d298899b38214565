//! The build summary: counts, both ratios, docker time per run, phases, cache bust, scenario,
//! cache health and findings — everything `cachescope build` reports about one log.

use polars::prelude::*;
use serde::Serialize;

use super::baseline::Comparison;
use super::diagnose::{self, Bust, Finding, Health, Scenario};
use super::verdict::{self, CacheCost, Verdict};
use crate::model::{
    span_s, BuildMeta, CommandEvent, Evidence, Phase, PhaseEvent, Step, StepKind, StepStatus,
};

/// What the parser read from one build's log.
#[derive(Debug, Clone, Default)]
pub struct BuildInput {
    /// Where the log came from (a path, `<stdin>`, a build ID).
    pub source: String,
    pub steps: Vec<Step>,
    pub phases: Vec<PhaseEvent>,
    pub commands: Vec<CommandEvent>,
    /// The lines that carry cache evidence (bounded by the parser).
    pub evidence: Vec<Evidence>,
    /// CodeBuild's record of the build, when it was read from AWS.
    pub meta: Option<BuildMeta>,
}

impl BuildInput {
    /// What the parser collected from `source`, with CodeBuild's record if there is one.
    pub fn from_parsed(
        source: String,
        parsed: crate::parse::Parsed,
        meta: Option<BuildMeta>,
    ) -> Self {
        BuildInput {
            source,
            steps: parsed.steps,
            phases: parsed.phases,
            commands: parsed.commands,
            evidence: parsed.evidence,
            meta,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusCounts {
    pub cached: u32,
    pub rebuilt: u32,
    pub error: u32,
    pub canceled: u32,
    pub unfinished: u32,
}

/// One docker build run of the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub invocation: u32,
    pub steps: u32,
    pub hit_ratio: Option<f64>,
    /// Wall time of the run: from its CodeBuild `Running command docker build` line to the next
    /// `[Container]` line; else the sum of its step durations (an upper bound: BuildKit runs
    /// steps in parallel). `None` when the log has neither.
    pub docker_build_s: Option<f64>,
    /// `codebuild-timestamps` or `sum-of-steps`.
    pub docker_build_s_from: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub source: String,
    /// CodeBuild's record of the build (number, status, times, commit), when read from AWS.
    pub build: Option<BuildMeta>,
    pub invocations: u32,
    pub steps: u32,
    pub counts: StatusCounts,
    /// Dockerfile steps other than FROM.
    pub dockerfile_steps: u32,
    pub dockerfile_cached: u32,
    /// cached + rebuilt + error over Dockerfile steps, FROM excluded: `hit_ratio`'s denominator.
    pub dockerfile_finished: u32,
    /// cached ÷ (cached + rebuilt + error) over Dockerfile steps, FROM excluded.
    pub hit_ratio: Option<f64>,
    /// cached ÷ all finished steps (any kind; canceled counts as finished).
    pub hit_ratio_all: Option<f64>,
    /// Seconds spent in rebuilt Dockerfile steps.
    pub rebuilt_s: f64,
    /// Total docker build time over all runs (see [`RunSummary::docker_build_s`]).
    pub docker_build_s: Option<f64>,
    pub runs: Vec<RunSummary>,
    /// CodeBuild's phases from the API where known, the log's `[Container]` lines otherwise.
    pub phases: Vec<Phase>,
    /// The step that broke the cache for the build as a whole.
    pub cache_bust: Option<Bust>,
    /// The cache-bust step of each stage that had one.
    pub stage_busts: Vec<Bust>,
    pub scenario: Scenario,
    pub health: Health,
    /// Why the cache missed (or that it did not), with the log's lines as proof.
    pub verdict: Verdict,
    /// What the cache machinery cost this build, against what it saved.
    pub cache_cost: CacheCost,
    pub findings: Vec<Finding>,
    pub baseline: Option<Comparison>,
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

/// Counts by status and the ratio numerators.
struct Counts {
    all: StatusCounts,
    dockerfile: u32,
    dockerfile_cached: u32,
    dockerfile_ran: u32,
    rebuilt_s: f64,
}

/// One pass over the steps. (A polars query here cost more than parsing the log: building a
/// frame and planning a query for a few dozen rows, once per build, dominates a trend run.)
fn count(steps: &[Step]) -> Counts {
    let mut c = Counts {
        all: StatusCounts::default(),
        dockerfile: 0,
        dockerfile_cached: 0,
        dockerfile_ran: 0,
        rebuilt_s: 0.0,
    };
    for s in steps {
        let n = match s.status {
            StepStatus::Cached => &mut c.all.cached,
            StepStatus::Rebuilt => &mut c.all.rebuilt,
            StepStatus::Error => &mut c.all.error,
            StepStatus::Canceled => &mut c.all.canceled,
            StepStatus::Unfinished => &mut c.all.unfinished,
        };
        *n += 1;
        if s.kind == StepKind::Dockerfile && s.status == StepStatus::Rebuilt {
            c.rebuilt_s += s.duration_s.unwrap_or(0.0);
        }
        if s.is_cacheable_instruction() {
            c.dockerfile += 1;
            match s.status {
                StepStatus::Cached => c.dockerfile_cached += 1,
                StepStatus::Rebuilt | StepStatus::Error => c.dockerfile_ran += 1,
                StepStatus::Canceled | StepStatus::Unfinished => {}
            }
        }
    }
    c
}

/// Pairs `Entering phase X` with `Phase complete: X State: Y`, in order.
pub fn phase_rows(events: &[PhaseEvent]) -> Vec<Phase> {
    let mut rows: Vec<Phase> = Vec::new();
    for e in events {
        if e.state == "STARTED" {
            rows.push(Phase {
                phase: e.phase.clone(),
                state: "STARTED".into(),
                start_ms: Some(e.at_ms),
                end_ms: None,
                duration_s: None,
            });
            continue;
        }
        let open = rows
            .iter_mut()
            .rev()
            .find(|r| r.phase == e.phase && r.end_ms.is_none());
        match open {
            Some(r) => {
                r.state = e.state.clone();
                r.end_ms = Some(e.at_ms);
                r.duration_s = span_s(r.start_ms, r.end_ms);
            }
            None => rows.push(Phase {
                phase: e.phase.clone(),
                state: e.state.clone(),
                start_ms: None,
                end_ms: Some(e.at_ms),
                duration_s: None,
            }),
        }
    }
    rows
}

/// CodeBuild's phases are authoritative; the log's fill what the API lacks: a phase it does
/// not list, or the end of one it still reports as running.
pub fn merge_phases(api: &[Phase], log: &[Phase]) -> Vec<Phase> {
    let mut out = api.to_vec();
    for l in log {
        match out.iter_mut().find(|a| a.phase == l.phase) {
            Some(a) if a.end_ms.is_none() && l.end_ms.is_some() => {
                a.state = l.state.clone();
                a.end_ms = l.end_ms;
                a.start_ms = a.start_ms.or(l.start_ms);
                a.duration_s = span_s(a.start_ms, a.end_ms).or(l.duration_s);
            }
            Some(_) => {}
            None => out.push(l.clone()),
        }
    }
    // Stable: phases without a start keep their place after the timed ones.
    out.sort_by_key(|p| p.start_ms.map_or((1, 0), |t| (0, t)));
    out
}

/// Wall time of each run, from CodeBuild timestamps where the log has them.
fn runs(input: &BuildInput) -> Vec<RunSummary> {
    // Every `[Container]` line with its time, in log order.
    let mut timed: Vec<(u64, i64)> = input.phases.iter().map(|p| (p.line, p.at_ms)).collect();
    timed.extend(
        input
            .commands
            .iter()
            .filter_map(|c| c.at_ms.map(|t| (c.line, t))),
    );
    timed.sort_unstable();
    let launches: Vec<&CommandEvent> = input
        .commands
        .iter()
        .filter(|c| c.at_ms.is_some())
        .filter(|c| crate::parse::line::launches_docker_build(c.command.as_bytes()))
        .collect();
    let mut out = Vec::new();
    let mut previous_end = 0u64;
    // Steps come out run by run, so one pass groups them.
    for steps in input.steps.chunk_by(|a, b| a.invocation == b.invocation) {
        let first_line = steps.iter().map(|s| s.line).min().unwrap_or(0);
        // The command that launched this run: the last one between the previous run and this
        // one. A command shared with the previous run (`docker build && docker build`) gives
        // its time to the first run only.
        let launch = launches
            .iter()
            .rev()
            .find(|c| c.line < first_line)
            .filter(|c| c.line > previous_end);
        previous_end = steps.iter().map(|s| s.line).max().unwrap_or(previous_end);
        let wall = launch.and_then(|c| {
            let start = c.at_ms?;
            let end = timed.iter().find(|(l, _)| *l > c.line)?.1;
            Some((end - start) as f64 / 1000.0)
        });
        let summed: Option<f64> = steps
            .iter()
            .filter_map(|s| s.duration_s)
            .reduce(|a, b| a + b);
        let (docker_build_s, from) = match (wall, summed) {
            (Some(w), _) => (Some(w), Some("codebuild-timestamps")),
            (None, Some(s)) => (Some(s), Some("sum-of-steps")),
            (None, None) => (None, None),
        };
        let cacheable: Vec<&Step> = steps
            .iter()
            .filter(|s| s.is_cacheable_instruction())
            .collect();
        let cached = cacheable
            .iter()
            .filter(|s| s.status == StepStatus::Cached)
            .count() as u32;
        let ran = cacheable
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Rebuilt | StepStatus::Error))
            .count() as u32;
        out.push(RunSummary {
            invocation: steps[0].invocation,
            steps: steps.len() as u32,
            hit_ratio: ratio(cached, cached + ran),
            docker_build_s: docker_build_s.map(|d| (d * 1000.0).round() / 1000.0),
            docker_build_s_from: from,
        });
    }
    out
}

/// Everything about one build. `baseline`: the steps of a previous build to compare with.
pub fn summarize(input: &BuildInput, baseline: Option<&[Step]>) -> PolarsResult<Summary> {
    let c = count(&input.steps);
    let finished = c.all.cached + c.all.rebuilt + c.all.error + c.all.canceled;
    let runs = runs(input);
    let docker_build_s = runs
        .iter()
        .filter_map(|r| r.docker_build_s)
        .reduce(|a, b| a + b);
    let health = diagnose::health(&input.steps, &input.commands, &input.evidence);
    let stage_busts = diagnose::stage_busts(input.steps.iter(), health.cache_import);
    let cache_bust = stage_busts
        .iter()
        .min_by_key(|b| (b.invocation, b.line))
        .cloned();
    let hit_ratio = ratio(c.dockerfile_cached, c.dockerfile_cached + c.dockerfile_ran);
    let verdict = verdict::verdict(&input.steps, &input.commands, &input.evidence, baseline);
    let scenario = diagnose::scenario(&input.steps, hit_ratio, cache_bust.as_ref(), &verdict);
    let findings = diagnose::findings(
        &input.steps,
        &input.commands,
        &health,
        cache_bust.as_ref(),
        &verdict,
    );
    let comparison = baseline.map(|b| super::baseline::compare(&input.steps, b));
    let cache_cost = verdict::cache_cost(
        &input.steps,
        &input.evidence,
        comparison.as_ref().map(|c| c.time_saved_s),
    );
    Ok(Summary {
        source: input.source.clone(),
        build: input.meta.clone(),
        invocations: input.steps.iter().map(|s| s.invocation).max().unwrap_or(0),
        steps: input.steps.len() as u32,
        counts: c.all.clone(),
        dockerfile_steps: c.dockerfile,
        dockerfile_cached: c.dockerfile_cached,
        dockerfile_finished: c.dockerfile_cached + c.dockerfile_ran,
        hit_ratio,
        hit_ratio_all: ratio(c.all.cached, finished),
        rebuilt_s: (c.rebuilt_s * 1000.0).round() / 1000.0,
        docker_build_s,
        runs,
        phases: match &input.meta {
            Some(m) => merge_phases(&m.phases, &phase_rows(&input.phases)),
            None => phase_rows(&input.phases),
        },
        cache_bust,
        stage_busts,
        scenario,
        health,
        verdict,
        cache_cost,
        findings,
        baseline: comparison,
    })
}
