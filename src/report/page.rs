//! The in-build report's HTML page and JUnit XML, rendered from templates by a templating
//! engine that escapes every value (HTML and XML alike): step names, error lines and commands
//! come from the log, so nothing from it may reach the page unescaped. The waterfall chart is
//! the one trusted piece — plotters writes it and escapes its own text — inlined as SVG so the
//! page needs no other file and makes no request.

use minijinja::value::Serde;
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::build::{headline, pct};
use crate::analyze::gates::Verdict;
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

/// The self-contained page: summary, gates, diagnosis, the timeline (`chart_svg`), the steps.
pub fn html(
    title: &str,
    sum: &Summary,
    steps: &[Step],
    gates: &[Verdict],
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
    output: Option<String>,
}

/// JUnit XML for CodeBuild report groups: a test case per Dockerfile step (its duration; a
/// failed step fails), and one per gate (a failed gate fails).
pub fn junit(title: &str, steps: &[Step], gates: &[Verdict]) -> Result<Vec<u8>, minijinja::Error> {
    let mut cases: Vec<Case> = steps
        .iter()
        .filter(|s| s.is_cacheable_instruction() || s.status == StepStatus::Error)
        .map(|s| Case {
            classname: format!("docker-build.run{}", s.invocation),
            name: format!("{} {}", s.step, s.name),
            time: format!("{:.3}", s.duration_s.unwrap_or(0.0)),
            failure: (s.status == StepStatus::Error)
                .then(|| s.error.clone().unwrap_or_else(|| "the step failed".into())),
            kind: "step-failed",
            output: Some(s.status.as_str().to_string()),
        })
        .collect();
    cases.extend(gates.iter().map(|g| Case {
        classname: "cachescope.gates".into(),
        name: g.gate.to_string(),
        time: "0.000".into(),
        failure: (!g.passed).then(|| g.message.clone()),
        kind: "gate-failed",
        output: Some(g.message.clone()),
    }));
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let time: f64 = steps
        .iter()
        .filter(|s| s.is_cacheable_instruction())
        .filter_map(|s| s.duration_s)
        .sum();
    let xml = environment().get_template("junit.xml")?.render(context! {
        title,
        tests => cases.len(),
        failures,
        time => format!("{time:.3}"),
        cases => Value::from(Serde(&cases)),
    })?;
    Ok(xml.into_bytes())
}
