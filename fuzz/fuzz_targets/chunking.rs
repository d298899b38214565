//! The output must be identical however the input is split into chunks.
//!
//! Input layout: a header, then the log bytes.
//! - byte 0, low nibble `k`:
//!   - 0..=11: `k` split points follow, each a little-endian u16 taken modulo (log length + 1)
//!     and sorted (repeats give empty chunks);
//!   - 12..=15: one byte `n` follows, and the log is cut into chunks of `n + 1` bytes.
//! - byte 0, high nibble `m`: if non-zero, the comparison is repeated with a small line cap
//!   `MAX_LINES[m]`, so the over-long-line paths are split across chunks too.
//!
//! The log is then also split on '\n' and each line fed as one CloudWatch event (`push_event`)
//! to another parser, which must not panic. A line `@<i64> rest` gives its event the timestamp
//! `<i64>` (any i64 is reachable, as from a CloudWatch JSON file) and `rest` as message; other
//! lines get the previous timestamp + 1000 ms, starting at 1_700_000_000_000.
#![no_main]

use cachescope::parse::{parse_bytes, parse_chunks, parse_chunks_with as parse_with, ParseOptions, Parser};
use libfuzzer_sys::fuzz_target;

const MAX_LINES: [usize; 16] = [
    0, 1, 2, 3, 5, 8, 13, 16, 32, 64, 100, 128, 255, 256, 1000, 4096,
];

/// Splits `log` at the points the header describes; returns the header length and the chunks.
fn split(data: &[u8]) -> Option<(usize, Vec<std::ops::Range<usize>>)> {
    let (&b0, rest) = data.split_first()?;
    let k = (b0 & 0x0f) as usize;
    if k >= 12 {
        let (&n, log) = rest.split_first()?;
        let size = n as usize + 1;
        let ranges = (0..log.len())
            .step_by(size)
            .map(|s| s..(s + size).min(log.len()))
            .collect();
        return Some((2, ranges));
    }
    let head = 1 + 2 * k;
    if data.len() < head {
        return None;
    }
    let log_len = data.len() - head;
    let mut points: Vec<usize> = data[1..head]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]) as usize % (log_len + 1))
        .collect();
    points.sort_unstable();
    let mut ranges = Vec::with_capacity(k + 1);
    let mut start = 0;
    for p in points {
        ranges.push(start..p);
        start = p;
    }
    ranges.push(start..log_len);
    Some((head, ranges))
}

/// `@<i64> rest` → (Some(ts), rest); anything else → (None, line).
fn event_time(line: &[u8]) -> (Option<i64>, &[u8]) {
    let Some(body) = line.strip_prefix(b"@") else {
        return (None, line);
    };
    let end = body.iter().position(|&b| b == b' ').unwrap_or(body.len());
    let ts = std::str::from_utf8(&body[..end])
        .ok()
        .and_then(|s| s.parse::<i64>().ok());
    match ts {
        Some(ts) => (Some(ts), body.get(end + 1..).unwrap_or(b"")),
        None => (None, line),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((head, ranges)) = split(data) else {
        return;
    };
    let log = &data[head..];

    // Whole vs chunked, default options.
    let whole = parse_bytes(log);
    let chunked = parse_chunks(ranges.iter().map(|r| &log[r.clone()]));
    assert_eq!(whole, chunked, "parse_bytes and parse_chunks differ; chunks {ranges:?}");

    // Whole vs chunked with a small line cap.
    let max_line = MAX_LINES[(data[0] >> 4) as usize];
    if max_line != 0 {
        let opts = ParseOptions { max_line };
        let whole = parse_with(opts, [log]);
        let chunked = parse_with(opts, ranges.iter().map(|r| &log[r.clone()]));
        assert_eq!(
            whole, chunked,
            "whole and chunked differ with max_line {max_line}; chunks {ranges:?}"
        );
    }

    // One CloudWatch event per line: must not panic.
    let mut parser = Parser::default();
    let mut ts: i64 = 1_700_000_000_000;
    for line in log.split(|&b| b == b'\n') {
        let (at, message) = event_time(line);
        ts = at.unwrap_or_else(|| ts.wrapping_add(1000));
        parser.push_event(ts, message);
        parser.events().for_each(drop);
    }
    let _ = parser.finish();
    parser.events().for_each(drop);
});
