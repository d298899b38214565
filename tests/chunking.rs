//! The parser's first contract: the same result however the input is split into chunks.

use cachescope::parse::{parse_bytes, parse_chunks, Parsed, Parser};
use proptest::prelude::*;
use std::path::Path;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut out = Vec::new();
    for dir in ["corpus/logs", "formats/logs", "diagnosis/constructed"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    assert!(out.len() >= 10);
    out
}

fn assert_same(name: &str, how: &str, got: &Parsed, want: &Parsed) {
    assert_eq!(
        got.steps, want.steps,
        "{name}: steps differ when split {how}"
    );
    assert_eq!(
        got.phases, want.phases,
        "{name}: phases differ when split {how}"
    );
    assert_eq!(
        got.commands, want.commands,
        "{name}: commands differ when split {how}"
    );
    assert_eq!(
        got.evidence, want.evidence,
        "{name}: evidence differs when split {how}"
    );
    assert_eq!(
        got.stats, want.stats,
        "{name}: stats differ when split {how}"
    );
}

#[test]
fn every_split_point_of_every_fixture() {
    for (name, bytes) in fixtures() {
        let whole = parse_bytes(&bytes);
        assert!(!whole.steps.is_empty(), "{name}: no steps");
        for at in 0..=bytes.len() {
            let split = parse_chunks([&bytes[..at], &bytes[at..]]);
            assert_same(&name, &format!("at byte {at}"), &split, &whole);
        }
    }
}

#[test]
fn byte_by_byte_and_64k_chunks() {
    for (name, bytes) in fixtures() {
        let whole = parse_bytes(&bytes);
        assert_same(
            &name,
            "byte by byte",
            &parse_chunks(bytes.chunks(1)),
            &whole,
        );
        // Repeat the log past 64 KiB so the 64 KiB chunking really splits it.
        let mut big = Vec::new();
        while big.len() < 200 * 1024 {
            big.extend_from_slice(&bytes);
            big.push(b'\n');
        }
        let whole_big = parse_bytes(&big);
        assert_same(
            &name,
            "in 64 KiB chunks",
            &parse_chunks(big.chunks(64 * 1024)),
            &whole_big,
        );
    }
}

/// The diagnosis logs carry the cache evidence lines (layer downloads, imports, export errors):
/// byte by byte and in 64 KiB chunks they give the same steps and evidence.
#[test]
fn diagnosis_logs_split_anywhere_keep_their_evidence() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/diagnosis/logs");
    let mut with_evidence = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        let whole = parse_bytes(&bytes);
        with_evidence += usize::from(!whole.evidence.is_empty());
        assert_same(
            &name,
            "byte by byte",
            &parse_chunks(bytes.chunks(1)),
            &whole,
        );
        assert_same(
            &name,
            "in 4 KiB chunks",
            &parse_chunks(bytes.chunks(4096)),
            &whole,
        );
    }
    assert!(with_evidence >= 15, "{with_evidence} logs with evidence");
}

/// The real logs of other CIs' wrappings (testdata/wild): what the parser learns about a
/// wrapper, and the text encoding it sniffs from the first bytes, do not depend on the chunks.
#[test]
fn wild_logs_split_anywhere_read_the_same() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wild/logs");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        let whole = parse_bytes(&bytes);
        for at in 0..bytes.len().min(64) {
            let split = parse_chunks([&bytes[..at], &bytes[at..]]);
            assert_same(&name, &format!("at byte {at}"), &split, &whole);
        }
        for size in [1, 7, 4096] {
            let how = format!("in {size}-byte chunks");
            assert_same(&name, &how, &parse_chunks(bytes.chunks(size)), &whole);
        }
        n += 1;
    }
    assert!(n >= 30, "{n} wild logs");
}

#[test]
fn one_cloudwatch_event_per_line_gives_the_file_steps() {
    for (name, bytes) in fixtures() {
        let whole = parse_bytes(&bytes);
        let mut parser = Parser::default();
        let mut got = Parsed::default();
        let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            // No timestamps' effect on BuildKit steps; legacy steps gain durations.
            parser.push_event(1_700_000_000_000 + i as i64, line);
            parser.events().for_each(|e| got.collect(e));
        }
        got.stats = parser.finish();
        parser.events().for_each(|e| got.collect(e));
        assert_eq!(got.steps.len(), whole.steps.len(), "{name}");
        assert_eq!(got.evidence, whole.evidence, "{name}");
        for (g, w) in got.steps.iter().zip(&whole.steps) {
            assert_eq!(
                (&g.step, &g.name, g.status),
                (&w.step, &w.name, w.status),
                "{name}"
            );
            if w.vertex.is_some() {
                assert_eq!(g.duration_s, w.duration_s, "{name}: {}", w.step);
            } else {
                assert!(
                    g.duration_s.is_some(),
                    "{name}: legacy {} has no duration",
                    w.step
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_splits(pick in 0usize..1000, cuts in proptest::collection::vec(0usize..20_000, 0..40)) {
        let all = fixtures();
        let (name, bytes) = &all[pick % all.len()];
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut prev = 0;
        for p in points {
            chunks.push(&bytes[prev..p]);
            prev = p;
        }
        chunks.push(&bytes[prev..]);
        let whole = parse_bytes(bytes);
        let split = parse_chunks(chunks);
        prop_assert_eq!(&split, &whole, "{}", name);
    }

    #[test]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn never_panics_on_log_like_lines(lines in proptest::collection::vec(
        prop_oneof![
            "#[0-9]{1,3} [ -~]{0,40}",
            "#[0-9]{1,2} (DONE [0-9]{1,3}\\.[0-9]s|CACHED|ERROR: x|CANCELED|\\.\\.\\.)",
            " ?-{2,3}> (Using cache|[0-9a-f]{12})",
            "(Step|STEP) [0-9]{1,2}(/[0-9]{1,2})? ?: ?[A-Z]{2,7} [ -~]{0,20}",
            "\\[Container\\] 20[0-9]{2}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})? [ -~]{0,30}",
            " => (CACHED |ERROR )?\\[[0-9]/[0-9]\\] [ -~]{0,20}( [0-9]\\.[0-9]s)?",
            "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z? ?",
            "\\{\"vertexes\":\\[\\{\"digest\":\"d[0-9]\",\"name\":\"[a-z ]{0,9}\"(,\"cached\":true)?\\}\\]\\}",
        ],
        0..60,
    )) {
        let text = lines.join("\n");
        let whole = parse_bytes(text.as_bytes());
        let split = parse_chunks(text.as_bytes().chunks(7));
        prop_assert_eq!(split, whole);
    }

    /// Wrappers learned from the log, as they vary from line to line, learned the same
    /// however the lines arrive.
    #[test]
    fn wrapped_lines_read_the_same_in_any_chunks(
        lines in proptest::collection::vec(
            (
                prop_oneof![
                    Just(String::new()),
                    "[ \t]{1,4}",
                    "[0-9]{1,4}\t",
                    r"[a-z]{1,8}-[0-9] {1,3}\| ",
                    "Step #[0-9]: ",
                    "20[0-9]{2}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} ",
                    "[ -~]{0,14} ",
                ],
                prop_oneof![
                    r"#[0-9]{1,2} \[[0-9]/[0-9]\] (RUN|COPY) [a-z ]{0,12}",
                    r"#[0-9]{1,2} (DONE [0-9]\.[0-9]s|CACHED|[0-9]\.[0-9]{3} [ -~]{0,20})",
                    "Step [0-9]/[0-9] : (FROM|RUN) [a-z]{1,8}",
                    " ---> (Using cache|Running in [0-9a-f]{12}|[0-9a-f]{12})",
                    r#"\{"stream":"Step [0-9]/[0-9] : RUN x\\n"\}"#,
                    "[ -~]{0,30}",
                ],
            ),
            0..60,
        ),
        chunk in 1usize..64,
    ) {
        let text: String = lines.iter().map(|(p, l)| format!("{p}{l}\n")).collect();
        let whole = parse_bytes(text.as_bytes());
        let split = parse_chunks(text.as_bytes().chunks(chunk));
        prop_assert_eq!(split, whole);
    }
}

/// Inputs that once crashed a fuzz target (fuzz/regressions) parse, the same in any chunks.
#[test]
fn fuzz_regressions_parse_in_any_chunks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let whole = parse_bytes(&bytes);
        assert_same(
            &p.display().to_string(),
            "byte by byte",
            &parse_chunks(bytes.chunks(1)),
            &whole,
        );
        n += 1;
    }
    assert!(n >= 2, "{n} regressions");
}
