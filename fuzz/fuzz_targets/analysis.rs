//! The whole analysis on arbitrary bytes: parse → summary and diagnosis → gates → every
//! renderer a user can ask for (terminal tables, JSON, Markdown, CSV, Parquet, HTML, JUnit, the
//! waterfall and the trend charts), and the store's frames read back into the trend. Nothing
//! may panic, and what is rendered must stay well-formed where that is checkable cheaply.
//!
//! Input layout: up to four logs separated by the bytes `\n\0\n`. The first is the build
//! analyzed; the second is also its `--baseline`; all of them are "earlier builds" for the
//! comparison and the trend.
#![no_main]

use cachescope::analyze::gates::{self, Gates};
use cachescope::analyze::trend::{self, meta_from_log, Rule, TrendBuild};
use cachescope::analyze::{frames, history, summarize, BuildInput};
use cachescope::chart::{trend::CHARTS, waterfall, ImageFormat};
use cachescope::parse::parse_bytes;
use cachescope::report::{brief, build, page, steps as steps_report, trend as trend_report};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n\0\n";

fn logs(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 3 {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let logs = logs(data);
    let inputs: Vec<BuildInput> = logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let key = format!("log-{i}");
            let mut input = BuildInput::from_parsed(key.clone(), parse_bytes(log), None);
            input.meta = Some(meta_from_log(&input, "fuzz", &key));
            input
        })
        .collect();
    let current = &inputs[0];
    let baseline = inputs.get(1).map(|b| b.steps.as_slice());
    let summary = summarize(current, baseline).expect("summarize");

    let gates = gates::check(
        &summary,
        &Gates {
            min_hit_ratio: Some(0.6),
            max_rebuilt_seconds: Some(60.0),
            fail_on_cache_import_error: true,
        },
    );

    // `cachescope build` in every format, and `cachescope steps`.
    let steps = &current.steps;
    let _ = build::table(&summary, steps, true, Some(80));
    let _ = build::table(&summary, steps, false, None);
    let json = build::json(&summary, steps);
    serde_json::from_slice::<serde_json::Value>(&json).expect("build --format json is JSON");
    let _ = build::markdown(&summary, steps);
    let _ = steps_report::table(steps, false, Some(60));
    let mut jsonl = Vec::new();
    for s in steps {
        steps_report::jsonl_row(s, &mut jsonl);
    }
    for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("steps --format jsonl is JSON");
    }
    for mut frame in [
        frames::steps_frame(steps).expect("steps frame"),
        frames::phases_frame(&summary.phases).expect("phases frame"),
        frames::builds_frame(&summary).expect("builds frame"),
    ] {
        build::csv(&mut frame).expect("csv");
        build::parquet(&mut frame).expect("parquet");
    }

    // The store's frames, read back as the trend reads them.
    let stored: Vec<TrendBuild> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let sum = summarize(input, None).expect("summarize");
            let key = format!("log-{i}");
            let (row, steps) = frames::stored(input, &sum, &key).expect("stored frames");
            TrendBuild::from_frames(&key, &row, &steps).expect("stored frames read back")
        })
        .collect();

    // `cachescope report`: the comparison with earlier builds, every file it writes.
    let hist = history::history(&summary, steps, &stored[1..]);
    let chart = waterfall::render(ImageFormat::Svg, steps, summary.cache_bust.as_ref(), "fuzz")
        .expect("waterfall");
    let chart = String::from_utf8(chart).expect("SVG is UTF-8");
    let _ = brief::markdown("fuzz", &summary, steps, &gates, hist.as_ref());
    page::html("fuzz", &summary, steps, &gates, hist.as_ref(), &chart).expect("report.html");
    page::junit("fuzz", steps, &gates, &summary.verdict).expect("junit.xml");

    // `cachescope trend` on all of them.
    let rows = trend::trend(stored, Rule::default());
    let mut frame = trend::trend_frame(&rows).expect("trend frame");
    build::csv(&mut frame).expect("trend csv");
    let _ = trend_report::table("fuzz", &rows);
    let _ = trend_report::json(&rows);
    let _ = trend_report::markdown("fuzz", &rows);
    for (_, draw) in CHARTS {
        draw(ImageFormat::Svg, "fuzz", &rows).expect("trend chart");
    }
});
