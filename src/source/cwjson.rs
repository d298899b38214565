//! The JSON that `aws logs get-log-events` / `filter-log-events` print (`{"events": [...]}`,
//! or a bare array of events), streamed event by event into a [`LogSink`].
//!
//! The file is untrusted, so what serde_json holds at once is bounded: every string is cut just
//! past the sink's line limit ([`Capped`]; the sink skips such a line as over-long anyway, and
//! the count of cut strings is returned for a warning), and a number longer than [`MAX_NUMBER`]
//! bytes or nesting deeper than [`MAX_DEPTH`] is an error.
//! The longest CloudWatch Logs event is 1 MiB, so a real export is never cut at the default
//! limit.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use anyhow::{Context, Result};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::LogSink;

/// The longest JSON number accepted: a timestamp has 13 digits.
const MAX_NUMBER: usize = 64;

/// The deepest nesting accepted: an export nests 3 deep. (serde_json skips an ignored value with
/// a stack of its own as deep as the input, not under its recursion limit.)
const MAX_DEPTH: usize = 64;

/// Strings are never cut shorter than this, so keys (`timestamp`, `message`) stay whole under
/// any line limit.
const MIN_CUT: usize = 4096;

/// `{ "events": [...` (get-log-events, filter-log-events) or `[ { ... "message"` (an array).
pub(super) fn looks_like_cloudwatch_json(head: &[u8]) -> bool {
    let skip_ws = |s: &[u8]| -> usize { s.iter().take_while(|b| b.is_ascii_whitespace()).count() };
    let s = &head[skip_ws(head)..];
    match s.first() {
        Some(b'{') => {
            let r = &s[1..];
            let r = &r[skip_ws(r)..];
            r.starts_with(b"\"events\"")
        }
        Some(b'[') => {
            let r = &s[1..];
            let r = &r[skip_ws(r)..];
            r.starts_with(b"{") && memchr::memmem::find(r, b"\"message\"").is_some()
        }
        _ => false,
    }
}

/// Streams the events into `sink`; returns how many strings were cut at the line limit.
pub(super) fn read<R: BufRead>(reader: R, sink: &mut dyn LogSink) -> Result<u64> {
    let limit = sink.line_limit().saturating_add(1).max(MIN_CUT);
    let cut = Rc::new(Cell::new(0));
    let mut capped = Capped::new(reader, limit, cut.clone());
    let mut de = serde_json::Deserializer::from_reader(&mut capped);
    EventsSeed { sink, cut: &cut }
        .deserialize(&mut de)
        .context("not a valid CloudWatch Logs JSON response")?;
    de.end()
        .context("trailing data after the CloudWatch Logs JSON")?;
    Ok(cut.get())
}

#[derive(Deserialize)]
struct CwEvent {
    timestamp: i64,
    message: String,
}

struct EventsSeed<'s> {
    sink: &'s mut dyn LogSink,
    /// Strings cut so far (shared with [`Capped`]).
    cut: &'s Cell<u64>,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudWatch Logs response with an \"events\" array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let before = self.cut.get();
            let Some(ev) = seq.next_element::<CwEvent>()? else {
                break;
            };
            let mut message = ev.message.as_bytes();
            if self.cut.get() != before {
                // The message's last line is cut short: not a line of the log. (A single line
                // is left over-long, so the parser skips it as such.)
                if let Some(nl) = memchr::memrchr(b'\n', message) {
                    message = &message[..nl];
                }
            }
            self.sink.event(ev.timestamp, message);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "events" {
                map.next_value_seed(EventsSeed {
                    sink: &mut *self.sink,
                    cut: self.cut,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Where [`Capped`] is in the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Outside,
    String,
    /// After a backslash in a string.
    Escape,
    /// Reading a `\u` escape's hex digits: how many are left, and the value so far.
    Unicode(u8, u16),
    /// Past the cut: dropping the string's bytes up to its closing quote.
    Dropping,
    DroppingEscape,
}

/// A JSON byte stream whose strings are cut after `limit` characters' worth of content, always
/// between whole characters and whole escapes (so the text stays valid JSON and valid UTF-8),
/// and whose numbers are refused past [`MAX_NUMBER`] bytes.
struct Capped<R> {
    inner: R,
    cap: Cap,
}

/// [`Capped`]'s state, apart from the reader it reads.
struct Cap {
    limit: usize,
    at: At,
    /// Content read of the current string: a byte or an escape counts one, so what is kept of
    /// a cut string decodes to at least `limit` bytes.
    len: usize,
    /// A `\u` high surrogate was just read: its low half must not be cut off.
    high_surrogate: bool,
    /// UTF-8 continuation bytes in a row: at most 3 follow a character's first byte, so a cut
    /// waits for at most 3 (past that the text is not UTF-8 and serde_json refuses it).
    continuation: u8,
    number: usize,
    depth: usize,
    cut: Rc<Cell<u64>>,
}

impl<R: BufRead> Capped<R> {
    fn new(inner: R, limit: usize, cut: Rc<Cell<u64>>) -> Self {
        let cap = Cap {
            limit,
            at: At::Outside,
            len: 0,
            high_surrogate: false,
            continuation: 0,
            number: 0,
            depth: 0,
            cut,
        };
        Capped { inner, cap }
    }
}

impl Cap {
    /// serde_json adds the line and column.
    fn refuse(what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, what)
    }

    /// Whether byte `b` (read in state `self.at`) is kept; advances the state.
    fn keep(&mut self, b: u8) -> io::Result<bool> {
        let continuation = b & 0xc0 == 0x80;
        self.continuation = match continuation {
            true => self.continuation.saturating_add(1),
            false => 0,
        };
        let whole_char = !continuation || self.continuation > 3;
        let keep = match self.at {
            At::Outside => {
                if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                    self.number += 1;
                    if self.number > MAX_NUMBER {
                        return Err(Self::refuse(format!(
                            "a number longer than {MAX_NUMBER} digits"
                        )));
                    }
                } else {
                    self.number = 0;
                }
                match b {
                    b'[' | b'{' if self.depth == MAX_DEPTH => {
                        return Err(Self::refuse(format!("nesting deeper than {MAX_DEPTH}")));
                    }
                    b'[' | b'{' => self.depth += 1,
                    b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                if b == b'"' {
                    (self.at, self.len, self.high_surrogate) = (At::String, 0, false);
                }
                true
            }
            At::String if b == b'"' => {
                self.at = At::Outside;
                true
            }
            At::String if self.len >= self.limit && whole_char && !self.high_surrogate => {
                self.cut.set(self.cut.get() + 1);
                self.at = match b {
                    b'\\' => At::DroppingEscape,
                    _ => At::Dropping,
                };
                false
            }
            At::String => {
                self.high_surrogate = false;
                self.len += 1;
                if b == b'\\' {
                    self.at = At::Escape;
                }
                true
            }
            At::Escape => {
                self.at = match b {
                    b'u' => At::Unicode(4, 0),
                    _ => At::String,
                };
                true
            }
            At::Unicode(left, value) => {
                let digit = (b as char).to_digit(16).unwrap_or(0) as u16;
                let value = value << 4 | digit;
                self.at = match left {
                    1 => {
                        self.high_surrogate = (0xd800..0xdc00).contains(&value);
                        At::String
                    }
                    _ => At::Unicode(left - 1, value),
                };
                true
            }
            At::Dropping => {
                match b {
                    b'"' => self.at = At::Outside,
                    b'\\' => self.at = At::DroppingEscape,
                    _ => {}
                }
                b == b'"'
            }
            At::DroppingEscape => {
                self.at = At::Dropping;
                false
            }
        };
        Ok(keep)
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                return Ok(0);
            }
            let taken = input.len().min(out.len());
            let mut written = 0;
            for &b in &input[..taken] {
                if self.cap.keep(b)? {
                    out[written] = b;
                    written += 1;
                }
            }
            self.inner.consume(taken);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Events {
        got: Vec<(i64, String)>,
        limit: usize,
    }

    impl LogSink for Events {
        fn bytes(&mut self, _: &[u8]) {
            unreachable!("JSON gives events")
        }
        fn event(&mut self, timestamp_ms: i64, message: &[u8]) {
            self.got
                .push((timestamp_ms, String::from_utf8(message.to_vec()).unwrap()));
        }
        fn line_limit(&self) -> usize {
            self.limit
        }
    }

    fn read_with(json: &[u8], limit: usize) -> (Result<u64>, Vec<(i64, String)>) {
        let mut sink = Events {
            limit,
            ..Events::default()
        };
        let r = read(io::BufReader::with_capacity(7, json), &mut sink);
        (r, sink.got)
    }

    #[test]
    fn a_long_message_is_cut_past_the_line_limit_and_the_next_event_still_read() {
        let long = "x".repeat(100_000);
        let json = format!(
            r#"{{"events": [{{"timestamp": 1, "message": "{long}"}}, {{"timestamp": 2, "message": "next"}}], "nextForwardToken": "{long}"}}"#
        );
        let (cut, got) = read_with(json.as_bytes(), 1000);
        assert_eq!(cut.unwrap(), 2, "the message and the token");
        assert_eq!(got[0].1, "x".repeat(MIN_CUT), "cut at the shortest cut");
        let (cut, got) = read_with(json.as_bytes(), 50_000);
        assert_eq!(cut.unwrap(), 2, "the message and the token");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, "x".repeat(50_001), "cut just past the limit");
        assert_eq!(got[1], (2, "next".to_string()));
    }

    #[test]
    fn a_cut_never_splits_a_character_or_an_escape() {
        let original = "aé\\u00e9\\\"\\ud83d\\ude00€\\n\\\\b😀".repeat(MIN_CUT / 8);
        let decoded: String = serde_json::from_str(&format!("\"{original}\"")).unwrap();
        let json = format!(r#"[{{"timestamp": 5, "message": "{original}"}}]"#);
        // Every kind of cut point lies within 30 bytes of the shortest cut.
        for limit in (0..10).chain(MIN_CUT - 1..MIN_CUT + 30) {
            let (cut, got) = read_with(json.as_bytes(), limit);
            let cut = cut.unwrap_or_else(|e| panic!("limit {limit}: {e:#}"));
            let message = &got[0].1;
            assert!(decoded.starts_with(message.as_str()), "limit {limit}");
            if cut == 1 {
                assert!(
                    message.len() > limit.max(MIN_CUT - 1),
                    "limit {limit}: not over-long"
                );
            } else {
                assert_eq!(message, &decoded, "limit {limit}");
            }
        }
    }

    #[test]
    fn a_cut_message_loses_its_cut_last_line_and_invalid_utf8_is_cut_too() {
        // Lines before the cut stay; the line the cut went through is not read as a line.
        let text = format!(
            "{}\\n#5 DONE 123.4s\\n{}",
            "x".repeat(10),
            "y".repeat(2 * MIN_CUT)
        );
        let json = format!(r#"[{{"timestamp": 1, "message": "{text}"}}]"#);
        let (cut, got) = read_with(json.as_bytes(), 10);
        assert_eq!(cut.unwrap(), 1);
        assert_eq!(got[0].1, format!("{}\n#5 DONE 123.4s", "x".repeat(10)));
        let json = format!(
            r#"[{{"timestamp": 1, "message": "{}\\n#5 DONE 123.4s"}}]"#,
            "x".repeat(MIN_CUT)
        );
        let (_, got) = read_with(json.as_bytes(), 10);
        assert_eq!(
            got[0].1,
            "x".repeat(MIN_CUT),
            "one line: left over-long, never `#5 DONE 1`"
        );

        // A run of continuation bytes is cut after 3, whatever comes: never held whole.
        let mut bad = br#"[{"timestamp": 1, "message": ""#.to_vec();
        bad.extend(std::iter::repeat_n(0x80u8, 1 << 20));
        bad.extend(br#""}]"#);
        let mut capped = Capped::new(io::BufReader::new(&bad[..]), MIN_CUT, Rc::default());
        let mut kept = Vec::new();
        capped.read_to_end(&mut kept).unwrap();
        assert!(kept.len() < MIN_CUT + 64, "{} bytes kept", kept.len());
    }

    #[test]
    fn an_endless_number_or_nesting_is_an_error_not_memory() {
        let number = format!(r#"{{"events": [], "x": 1{}}}"#, "0".repeat(1 << 20));
        let (r, _) = read_with(number.as_bytes(), usize::MAX);
        let e = format!("{:#}", r.unwrap_err());
        assert!(e.contains("a number longer than 64 digits"), "{e}");

        let nested = format!(r#"{{"events": [], "x": {}}}"#, "[".repeat(1 << 20));
        let (r, _) = read_with(nested.as_bytes(), usize::MAX);
        let e = format!("{:#}", r.unwrap_err());
        assert!(
            e.contains("nesting deeper than 64 at line 1 column 83"),
            "{e}"
        );
    }
}
