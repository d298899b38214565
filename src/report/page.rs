//! The in-build report's HTML page and JUnit XML, rendered from templates by a templating
//! engine that escapes every value (HTML and XML alike): step names, error lines and commands
//! come from the log, so nothing from it may reach the page unescaped. The waterfall chart is
//! the one trusted piece — plotters writes it and escapes its own text — inlined as SVG so the
//! page needs no other file and makes no request.

use minijinja::value::Serde;
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::brief::compare_lines;
use super::build::{headline, pct, secs};
use crate::analyze::gates::GateResult;
use crate::analyze::history::History;
use crate::analyze::Summary;
use crate::model::{Step, StepStatus};

const HTML: &str = include_str!("templates/report.html");
const JUNIT: &str = include_str!("templates/junit.xml");

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // The names end in .html and .xml: the default callback escapes both.
    env.add_template("report.html", HTML)
        .expect("the bundled template parses");
    env.add_template("junit.xml", JUNIT)
        .expect("the bundled template parses");
    env
}

#[derive(Serialize)]
struct StepRow<'a> {
    invocation: u32,
    step: &'a str,
    status: &'static str,
    duration: String,
    name: &'a str,
    error: Option<&'a str>,
}

/// The comparison with earlier builds as the page shows it.
fn compare_context(h: &History, sum: &Summary) -> Value {
    let now_rebuilt: Vec<Value> = (h.previous.now_rebuilt.iter())
        .map(|f| context! { name => f.name.clone(), took => secs(f.rebuilt_s) })
        .collect();
    let earlier: Vec<Value> = (h.earlier.iter())
        .map(|e| {
            context! {
                name => e.number.map_or_else(|| e.build.clone(), |n| format!("#{n} ({})", e.build)),
                status => e.status.map_or("", |s| s.as_str()),
                hit_ratio => pct(e.hit_ratio),
                docker_build => secs(e.docker_build_s),
            }
        })
        .collect();
    context! {
        previous => h.previous_name(),
        lines => compare_lines(h, sum),
        now_rebuilt,
        earlier,
    }
}

/// The self-contained page: summary, gates, the comparison with earlier builds, diagnosis,
/// the timeline (`chart_svg`), the steps.
pub fn html(
    title: &str,
    sum: &Summary,
    steps: &[Step],
    gates: &[GateResult],
    history: Option<&History>,
    chart_svg: &str,
) -> Result<Vec<u8>, minijinja::Error> {
    let rows: Vec<StepRow> = steps
        .iter()
        .map(|s| StepRow {
            invocation: s.invocation,
            step: &s.step,
            status: s.status.as_str(),
            duration: s.duration_s.map_or(String::new(), |d| format!("{d:.1}s")),
            name: &s.name,
            error: s.error.as_deref(),
        })
        .collect();
    // The SVG document's own XML declaration has no place inside HTML.
    let svg = chart_svg
        .find("<svg")
        .map_or(chart_svg, |i| &chart_svg[i..]);
    let env = environment();
    let page = env.get_template("report.html")?.render(context! {
        title,
        scenario => sum.scenario.as_str(),
        hit_ratio => pct(sum.hit_ratio),
        gates => Value::from(Serde(gates)),
        failed => gates.iter().any(|g| !g.passed),
        headline => Value::from(Serde(headline(sum))),
        findings => Value::from(Serde(&sum.findings)),
        verdict => Value::from(Serde(&sum.verdict)),
        verdict_headline => sum.verdict.headline(),
        compare => history.map(|h| compare_context(h, sum)),
        chart => Value::from_safe_string(svg.to_string()),
        steps => Value::from(Serde(&rows)),
        version => env!("CARGO_PKG_VERSION"),
    })?;
    Ok(page.into_bytes())
}

#[derive(Serialize)]
struct Case {
    classname: String,
    name: String,
    time: String,
    failure: Option<String>,
    kind: &'static str,
    skipped: bool,
    output: Option<String>,
}

/// JUnit XML for CodeBuild report groups: a test case per Dockerfile step (its duration; a
/// failed step fails, a canceled or unfinished one is skipped), and one per gate (a failed gate
/// fails). Valid under the strict Ant conventions (tests/data/junit/junit.xsd): the suite's
/// timestamp is when the report was written, in UTC without a zone.
pub fn junit(
    title: &str,
    steps: &[Step],
    gates: &[GateResult],
    verdict: &crate::analyze::verdict::Verdict,
) -> Result<Vec<u8>, minijinja::Error> {
    // Seconds as JUnit consumers read them: never negative, `-0.000` or `NaN`.
    // JUnit's `time` is a decimal: a sum that overflowed is not one.
    let seconds = |d: f64| format!("{:.3}", if d.is_finite() { d.max(0.0) } else { 0.0 } + 0.0);
    let steps: Vec<&Step> = steps
        .iter()
        .filter(|s| s.is_cacheable_instruction() || s.status == StepStatus::Error)
        .collect();
    let mut cases: Vec<Case> = steps
        .iter()
        .map(|s| Case {
            classname: format!("docker-build.run{}", s.invocation),
            name: format!("{} {}", s.step, s.name),
            time: seconds(s.duration_s.unwrap_or(0.0)),
            failure: (s.status == StepStatus::Error)
                .then(|| s.error.clone().unwrap_or_else(|| "the step failed".into())),
            kind: "step-failed",
            skipped: matches!(s.status, StepStatus::Canceled | StepStatus::Unfinished),
            output: Some(s.status.as_str().to_string()),
        })
        .collect();
    cases.extend(gates.iter().map(|g| Case {
        classname: "cachescope.gates".into(),
        name: g.gate.to_string(),
        time: seconds(0.0),
        failure: (!g.passed).then(|| g.message.clone()),
        kind: "gate-failed",
        skipped: false,
        output: Some(g.message.clone()),
    }));
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped).count();
    let time = steps
        .iter()
        .filter_map(|s| s.duration_s)
        .fold(0.0, |a, d| a + d.max(0.0));
    let timestamp = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let xml = environment().get_template("junit.xml")?.render(context! {
        title,
        tests => cases.len(),
        failures,
        skipped,
        time => seconds(time),
        timestamp,
        version => env!("CARGO_PKG_VERSION"),
        cause => verdict.cause.id(),
        confidence => verdict.confidence.as_str(),
        verdict_headline => verdict.headline(),
        cases => Value::from(Serde(&cases)),
    })?;
    // Log text may hold control characters (ANSI colours), which XML 1.0 cannot carry at all.
    let ok = |c: char| (c >= ' ' || "\t\n\r".contains(c)) && !matches!(c, '\u{FFFE}' | '\u{FFFF}');
    let xml: String = xml
        .chars()
        .map(|c| if ok(c) { c } else { '\u{FFFD}' })
        .collect();
    Ok(xml.into_bytes())
}
