//! The log's text encoding, decided from its first bytes: UTF-8 (with or without a byte-order
//! mark) passes through untouched; UTF-16 — what Windows PowerShell writes for `> build.log`
//! and `Tee-Object` — is decoded to UTF-8 before framing.
//!
//! Logs are bytes, not always valid UTF-8, so there is no validation here: anything that does not
//! start like UTF-16 is passed on as it is. Decoding is streaming and keeps at most three bytes
//! between chunks (an odd byte, a high surrogate), so the output is the same however the input
//! is split.

#[derive(Debug)]
pub struct Decoder {
    state: State,
    /// Bytes not yet decided or decoded: the first bytes while sniffing, then (UTF-16 only) an
    /// odd trailing byte or an unpaired high surrogate.
    held: Vec<u8>,
    /// Reused output buffer for decoded UTF-16.
    out: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Sniffing,
    Utf8,
    Utf16 { big_endian: bool },
}

/// Bytes needed to recognise UTF-16 without a byte-order mark: two ASCII characters.
const SNIFF: usize = 4;

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            state: State::Sniffing,
            held: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl Decoder {
    /// Treats the input as UTF-8 from here on, if nothing was seen yet (CloudWatch events are
    /// UTF-8 strings).
    pub fn assume_utf8(&mut self) {
        if self.state == State::Sniffing && self.held.is_empty() {
            self.state = State::Utf8;
        }
    }

    /// Feeds a chunk; `out` receives the UTF-8 (or undecided raw) bytes, in order.
    pub fn push(&mut self, chunk: &[u8], out: &mut impl FnMut(&[u8])) {
        match self.state {
            State::Utf8 => out(chunk),
            State::Utf16 { big_endian } => self.decode_utf16(chunk, big_endian, out),
            State::Sniffing => {
                let want = SNIFF - self.held.len();
                let (head, rest) = chunk.split_at(want.min(chunk.len()));
                self.held.extend_from_slice(head);
                if self.held.len() == SNIFF {
                    self.decide(out);
                    self.push(rest, out);
                }
            }
        }
    }

    /// Ends the input: flushes what was held.
    pub fn finish(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.state == State::Sniffing {
            self.decide(out);
        }
        if matches!(self.state, State::Utf16 { .. }) && !self.held.is_empty() {
            // A dangling odd byte or high surrogate.
            self.held.clear();
            out(char::REPLACEMENT_CHARACTER
                .encode_utf8(&mut [0; 4])
                .as_bytes());
        }
    }

    /// Picks the encoding from the held first bytes and passes them on.
    fn decide(&mut self, out: &mut impl FnMut(&[u8])) {
        let held = std::mem::take(&mut self.held);
        let ascii = |b: u8| b != 0 && b.is_ascii();
        let (state, skip) = match held.as_slice() {
            [0xEF, 0xBB, 0xBF, ..] => (State::Utf8, 3),
            [0xFF, 0xFE, ..] => (State::Utf16 { big_endian: false }, 2),
            [0xFE, 0xFF, ..] => (State::Utf16 { big_endian: true }, 2),
            [a, 0, b, 0] if ascii(*a) && ascii(*b) => (State::Utf16 { big_endian: false }, 0),
            [0, a, 0, b] if ascii(*a) && ascii(*b) => (State::Utf16 { big_endian: true }, 0),
            _ => (State::Utf8, 0),
        };
        self.state = state;
        self.push(&held[skip..], out);
    }

    fn decode_utf16(&mut self, chunk: &[u8], big_endian: bool, out: &mut impl FnMut(&[u8])) {
        self.held.extend_from_slice(chunk);
        let mut even = self.held.len() & !1;
        let unit = |p: &[u8]| {
            let b = [p[0], p[1]];
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        // A high surrogate at the end waits for its pair.
        if even >= 2 && (0xD800..0xDC00).contains(&unit(&self.held[even - 2..even])) {
            even -= 2;
        }
        let units = self.held[..even].chunks_exact(2).map(unit);
        self.out.clear();
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        self.held.drain(..even);
        if !self.out.is_empty() {
            out(&self.out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_chunks(bytes: &[u8], size: usize) -> Vec<u8> {
        let mut d = Decoder::default();
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| got.extend_from_slice(b);
        for c in bytes.chunks(size.max(1)) {
            d.push(c, &mut sink);
        }
        d.finish(&mut sink);
        got
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn utf16_decodes_the_same_at_every_chunk_size() {
        let text = "#1 [internal] load\r\nStep 1/2 : FROM x — ✔ 𝄞\r\n";
        for bom in [true, false] {
            let bytes = utf16le(text, bom);
            for size in 1..=bytes.len() {
                assert_eq!(decode_in_chunks(&bytes, size), text.as_bytes(), "{size}");
            }
        }
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode_in_chunks(&be, 3), text.as_bytes());
    }

    #[test]
    fn utf8_passes_through_and_loses_only_its_bom() {
        for s in [
            &b"#1 DONE 0.1s\n"[..],
            b"ab",
            b"",
            b"\xff\xff\x00x",
            b"a\x00",
        ] {
            assert_eq!(decode_in_chunks(s, 1), s);
        }
        assert_eq!(decode_in_chunks(b"\xEF\xBB\xBF#1 x", 2), b"#1 x");
    }

    #[test]
    fn broken_utf16_becomes_replacement_characters() {
        // A lone low surrogate, then an odd trailing byte.
        let got = decode_in_chunks(&[0xFF, 0xFE, b'a', 0, 0x00, 0xDC, b'b'], 1);
        assert_eq!(String::from_utf8(got).unwrap(), "a\u{FFFD}\u{FFFD}");
        // A log shorter than the sniff still flushes its dangling byte.
        let got = decode_in_chunks(&[0xFF, 0xFE, b'a'], 1);
        assert_eq!(String::from_utf8(got).unwrap(), "\u{FFFD}");
    }
}
