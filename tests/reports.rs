//! `cachescope build` renderers: snapshots of the terminal, JSON and Markdown views on three
//! real logs, the JSON's documented keys, and the chart files (PNG decoded, SVG parsed).

use cachescope::analyze::{summarize, BuildInput, Summary};
use cachescope::chart::{waterfall, ImageFormat};
use cachescope::parse::parse_bytes;
use cachescope::report::build;
use std::path::Path;

const LOGS: [&str; 3] = [
    "016-gha-two-builds-second-all-cached.log",
    "020-codebuild-buildkit-pip-no-cache.log",
    "031-legacy-npm-install-partial-cache.log",
];

fn load(name: &str) -> (BuildInput, Summary) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/corpus/logs")
        .join(name);
    let p = parse_bytes(&std::fs::read(path).unwrap());
    let input = BuildInput {
        source: name.to_string(),
        steps: p.steps,
        phases: p.phases,
        commands: p.commands,
        evidence: p.evidence,
        meta: None,
    };
    let s = summarize(&input, None).unwrap();
    (input, s)
}

#[test]
fn snapshots() {
    for log in LOGS {
        let (input, s) = load(log);
        let stem = &log[..3];
        insta::assert_snapshot!(
            format!("table-{stem}"),
            build::table(&s, &input.steps, false, None)
        );
        insta::assert_snapshot!(
            format!("markdown-{stem}"),
            String::from_utf8(build::markdown(&s, &input.steps)).unwrap()
        );
        insta::assert_snapshot!(
            format!("json-{stem}"),
            String::from_utf8(build::json(&s, &input.steps)).unwrap()
        );
    }
}

/// In a 100-column terminal every line of the view fits (the header table, the verdict, the
/// findings, the steps); piped, the same view keeps its full width.
#[test]
fn the_terminal_view_fits_the_terminal() {
    for log in LOGS {
        let (input, s) = load(log);
        let narrow = build::table(&s, &input.steps, false, Some(100));
        for line in narrow.lines() {
            assert!(
                line.chars().count() <= 100,
                "{log}: {} wide: {line}",
                line.chars().count()
            );
        }
        let full = build::table(&s, &input.steps, false, None);
        let widest = full.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest > 100, "{log}: piped output is cut to {widest}");
    }
}

#[test]
fn json_has_the_documented_keys() {
    for log in LOGS {
        let (input, s) = load(log);
        let doc: serde_json::Value =
            serde_json::from_slice(&build::json(&s, &input.steps)).unwrap();
        for key in [
            "source",
            "summary",
            "steps",
            "phases",
            "diagnosis",
            "baseline",
        ] {
            assert!(doc.get(key).is_some(), "{log}: no {key}");
        }
        for key in [
            "scenario",
            "hit_ratio",
            "hit_ratio_all",
            "counts",
            "rebuilt_s",
            "docker_build_s",
            "runs",
        ] {
            assert!(doc["summary"].get(key).is_some(), "{log}: no summary.{key}");
        }
        for key in ["cache_bust", "stage_busts", "health", "findings"] {
            assert!(
                doc["diagnosis"].get(key).is_some(),
                "{log}: no diagnosis.{key}"
            );
        }
        assert_eq!(doc["steps"].as_array().unwrap().len(), input.steps.len());
    }
}

#[test]
fn png_chart_decodes_with_the_expected_size_and_is_not_blank() {
    let (input, s) = load(LOGS[1]);
    let png =
        waterfall::render(ImageFormat::Png, &input.steps, s.cache_bust.as_ref(), "020").unwrap();
    let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .unwrap()
        .to_rgb8();
    let rows = waterfall::chart_steps(&input.steps).len() as u32;
    assert_eq!((img.width(), img.height()), (1280, 150 + 24 * rows));
    let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(ink > 10_000, "only {ink} non-white pixels");
    // The rebuilt colour is there (bars), and so is dark text.
    let rebuilt = waterfall::status_color(cachescope::model::StepStatus::Rebuilt);
    assert!(img
        .pixels()
        .any(|p| p.0 == [rebuilt.0, rebuilt.1, rebuilt.2]));
    assert!(
        img.pixels().filter(|p| p.0.iter().all(|&c| c < 60)).count() > 500,
        "no text drawn"
    );
}

#[test]
fn svg_chart_parses_with_one_bar_per_step() {
    for log in LOGS {
        let (input, s) = load(log);
        let svg =
            waterfall::render(ImageFormat::Svg, &input.steps, s.cache_bust.as_ref(), log).unwrap();
        let text = String::from_utf8(svg).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let colours: Vec<String> = cachescope::model::StepStatus::ALL
            .iter()
            .map(|st| {
                let c = waterfall::status_color(*st);
                format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
            })
            .collect();
        let bars = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .filter(|n| {
                n.attribute("fill")
                    .is_some_and(|f| colours.iter().any(|c| c.eq_ignore_ascii_case(f)))
            })
            .count();
        let rows = waterfall::chart_steps(&input.steps).len();
        // One bar per charted step, plus the five legend swatches.
        assert_eq!(bars, rows + 5, "{log}");
        if let Some(b) = &s.cache_bust {
            assert!(
                text.contains("cache broke here"),
                "{log}: bust {} not marked",
                b.step
            );
        }
    }
}
