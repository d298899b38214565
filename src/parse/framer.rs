//! Bytes in arbitrary chunks → whole lines.
//!
//! The framer is the only place that knows about chunk boundaries: it keeps the partial tail of
//! the previous chunk, so what comes out is identical however the input was split. It also
//! enforces the line-length cap that keeps memory bounded: a longer line is skipped whole and
//! reported with its line number and byte offset, and the lines after it still parse.

/// A line that was longer than the cap and therefore skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLine {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's first byte in the input.
    pub offset: u64,
    /// Its full length in bytes (without the newline).
    pub len: u64,
}

#[derive(Debug)]
pub struct Framer {
    max_line: usize,
    tail: Vec<u8>,
    /// In the middle of an over-long line: drop bytes until the next newline.
    skipping: bool,
    /// Number of the line currently being framed (1-based).
    line_no: u64,
    /// Byte offset of the start of the line currently being framed.
    line_start: u64,
    /// Total bytes pushed so far.
    offset: u64,
    long_lines: Vec<LongLine>,
    long_line_count: u64,
}

/// How many over-long lines are remembered individually (the count is always exact).
const KEEP_LONG_LINES: usize = 16;

impl Framer {
    pub fn new(max_line: usize) -> Self {
        Framer {
            max_line: max_line.max(1),
            tail: Vec::new(),
            skipping: false,
            line_no: 1,
            line_start: 0,
            offset: 0,
            long_lines: Vec::new(),
            long_line_count: 0,
        }
    }

    /// Feeds a chunk; calls `on_line(line_number, line)` for every complete line (without the
    /// `\n`) in order.
    pub fn push(&mut self, chunk: &[u8], mut on_line: impl FnMut(u64, &[u8])) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let piece = &chunk[start..nl];
            let abs_nl = self.offset + nl as u64;
            if self.skipping {
                self.record_long_line(abs_nl - self.line_start);
            } else if self.tail.is_empty() && piece.len() <= self.max_line {
                on_line(self.line_no, piece);
            } else if self.tail.len() + piece.len() <= self.max_line {
                self.tail.extend_from_slice(piece);
                on_line(self.line_no, &self.tail);
                self.tail.clear();
            } else {
                self.tail.clear();
                self.record_long_line(abs_nl - self.line_start);
            }
            self.skipping = false;
            self.line_no += 1;
            self.line_start = abs_nl + 1;
            start = nl + 1;
        }
        let rest = &chunk[start..];
        if !self.skipping && !rest.is_empty() {
            if self.tail.len() + rest.len() > self.max_line {
                self.tail = Vec::new();
                self.skipping = true;
            } else {
                self.tail.extend_from_slice(rest);
            }
        }
        self.offset += chunk.len() as u64;
    }

    /// Ends the input: a final line without a newline is still a line.
    pub fn finish(&mut self, mut on_line: impl FnMut(u64, &[u8])) {
        if self.skipping {
            self.record_long_line(self.offset - self.line_start);
            self.skipping = false;
            self.line_no += 1;
        } else if !self.tail.is_empty() {
            on_line(self.line_no, &self.tail);
            self.tail.clear();
            self.line_no += 1;
        }
        self.line_start = self.offset;
    }

    fn record_long_line(&mut self, len: u64) {
        self.long_line_count += 1;
        if self.long_lines.len() < KEEP_LONG_LINES {
            self.long_lines.push(LongLine {
                line: self.line_no,
                offset: self.line_start,
                len,
            });
        }
    }

    /// Lines read so far (a final unterminated line counts once `finish` ran).
    /// The longest line handed on.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    pub fn lines(&self) -> u64 {
        self.line_no - 1
    }

    pub fn bytes(&self) -> u64 {
        self.offset
    }

    pub fn long_lines(&self) -> &[LongLine] {
        &self.long_lines
    }

    pub fn long_line_count(&self) -> u64 {
        self.long_line_count
    }
}
