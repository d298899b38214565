//! Where log bytes come from: a file, stdin, gzip (by its magic bytes, not its name), the JSON
//! that `aws logs get-log-events` / `filter-log-events` print, or CloudWatch Logs itself
//! ([`aws`], for a CodeBuild build ID).
//!
//! A source only moves bytes and event timestamps into a [`LogSink`]; it never interprets a
//! BuildKit line. Everything is streamed in fixed-size reads, so memory stays flat however large
//! the input.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::bufread::MultiGzDecoder;

pub mod aws;
mod cwjson;

use cwjson::looks_like_cloudwatch_json;

/// Read size: large enough to amortise syscalls, small enough to keep memory flat.
const READ_BUF: usize = 256 * 1024;

/// Receives a log as it is read.
pub trait LogSink {
    /// The next bytes of a plain-text log.
    fn bytes(&mut self, chunk: &[u8]);
    /// One CloudWatch event: a line with its timestamp (ms since the epoch).
    fn event(&mut self, timestamp_ms: i64, message: &[u8]);
    /// The longest line the sink reads; a CloudWatch JSON message longer than this is cut just
    /// past it (the sink skips it as over-long either way) instead of being held whole.
    fn line_limit(&self) -> usize {
        usize::MAX
    }
}

/// A local log: a path or `-` for stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalInput {
    Stdin,
    File(PathBuf),
}

impl LocalInput {
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            LocalInput::Stdin
        } else {
            LocalInput::File(PathBuf::from(arg))
        }
    }
}

impl fmt::Display for LocalInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalInput::Stdin => f.write_str("<stdin>"),
            LocalInput::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What a command-line argument names: a local log or a CodeBuild build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Local(LocalInput),
    Build(aws::BuildRef),
}

impl Input {
    /// `-` is stdin; a path that exists is a file, even if it is named like a build ID; else a
    /// build ID or ARN is a build; anything else is a file (which will fail to open, naming it).
    /// The second value says which rule decided, for `-v`.
    pub fn from_arg(arg: &str) -> (Input, &'static str) {
        if arg == "-" {
            return (Input::Local(LocalInput::Stdin), "`-` is stdin");
        }
        let build = aws::BuildRef::parse(arg);
        if Path::new(arg).exists() {
            let why = if build.is_some() {
                "a file by that name exists, so it is read rather than looked up as a build ID"
            } else {
                "a file"
            };
            return (Input::Local(LocalInput::from_arg(arg)), why);
        }
        match build {
            Some(b) => (
                Input::Build(b),
                "a CodeBuild build ID (no file by that name)",
            ),
            None => (Input::Local(LocalInput::from_arg(arg)), "a file"),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Local(l) => l.fmt(f),
            Input::Build(b) => b.fmt(f),
        }
    }
}

/// How the bytes were encoded, as detected from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Text,
    Gzip,
    /// CloudWatch JSON; `cut` strings were longer than the sink's line limit and cut there.
    CloudWatchJson {
        cut: u64,
    },
    GzipCloudWatchJson {
        cut: u64,
    },
}

impl Encoding {
    /// CloudWatch JSON strings cut at the line limit.
    pub fn cut(self) -> u64 {
        match self {
            Encoding::CloudWatchJson { cut } | Encoding::GzipCloudWatchJson { cut } => cut,
            Encoding::Text | Encoding::Gzip => 0,
        }
    }
}

/// Streams a local input into `sink`. On error, everything read before it has been delivered.
pub fn read_local(input: &LocalInput, sink: &mut dyn LogSink) -> Result<Encoding> {
    match input {
        LocalInput::Stdin => read_stream(io::stdin().lock(), sink),
        LocalInput::File(path) => {
            let file = open(path)?;
            match map_large_file(&file) {
                Some(map) => read_slice(&map, sink),
                None => read_stream(file, sink),
            }
        }
    }
    .with_context(|| format!("reading {input}"))
}

/// Files at least this large are memory-mapped: reading them through `read` spends as long
/// copying pages into a buffer as the parser spends parsing them.
const MMAP_AT_LEAST: u64 = 8 << 20;

/// A read-only map of a large regular file, or `None` (small file, pipe, or mmap refused).
fn map_large_file(file: &File) -> Option<memmap2::Mmap> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < MMAP_AT_LEAST {
        return None;
    }
    // SAFETY: the map is only read. If another process truncates the file while we read it, the
    // OS may signal a bus error — the same trade every mmap-based reader (ripgrep, …) makes;
    // build logs are read after they are written.
    let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
    let _ = map.advise(memmap2::Advice::Sequential);
    Some(map)
}

fn open(path: &Path) -> Result<File> {
    let file = File::open(path).with_context(|| {
        let hint = if path.to_string_lossy().contains(':') {
            " (not a file, nor a CodeBuild build ID `project:uuid` or build ARN)"
        } else {
            ""
        };
        format!("cannot open {}{hint}", path.display())
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        anyhow::bail!("{} is a directory, not a log file", path.display());
    }
    Ok(file)
}

/// Streams any reader into `sink`, detecting gzip and CloudWatch JSON.
pub fn read_stream(reader: impl Read, sink: &mut dyn LogSink) -> Result<Encoding> {
    let (head, reader) = peek(reader, 2)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = MultiGzDecoder::new(BufReader::with_capacity(READ_BUF, reader));
        return Ok(match read_plain_or_json(gz, sink)? {
            Some(cut) => Encoding::GzipCloudWatchJson { cut },
            None => Encoding::Gzip,
        });
    }
    Ok(match read_plain_or_json(reader, sink)? {
        Some(cut) => Encoding::CloudWatchJson { cut },
        None => Encoding::Text,
    })
}

/// A log already in memory (a mapped file): plain text goes to the sink without a copy.
pub fn read_slice(bytes: &[u8], sink: &mut dyn LogSink) -> Result<Encoding> {
    if bytes.starts_with(&[0x1f, 0x8b])
        || looks_like_cloudwatch_json(&bytes[..bytes.len().min(4096)])
    {
        return read_stream(bytes, sink);
    }
    // Chunks, so the sink can hand on finished steps while the rest is parsed.
    for chunk in bytes.chunks(4 << 20) {
        sink.bytes(chunk);
    }
    Ok(Encoding::Text)
}

/// Reads up to `n` bytes (fewer only at the end of input) and gives them back in front of the
/// rest of the stream. A pipe may deliver a single byte per read, so loop.
fn peek<R: Read>(mut reader: R, n: usize) -> io::Result<(Vec<u8>, impl Read)> {
    let mut head = vec![0; n];
    let mut got = 0;
    while got < n {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok((head.clone(), io::Cursor::new(head).chain(reader)))
}

/// Plain text, or CloudWatch JSON (`Some(strings cut)`).
fn read_plain_or_json(reader: impl Read, sink: &mut dyn LogSink) -> Result<Option<u64>> {
    let (head, reader) = peek(reader, 4096)?;
    let mut reader = BufReader::with_capacity(READ_BUF, reader);
    if looks_like_cloudwatch_json(&head) {
        return cwjson::read(reader, sink).map(Some);
    }
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        sink.bytes(buf);
        let n = buf.len();
        reader.consume(n);
    }
}
