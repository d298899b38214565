//! `cachescope build` renderers: the terminal view, one JSON document, Markdown for a PR or
//! ticket, and CSV / Parquet of a chosen frame. Each returns bytes.

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use polars::prelude::*;
use polars_io::prelude::{CsvWriter, ParquetWriter, SerWriter};
use serde::Serialize;

use super::{csv_text, printable};

use crate::analyze::baseline::Comparison;
use crate::analyze::diagnose::{Bust, Finding, Health, Severity};
use crate::analyze::gates::GateResult;
use crate::analyze::history::History;
use crate::analyze::summary::{RunSummary, StatusCounts};
use crate::analyze::verdict::{human_secs, CacheCost, Cause, ImportOutcome, Verdict};
use crate::analyze::Summary;
use crate::model::{BuildMeta, Phase, Step};

/// A ratio as a whole percentage, `n/a` when there is none.
pub fn pct(r: Option<f64>) -> String {
    r.map_or("n/a".into(), |r| format!("{:.0}%", r * 100.0))
}

pub fn secs(s: Option<f64>) -> String {
    s.map_or("n/a".into(), |s| format!("{s:.1}s"))
}

fn bust_text(b: Option<&Bust>) -> String {
    b.map_or("none (nothing rebuilt after a cache hit)".into(), |b| {
        format!(
            "{} {}",
            b.step,
            b.name.split_whitespace().collect::<Vec<_>>().join(" "),
        )
    })
}

/// A UTC time from milliseconds since the epoch.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// `tts-service-build #412 SUCCEEDED — 2026-11-24 02:06:40 UTC, 302.8s, commit 9f3c2b1a7d6e`.
fn build_text(b: &BuildMeta) -> String {
    let mut out = b.project.clone();
    if let Some(n) = b.number {
        out.push_str(&format!(" #{n}"));
    }
    if let Some(s) = b.status {
        out.push_str(&format!(" {}", s.as_str()));
    }
    let mut facts = Vec::new();
    if let Some(start) = b.start_ms {
        facts.push(utc(start));
    }
    if let (Some(start), Some(end)) = (b.start_ms, b.end_ms) {
        facts.push(format!("{:.1}s", (end - start) as f64 / 1000.0));
    }
    if let Some(v) = &b.source_version {
        facts.push(format!("commit {}", v.chars().take(12).collect::<String>()));
    }
    if !facts.is_empty() {
        out.push_str(&format!(" — {}", facts.join(", ")));
    }
    out
}

/// The import's outcome in words that do not reassure when the cache did not work: the
/// registry was *reached*; whether it served anything is the verdict's to say.
fn import_text(sum: &Summary) -> String {
    let from = sum
        .health
        .cache_import_ref
        .as_deref()
        .map_or(String::new(), |r| format!(" ({r})"));
    match sum.health.cache_import {
        ImportOutcome::Absent => "none in the log".into(),
        ImportOutcome::Failed => format!("failed{from}"),
        ImportOutcome::Reached => {
            let effect = match sum.verdict.cause {
                Cause::ImportIneffective => "but served nothing",
                Cause::MinModeMultistage => "but served the final stage only",
                // Hits may come from the host's own cache too: say what hit, not who served it.
                Cause::AllCached => "and every step hit",
                _ if sum.dockerfile_cached > 0 => "and some steps hit",
                _ => "but served nothing",
            };
            format!("reached{from}, {effect}")
        }
    }
}

/// `12.3s: import 2.0s, export 8.1s, …; saved 9m 40s against the baseline`.
pub fn cost_text(c: &CacheCost) -> String {
    let mut parts = Vec::new();
    for (what, s) in [
        ("import", c.import_s),
        ("export", c.export_s),
        ("builder boot", c.builder_boot_s),
        ("sending tarball", c.sending_tarball_s),
    ] {
        if s > 0.0 {
            parts.push(format!("{what} {}", human_secs(s)));
        }
    }
    let mut out = if parts.is_empty() {
        "none in the log".to_string()
    } else {
        format!("{}: {}", human_secs(c.total_s), parts.join(", "))
    };
    if let Some(saved) = c.saved_s {
        out.push_str(&format!(
            "; saved {} against the baseline",
            human_secs(saved)
        ));
    }
    out
}

/// The verdict as plain lines: why, evidence with line numbers, fix (terminal and stderr).
pub fn verdict_text(v: &Verdict) -> String {
    let mut out = format!(
        "{}\n  why: {}\n",
        printable(&v.headline()),
        printable(&v.detail)
    );
    if !v.alternatives.is_empty() {
        let alt: Vec<&str> = v.alternatives.iter().map(|c| c.id()).collect();
        out.push_str(&format!("  or else: {}\n", alt.join(", ")));
    }
    if !v.secondary.is_empty() {
        let also: Vec<&str> = v.secondary.iter().map(|c| c.id()).collect();
        out.push_str(&format!("  also: {}\n", also.join(", ")));
    }
    for q in &v.evidence {
        out.push_str(&format!("  line {}: {}\n", q.line, printable(&q.text)));
    }
    out.push_str(&format!("  fix: {}\n", v.fix));
    out
}

/// The headline facts as (label, value) rows, shared by the table and Markdown views.
pub fn headline(sum: &Summary) -> Vec<(&'static str, String)> {
    let c = &sum.counts;
    let mut rows = vec![("verdict", sum.verdict.headline())];
    rows.push(("source", sum.source.clone()));
    if let Some(b) = &sum.build {
        rows.push(("build", build_text(b)));
    }
    rows.extend([
        ("scenario", sum.scenario.as_str().to_string()),
        (
            "hit_ratio (Dockerfile steps, FROM excluded)",
            format!(
                "{} ({} of {})",
                pct(sum.hit_ratio),
                sum.dockerfile_cached,
                sum.dockerfile_finished
            ),
        ),
        ("hit_ratio_all (all finished steps)", pct(sum.hit_ratio_all)),
        (
            "steps",
            format!(
                "{} — {} cached, {} rebuilt, {} error, {} canceled, {} unfinished",
                sum.steps, c.cached, c.rebuilt, c.error, c.canceled, c.unfinished
            ),
        ),
        (
            "rebuilt time (Dockerfile steps)",
            format!("{:.1}s", sum.rebuilt_s),
        ),
        ("docker build time", secs(sum.docker_build_s)),
        ("cache broke at", bust_text(sum.cache_bust.as_ref())),
        ("builder", sum.health.builder.as_str().to_string()),
        ("cache import", import_text(sum)),
        ("cache cost (step time)", cost_text(&sum.cache_cost)),
    ]);
    let flag = |v: Option<bool>| {
        v.map_or("unknown (no build command in the log)".into(), |b| {
            if b {
                "yes".into()
            } else {
                "no".to_string()
            }
        })
    };
    rows.push(("--cache-from", flag(sum.health.cache_from)));
    rows.push(("BUILDKIT_INLINE_CACHE", flag(sum.health.inline_cache)));
    if sum.invocations > 1 {
        for r in &sum.runs {
            rows.push((
                "run",
                format!(
                    "#{}: {} steps, hit_ratio {}, {}",
                    r.invocation,
                    r.steps,
                    pct(r.hit_ratio),
                    secs(r.docker_build_s)
                ),
            ));
        }
    }
    for p in &sum.phases {
        rows.push((
            "phase",
            format!("{} {} {}", p.phase, p.state, secs(p.duration_s)),
        ));
    }
    if let Some(b) = &sum.baseline {
        rows.push(("time saved vs baseline", format!("{:.1}s", b.time_saved_s)));
        rows.push((
            "now rebuilt (cached in baseline)",
            b.now_rebuilt.len().to_string(),
        ));
        rows.push((
            "now cached (rebuilt in baseline)",
            b.now_cached.len().to_string(),
        ));
    }
    rows
}

/// The terminal view: headline, verdict, findings, then the steps table. `width`: the
/// terminal's columns to fit in (`None` when piped: full width).
pub fn table(sum: &Summary, steps: &[Step], color: bool, width: Option<u16>) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    super::steps::fit(&mut t, width);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for (k, v) in headline(sum) {
        t.add_row(vec![Cell::new(k), Cell::new(printable(&v))]);
    }
    let mut out = t.to_string();
    out.push('\n');
    let mut why = Table::new();
    why.load_style(presets::NOTHING);
    super::steps::fit(&mut why, width);
    why.force_no_tty();
    for line in verdict_text(&sum.verdict).lines() {
        why.add_row(vec![line]);
    }
    out.push_str(&why.to_string());
    out.push('\n');
    for f in &sum.findings {
        let mut line = Table::new();
        line.load_style(presets::NOTHING);
        super::steps::fit(&mut line, width);
        if color {
            line.enforce_styling();
        } else {
            line.force_no_tty();
        }
        let sev = Cell::new(f.severity.as_str()).fg(match f.severity {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Cyan,
        });
        let fix = f
            .fix
            .as_deref()
            .map(|x| format!("\n  fix: {}", printable(x)))
            .unwrap_or_default();
        line.add_row(vec![
            sev,
            Cell::new(format!("{}{fix}", printable(&f.message))),
        ]);
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out.push_str(&super::steps::table(steps, color, width));
    out
}

/// One JSON document: summary, steps, phases, diagnosis (and the baseline comparison).
/// Serialized straight from borrowed fields: no intermediate JSON tree for a large build.
pub fn json(sum: &Summary, steps: &[Step]) -> Vec<u8> {
    json_with(sum, steps, None, &[])
}

/// [`json`] with the in-build report's extras: the comparison with earlier builds (`compare`)
/// and the gates' verdicts (`gates`), each left out when absent.
pub fn json_with(
    sum: &Summary,
    steps: &[Step],
    compare: Option<&History>,
    gates: &[GateResult],
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Doc<'a> {
        source: &'a str,
        summary: Head<'a>,
        steps: &'a [Step],
        phases: &'a [Phase],
        diagnosis: Diagnosis<'a>,
        baseline: &'a Option<Comparison>,
        #[serde(skip_serializing_if = "Option::is_none")]
        compare: Option<&'a History>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        gates: &'a [GateResult],
    }
    #[derive(Serialize)]
    struct Head<'a> {
        build: &'a Option<BuildMeta>,
        scenario: &'a str,
        invocations: u32,
        steps: u32,
        counts: &'a StatusCounts,
        dockerfile_steps: u32,
        dockerfile_cached: u32,
        hit_ratio: Option<f64>,
        hit_ratio_all: Option<f64>,
        rebuilt_s: f64,
        docker_build_s: Option<f64>,
        runs: &'a [RunSummary],
    }
    #[derive(Serialize)]
    struct Diagnosis<'a> {
        cache_bust: &'a Option<Bust>,
        stage_busts: &'a [Bust],
        health: &'a Health,
        verdict: &'a Verdict,
        cache_cost: &'a CacheCost,
        findings: &'a [Finding],
    }
    let doc = Doc {
        source: &sum.source,
        summary: Head {
            build: &sum.build,
            scenario: sum.scenario.as_str(),
            invocations: sum.invocations,
            steps: sum.steps,
            counts: &sum.counts,
            dockerfile_steps: sum.dockerfile_steps,
            dockerfile_cached: sum.dockerfile_cached,
            hit_ratio: sum.hit_ratio,
            hit_ratio_all: sum.hit_ratio_all,
            rebuilt_s: sum.rebuilt_s,
            docker_build_s: sum.docker_build_s,
            runs: &sum.runs,
        },
        steps,
        phases: &sum.phases,
        diagnosis: Diagnosis {
            cache_bust: &sum.cache_bust,
            stage_busts: &sum.stage_busts,
            health: &sum.health,
            verdict: &sum.verdict,
            cache_cost: &sum.cache_cost,
            findings: &sum.findings,
        },
        baseline: &sum.baseline,
        compare,
        gates,
    };
    let mut out = serde_json::to_vec_pretty(&doc).expect("the report always serializes");
    out.push(b'\n');
    out
}

/// Any text in Markdown, ours or the log's, as prose that renders as the same text (see
/// [`md_prose`]): one escape for every Markdown output, so no log line can add a link, an
/// image, HTML or a mention to a pull-request comment.
pub fn md(text: &str) -> String {
    md_prose(text)
}

/// A table whose cells are prose ([`md`]) or code spans made by [`md_code`] (kept, with
/// their pipes escaped for the table).
pub fn md_table(header: &[&str], rows: &[Vec<String>]) -> String {
    md_table_with(header, rows, md_cell)
}

fn md_cell(cell: &str) -> String {
    let code = cell.len() >= 2 && cell.starts_with('`') && cell.ends_with('`');
    if code {
        cell.replace('|', "\\|")
    } else {
        md(cell)
    }
}

/// [`md_table`] with the cells escaped by `escape`.
fn md_table_with(header: &[&str], rows: &[Vec<String>], escape: fn(&str) -> String) -> String {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.force_no_tty();
    t.set_header(header.iter().map(|h| md(h)).collect::<Vec<_>>());
    for r in rows {
        t.add_row(r.iter().map(|c| escape(c)).collect::<Vec<_>>());
    }
    t.to_string()
}

/// The headline as a Markdown table, and a blank line. Its values carry log text (the source,
/// step names, the import's image): escaped as prose, so none of it renders as markup.
pub fn md_headline(sum: &Summary) -> String {
    let rows: Vec<Vec<String>> = headline(sum)
        .into_iter()
        .map(|(k, v)| vec![md(k), md_prose(&v)])
        .collect();
    format!(
        "{}\n\n",
        md_table_with(&["", "value"], &rows, str::to_owned)
    )
}

/// Log text as an inline code span that no backtick in it can close (outside tables: a pipe
/// needs no escape there). Inside a code span nothing renders: no link, image, HTML or mention.
pub fn md_code(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("`{}`", collapsed.replace('`', "'"))
}

/// Text that mixes our words with the log's, as Markdown prose that renders as the same text:
/// punctuation that could start a link, image, HTML, emphasis, heading or autolink is
/// backslash-escaped, and `@` is followed by a word joiner so it mentions nobody.
pub fn md_prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let mut rest = word;
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '#' | '|' | '~' | '&' => {
                    out.push('\\');
                    out.push(c);
                }
                '@' => out.push_str("@\u{2060}"),
                // Autolinks: `https://…` and `www.…`.
                ':' if rest.starts_with("//") => out.push_str("\\:"),
                '.' if out.ends_with("www") => out.push_str("\\."),
                c => out.push(c),
            }
        }
    }
    out
}

/// The verdict section: why, the evidence lines, the fix.
pub fn md_verdict(v: &Verdict) -> String {
    let mut out = format!(
        "### Why: {}\n\n{}\n\n",
        md_prose(&v.headline()),
        md_prose(&v.detail)
    );
    if !v.alternatives.is_empty() {
        let alt: Vec<String> = v.alternatives.iter().map(|c| md_code(c.id())).collect();
        out.push_str(&format!(
            "Other causes that leave the same lines: {}\n\n",
            alt.join(", ")
        ));
    }
    if !v.secondary.is_empty() {
        let also: Vec<String> = v.secondary.iter().map(|c| md_code(c.id())).collect();
        out.push_str(&format!("Also seen: {}\n\n", also.join(", ")));
    }
    if !v.evidence.is_empty() {
        out.push_str("Evidence:\n\n");
        for q in &v.evidence {
            out.push_str(&format!("- line {}: {}\n", q.line, md_code(&q.text)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "**Fix** ({}): {}\n\n",
        md_code(v.cause.id()),
        md(v.fix)
    ));
    out
}

/// The findings section with their fixes (empty without findings).
pub fn md_findings(sum: &Summary) -> String {
    if sum.findings.is_empty() {
        return String::new();
    }
    let mut out = "### Findings\n\n".to_string();
    for f in &sum.findings {
        out.push_str(&format!(
            "- **{}**: {}",
            f.severity.as_str(),
            md(&f.message)
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!(" — fix: {}", md(fix)));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// For a PR comment or a ticket.
pub fn markdown(sum: &Summary, steps: &[Step]) -> Vec<u8> {
    let mut out = format!(
        "## Docker build cache: {} — hit_ratio {}\n\n",
        sum.scenario.as_str(),
        pct(sum.hit_ratio)
    );
    out.push_str(&md_headline(sum));
    out.push_str(&md_verdict(&sum.verdict));
    out.push_str(&md_findings(sum));
    out.push_str("### Steps\n\n");
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|s| {
            vec![
                s.invocation.to_string(),
                s.step.clone(),
                s.status.as_str().to_string(),
                s.duration_s.map(|d| format!("{d:.1}s")).unwrap_or_default(),
                md_code(&s.name),
            ]
        })
        .collect();
    out.push_str(&md_table(
        &["run", "step", "status", "duration", "name"],
        &rows,
    ));
    out.push('\n');
    out.into_bytes()
}

/// A frame as CSV, its text cells made safe for spreadsheets ([`csv_text`]).
pub fn csv(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut safe = frame.clone();
    for name in frame.get_column_names_owned() {
        let column = frame.column(&name)?;
        if column.dtype() == &DataType::String {
            let cells: StringChunked = (column.str()?.iter())
                .map(|v| v.map(|v| csv_text(v).into_owned()))
                .collect();
            safe.with_column(cells.with_name(name).into_column())?;
        }
    }
    let mut out = Vec::new();
    CsvWriter::new(&mut out)
        .include_header(true)
        .finish(&mut safe)?;
    Ok(out)
}

pub fn parquet(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(frame)?;
    Ok(out)
}
