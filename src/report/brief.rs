//! `report.md`: the in-build report, short enough for a pull-request comment or a chat message:
//! the headline, the gates, what changed since the previous build, the findings, and only the
//! steps that were not cached (cached ones are counted, not listed). The comparison's wording is
//! shared with the HTML page.

use super::build::{md, md_code, md_findings, md_headline, md_table, md_verdict, pct, secs};
use crate::analyze::gates::GateResult;
use crate::analyze::history::History;
use crate::analyze::Summary;
use crate::model::{Step, StepStatus};

/// Steps listed at most, so the report fits a pull-request comment (GitHub takes 65,536
/// characters).
const MAX_ROWS: usize = 30;

/// `+12.0s`, `-3.5s`.
fn signed_secs(d: f64) -> String {
    format!("{d:+.1}s")
}

/// The comparison in a few sentences, most telling first.
pub fn compare_lines(h: &History, sum: &Summary) -> Vec<String> {
    let prev = h.previous_name();
    let n = h.earlier.len();
    let median = |what: String| {
        if n > 1 {
            format!("; median of the {n} earlier builds {what}")
        } else {
            String::new()
        }
    };
    let change = h.hit_ratio_change.map_or(String::new(), |c| {
        format!(" ({:+.0} points vs {prev})", c * 100.0)
    });
    let mut lines = vec![format!(
        "hit ratio {}{change}{}",
        pct(sum.hit_ratio),
        median(pct(h.median_hit_ratio))
    )];
    let change = h.docker_build_change_s.map_or(String::new(), |c| {
        format!(" ({} vs {prev})", signed_secs(c))
    });
    lines.push(format!(
        "docker build {}{change}{}",
        secs(sum.docker_build_s),
        median(secs(h.median_docker_build_s))
    ));
    lines.push(format!(
        "{} step(s) cached in {prev} were rebuilt now; {} rebuilt in {prev} were cached now",
        h.previous.now_rebuilt.len(),
        h.previous.now_cached.len()
    ));
    lines
}

pub fn markdown(
    title: &str,
    sum: &Summary,
    steps: &[Step],
    gates: &[GateResult],
    history: Option<&History>,
) -> Vec<u8> {
    let mut out = format!(
        "## Docker build cache: {} — hit_ratio {}\n\n{}\n\n",
        sum.scenario.as_str(),
        pct(sum.hit_ratio),
        md(title)
    );
    out.push_str(&md_headline(sum));
    out.push_str(&md_verdict(&sum.verdict));
    if !gates.is_empty() {
        out.push_str("### Gates\n\n");
        for g in gates {
            let verdict = if g.passed { "passed" } else { "**FAILED**" };
            out.push_str(&format!("- {}: {verdict} — {}\n", g.gate, md(&g.message)));
        }
        out.push('\n');
    }
    if let Some(h) = history {
        out.push_str(&format!(
            "### Compared with build {}\n\n",
            h.previous_name()
        ));
        for line in compare_lines(h, sum) {
            out.push_str(&format!("- {}\n", md(&line)));
        }
        for f in h.previous.now_rebuilt.iter().take(MAX_ROWS) {
            let took = f.rebuilt_s.map_or(String::new(), |s| format!(" ({s:.1}s)"));
            let name = f.name.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!("  - now rebuilt: {}{took}\n", md_code(&name)));
        }
        if h.previous.now_rebuilt.len() > MAX_ROWS {
            let more = h.previous.now_rebuilt.len() - MAX_ROWS;
            out.push_str(&format!("  - … and {more} more\n"));
        }
        out.push('\n');
    }
    out.push_str(&md_findings(sum));
    // The steps hit_ratio counts (Dockerfile steps, FROM excluded) that were not cached, and any
    // failed step; BuildKit's internal steps are noise here.
    let counted = steps
        .iter()
        .filter(|s| s.is_cacheable_instruction())
        .count();
    let shown: Vec<&Step> = steps
        .iter()
        .filter(|s| {
            s.status == StepStatus::Error
                || (s.is_cacheable_instruction() && s.status != StepStatus::Cached)
        })
        .collect();
    out.push_str(&format!(
        "### Steps not cached ({} of {counted} Dockerfile steps, FROM excluded; the HTML report \
         lists every step)\n\n",
        shown.len(),
    ));
    let more = shown.len().saturating_sub(MAX_ROWS);
    let shown = slowest(shown, MAX_ROWS);
    if !shown.is_empty() {
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|s| {
                vec![
                    s.step.clone(),
                    s.status.as_str().to_string(),
                    s.duration_s.map(|d| format!("{d:.1}s")).unwrap_or_default(),
                    md_code(&s.name),
                ]
            })
            .collect();
        out.push_str(&md_table(&["step", "status", "duration", "name"], &rows));
        out.push('\n');
    }
    if more > 0 {
        out.push_str(&format!(
            "\n… and {more} more (listed: the failed ones first, then the slowest)\n"
        ));
    }
    out.into_bytes()
}

/// At most `n` steps, failed ones first, then the slowest; in log order.
fn slowest(mut steps: Vec<&Step>, n: usize) -> Vec<&Step> {
    if steps.len() > n {
        let not_failed = |s: &Step| s.status != StepStatus::Error;
        let secs = |s: &Step| s.duration_s.unwrap_or(0.0);
        steps.sort_by(|a, b| {
            not_failed(a)
                .cmp(&not_failed(b))
                .then(secs(b).total_cmp(&secs(a)))
        });
        steps.truncate(n);
        steps.sort_by_key(|s| (s.invocation, s.line));
    }
    steps
}
