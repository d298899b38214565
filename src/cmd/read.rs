//! Reading a whole local log into a [`BuildInput`], and reporting what went wrong while reading
//! in the same words for every command.

use anyhow::Result;

use crate::analyze::BuildInput;
use crate::parse::{Event, ParseOptions, ParseStats, Parsed, Parser, DEFAULT_MAX_LINE};
use crate::source::{read_local, Encoding, LocalInput, LogSink};

/// A sink that feeds the parser and hands every event on as soon as the parser releases it.
pub struct Feed<F: FnMut(Event)> {
    parser: Parser,
    on_event: F,
}

impl<F: FnMut(Event)> Feed<F> {
    pub fn new(parser: Parser, on_event: F) -> Self {
        Feed { parser, on_event }
    }

    fn drain(&mut self) {
        for e in self.parser.events() {
            (self.on_event)(e);
        }
    }

    /// Ends the input and hands on the last events.
    pub fn finish(&mut self) -> ParseStats {
        let stats = self.parser.finish();
        self.drain();
        stats
    }
}

impl<F: FnMut(Event)> LogSink for Feed<F> {
    fn bytes(&mut self, chunk: &[u8]) {
        self.parser.push(chunk);
        self.drain();
    }
    fn event(&mut self, timestamp_ms: i64, message: &[u8]) {
        self.parser.push_event(timestamp_ms, message);
        self.drain();
    }
}

pub fn parser(max_line: Option<usize>) -> Parser {
    Parser::new(ParseOptions {
        max_line: max_line.unwrap_or(DEFAULT_MAX_LINE),
    })
}

/// Parses a whole local log. Returns the parsed build and the read error, if any, for
/// [`report_problems`] to judge.
pub fn read_build(
    input: &LocalInput,
    max_line: Option<usize>,
) -> (BuildInput, ParseStats, Result<Encoding>) {
    let mut parsed = Parsed::default();
    let mut feed = Feed::new(parser(max_line), |e| parsed.collect(e));
    let read = read_local(input, &mut feed);
    let stats = feed.finish();
    let build = BuildInput {
        source: input.to_string(),
        steps: parsed.steps,
        phases: parsed.phases,
        commands: parsed.commands,
    };
    (build, stats, read)
}

/// Warns about skipped over-long lines, and about a read error after `steps` steps were read.
/// A read error before any step is returned as the command's error.
pub fn report_problems(
    input: &LocalInput,
    stats: &ParseStats,
    read: Result<Encoding>,
    steps: usize,
    verbose: bool,
) -> Result<()> {
    if let Some(first) = stats.long_lines.first() {
        eprintln!(
            "cachescope: warning: {input}: skipped {} line(s) longer than the line limit \
             (first: line {}, byte offset {}, {} bytes)",
            stats.long_line_count, first.line, first.offset, first.len
        );
    }
    match read {
        Ok(enc) => {
            if verbose {
                eprintln!(
                    "cachescope: read {input} as {enc:?}: {} bytes, {} lines, {} docker build run(s), {steps} steps",
                    stats.bytes, stats.lines, stats.invocations
                );
            }
            Ok(())
        }
        Err(e) if steps == 0 => Err(e),
        Err(e) => {
            eprintln!(
                "cachescope: warning: {e:#}; using the {steps} steps read before the problem"
            );
            Ok(())
        }
    }
}
