//! Trend charts over many builds: hit ratio with regressions marked, build time split into
//! rebuilt docker time / the rest / time the cache saved, a step × build heat map, and scenario
//! counts per day or week.
//!
//! Builds sit on the x axis in time order, one slot each (evenly spaced, so a burst of builds
//! stays readable); the axis labels give their dates.

use std::collections::{BTreeMap, HashMap};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::waterfall::status_color;
use super::{ChartError, ImageFormat, FONT};
use crate::analyze::diagnose::Scenario;
use crate::analyze::trend::TrendRow;
use crate::model::StepStatus;

/// A chart: format, project, rows → encoded image.
pub type Draw = fn(ImageFormat, &str, &[TrendRow]) -> Result<Vec<u8>, ChartError>;

/// Every trend chart, by file name.
pub const CHARTS: [(&str, Draw); 4] = [
    ("hit-ratio", hit_ratio),
    ("duration", duration),
    ("heatmap", heatmap),
    ("scenarios", scenarios),
];

const SIZE: (u32, u32) = (1280, 640);
/// Step rows in the heat map, the most often seen.
pub const HEATMAP_STEPS: usize = 40;

/// Draws with the same code on an SVG or a bitmap canvas.
macro_rules! encode {
    ($format:expr, $size:expr, |$root:ident| $draw:expr) => {
        match $format {
            ImageFormat::Svg => super::svg($size, |$root| $draw),
            ImageFormat::Png => super::png($size, |$root| $draw),
        }
    };
}

fn date(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
}

/// Label of the build slot at `x`: its date.
fn slot_label(rows: &[TrendRow], x: f64) -> String {
    let i = x.round();
    if i < 0.0 || (i - x).abs() > 1e-6 {
        return String::new();
    }
    rows.get(i as usize)
        .map_or(String::new(), |r| date(r.start_ms))
}

const REGRESSION: RGBColor = RGBColor(207, 34, 46);
const LINE: RGBColor = RGBColor(9, 105, 218);
const SAVED: RGBColor = RGBColor(46, 160, 67);
const OTHER: RGBColor = RGBColor(175, 184, 193);
const REBUILT: RGBColor = RGBColor(219, 143, 0);

/// Hit ratio per build, regressions as red rings.
pub fn hit_ratio(
    format: ImageFormat,
    project: &str,
    rows: &[TrendRow],
) -> Result<Vec<u8>, ChartError> {
    encode!(format, SIZE, |root| draw_hit_ratio(root, project, rows))
}

fn draw_hit_ratio<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    project: &str,
    rows: &[TrendRow],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = rows.len().max(1) as f64;
    let regressions = rows.iter().filter(|r| r.regression).count();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{project}: cache hit ratio per build ({} builds, {regressions} regressions)",
                rows.len()
            ),
            (FONT, 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..1.05)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| slot_label(rows, *x))
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .x_desc("build start (UTC)")
        .y_desc("hit_ratio (Dockerfile steps, FROM excluded)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let points: Vec<(f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.hit_ratio.map(|h| (i as f64, h)))
        .collect();
    chart
        .draw_series(std::iter::once(PathElement::new(
            points.clone(),
            LINE.stroke_width(2),
        )))?
        .label("hit ratio")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], LINE.stroke_width(2)));
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, LINE.filled())))?;
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r.regression)
                .filter_map(|(i, r)| r.hit_ratio.map(|h| (i as f64, h)))
                .map(|p| Circle::new(p, 8, REGRESSION.stroke_width(3))),
        )?
        .label("regression")
        .legend(|(x, y)| Circle::new((x + 8, y), 6, REGRESSION.stroke_width(3)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Build time split: rebuilt docker steps, everything else, and (above) the time the cache saved.
pub fn duration(
    format: ImageFormat,
    project: &str,
    rows: &[TrendRow],
) -> Result<Vec<u8>, ChartError> {
    encode!(format, SIZE, |root| draw_duration(root, project, rows))
}

/// (rebuilt docker seconds, other seconds, saved seconds) of a build.
fn split(r: &TrendRow) -> (f64, f64, f64) {
    let total = r
        .duration_s
        .or(r.docker_build_s)
        .unwrap_or(r.rebuilt_s)
        .max(0.0);
    let rebuilt = r.rebuilt_s.min(total).max(0.0);
    (rebuilt, total - rebuilt, r.time_saved_s.max(0.0))
}

fn draw_duration<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    project: &str,
    rows: &[TrendRow],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = rows.len().max(1) as f64;
    let top = rows
        .iter()
        .map(|r| {
            let (a, b, c) = split(r);
            a + b + c
        })
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max)
        * 1.3; // headroom for the legend
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{project}: build time per build (seconds)"),
            (FONT, 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| slot_label(rows, *x))
        .x_desc("build start (UTC)")
        .y_desc("seconds")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let half = 0.4;
    let bars = |pick: fn(f64, f64, f64) -> (f64, f64), color: RGBColor| {
        rows.iter().enumerate().map(move |(i, r)| {
            let (a, b, c) = split(r);
            let (lo, hi) = pick(a, b, c);
            Rectangle::new(
                [(i as f64 - half, lo), (i as f64 + half, hi)],
                color.filled(),
            )
        })
    };
    for (label, pick, color) in [
        (
            "rebuilt docker steps",
            (|a, _, _| (0.0, a)) as fn(f64, f64, f64) -> (f64, f64),
            REBUILT,
        ),
        ("other build time", |a, b, _| (a, a + b), OTHER),
        (
            "time saved by cache",
            |a, b, c| (a + b, a + b + c),
            SAVED.mix(0.5).to_rgba().into_rgb(),
        ),
    ] {
        chart
            .draw_series(bars(pick, color))?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

trait IntoRgb {
    fn into_rgb(self) -> RGBColor;
}

impl IntoRgb for RGBAColor {
    /// The colour blended on white, so bitmap and SVG show the same shade.
    fn into_rgb(self) -> RGBColor {
        let RGBAColor(r, g, b, a) = self;
        let mix = |c: u8| (f64::from(c) * a + 255.0 * (1.0 - a)).round() as u8;
        RGBColor(mix(r), mix(g), mix(b))
    }
}

/// The step rows of the heat map: the most often seen step keys, in first-seen order.
pub fn heatmap_steps(rows: &[TrendRow]) -> Vec<String> {
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for r in rows {
        for (k, _) in &r.cells {
            let n = seen.len();
            seen.entry(k.as_str()).or_insert((0, n)).0 += 1;
        }
    }
    let mut keys: Vec<(&str, (usize, usize))> = seen.into_iter().collect();
    keys.sort_by_key(|(_, (count, first))| (std::cmp::Reverse(*count), *first));
    keys.truncate(HEATMAP_STEPS);
    keys.sort_by_key(|(_, (_, first))| *first);
    keys.into_iter().map(|(k, _)| k.to_string()).collect()
}

/// Steps × builds: cached, rebuilt or failed.
pub fn heatmap(
    format: ImageFormat,
    project: &str,
    rows: &[TrendRow],
) -> Result<Vec<u8>, ChartError> {
    let steps = heatmap_steps(rows);
    let height = 160 + 22 * steps.len().max(1) as u32;
    encode!(format, (SIZE.0, height), |root| draw_heatmap(
        root, project, rows, &steps
    ))
}

fn draw_heatmap<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    project: &str,
    rows: &[TrendRow],
    steps: &[String],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (head, body) = root.split_vertically(70);
    head.draw(&Text::new(
        format!(
            "{project}: Dockerfile steps × builds ({} steps shown, the most frequent)",
            steps.len()
        ),
        (12, 8),
        (FONT, 20),
    ))?;
    let mut x = 12;
    for st in [StepStatus::Cached, StepStatus::Rebuilt, StepStatus::Error] {
        head.draw(&Rectangle::new(
            [(x, 42), (x + 12, 54)],
            status_color(st).filled(),
        ))?;
        head.draw(&Text::new(st.as_str(), (x + 17, 41), (FONT, 14)))?;
        x += 110;
    }
    let n = rows.len().max(1) as f64;
    let m = steps.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(380)
        .build_cartesian_2d(-0.5..n - 0.5, (0..m).into_segmented())?;
    let labels: Vec<String> = steps
        .iter()
        .rev()
        .map(|s| {
            let short: String = s.chars().take(52).collect();
            if s.chars().count() > 52 {
                format!("{short}…")
            } else {
                short
            }
        })
        .collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| slot_label(rows, *x))
        .y_labels(m)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style((FONT, 12))
        .draw()?;
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let index = &index;
    let cells = rows.iter().enumerate().flat_map(|(col, r)| {
        r.cells.iter().filter_map(move |(k, st)| {
            let row = m - 1 - *index.get(k.as_str())?;
            let color = match st {
                StepStatus::Cached | StepStatus::Rebuilt | StepStatus::Error => status_color(*st),
                _ => OTHER,
            };
            Some(Rectangle::new(
                [
                    (col as f64 - 0.5, SegmentValue::Exact(row)),
                    (col as f64 + 0.5, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            ))
        })
    });
    chart.draw_series(cells)?;
    root.present()?;
    Ok(())
}

/// Scenario counts per day, or per ISO week when the builds span more than 60 days.
pub fn scenario_buckets(rows: &[TrendRow]) -> (bool, BTreeMap<String, BTreeMap<String, u32>>) {
    let times: Vec<i64> = rows.iter().filter_map(|r| r.start_ms).collect();
    let span_days = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (b - a) / 86_400_000,
        _ => 0,
    };
    let weekly = span_days > 60;
    let mut out: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for r in rows {
        let bucket = r
            .start_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or_else(
                || "unknown".to_string(),
                |t| {
                    if weekly {
                        t.format("%G-W%V").to_string()
                    } else {
                        t.format("%Y-%m-%d").to_string()
                    }
                },
            );
        *out.entry(bucket)
            .or_default()
            .entry(r.scenario.clone())
            .or_default() += 1;
    }
    (weekly, out)
}

/// Colour of a scenario: from all cached (green) through changes to cold (red).
fn scenario_color(name: &str) -> RGBColor {
    match Scenario::ALL.into_iter().find(|s| s.as_str() == name) {
        Some(Scenario::NoChanges) => RGBColor(26, 127, 55),
        Some(Scenario::ApplicationCodeOnly) => RGBColor(116, 198, 130),
        Some(Scenario::DependenciesChanged) => RGBColor(219, 143, 0),
        Some(Scenario::BaseImageChanged) => RGBColor(130, 80, 223),
        Some(Scenario::OtherChange) => RGBColor(9, 105, 218),
        Some(Scenario::ColdBuild) => RGBColor(207, 34, 46),
        Some(Scenario::NoDockerBuild) | None => RGBColor(140, 149, 159),
    }
}

/// Scenario names in [`Scenario::ALL`] order (unknown names last).
fn scenario_order(name: &str) -> usize {
    Scenario::ALL
        .iter()
        .position(|s| s.as_str() == name)
        .unwrap_or(Scenario::ALL.len())
}

/// Stacked counts of each scenario per day or week.
pub fn scenarios(
    format: ImageFormat,
    project: &str,
    rows: &[TrendRow],
) -> Result<Vec<u8>, ChartError> {
    encode!(format, SIZE, |root| draw_scenarios(root, project, rows))
}

fn draw_scenarios<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    project: &str,
    rows: &[TrendRow],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (weekly, buckets) = scenario_buckets(rows);
    let mut names: Vec<String> = buckets.values().flat_map(|m| m.keys().cloned()).collect();
    names.sort_by_key(|n| (scenario_order(n), n.clone()));
    names.dedup();
    let labels: Vec<&String> = buckets.keys().collect();
    let n = labels.len().max(1) as f64;
    let top = buckets
        .values()
        .map(|m| m.values().sum::<u32>())
        .max()
        .unwrap_or(1)
        .max(1);
    let per = if weekly { "week" } else { "day" };
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{project}: build scenarios per {per}"), (FONT, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(56)
        // Headroom above the bars for the legend.
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..f64::from(top) * 1.5)?;
    chart
        .configure_mesh()
        .x_labels(10)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (i - x).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            labels
                .get(i as usize)
                .map_or(String::new(), |s| s.to_string())
        })
        .y_desc("builds")
        .y_label_formatter(&|y| {
            if y.fract().abs() < 1e-9 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .x_desc(if weekly { "ISO week" } else { "day (UTC)" })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    for (k, name) in names.iter().enumerate() {
        let color = scenario_color(name);
        let bars = buckets.values().enumerate().filter_map(|(i, counts)| {
            let below: u32 = names[..k].iter().filter_map(|n| counts.get(n)).sum();
            let here = *counts.get(name)?;
            Some(Rectangle::new(
                [
                    (i as f64 - 0.4, f64::from(below)),
                    (i as f64 + 0.4, f64::from(below + here)),
                ],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
