//! Many builds of one project over time: one row per build with its ratios, the time the cache
//! saved it (priced from the history), and a regression flag against a rolling window.
//!
//! Builds come in as stored rows (see `crate::store`), so a trend computed from the store alone
//! equals the one computed right after fetching.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use super::baseline::{key as step_key, label as step_label};
use super::frames::steps_from_frame;
use super::schema::{builds as b, trend as t};
use crate::model::{BuildStatus, Step, StepKind, StepStatus};

/// One analyzed build, as the trend needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendBuild {
    /// The store's key: the build's UUID, or the log file's name.
    pub key: String,
    /// Where the log came from: the build ID, or the file's path.
    pub source: String,
    pub build_id: Option<String>,
    pub number: Option<i64>,
    pub status: Option<BuildStatus>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub hit_ratio: Option<f64>,
    pub hit_ratio_all: Option<f64>,
    pub rebuilt_s: f64,
    pub docker_build_s: Option<f64>,
    pub cache_bust_step: Option<String>,
    pub cache_bust_cause: Option<String>,
    pub scenario: String,
    /// The verdict's cause id; `None` for builds stored before the verdict existed.
    pub cause: Option<String>,
    pub steps: Vec<Step>,
}

fn cell_str(df: &DataFrame, name: &str) -> Option<String> {
    df.column(name).ok()?.str().ok()?.get(0).map(str::to_string)
}

fn cell_f64(df: &DataFrame, name: &str) -> Option<f64> {
    df.column(name)
        .ok()?
        .cast(&DataType::Float64)
        .ok()?
        .f64()
        .ok()?
        .get(0)
}

fn cell_i64(df: &DataFrame, name: &str) -> Option<i64> {
    df.column(name)
        .ok()?
        .cast(&DataType::Int64)
        .ok()?
        .i64()
        .ok()?
        .get(0)
}

impl TrendBuild {
    /// From a stored one-row builds frame and the build's steps frame.
    pub fn from_frames(key: &str, build: &DataFrame, steps: &DataFrame) -> PolarsResult<Self> {
        let mut b = TrendBuild::from_row(key, build)?;
        b.steps = steps_from_frame(steps)?;
        Ok(b)
    }

    /// From a stored one-row builds frame alone (no steps).
    pub fn from_row(key: &str, build: &DataFrame) -> PolarsResult<Self> {
        if build.height() != 1 {
            polars_bail!(ComputeError: "a stored build has {} rows, not 1", build.height());
        }
        Ok(TrendBuild {
            key: key.to_string(),
            source: cell_str(build, b::SOURCE).unwrap_or_default(),
            build_id: cell_str(build, b::BUILD_ID),
            number: cell_i64(build, b::BUILD_NUMBER),
            status: cell_str(build, b::BUILD_STATUS).and_then(|s| BuildStatus::parse(&s)),
            start_ms: cell_i64(build, b::BUILD_START),
            end_ms: cell_i64(build, b::BUILD_END),
            hit_ratio: cell_f64(build, b::HIT_RATIO),
            hit_ratio_all: cell_f64(build, b::HIT_RATIO_ALL),
            rebuilt_s: cell_f64(build, b::REBUILT_S).unwrap_or(0.0),
            docker_build_s: cell_f64(build, b::DOCKER_BUILD_S),
            cache_bust_step: cell_str(build, b::CACHE_BUST_STEP),
            cache_bust_cause: cell_str(build, b::CACHE_BUST_CAUSE),
            scenario: cell_str(build, b::SCENARIO).unwrap_or_default(),
            cause: cell_str(build, b::CAUSE),
            steps: Vec::new(),
        })
    }

    pub fn duration_s(&self) -> Option<f64> {
        crate::model::span_s(self.start_ms, self.end_ms)
    }
}

/// The regression rule's knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Previous builds the rolling statistics look at.
    pub window: usize,
    /// Hit ratio more than this below the rolling median is a regression; duration more than
    /// this fraction above the rolling p90 is one too.
    pub margin: f64,
    /// Fewer previous builds than this: no verdict.
    pub min_history: usize,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            window: 10,
            margin: 0.15,
            min_history: 3,
        }
    }
}

/// One row of the trend frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    pub key: String,
    pub source: String,
    pub build_id: Option<String>,
    pub number: Option<i64>,
    pub status: Option<BuildStatus>,
    pub start_ms: Option<i64>,
    pub duration_s: Option<f64>,
    pub hit_ratio: Option<f64>,
    pub hit_ratio_all: Option<f64>,
    pub rebuilt_s: f64,
    pub docker_build_s: Option<f64>,
    pub cache_bust_step: Option<String>,
    pub cache_bust_cause: Option<String>,
    /// The bust step as `[stage] instruction text`: the same step across builds.
    pub cache_bust_key: Option<String>,
    pub scenario: String,
    /// The verdict's cause id (`analyze::verdict`).
    pub cause: Option<String>,
    /// Sum over this build's cached Dockerfile steps of the step's most recent rebuilt duration
    /// in earlier builds (steps matched by stage + instruction text).
    pub time_saved_s: f64,
    /// Median hit ratio of the previous `window` builds (`None` with too little history).
    pub rolling_median_hit_ratio: Option<f64>,
    /// p90 (nearest rank) of the previous `window` builds' durations.
    pub rolling_p90_duration_s: Option<f64>,
    pub regression: bool,
    /// How far past its threshold: hit-ratio points below the median, or the fraction above
    /// the p90, whichever is larger; 0 when not a regression. Ranks regressions.
    pub regression_size: f64,
    /// Why, in words; `None` when not a regression.
    pub regression_reason: Option<String>,
    /// Each Dockerfile step (FROM excluded) as `[stage] instruction text` with its status, for
    /// the heat map; the first occurrence of a step wins.
    #[serde(skip)]
    pub cells: Vec<(String, StepStatus)>,
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile.
fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Orders builds by start time (then number), prices cached steps from the history, and flags
/// regressions against the previous `rule.window` builds.
pub fn trend(mut builds: Vec<TrendBuild>, rule: Rule) -> Vec<TrendRow> {
    builds.sort_by_key(|b| (b.start_ms.is_none(), b.start_ms, b.number, b.key.clone()));
    let mut last_rebuilt: HashMap<(Option<String>, String), f64> = HashMap::new();
    let mut rows: Vec<TrendRow> = Vec::with_capacity(builds.len());
    for b in builds {
        let dockerfile = || b.steps.iter().filter(|s| s.kind == StepKind::Dockerfile);
        let saved: f64 = dockerfile()
            .filter(|s| s.status == StepStatus::Cached)
            .filter_map(|s| last_rebuilt.get(&step_key(s)))
            .sum();
        for s in dockerfile().filter(|s| s.status == StepStatus::Rebuilt) {
            if let Some(d) = s.duration_s {
                last_rebuilt.insert(step_key(s), d);
            }
        }
        let mut cells: Vec<(String, StepStatus)> = Vec::new();
        for s in dockerfile().filter(|s| s.is_cacheable_instruction()) {
            let label = step_label(s);
            if !cells.iter().any(|(l, _)| *l == label) {
                cells.push((label, s.status));
            }
        }
        // The bust step by its identity across builds, not its position in this Dockerfile.
        let cache_bust_key = b.cache_bust_step.as_ref().map(|name| {
            (b.steps.iter())
                .find(|s| s.name == *name)
                .map_or_else(|| name.clone(), step_label)
        });
        let history = &rows[rows.len().saturating_sub(rule.window)..];
        let ratios: Vec<f64> = history.iter().filter_map(|r| r.hit_ratio).collect();
        let durations: Vec<f64> = history.iter().filter_map(|r| r.duration_s).collect();
        let enough = |v: &Vec<f64>| v.len() >= rule.min_history;
        let rolling_median = Some(ratios).filter(enough).map(median);
        let rolling_p90 = Some(durations).filter(enough).map(|d| percentile(d, 0.9));
        let duration_s = b.duration_s();
        let mut reasons = Vec::new();
        // How far past its threshold each test is: points of hit ratio, fraction of duration.
        let mut size: f64 = 0.0;
        if let (Some(h), Some(m)) = (b.hit_ratio, rolling_median) {
            if h < m - rule.margin {
                size = size.max(m - h);
                reasons.push(format!(
                    "hit_ratio {:.0}% is below the rolling median {:.0}% by more than {:.0} points",
                    h * 100.0,
                    m * 100.0,
                    rule.margin * 100.0
                ));
            }
        }
        if let (Some(d), Some(p90)) = (duration_s, rolling_p90) {
            if d > p90 * (1.0 + rule.margin) {
                size = size.max(if p90 > 0.0 { d / p90 - 1.0 } else { 1.0 });
                reasons.push(format!(
                    "duration {d:.0}s is above the rolling p90 {p90:.0}s by more than {:.0}%",
                    rule.margin * 100.0
                ));
            }
        }
        rows.push(TrendRow {
            key: b.key,
            source: b.source,
            build_id: b.build_id,
            number: b.number,
            status: b.status,
            start_ms: b.start_ms,
            duration_s,
            hit_ratio: b.hit_ratio,
            hit_ratio_all: b.hit_ratio_all,
            rebuilt_s: b.rebuilt_s,
            docker_build_s: b.docker_build_s,
            cache_bust_step: b.cache_bust_step,
            cache_bust_cause: b.cache_bust_cause,
            cache_bust_key,
            scenario: b.scenario,
            cause: b.cause,
            // `+ 0.0`: an empty sum is -0.0.
            time_saved_s: (saved * 1000.0).round() / 1000.0 + 0.0,
            rolling_median_hit_ratio: rolling_median,
            rolling_p90_duration_s: rolling_p90,
            regression: !reasons.is_empty(),
            regression_size: size,
            regression_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            cells,
        });
    }
    rows
}

/// Builds per verdict cause, most frequent first (builds stored before the verdict existed
/// are counted as `unknown`).
/// One project in the account overview (`trend --all-projects`, `--project a,b`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectOverview {
    pub project: String,
    pub builds: usize,
    /// Median over the builds that have a hit ratio.
    pub median_hit_ratio: Option<f64>,
    /// Minutes spent in rebuilt Dockerfile steps, all builds together (step time).
    pub rebuilt_minutes: f64,
    pub regressions: usize,
    /// The most frequent miss cause (`causes`), if any build missed.
    pub top_cause: Option<String>,
}

/// The account overview, worst projects first: lowest median hit ratio (projects without one
/// last), then most rebuilt minutes.
pub fn project_overview(projects: &[(String, Vec<TrendRow>)]) -> Vec<ProjectOverview> {
    let mut out: Vec<ProjectOverview> = projects
        .iter()
        .map(|(project, rows)| {
            let ratios: Vec<f64> = rows.iter().filter_map(|r| r.hit_ratio).collect();
            ProjectOverview {
                project: project.clone(),
                builds: rows.len(),
                median_hit_ratio: (!ratios.is_empty()).then(|| median(ratios)),
                rebuilt_minutes: rows.iter().map(|r| r.rebuilt_s).sum::<f64>() / 60.0,
                regressions: rows.iter().filter(|r| r.regression).count(),
                top_cause: causes(rows).into_iter().next().map(|(c, _)| c),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let ratio = |o: &ProjectOverview| o.median_hit_ratio.unwrap_or(f64::INFINITY);
        ratio(a)
            .total_cmp(&ratio(b))
            .then(b.rebuilt_minutes.total_cmp(&a.rebuilt_minutes))
            .then(a.project.cmp(&b.project))
    });
    out
}

pub fn causes(rows: &[TrendRow]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in rows {
        *counts
            .entry(r.cause.as_deref().unwrap_or("unknown"))
            .or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(c, n)| (c.to_string(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The trend frame: one row per build, columns in [`super::schema::trend`].
pub fn trend_frame(rows: &[TrendRow]) -> PolarsResult<DataFrame> {
    let text = |f: fn(&TrendRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let float = |f: fn(&TrendRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let mut df = df!(
        t::KEY => text(|r| Some(r.key.clone())),
        t::SOURCE => text(|r| Some(r.source.clone())),
        t::BUILD_ID => text(|r| r.build_id.clone()),
        t::BUILD_NUMBER => rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        t::BUILD_STATUS => text(|r| r.status.map(|s| s.as_str().to_string())),
        t::DURATION_S => float(|r| r.duration_s),
        t::HIT_RATIO => float(|r| r.hit_ratio),
        t::HIT_RATIO_ALL => float(|r| r.hit_ratio_all),
        t::REBUILT_S => float(|r| Some(r.rebuilt_s)),
        t::DOCKER_BUILD_S => float(|r| r.docker_build_s),
        t::CACHE_BUST_STEP => text(|r| r.cache_bust_step.clone()),
        t::CACHE_BUST_CAUSE => text(|r| r.cache_bust_cause.clone()),
        t::SCENARIO => text(|r| Some(r.scenario.clone())),
        t::CAUSE => text(|r| r.cause.clone()),
        t::TIME_SAVED_S => float(|r| Some(r.time_saved_s)),
        t::ROLLING_MEDIAN_HIT_RATIO => float(|r| r.rolling_median_hit_ratio),
        t::ROLLING_P90_DURATION_S => float(|r| r.rolling_p90_duration_s),
        t::REGRESSION => rows.iter().map(|r| r.regression).collect::<Vec<_>>(),
        t::REGRESSION_REASON => text(|r| r.regression_reason.clone()),
    )?;
    let time = Series::new(
        t::TIME.into(),
        rows.iter().map(|r| r.start_ms).collect::<Vec<_>>(),
    )
    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    df.insert_column(2, Column::from(time))?;
    Ok(df)
}

/// What a log alone says about its build, for logs read from files: its first and last
/// CodeBuild timestamps, and FAILED if a phase or a step failed (SUCCEEDED if it has phases and
/// none failed).
pub fn meta_from_log(
    input: &super::BuildInput,
    project: &str,
    key: &str,
) -> crate::model::BuildMeta {
    let times = input
        .phases
        .iter()
        .map(|p| p.at_ms)
        .chain(input.commands.iter().filter_map(|c| c.at_ms));
    let (start_ms, end_ms) = times.fold((None, None), |(lo, hi): (Option<i64>, Option<i64>), t| {
        (
            Some(lo.map_or(t, |l| l.min(t))),
            Some(hi.map_or(t, |h| h.max(t))),
        )
    });
    let failed = input.phases.iter().any(|p| p.state == "FAILED")
        || input.steps.iter().any(|s| s.status == StepStatus::Error);
    let status = if failed {
        Some(BuildStatus::Failed)
    } else if input.phases.iter().any(|p| p.state != "STARTED") {
        Some(BuildStatus::Succeeded)
    } else {
        None
    };
    crate::model::BuildMeta {
        id: key.to_string(),
        project: project.to_string(),
        status,
        start_ms,
        end_ms,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, status: StepStatus, duration_s: Option<f64>) -> Step {
        Step {
            invocation: 1,
            vertex: Some(1),
            step: "#1".into(),
            name: format!("[2/3] {name}"),
            stage: None,
            index: Some(2),
            total: Some(3),
            instruction: name.split_whitespace().next().map(str::to_string),
            kind: StepKind::Dockerfile,
            status,
            duration_s,
            line: 1,
            error: None,
        }
    }

    fn build(n: i64, hit: f64, secs: i64, steps: Vec<Step>) -> TrendBuild {
        TrendBuild {
            key: format!("b{n}"),
            source: String::new(),
            build_id: None,
            number: Some(n),
            status: Some(BuildStatus::Succeeded),
            start_ms: Some(n * 3_600_000),
            end_ms: Some(n * 3_600_000 + secs * 1000),
            hit_ratio: Some(hit),
            hit_ratio_all: Some(hit),
            rebuilt_s: 0.0,
            docker_build_s: None,
            cache_bust_step: None,
            cache_bust_cause: None,
            scenario: "no-changes".into(),
            cause: None,
            steps,
        }
    }

    #[test]
    fn time_saved_is_priced_from_the_most_recent_rebuild() {
        use StepStatus::*;
        let builds = vec![
            build(3, 1.0, 100, vec![step("RUN npm ci", Cached, None)]),
            build(1, 0.0, 100, vec![step("RUN npm ci", Rebuilt, Some(30.0))]),
            build(
                2,
                0.0,
                100,
                vec![step("RUN  npm   ci", Rebuilt, Some(40.0))],
            ),
            build(
                4,
                1.0,
                100,
                vec![
                    step("RUN npm ci", Cached, None),
                    step("RUN other", Cached, None),
                ],
            ),
        ];
        let rows = trend(builds, Rule::default());
        let saved: Vec<f64> = rows.iter().map(|r| r.time_saved_s).collect();
        // Ordered by time: 1 and 2 rebuild (nothing priced yet), 3 and 4 reuse 2's 40 s; the
        // step never rebuilt has no price.
        assert_eq!(saved, [0.0, 0.0, 40.0, 40.0]);
        assert_eq!(rows[0].number, Some(1));
    }

    #[test]
    fn regressions_against_the_rolling_window() {
        let mut builds: Vec<TrendBuild> = (0..6).map(|n| build(n, 0.9, 100 + n, vec![])).collect();
        builds.push(build(6, 0.6, 100, vec![])); // 30 points below the median 90%
        builds.push(build(7, 0.8, 100, vec![])); // 10 points below: within the margin
        builds.push(build(8, 0.9, 200, vec![])); // twice the rolling p90
        builds.push(build(9, 0.9, 110, vec![])); // within 15% of the p90
        let rows = trend(builds, Rule::default());
        let flags: Vec<bool> = rows.iter().map(|r| r.regression).collect();
        assert_eq!(
            flags,
            [false, false, false, false, false, false, true, false, true, false]
        );
        assert!(rows[6]
            .regression_reason
            .as_deref()
            .unwrap()
            .contains("hit_ratio 60%"));
        assert!(rows[8]
            .regression_reason
            .as_deref()
            .unwrap()
            .contains("duration 200s"));
        // A window shorter than the default history still gives verdicts.
        let short = Rule {
            window: 2,
            min_history: 2,
            ..Rule::default()
        };
        let rows = trend(
            vec![
                build(0, 0.9, 100, vec![]),
                build(1, 0.9, 100, vec![]),
                build(2, 0.1, 100, vec![]),
            ],
            short,
        );
        assert!(rows[2].regression);
        assert!((rows[2].regression_size - 0.8).abs() < 1e-9);
        // Too little history: no verdict.
        let rows = trend(
            vec![build(0, 0.9, 100, vec![]), build(1, 0.1, 900, vec![])],
            Rule::default(),
        );
        assert!(!rows[1].regression);
    }

    #[test]
    fn median_and_p90() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(ten, 0.9), 9.0);
        assert_eq!(percentile(vec![5.0], 0.9), 5.0);
    }
}
