//! Reading a log — local, or a build's from AWS — into a sink or a whole [`BuildInput`], and
//! reporting what went wrong while reading in the same words for every command.

use anyhow::{Context, Result};

use crate::analyze::BuildInput;
use crate::cli::AwsArgs;
use crate::parse::{Event, ParseOptions, ParseStats, Parsed, Parser, DEFAULT_MAX_LINE};
use crate::source::aws::{self, AwsSettings, FetchOptions, Fetched, Follow};
use crate::source::{read_local, Encoding, Input, LogSink};

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
    fn line_limit(&self) -> usize {
        self.parser.max_line()
    }
}

pub fn parser(max_line: Option<usize>) -> Parser {
    Parser::new(ParseOptions {
        max_line: max_line.unwrap_or(DEFAULT_MAX_LINE),
    })
}

/// How a log was read.
#[derive(Debug)]
pub enum ReadOutcome {
    Local(Encoding),
    Aws(Box<Fetched>),
}

/// What every reading command needs besides the input.
#[derive(Debug, Clone)]
pub struct ReadOptions<'a> {
    pub max_line: Option<usize>,
    pub aws: &'a AwsArgs,
    pub verbose: bool,
    /// Ask CodeBuild for the build's metadata (the `build` command shows it; `steps` does not).
    pub want_meta: bool,
    /// The build is still writing its log: read up to this point.
    pub follow: Option<Follow>,
}

impl ReadOptions<'_> {
    pub fn fetch_options(&self) -> FetchOptions {
        let a = self.aws;
        FetchOptions {
            settings: AwsSettings {
                profile: a.profile.clone(),
                region: a.region.clone(),
                endpoint_url: a.endpoint_url.clone(),
                max_attempts: a.max_attempts,
                requests_per_second: a.rate,
                verbose: self.verbose,
            },
            log_source: a.log_source,
            log_group: a.log_group.clone(),
            log_stream: a.log_stream.clone(),
            max_pages: a.max_pages,
            want_meta: self.want_meta,
            follow: self.follow,
        }
    }
}

/// Resolves an argument to an input, saying which rule decided with `-v`.
pub fn input(arg: &str, verbose: bool) -> Input {
    let (input, why) = Input::from_arg(arg);
    if verbose {
        crate::say!("cachescope: {arg}: {why}");
    }
    input
}

/// Streams a log into `sink`: a local one, or a build's from CloudWatch Logs.
pub fn read_into(input: &Input, opts: &ReadOptions, sink: &mut dyn LogSink) -> Result<ReadOutcome> {
    match input {
        Input::Local(local) => read_local(local, sink).map(ReadOutcome::Local),
        Input::Build(build) => aws::read_build(build, &opts.fetch_options(), sink)
            .map(|f| ReadOutcome::Aws(Box::new(f)))
            .with_context(|| format!("build {build}")),
    }
}

/// Fetches and parses a build whose CodeBuild record is known (commands that go through many
/// builds on one connection).
pub async fn fetch_parsed(
    aws: &aws::Aws,
    meta: crate::model::BuildMeta,
    fetch: &FetchOptions,
    max_line: Option<usize>,
) -> Result<BuildInput> {
    let build =
        aws::BuildRef::parse(&meta.id).with_context(|| format!("not a build ID: {}", meta.id))?;
    let mut parsed = Parsed::default();
    let mut feed = Feed::new(parser(max_line), |e| parsed.collect(e));
    let fetched = aws::fetch_log(aws, &build, Some(meta), fetch, &mut feed)
        .await
        .with_context(|| format!("build {build}"))?;
    feed.finish();
    drop(feed);
    Ok(BuildInput::from_parsed(
        build.to_string(),
        parsed,
        fetched.meta,
    ))
}

/// Parses a whole log. Returns the parsed build and the read error, if any, for
/// [`report_problems`] to judge.
pub fn read_build(
    input: &Input,
    opts: &ReadOptions,
) -> (BuildInput, ParseStats, Result<ReadOutcome>) {
    let mut parsed = Parsed::default();
    let mut feed = Feed::new(parser(opts.max_line), |e| parsed.collect(e));
    let read = read_into(input, opts, &mut feed);
    let stats = feed.finish();
    let meta = match &read {
        Ok(ReadOutcome::Aws(f)) => f.meta.clone(),
        _ => None,
    };
    let build = BuildInput::from_parsed(input.to_string(), parsed, meta);
    (build, stats, read)
}

/// Warns about skipped over-long lines, and about a read error after `steps` steps were read
/// from a local file (a truncated file will never be whole, so its steps are worth having). A
/// read error before any step, or any error from AWS (try again later), is the command's error.
pub fn report_problems(
    input: &Input,
    stats: &ParseStats,
    read: Result<ReadOutcome>,
    steps: usize,
    verbose: bool,
) -> Result<()> {
    if let Some(first) = stats.long_lines.first() {
        crate::say!(
            "cachescope: warning: {input}: skipped {} line(s) longer than the line limit \
             (first: line {}, byte offset {}, {} bytes)",
            stats.long_line_count,
            first.line,
            first.offset,
            first.len
        );
    }
    if let (n @ 1.., Some(line)) = stats.long_texts {
        crate::say!(
            "cachescope: warning: {input}: {n} step(s) with a name or error longer than {} KiB, \
             cut there (first: the step on line {line})",
            crate::parse::tracker::MAX_STEP_TEXT >> 10
        );
    }
    if let Ok(ReadOutcome::Local(enc)) = &read {
        let cut = enc.cut();
        if cut > 0 {
            crate::say!(
                "cachescope: warning: {input}: {cut} JSON string(s) longer than the line limit \
                 were cut there, unread (--max-line-bytes raises the limit)"
            );
        }
    }
    if let (0, [first, more @ ..]) = (steps, stats.unread.as_slice()) {
        let also: Vec<String> = more.iter().map(|u| u.line.to_string()).collect();
        let also = match also.is_empty() {
            true => String::new(),
            false => format!(" (also line {})", also.join(", ")),
        };
        crate::say!(
            "cachescope: warning: {input}: line {} holds what looks like a docker build line after \
             {:?}, which cachescope did not take for a line prefix{also}; if your CI writes it, \
             please report it with these lines",
            first.line, first.prefix
        );
    }
    let parsed = format!(
        "{} bytes, {} lines, {} docker build run(s), {steps} steps",
        stats.bytes, stats.lines, stats.invocations
    );
    match read {
        Ok(ReadOutcome::Local(enc)) => {
            if verbose {
                crate::say!("cachescope: read {input} as {enc:?}: {parsed}");
            }
            Ok(())
        }
        Ok(ReadOutcome::Aws(f)) => {
            if verbose {
                crate::say!(
                    "cachescope: read {input} from {}: {}; {} CloudWatch Logs, {} CodeBuild and \
                     {} S3 requests sent, {} of them failed; {parsed}",
                    f.location,
                    f.read_text(),
                    f.logs_attempts,
                    f.codebuild_attempts,
                    f.s3_attempts,
                    f.failed_attempts
                );
            }
            if f.is_empty() {
                crate::say!("cachescope: warning: {} is empty", f.location);
            }
            Ok(())
        }
        Err(e) if steps == 0 || matches!(input, Input::Build(_)) => Err(e),
        Err(e) => {
            crate::say!(
                "cachescope: warning: {e:#}; using the {steps} steps read before the problem"
            );
            Ok(())
        }
    }
}
