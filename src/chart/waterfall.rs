//! The build's steps as a waterfall: one row per step in log order, each bar starting where the
//! previous one ended, length = duration, colour = status. Cached steps (no duration) get a
//! thin mark so they stay visible; the cache-bust step is outlined and labelled.
//!
//! BuildKit's plain output gives durations, not start times, so the bars are laid end to end:
//! the x axis is "seconds of step work", an upper bound of wall time when stages ran in parallel.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ChartError, ImageFormat, FONT};
use crate::analyze::diagnose::Bust;
use crate::model::{Step, StepKind, StepStatus};

/// Rows beyond this are summarised in the title rather than drawn.
pub const MAX_ROWS: usize = 80;
const ROW_PX: u32 = 24;
const WIDTH: u32 = 1280;

pub fn status_color(status: StepStatus) -> RGBColor {
    match status {
        StepStatus::Cached => RGBColor(46, 160, 67),
        StepStatus::Rebuilt => RGBColor(219, 143, 0),
        StepStatus::Error => RGBColor(207, 34, 46),
        StepStatus::Canceled => RGBColor(130, 80, 223),
        StepStatus::Unfinished => RGBColor(140, 149, 159),
    }
}

/// The steps worth a row: Dockerfile steps and cache import/export and export steps.
pub fn chart_steps(steps: &[Step]) -> Vec<&Step> {
    steps
        .iter()
        .filter(|s| s.kind != StepKind::Internal && s.kind != StepKind::Other)
        .collect()
}

/// Encoded chart in the given format.
pub fn render(
    format: ImageFormat,
    steps: &[Step],
    bust: Option<&Bust>,
    title: &str,
) -> Result<Vec<u8>, ChartError> {
    let rows = chart_steps(steps).len().clamp(1, MAX_ROWS) as u32;
    let size = (WIDTH, 150 + rows * ROW_PX);
    match format {
        ImageFormat::Svg => super::svg(size, |root| draw(root, steps, bust, title)),
        ImageFormat::Png => super::png(size, |root| draw(root, steps, bust, title)),
    }
}

fn label(s: &Step) -> String {
    let inv = if s.invocation > 1 {
        format!("run {} ", s.invocation)
    } else {
        String::new()
    };
    let name: String = s.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = name.chars().take(54).collect();
    let more = if name.chars().count() > 54 { "…" } else { "" };
    format!("{inv}{} {short}{more}", s.step)
}

pub fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    steps: &[Step],
    bust: Option<&Bust>,
    title: &str,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (head, body) = root.split_vertically(64);
    let all = chart_steps(steps);
    let shown: Vec<&Step> = all.iter().take(MAX_ROWS).copied().collect();
    let hidden = all.len() - shown.len();
    // Sequential layout: each bar starts where the previous ended.
    let mut starts = Vec::with_capacity(shown.len());
    let mut t = 0.0;
    // Only finite durations take space (a corrupt log must not stretch the axis forever).
    let secs = |s: &Step| {
        s.duration_s
            .filter(|d| d.is_finite() && *d < 1e9)
            .unwrap_or(0.0)
    };
    for s in &shown {
        starts.push(t);
        t += secs(s);
    }
    let total = t.max(1.0);
    let mark = total / 250.0; // visible width for steps without a duration
    let title = if hidden > 0 {
        format!("{title} (first {MAX_ROWS} of {} steps)", all.len())
    } else {
        title.to_string()
    };
    let rows = shown.len().max(1);
    head.draw(&Text::new(title, (12, 8), (FONT, 20)))?;
    // Legend: one swatch per status.
    let mut x = 12;
    for st in StepStatus::ALL {
        head.draw(&Rectangle::new(
            [(x, 40), (x + 12, 52)],
            status_color(st).filled(),
        ))?;
        head.draw(&Text::new(st.as_str(), (x + 17, 39), (FONT, 14)))?;
        x += 120;
    }
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(430)
        .build_cartesian_2d(0.0..total * 1.04, (0..rows).into_segmented())?;
    // Row 0 is drawn at the top: the waterfall reads downwards in log order.
    let row = |i: usize| rows - 1 - i;
    let labels: Vec<String> = shown.iter().rev().map(|s| label(s)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_style((FONT, 13))
        .x_label_style((FONT, 13))
        .x_desc("seconds of step work (steps laid end to end in log order)")
        .axis_desc_style((FONT, 13))
        .draw()?;
    for (i, (s, start)) in shown.iter().zip(&starts).enumerate() {
        let len = secs(s).max(mark);
        let color = status_color(s.status);
        let bar = || {
            [
                (*start, SegmentValue::Exact(row(i))),
                (start + len, SegmentValue::Exact(row(i) + 1)),
            ]
        };
        chart.draw_series(std::iter::once(Rectangle::new(bar(), color.filled())))?;
        let is_bust = bust.is_some_and(|b| b.invocation == s.invocation && b.step == s.step);
        let text = match (is_bust, s.duration_s) {
            // Why it broke is the verdict's to say (a cold cache breaks at the first step too).
            (true, Some(d)) => format!("{d:.1}s  ← cache broke here"),
            (true, None) => "← cache broke here".to_string(),
            (false, Some(d)) if s.status != StepStatus::Cached => format!("{d:.1}s"),
            (false, _) => s.status.as_str().to_string(),
        };
        if is_bust {
            chart.draw_series(std::iter::once(Rectangle::new(
                bar(),
                BLACK.stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            text,
            (start + len + mark, SegmentValue::CenterOf(row(i))),
            (FONT, 12)
                .into_font()
                .color(&BLACK)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
        )))?;
    }
    root.present()?;
    Ok(())
}
