//! `cachescope trend` renderers: the terminal summary, the rows as JSON, and summary.md (worst
//! builds, biggest regressions, the steps that break the cache most often).

use std::collections::HashMap;

use comfy_table::{presets, ContentArrangement, Table};

use super::build::{md, md_code, md_table, pct, utc};
use super::printable;
use crate::analyze::trend::{ProjectOverview, TrendRow};

fn secs(s: Option<f64>) -> String {
    s.map_or("n/a".into(), |s| format!("{s:.0}s"))
}

fn when(r: &TrendRow) -> String {
    r.start_ms.map_or("?".into(), utc)
}

/// `#412` for a CodeBuild build, the file name for a local log.
fn name(r: &TrendRow) -> String {
    match r.number {
        Some(n) => format!("#{n}"),
        None => std::path::Path::new(&r.source)
            .file_name()
            .map_or_else(|| r.key.clone(), |f| f.to_string_lossy().into_owned()),
    }
}

/// Headline figures over all rows.
fn overview(rows: &[TrendRow]) -> Vec<(String, String)> {
    let ratios: Vec<f64> = rows.iter().filter_map(|r| r.hit_ratio).collect();
    let mean = (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
    let saved: f64 = rows.iter().map(|r| r.time_saved_s).sum();
    let rebuilt: f64 = rows.iter().map(|r| r.rebuilt_s).sum();
    let first = rows.first().map_or("-".into(), when);
    let last = rows.last().map_or("-".into(), when);
    vec![
        (
            "builds".into(),
            format!("{} ({first} → {last})", rows.len()),
        ),
        ("mean hit_ratio".into(), pct(mean)),
        (
            "latest hit_ratio".into(),
            pct(rows.last().and_then(|r| r.hit_ratio)),
        ),
        (
            "regressions".into(),
            rows.iter().filter(|r| r.regression).count().to_string(),
        ),
        ("time saved by cache (sum)".into(), format!("{saved:.0}s")),
        (
            "builds per cause".into(),
            crate::analyze::trend::causes(rows)
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "time in rebuilt steps (sum)".into(),
            format!("{rebuilt:.0}s"),
        ),
    ]
}

/// The steps that broke the cache most often, with their count, most frequent first.
pub fn top_busts(rows: &[TrendRow], n: usize) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        if let Some(s) = &r.cache_bust_key {
            *counts.entry(s.as_str()).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, c)| (k.to_string(), c))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// The terminal view: overview and the last builds.
pub fn table(project: &str, rows: &[TrendRow]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![printable(&format!("trend: {project}")), String::new()]);
    for (k, v) in overview(rows) {
        t.add_row(vec![printable(&k), printable(&v)]);
    }
    let mut out = t.to_string();
    out.push('\n');
    let mut b = Table::new();
    b.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    b.set_header(vec![
        "build",
        "started",
        "status",
        "hit_ratio",
        "duration",
        "saved",
        "scenario",
        "cause",
        "regression",
    ]);
    for r in rows.iter().rev().take(20) {
        let cells = [
            name(r),
            when(r),
            r.status.map_or(String::new(), |s| s.as_str().to_string()),
            pct(r.hit_ratio),
            secs(r.duration_s),
            format!("{:.0}s", r.time_saved_s),
            r.scenario.clone(),
            r.cause.clone().unwrap_or_default(),
            r.regression_reason.clone().unwrap_or_default(),
        ];
        b.add_row(cells.iter().map(|c| printable(c)).collect::<Vec<_>>());
    }
    out.push_str(&b.to_string());
    out.push('\n');
    out
}

/// The account overview in the terminal, worst projects first.
pub fn overview_table(projects: &[ProjectOverview]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(OVERVIEW_HEADER);
    for p in projects {
        t.add_row(
            overview_cells(p)
                .iter()
                .map(|c| printable(c))
                .collect::<Vec<_>>(),
        );
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}

const OVERVIEW_HEADER: [&str; 6] = [
    "project",
    "builds",
    "median hit_ratio",
    "rebuilt (step time)",
    "regressions",
    "most frequent miss cause",
];

fn overview_cells(p: &ProjectOverview) -> [String; 6] {
    [
        p.project.clone(),
        p.builds.to_string(),
        pct(p.median_hit_ratio),
        format!("{:.1} min", p.rebuilt_minutes),
        p.regressions.to_string(),
        p.top_cause.clone().unwrap_or_default(),
    ]
}

/// overview.md: the account overview, worst projects first, each naming its own summary.
pub fn overview_markdown(projects: &[ProjectOverview], dirs: &[(String, String)]) -> Vec<u8> {
    let mut out = String::from("# Docker build cache: every project, worst first\n\n");
    let rows: Vec<Vec<String>> = projects
        .iter()
        .map(|p| {
            let mut cells = overview_cells(p).to_vec();
            if let Some((_, dir)) = dirs.iter().find(|(name, _)| *name == p.project) {
                cells.push(format!("`{dir}/summary.md`"));
            }
            cells
        })
        .collect();
    let mut header = OVERVIEW_HEADER.to_vec();
    header.push("details");
    out.push_str(&md_table(&header, &rows));
    out.into_bytes()
}

/// Several projects' rows as one JSON array, each row with its `project`.
pub fn json_by_project(projects: &[(String, Vec<TrendRow>)]) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = (projects.iter())
        .flat_map(|(project, rows)| rows.iter().map(move |r| (project, r)))
        .map(|(project, r)| {
            let mut v = serde_json::to_value(r).expect("trend rows always serialize");
            v["project"] = project.as_str().into();
            v
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&rows).expect("JSON values always serialize");
    out.push(b'\n');
    out
}

/// The rows as one JSON array.
pub fn json(rows: &[TrendRow]) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(rows).expect("trend rows always serialize");
    out.push(b'\n');
    out
}

/// summary.md: overview, worst builds, regressions, the steps that break the cache most often.
pub fn markdown(project: &str, rows: &[TrendRow]) -> Vec<u8> {
    let mut out = format!(
        "# Docker build cache trend: {}\n\n| | |\n|---|---|\n",
        md(project)
    );
    for (k, v) in overview(rows) {
        out.push_str(&format!("| {} | {} |\n", md(&k), md(&v)));
    }
    out.push_str("\n## Worst builds (lowest hit ratio)\n\n| build | started | hit_ratio | duration | cache broke at | cause |\n|---|---|---|---|---|---|\n");
    let mut worst: Vec<&TrendRow> = rows.iter().filter(|r| r.hit_ratio.is_some()).collect();
    worst.sort_by(|a, b| {
        a.hit_ratio
            .partial_cmp(&b.hit_ratio)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for r in worst.iter().take(10) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md(&name(r)),
            when(r),
            pct(r.hit_ratio),
            secs(r.duration_s),
            md(r.cache_bust_step.as_deref().unwrap_or("")),
            md(r.cause
                .as_deref()
                .or(r.cache_bust_cause.as_deref())
                .unwrap_or("")),
        ));
    }
    out.push_str("\n## Builds per cause\n\n| cause | builds |\n|---|---|\n");
    for (cause, n) in crate::analyze::trend::causes(rows) {
        out.push_str(&format!(
            "| {} | {n} |\n",
            md_code(&cause).replace('|', "\\|")
        ));
    }
    out.push_str("\n## Biggest regressions\n\n");
    let mut regressions: Vec<&TrendRow> = rows.iter().filter(|r| r.regression).collect();
    regressions.sort_by(|a, b| b.regression_size.total_cmp(&a.regression_size));
    if regressions.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| build | started | hit_ratio | duration | why |\n|---|---|---|---|---|\n");
        for r in regressions.iter().take(20) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&name(r)),
                when(r),
                pct(r.hit_ratio),
                secs(r.duration_s),
                md(r.regression_reason.as_deref().unwrap_or("")),
            ));
        }
    }
    out.push_str("\n## Steps that break the cache most often\n\n");
    let busts = top_busts(rows, 10);
    if busts.is_empty() {
        out.push_str("None: no build broke its cache.\n");
    } else {
        out.push_str("| step | builds |\n|---|---|\n");
        for (step, n) in busts {
            out.push_str(&format!(
                "| {} | {n} |\n",
                md_code(&step).replace('|', "\\|")
            ));
        }
    }
    out.into_bytes()
}
