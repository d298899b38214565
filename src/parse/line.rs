//! The line grammar: one complete line → what it says, with no state.
//!
//! Every log family cachescope reads is recognised here, by nom parsers over bytes (logs are not
//! always UTF-8). Wrappers added by CI systems — a timestamp or line number before every line, a
//! tool or compose-service prefix — are peeled off only when the line is not already meaningful,
//! so a wrapper can never turn plain text into a build event by accident of stripping.

use nom::{
    branch::alt,
    bytes::complete::{tag, take_while, take_while1, take_while_m_n},
    character::complete::{char, digit1, space0, space1},
    combinator::{opt, recognize},
    sequence::{delimited, preceded},
    IResult, Parser,
};

type Res<'a, T> = IResult<&'a [u8], T>;

/// What one line of a log says.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// Empty, whitespace, or a wrapper prefix alone (a bare timestamp line).
    Blank,
    /// BuildKit plain progress: `#N ...`.
    Vertex { id: u32, body: Body<'a> },
    /// `#0 building with "default" instance using docker driver` — a new docker build run (the
    /// text after `#0 `).
    BuildingWith(&'a [u8]),
    /// TTY renderer frame header: `[+] Building 12.3s (8/8) FINISHED`, with its elapsed
    /// seconds and vertex total.
    TtyFrame {
        finished: bool,
        total: Option<u32>,
        elapsed: Option<f64>,
    },
    /// TTY renderer vertex row: ` => CACHED [2/3] RUN x   0.0s`.
    TtyVertex {
        mark: TtyMark,
        name: &'a [u8],
        secs: Option<f64>,
    },
    /// Legacy builder or buildah step header: `Step 3/8 : RUN x`, `STEP 3/8: RUN x`.
    LegacyStep {
        /// `2` in podman's multi-stage `[2/3] STEP 1/4: ...`, whose step numbers restart.
        stage: Option<u32>,
        /// buildah / podman spelling (`STEP i/n:`).
        buildah: bool,
        index: u32,
        total: Option<u32>,
        name: &'a [u8],
    },
    /// `---> Using cache` / `--> Using cache <id>`.
    LegacyUsingCache,
    /// `---> Running in <id>`: the instruction ran in a container (not from cache).
    LegacyRunning,
    /// `---> 3b1f2a9c8d7e` / `--> 3b1f2a9c8d7`: the step's resulting image — it succeeded.
    LegacyResult,
    /// `# Executing 3 build triggers`.
    BuildTriggers(u32),
    /// `Sending build context to Docker daemon ...`: a legacy build run starts.
    SendingContext,
    /// `Successfully built <image id>`, `Successfully tagged x`: a legacy run ended well.
    LegacySuccess,
    /// buildah's `COMMIT [name]`: the run ended well if it is a buildah run (psql prints it too).
    BuildahCommit,
    /// The legacy builder's (or buildah's) failure message.
    LegacyFailure(&'a [u8]),
    /// `[Container] 2024/01/02 03:04:05.123456 ...` with its time in ms since the epoch.
    Container { at_ms: i64, what: Container<'a> },
    /// `--progress=rawjson` output: one JSON SolveStatus per line.
    RawJson(&'a [u8]),
    /// A command line that starts a docker build (`$ docker build .`, `+ docker build`, ...).
    DockerCommand(&'a [u8]),
    /// Anything else: output of a legacy step, CI chatter, error summaries.
    Text,
}

/// The part of a `#N ...` line after the vertex number.
#[derive(Debug, Clone, PartialEq)]
pub enum Body<'a> {
    /// Time-prefixed (or empty) output of the step: `#7 16.83 text`, `#7 16.83`, `#7`.
    Output,
    /// `#N DONE 1.2s`.
    Done(f64),
    /// `#N CACHED`.
    Cached,
    /// `#N ERROR` / `#N ERROR: message`.
    Error(&'a [u8]),
    /// `#N CANCELED`.
    Canceled,
    /// `#N ...`: the printer switches to another vertex.
    Ellipsis,
    /// BuildKit v0.5-era detail rows: `#1    completed: ...`, `#1     duration: 405ms`.
    Detail(Detail<'a>),
    /// A header (first time) or a sub-status line (`transferring context: 2B done`).
    Text(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail<'a> {
    Completed,
    Duration(f64),
    Cached,
    Error(&'a [u8]),
    /// `digest:`, `name:`, `started:`: no bearing on status.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyMark {
    None,
    Cached,
    Error,
    Canceled,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Container<'a> {
    EnteringPhase(&'a [u8]),
    PhaseComplete { phase: &'a [u8], state: &'a [u8] },
    RunningCommand(&'a [u8]),
    Other,
}

/// Vertex numbers above this are not BuildKit vertices (a real build has hundreds at most).
pub const MAX_VERTEX: u32 = 1 << 20;

/// Wrappers peeled off before giving up on a line.
const MAX_PREFIXES: usize = 4;

/// Classifies one line (without its `\n`). Trailing CR, spaces and TABs are ignored.
pub fn classify(line: &[u8]) -> Line<'_> {
    let line = trim_end(line);
    if line.is_empty() {
        return Line::Blank;
    }
    // Fast path: BuildKit step output (`#N 12.34 text`), the bulk of any big log.
    if line[0] == b'#' {
        if let Some(l) = vertex_line(line) {
            return l;
        }
    }
    let mut rest = line;
    for _ in 0..=MAX_PREFIXES {
        let l = classify_bare(rest);
        if l != Line::Text {
            return l;
        }
        match strip_prefix(rest) {
            Some(r) => {
                let r = trim_end(r);
                if r.is_empty() {
                    return Line::Blank;
                }
                rest = r;
            }
            None => break,
        }
    }
    // Only the unwrapped text can be a command line: `#5 0.51 + docker build` is step output.
    if launches_docker_build(rest) {
        return Line::DockerCommand(rest);
    }
    Line::Text
}

/// Whether `line` is CodeBuild's `[Container] <time> Phase complete: <phase> State: <state>`.
pub fn completes_phase(line: &[u8], phase: &[u8]) -> bool {
    matches!(
        classify(line),
        Line::Container { what: Container::PhaseComplete { phase: p, .. }, .. } if p == phase
    )
}

/// Removes ANSI escape sequences: CSI (`ESC [ … final`), string sequences — OSC `ESC ]`, APC
/// `ESC _` (Buildkite's `ESC _bk;t=<ms> BEL` timestamps), DCS `ESC P`, PM `ESC ^`, SOS `ESC X`,
/// ended by BEL or `ESC \` — and two-byte `ESC x`.
pub fn strip_ansi(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != 0x1b {
            out.push(line[i]);
            i += 1;
            continue;
        }
        i += 1;
        match line.get(i) {
            Some(b'[') => {
                i += 1;
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']' | b'_' | b'P' | b'^' | b'X') => {
                i += 1;
                while i < line.len() && line[i] != 0x07 && line[i] != 0x1b {
                    i += 1;
                }
                // BEL, or the ESC of `ESC \`.
                i += if line.get(i) == Some(&0x1b) { 2 } else { 1 };
            }
            _ => i += 1,
        }
    }
    out
}

pub fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if matches!(last, b'\r' | b' ' | b'\t') {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if matches!(first, b' ' | b'\t') {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// What a line says with no wrapper peeled (`s` non-empty, trimmed at the end).
pub(super) fn classify_bare(s: &[u8]) -> Line<'_> {
    match s[0] {
        b'#' => {
            if let Some(l) = vertex_line(s) {
                return l;
            }
            if let Ok((_, n)) = build_triggers(s) {
                return Line::BuildTriggers(n);
            }
            Line::Text
        }
        b'[' => {
            if let Ok((_, l)) = container_line(s) {
                return l;
            }
            if let Ok((_, l)) = tty_frame(s) {
                return l;
            }
            if let Ok((_, l)) = buildah_step(s) {
                return l;
            }
            Line::Text
        }
        b'{' if s.starts_with(b"{\"") => Line::RawJson(s),
        b'S' => {
            if let Ok((_, l)) = legacy_step(s) {
                return l;
            }
            if s.starts_with(b"Sending build context to Docker daemon") {
                return Line::SendingContext;
            }
            if s.starts_with(b"Successfully tagged ") {
                return Line::LegacySuccess;
            }
            if let Some(id) = s.strip_prefix(b"Successfully built ") {
                // pip prints `Successfully built pkg1 pkg2`; docker prints an image id.
                if (12..=64).contains(&id.len()) && id.iter().all(u8::is_ascii_hexdigit) {
                    return Line::LegacySuccess;
                }
            }
            if let Ok((_, l)) = buildah_step(s) {
                return l;
            }
            Line::Text
        }
        b' ' | b'\t' | b'-' | b'=' => {
            // Indented lines mean something only as arrows (`---> Using cache`, ` => [1/2] ...`).
            arrow_line(trim_start(s)).unwrap_or(Line::Text)
        }
        _ => text_line(s),
    }
}

/// Lines starting with a letter that mean something.
fn text_line(s: &[u8]) -> Line<'_> {
    if s.starts_with(b"COMMIT") && (s.len() == 6 || s[6] == b' ') {
        return Line::BuildahCommit;
    }
    if let Some(l) = legacy_failure(s) {
        return l;
    }
    Line::Text
}

fn legacy_failure(s: &[u8]) -> Option<Line<'_>> {
    const STARTS: [&[u8]; 6] = [
        b"The command ",
        b"Error: error building at STEP",
        b"Error: building at STEP",
        b"error building at STEP",
        b"COPY failed:",
        b"ADD failed:",
    ];
    let hit = STARTS.iter().any(|p| s.starts_with(p))
        && (!s.starts_with(b"The command ")
            || memchr::memmem::find(s, b"returned a non-zero code").is_some());
    let hit = hit
        || (s.starts_with(b"ERROR: Service '")
            && memchr::memmem::find(s, b"failed to build").is_some());
    hit.then_some(Line::LegacyFailure(s))
}

/// True for a line saying a command failed: a shell's or CI's nonzero exit status (`exit code
/// 1`, `exit status: 2`, `returned a non-zero code`), CodeBuild's `Command did not exit
/// successfully`, the daemon's `Error response from daemon`, make's `make: *** [x] Error 1`.
/// Whose command failed is the caller's question.
pub fn says_command_failed(s: &[u8]) -> bool {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    const STATUS: usize = 5; // the patterns before this one are followed by the status
    let ac = AC.get_or_init(|| {
        aho_corasick::AhoCorasick::new([
            "exit code",
            "Exit code",
            "exited with code",
            "exit status",
            "Exit status",
            "non-zero code",
            "did not exit successfully",
            "Error response from daemon",
            "make: *** ",
        ])
        .expect("static patterns build")
    });
    ac.find_iter(s).any(|m| {
        if m.pattern().as_usize() >= STATUS {
            return true;
        }
        // `exit code 0`, `exit status: 0` is success; a status not shown is not.
        let rest = &s[m.end()..];
        let rest = &rest[rest.iter().take_while(|b| b" :='\"".contains(b)).count()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        digits == 0 || rest[..digits].iter().any(|&d| d != b'0')
    })
}

/// True for a shell or CI line that runs a docker build (a boundary between build runs):
/// `$ docker build .`, `+ docker compose -f ci.yml build`, `[command]/usr/bin/docker buildx build`,
/// `Running command podman build ...`, `buildah bud ...`.
pub fn launches_docker_build(s: &[u8]) -> bool {
    if s.len() > 16 * 1024 {
        return false;
    }
    // Most lines mention no build at all: one fast search rules them out.
    static BU: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    if BU
        .get_or_init(|| memchr::memmem::Finder::new(" bu"))
        .find(s)
        .is_none()
    {
        return false;
    }
    const PROGRAMS: [&[u8]; 4] = [b"docker", b"docker-compose", b"podman", b"buildah"];
    const VERBS: [&[u8]; 3] = [b"build", b"bake", b"bud"];
    let words: Vec<&[u8]> = s
        .split(|b| b" \t;&|()`'\"".contains(b))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        let program = w.rsplit(|&b| b == b'/').next().unwrap_or(w);
        PROGRAMS.contains(&program)
            && words[i + 1..]
                .iter()
                .take(6)
                .take_while(|w| !PROGRAMS.contains(w))
                .any(|w| VERBS.contains(w))
    })
}

/// `#N ...` with N a number, else `None`. Hand-written: this runs on every line of a log.
fn vertex_line(s: &[u8]) -> Option<Line<'_>> {
    let digits = s[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 7 {
        return None;
    }
    let id = s[1..1 + digits]
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let rest = &s[1 + digits..];
    if rest.is_empty() {
        return (id < MAX_VERTEX).then_some(Line::Vertex {
            id,
            body: Body::Output,
        });
    }
    if rest[0] != b' ' && rest[0] != b'\t' {
        return None;
    }
    if id >= MAX_VERTEX {
        return None;
    }
    let rest = &rest[1..];
    if id == 0 {
        return Some(if rest.starts_with(b"building with ") {
            Line::BuildingWith(rest)
        } else {
            Line::Text
        });
    }
    Some(Line::Vertex {
        id,
        body: vertex_body(rest),
    })
}

/// Length of a leading `12` or `12.34`, if followed by the end or a space (a time prefix).
fn time_prefix_len(s: &[u8]) -> Option<usize> {
    let int = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut n = int;
    if s.get(n) == Some(&b'.') {
        let frac = s[n + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if frac == 0 {
            return None;
        }
        n += 1 + frac;
    }
    (int > 0 && matches!(s.get(n), None | Some(b' ' | b'\t'))).then_some(n)
}

fn vertex_body(rest: &[u8]) -> Body<'_> {
    let Some(&first) = rest.first() else {
        return Body::Output;
    };
    if first.is_ascii_digit() {
        if time_prefix_len(rest).is_some() {
            return Body::Output;
        }
        return Body::Text(trim_start(rest));
    }
    match first {
        b'D' => {
            if let Ok((b"", secs)) = delimited(tag("DONE "), float, char('s')).parse(rest) {
                return Body::Done(secs);
            }
        }
        b'C' => {
            if rest == b"CACHED" {
                return Body::Cached;
            }
            if rest == b"CANCELED" || rest == b"CANCELLED" {
                return Body::Canceled;
            }
        }
        b'E' => {
            if rest == b"ERROR" {
                return Body::Error(b"");
            }
            if let Some(msg) = rest.strip_prefix(b"ERROR: ") {
                return Body::Error(msg);
            }
            if let Some(msg) = rest.strip_prefix(b"ERROR ") {
                return Body::Error(msg);
            }
        }
        b'.' if rest == b"..." => return Body::Ellipsis,
        b' ' | b'\t' => {
            let t = trim_start(rest);
            if let Ok((_, d)) = detail(t) {
                return Body::Detail(d);
            }
            return Body::Text(t);
        }
        _ => {}
    }
    Body::Text(rest)
}

/// BuildKit v0.5 detail rows, right-aligned field names.
fn detail(s: &[u8]) -> Res<'_, Detail<'_>> {
    alt((
        preceded(tag("duration: "), go_duration).map(Detail::Duration),
        tag("completed:").map(|_| Detail::Completed),
        tag("cached:").map(|_| Detail::Cached),
        preceded((tag("error:"), space0), take_while(|_| true)).map(Detail::Error),
        alt((tag("digest:"), tag("name:"), tag("started:"))).map(|_| Detail::Other),
    ))
    .parse(s)
}

/// `12`, `12.34`: a non-negative decimal number.
pub fn float(s: &[u8]) -> Res<'_, f64> {
    let (rest, text) = recognize((digit1, opt((char('.'), digit1)))).parse(s)?;
    // Digits and one dot are valid UTF-8 and a valid f64.
    let v: f64 = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::INFINITY);
    if !v.is_finite() {
        // `DONE 999…9.0s` with hundreds of digits: not a time.
        return Err(nom::Err::Error(nom::error::Error::new(
            s,
            nom::error::ErrorKind::Float,
        )));
    }
    Ok((rest, v))
}

/// A Go `time.Duration` string: `1m2.5s`, `405.348228ms`, `428µs`, `12ns`.
fn go_duration(s: &[u8]) -> Res<'_, f64> {
    let unit = alt((
        tag("ms").map(|_| 1e-3),
        tag("µs").map(|_| 1e-6),
        tag("us").map(|_| 1e-6),
        tag("ns").map(|_| 1e-9),
        tag("h").map(|_| 3600.0),
        tag("m").map(|_| 60.0),
        tag("s").map(|_| 1.0),
    ));
    let (rest, parts) = nom::multi::many1((float, unit)).parse(s)?;
    Ok((rest, parts.iter().map(|(v, u)| v * u).sum()))
}

fn build_triggers(s: &[u8]) -> Res<'_, u32> {
    let (rest, n) = preceded(tag("# Executing "), digit1).parse(s)?;
    let (rest, _) = preceded(tag(" build trigger"), take_while(|_| true)).parse(rest)?;
    Ok((rest, to_u32(n)))
}

fn to_u32(d: &[u8]) -> u32 {
    std::str::from_utf8(d)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(u32::MAX)
}

/// `Step 3/8 : RUN x` (docker ≥ 1.13) or `Step 3 : RUN x` (older).
fn legacy_step(s: &[u8]) -> Res<'_, Line<'_>> {
    let (rest, (index, total)) =
        preceded(tag("Step "), (digit1, opt(preceded(char('/'), digit1)))).parse(s)?;
    // Docker always prints ` : `; `Step 1: Build image` is someone's script talking.
    let (name, _) = (space1, char(':'), space0).parse(rest)?;
    Ok((
        b"",
        Line::LegacyStep {
            stage: None,
            buildah: false,
            index: to_u32(index),
            total: total.map(to_u32),
            name,
        },
    ))
}

/// buildah / podman: `STEP 3/8: RUN x`, `STEP 3: RUN x`, `[1/2] STEP 3/8: RUN x`.
fn buildah_step(s: &[u8]) -> Res<'_, Line<'_>> {
    let (s, stage) = opt(delimited(
        char('['),
        digit1,
        (char('/'), digit1, char(']'), space1),
    ))
    .parse(s)?;
    let (rest, (index, total)) =
        preceded(tag("STEP "), (digit1, opt(preceded(char('/'), digit1)))).parse(s)?;
    let (name, _) = (char(':'), space0).parse(rest)?;
    if name.starts_with(b"COMMIT") && matches!(name.get(6), None | Some(b' ')) {
        return Ok((b"", Line::BuildahCommit)); // podman 1.x: `STEP 3: COMMIT image`
    }
    Ok((
        b"",
        Line::LegacyStep {
            stage: stage.map(to_u32),
            buildah: true,
            index: to_u32(index),
            total: total.map(to_u32),
            name,
        },
    ))
}

/// Lines that start (after indentation) with an arrow: legacy `--->`, buildah `-->`, TTY `=>`.
fn arrow_line(t: &[u8]) -> Option<Line<'_>> {
    if let Some(r) = t.strip_prefix(b"---> ").or_else(|| t.strip_prefix(b"--> ")) {
        if r.starts_with(b"Using cache") {
            return Some(Line::LegacyUsingCache);
        }
        if r.starts_with(b"Running in ") {
            return Some(Line::LegacyRunning);
        }
        if (11..=64).contains(&r.len()) && r.iter().all(u8::is_ascii_hexdigit) {
            return Some(Line::LegacyResult);
        }
        return None; // `[Warning] ...`, `Removed intermediate container`: output of the step
    }
    let r = t.strip_prefix(b"=> ")?;
    if r.starts_with(b"=> ") {
        return None; // sub-status row
    }
    let (mark, r) = if let Some(r) = r.strip_prefix(b"CACHED ") {
        (TtyMark::Cached, r)
    } else if let Some(r) = r.strip_prefix(b"ERROR ") {
        (TtyMark::Error, r)
    } else if let Some(r) = r.strip_prefix(b"CANCELED ") {
        (TtyMark::Canceled, r)
    } else {
        (TtyMark::None, r)
    };
    // A trailing `  12.3s` column is the vertex's time.
    let r = trim_end(r);
    // The column is short: look for its blank among the last bytes only (a long line without
    // one is not rescanned from every anchor position).
    let tail = r.len().saturating_sub(32);
    let (name, secs) = match r[tail..].iter().rposition(|&b| b == b' ').map(|i| tail + i) {
        Some(sp) => match (float, char('s')).parse(&r[sp + 1..]) {
            Ok((b"", (v, _))) => (trim_end(&r[..sp]), Some(v)),
            _ => (r, None),
        },
        None => (r, None),
    };
    if name.is_empty() {
        return None;
    }
    Some(Line::TtyVertex { mark, name, secs })
}

fn tty_frame(s: &[u8]) -> Res<'_, Line<'_>> {
    let (rest, _) = tag("[+] Building ").parse(s)?;
    let finished = memchr::memmem::find(rest, b"FINISHED").is_some();
    // `12.3s (8/9)`: the second number is how many vertices the build has so far.
    let count: Res<'_, _> = (float, tag("s ("), digit1, char('/'), digit1, char(')')).parse(rest);
    let (elapsed, total) = match count {
        Ok((_, (secs, _, _, _, n, _))) => (Some(secs), Some(to_u32(n))),
        Err(_) => (float(rest).ok().map(|(_, secs)| secs), None),
    };
    Ok((
        b"",
        Line::TtyFrame {
            finished,
            total,
            elapsed,
        },
    ))
}

fn container_line(s: &[u8]) -> Res<'_, Line<'_>> {
    let (rest, _) = tag("[Container] ").parse(s)?;
    let (rest, at_ms) = codebuild_time(rest)?;
    let (what, _) = space1(rest)?;
    let c = if let Some(p) = what.strip_prefix(b"Entering phase ") {
        Container::EnteringPhase(trim_end(p))
    } else if let Some(r) = what.strip_prefix(b"Phase complete: ") {
        match memchr::memmem::find(r, b" State: ") {
            Some(at) => Container::PhaseComplete {
                phase: &r[..at],
                state: trim_end(&r[at + 8..]),
            },
            None => Container::Other,
        }
    } else if let Some(c) = what.strip_prefix(b"Running command ") {
        Container::RunningCommand(c)
    } else {
        Container::Other
    };
    Ok((b"", Line::Container { at_ms, what: c }))
}

fn n_digits(n: usize) -> impl Fn(&[u8]) -> Res<'_, i64> {
    move |s| {
        take_while_m_n(n, n, |b: u8| b.is_ascii_digit())
            .map(|d: &[u8]| to_u32(d) as i64)
            .parse(s)
    }
}

/// Fractional seconds `.123456789` → milliseconds.
fn fraction_ms(s: &[u8]) -> Res<'_, i64> {
    let (rest, digits) = preceded(alt((char('.'), char(','))), digit1).parse(s)?;
    let mut ms = 0i64;
    for i in 0..3 {
        ms = ms * 10 + digits.get(i).map_or(0, |d| (d - b'0') as i64);
    }
    Ok((rest, ms))
}

/// `2024/01/02 03:04:05[.ffffff]` (CodeBuild, UTC) → ms since the epoch.
fn codebuild_time(s: &[u8]) -> Res<'_, i64> {
    let (rest, (y, _, mo, _, d, _, h, _, mi, _, sec, frac)) = (
        n_digits(4),
        char('/'),
        n_digits(2),
        char('/'),
        n_digits(2),
        char(' '),
        n_digits(2),
        char(':'),
        n_digits(2),
        char(':'),
        n_digits(2),
        opt(fraction_ms),
    )
        .parse(s)?;
    let ms = super::time::epoch_ms(y, mo, d, h, mi, sec, frac.unwrap_or(0));
    Ok((rest, ms))
}

/// ISO 8601 / RFC 3339 timestamp with any number of fractional digits and an optional zone.
fn iso_timestamp(s: &[u8]) -> Res<'_, ()> {
    let (rest, _) = (
        n_digits(4),
        char('-'),
        n_digits(2),
        char('-'),
        n_digits(2),
        alt((char('T'), char(' '))),
        hms,
        opt(alt((
            tag("Z").map(|_| ()),
            (
                alt((char('+'), char('-'))),
                n_digits(2),
                opt(char(':')),
                n_digits(2),
            )
                .map(|_| ()),
        ))),
    )
        .parse(s)?;
    Ok((rest, ()))
}

fn hms(s: &[u8]) -> Res<'_, ()> {
    let (rest, _) = (
        n_digits(2),
        char(':'),
        n_digits(2),
        char(':'),
        n_digits(2),
        opt(fraction_ms),
    )
        .parse(s)?;
    Ok((rest, ()))
}

/// One wrapper prefix, with the whitespace after it; `None` if the line does not start with one.
fn strip_prefix(s: &[u8]) -> Option<&[u8]> {
    let end_or_space = |rest: &[u8]| -> Option<usize> {
        if rest.is_empty() {
            Some(0)
        } else if rest[0] == b' ' || rest[0] == b'\t' {
            Some(1)
        } else {
            None
        }
    };
    // A timestamp, bare or in brackets: `2024-01-02T03:04:05.1234567Z `, `[03:04:05] `.
    let stamp = |s| alt((iso_timestamp, hms)).parse(s);
    if let Ok((rest, _)) = alt((stamp, delimited(char('['), stamp, char(']')))).parse(s) {
        if let Some(n) = end_or_space(rest) {
            return Some(trim_start(&rest[n..]));
        }
    }
    // Epoch milliseconds, as CloudWatch exports and some console copies print them.
    let epoch: Res<'_, _> = take_while_m_n(13, 13, |b: u8| b.is_ascii_digit()).parse(s);
    if let Ok((rest, _)) = epoch {
        if let Some(n) = end_or_space(rest) {
            return Some(trim_start(&rest[n..]));
        }
    }
    // GitLab's timestamped trace puts a stream token after the time: `00O `, `01E+ `.
    let gitlab: Res<'_, _> = (
        take_while_m_n(2, 2, |b: u8| b.is_ascii_hexdigit()),
        alt((char('O'), char('E'))),
        opt(char('+')),
        char(' '),
    )
        .parse(s);
    if let Ok((rest, _)) = gitlab {
        return Some(rest);
    }
    // A console line number or compose service: `41 | `, `web-1  | `.
    let name = take_while1(|b: u8| b.is_ascii_alphanumeric() || b"_.-/".contains(&b));
    if let Ok((rest, _)) = (space0::<_, nom::error::Error<_>>, name, space0, char('|')).parse(s) {
        if let Some(n) = end_or_space(rest) {
            return Some(&rest[n..]);
        }
    }
    // A log level (`DEBUG `) or a bracketed tool tag (`[build] `, `[id] \t`).
    let level = take_while_m_n(4, 7, |b: u8| b.is_ascii_uppercase());
    let bracket = delimited(char('['), take_while1(|b| b != b']'), char(']'));
    let tagged: Res<'_, &[u8]> = alt((level, bracket)).parse(s);
    if let Ok((rest, _)) = tagged {
        if let Some(n) = end_or_space(rest) {
            if n == 1 {
                return Some(trim_start(&rest[n..]));
            }
        }
    }
    None
}

/// A vertex name's leading `[label]`: the text inside the brackets and what follows them
/// (`[builder 2/6] RUN x` → `builder 2/6`, ` RUN x`).
pub fn bracket_label(h: &[u8]) -> Option<(&[u8], &[u8])> {
    let close = memchr::memchr(b']', h).filter(|_| h.first() == Some(&b'['))?;
    Some((&h[1..close], &h[close + 1..]))
}

/// Parses a `[stage i/n] INSTRUCTION ...` (or `[i/n] ...`) BuildKit name into
/// `(stage, index, total, instruction)`.
pub fn dockerfile_name(name: &str) -> Option<(Option<&str>, u32, u32, &str)> {
    let inner_end = name.find(']')?;
    let inner = name.strip_prefix('[')?.get(..inner_end - 1)?.trim();
    let after = name[inner_end + 1..].trim_start();
    let (stage, frac) = match inner.rfind([' ', '\t']) {
        Some(sp) => (Some(inner[..sp].trim()), &inner[sp + 1..]),
        None => (None, inner),
    };
    let (i, n) = frac.split_once('/')?;
    let index = i.parse().ok()?;
    let total = n.parse().ok()?;
    let instruction = after.split([' ', '\t']).next().unwrap_or("");
    if instruction.is_empty() || !instruction.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some((stage.filter(|s| !s.is_empty()), index, total, instruction))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Body<'_> {
        match classify(s.as_bytes()) {
            Line::Vertex { body, .. } => body,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn vertex_bodies() {
        assert_eq!(body("#7 16.83 "), Body::Output);
        assert_eq!(body("#9 0.460 DONE 9.9s"), Body::Output);
        assert_eq!(body("#9 1494.1 text"), Body::Output);
        assert_eq!(body("#9 DONE 9.9s"), Body::Done(9.9));
        assert_eq!(body("#9 DONE 12s"), Body::Done(12.0));
        assert_eq!(body("#9 CACHED\r"), Body::Cached);
        assert_eq!(body("#9 CANCELED"), Body::Canceled);
        assert_eq!(body("#9 ERROR: boom"), Body::Error(b"boom"));
        assert_eq!(body("#9 ..."), Body::Ellipsis);
        assert_eq!(body("#9 DONE 9.9s extra"), Body::Text(b"DONE 9.9s extra"));
        match body("#1     duration: 405.348228ms") {
            Body::Detail(Detail::Duration(d)) => assert!((d - 0.405348228).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            body("#1    completed: 2019-04-08 08:04:01 +0000 UTC"),
            Body::Detail(Detail::Completed)
        );
        assert_eq!(body("#1 [internal] load"), Body::Text(b"[internal] load"));
    }

    #[test]
    fn wrappers_are_peeled() {
        for l in [
            "2025-07-04T13:39:12.20768264Z #8 CACHED",
            "2025-01-05T18:29:33.0769053Z #8 CACHED",
            "[2025-01-05T18:29:33.076Z] #8 CACHED",
            "12:01:02 #8 CACHED",
            "41 | #8 CACHED",
            "web-1  | #8 CACHED",
            "DEBUG [abc123] \t#8 CACHED",
            "2024-03-12T10:00:00.123456Z 00O #8 CACHED",
            "2024-03-12T10:00:00.123456Z 01E+ #8 CACHED",
            "1714564800000\t#8 CACHED",
        ] {
            assert_eq!(
                classify(l.as_bytes()),
                Line::Vertex {
                    id: 8,
                    body: Body::Cached
                },
                "{l}"
            );
        }
        assert_eq!(classify(b"2025-01-05T18:29:33.3693939Z"), Line::Blank);
        assert_eq!(classify(b"2025-07-04T13:39:10.002333339Z "), Line::Blank);
        assert_eq!(classify(b"See issue #12 for details"), Line::Text);
    }

    #[test]
    fn legacy_lines() {
        assert_eq!(
            classify(b"Step 3/8 : RUN make"),
            Line::LegacyStep {
                stage: None,
                buildah: false,
                index: 3,
                total: Some(8),
                name: b"RUN make"
            }
        );
        assert_eq!(
            classify(b"Step 3 : RUN make"),
            Line::LegacyStep {
                stage: None,
                buildah: false,
                index: 3,
                total: None,
                name: b"RUN make"
            }
        );
        assert_eq!(
            classify(b"[2/2] STEP 1/3: FROM alpine"),
            Line::LegacyStep {
                stage: Some(2),
                buildah: true,
                index: 1,
                total: Some(3),
                name: b"FROM alpine"
            }
        );
        assert_eq!(classify(b"Step 1: Build image"), Line::Text);
        assert_eq!(classify(b"Successfully built pyyaml"), Line::Text);
        assert_eq!(
            classify(b"Successfully built 49db85e41d62"),
            Line::LegacySuccess
        );
        assert_eq!(classify(b" ---> Using cache"), Line::LegacyUsingCache);
        assert_eq!(classify(b"---> Using cache "), Line::LegacyUsingCache);
        assert_eq!(classify(b"--> Using cache 5c8a"), Line::LegacyUsingCache);
        assert_eq!(classify(b" ---> Running in 1234"), Line::LegacyRunning);
        assert_eq!(classify(b" ---> 1234abcd"), Line::Text);
        assert_eq!(classify(b" ---> 3b1f2a9c8d7e"), Line::LegacyResult);
        assert_eq!(classify(b"--> 3b1f2a9c8d7"), Line::LegacyResult);
        assert!(matches!(
            classify(b"The command '/bin/sh -c make' returned a non-zero code: 2"),
            Line::LegacyFailure(_)
        ));
        for (text, failed) in [
            ("ERROR: Job failed: exit code 1", true),
            ("script returned exit code 0", false),
            ("exit status: 0 (ok), then exit status 2", true),
            ("Process exited with code 0", false),
            (
                "[Container] Command did not exit successfully docker build . exit status 1",
                true,
            ),
            ("make: *** [build] Error 2", true),
            ("npm notice exiting", false),
        ] {
            assert_eq!(says_command_failed(text.as_bytes()), failed, "{text}");
        }
    }

    #[test]
    fn escape_strings_are_removed_whole() {
        assert_eq!(
            strip_ansi(b"\x1b_bk;t=1696428239123\x07#5 [2/6] RUN x"),
            b"#5 [2/6] RUN x"
        );
        assert_eq!(
            strip_ansi(b"\x1b]0;title\x1b\\ok \x1b[1;31mred\x1b[0m"),
            b"ok red"
        );
        assert_eq!(strip_ansi(b"cut \x1b_never ended"), b"cut ");
    }

    #[test]
    fn container_lines() {
        match classify(b"[Container] 2025/03/08 23:03:49.616090 Entering phase BUILD") {
            Line::Container { at_ms, what } => {
                assert_eq!(at_ms, 1_741_475_029_616);
                assert_eq!(what, Container::EnteringPhase(b"BUILD"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tty_rows() {
        assert_eq!(
            classify(b" => CACHED [2/5] WORKDIR /app                     0.0s"),
            Line::TtyVertex {
                mark: TtyMark::Cached,
                name: b"[2/5] WORKDIR /app",
                secs: Some(0.0)
            }
        );
        assert_eq!(
            classify(b" => => transferring context: 2B  0.0s"),
            Line::Text
        );
    }

    #[test]
    fn dockerfile_names() {
        assert_eq!(
            dockerfile_name("[runner  6/11] COPY a b"),
            Some((Some("runner"), 6, 11, "COPY"))
        );
        assert_eq!(
            dockerfile_name("[ 3/11] WORKDIR /app"),
            Some((None, 3, 11, "WORKDIR"))
        );
        assert_eq!(dockerfile_name("[internal] load .dockerignore"), None);
    }
}
