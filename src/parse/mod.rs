//! The streaming, sans-IO build-log parser.
//!
//! Bytes are pushed in chunks of any size (a file read, a gzip block, one CloudWatch event) and
//! events come out; nothing here reads a file or waits on a socket, so the same parser serves
//! every source and is tested by feeding it bytes. The layers:
//! - [`encoding`]: UTF-16 (PowerShell's logs) decoded to UTF-8, anything else passed through;
//! - [`framer`]: chunks → whole lines, with the line-length cap;
//! - [`line`]: one line → what it says (nom grammar, stateless);
//! - [`wrapper`]: the prefix an unknown CI puts before each line, learned from the log;
//! - [`tracker`]: lines → steps, invocations, CodeBuild phases and commands.
//!
//! The output is identical however the input is split, never panics on any bytes, and treats
//! unrecognised lines as data: besides events, only the framing limit (with line and byte
//! offset) and the first build lines behind an unrecognised prefix are reported. Byte counts and
//! offsets are of the decoded text (a UTF-16 file's are about half its size).

mod encoding;
pub mod evidence;
pub mod framer;
pub mod line;
mod rawjson;
mod time;
pub mod tracker;
pub mod wrapper;

pub use framer::LongLine;
pub use tracker::Event;

use crate::model::{CommandEvent, Evidence, PhaseEvent, Step};

/// Default cap on one line: generous for real logs (BuildKit folds long output), bounded memory.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Lines longer than this many bytes are skipped and counted.
    pub max_line: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

/// What the parser saw besides events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub bytes: u64,
    pub lines: u64,
    /// The first few over-long lines, with line number and byte offset.
    pub long_lines: Vec<LongLine>,
    /// All over-long lines skipped.
    pub long_line_count: u64,
    pub invocations: u32,
    /// Steps whose name or error was longer than [`tracker::MAX_STEP_TEXT`] and cut there, and
    /// the line of the first.
    pub long_texts: (u64, Option<u64>),
    /// The first lines that held a build line after a prefix not taken for a wrapper: what a
    /// user reports when a log gives no steps.
    pub unread: Vec<wrapper::Unread>,
}

#[derive(Debug)]
pub struct Parser {
    decoder: encoding::Decoder,
    framer: framer::Framer,
    tracker: tracker::Tracker,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(ParseOptions::default())
    }
}

impl Parser {
    pub fn new(opts: ParseOptions) -> Self {
        Parser {
            decoder: encoding::Decoder::default(),
            framer: framer::Framer::new(opts.max_line),
            tracker: tracker::Tracker::new(),
        }
    }

    /// Feeds the next chunk of a log.
    pub fn push(&mut self, chunk: &[u8]) {
        let (framer, tracker) = (&mut self.framer, &mut self.tracker);
        self.decoder
            .push(chunk, &mut |b| framer.push(b, |n, l| tracker.line(n, l)));
    }

    /// Feeds one CloudWatch log event: its message is one line, its timestamp (ms since the
    /// epoch) is kept and gives legacy-builder steps a duration.
    pub fn push_event(&mut self, timestamp_ms: i64, message: &[u8]) {
        let message = message.strip_suffix(b"\n").unwrap_or(message);
        self.decoder.assume_utf8();
        self.tracker.set_event_time(Some(timestamp_ms));
        self.push(message);
        self.push(b"\n");
        self.tracker.set_event_time(None);
    }

    /// The longest line read; longer ones are skipped and counted in [`ParseStats`].
    pub fn max_line(&self) -> usize {
        self.framer.max_line()
    }

    /// Events found so far (finished steps of closed invocations, phases, commands, endings).
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        self.tracker.take_events()
    }

    /// Ends the input; the remaining events are then available from [`Parser::events`].
    pub fn finish(&mut self) -> ParseStats {
        let (framer, tracker) = (&mut self.framer, &mut self.tracker);
        self.decoder
            .finish(&mut |b| framer.push(b, |n, l| tracker.line(n, l)));
        self.framer.finish(|n, l| self.tracker.line(n, l));
        self.tracker.finish();
        ParseStats {
            bytes: self.framer.bytes(),
            lines: self.framer.lines(),
            long_lines: self.framer.long_lines().to_vec(),
            long_line_count: self.framer.long_line_count(),
            invocations: self.tracker.invocations(),
            long_texts: self.tracker.long_texts(),
            unread: self.tracker.unread().to_vec(),
        }
    }
}

/// Everything in one log, collected: for tests and small inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub steps: Vec<Step>,
    pub phases: Vec<PhaseEvent>,
    pub commands: Vec<CommandEvent>,
    pub evidence: Vec<Evidence>,
    pub stats: ParseStats,
}

impl Parsed {
    pub fn collect(&mut self, event: Event) {
        match event {
            Event::Step(s) => self.steps.push(s),
            Event::Phase(p) => self.phases.push(p),
            Event::Command(c) => self.commands.push(c),
            Event::Evidence(e) => self.evidence.push(e),
            Event::StepEnded { .. } => {}
        }
    }
}

/// Parses a whole log given as chunks, in order.
pub fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Parsed {
    parse_chunks_with(ParseOptions::default(), chunks)
}

/// [`parse_chunks`] with explicit options.
pub fn parse_chunks_with<'a>(
    opts: ParseOptions,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Parsed {
    let mut parser = Parser::new(opts);
    let mut out = Parsed::default();
    for c in chunks {
        parser.push(c);
        parser.events().for_each(|e| out.collect(e));
    }
    out.stats = parser.finish();
    parser.events().for_each(|e| out.collect(e));
    out
}

/// Parses a whole log held in memory.
pub fn parse_bytes(bytes: &[u8]) -> Parsed {
    parse_chunks([bytes])
}
