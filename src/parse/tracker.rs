//! State across lines: which steps exist in the current docker build run, how each ended, and
//! where one run stops and the next begins.
//!
//! A step's final record is released when its run (invocation) closes — at the next run's first
//! sign (`#0 building with`, a `docker build` command line, `Sending build context`, a restarted
//! legacy `Step 1/n`) or at the end of the input — because BuildKit may still revise a finished
//! vertex (a second `DONE`, `CACHED` after pulling layers) and steps are reported in header
//! order. [`Event::StepEnded`] announces each ending the moment it is seen, for live consumers.
//! A run whose steps repeat the previous run's exactly is the same output printed twice and is
//! dropped — unless it failed and no other command (`cat build.log`) came between: then it is a
//! retry, and counted.

use std::collections::HashMap;

use super::evidence::{self, Place};
use super::line::{self, Body, Container, Detail, Line, TtyMark};
use super::rawjson;
use super::wrapper::{Read, Unread, Unwrapper};
use crate::model::{CommandEvent, Evidence, EvidenceKind, PhaseEvent, Step, StepKind, StepStatus};

/// Something the parser found.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A step's final record, in header order within its invocation.
    Step(Step),
    /// A step just reached an ending. Provisional: its final record may still change.
    StepEnded {
        invocation: u32,
        step: String,
        status: StepStatus,
    },
    /// A CodeBuild phase started or completed.
    Phase(PhaseEvent),
    /// CodeBuild ran a buildspec command.
    Command(CommandEvent),
    /// A line that carries cache evidence, released with its invocation's steps (a few per
    /// kind: see [`EVIDENCE_PER_KIND`]).
    Evidence(Evidence),
}

/// Evidence lines kept per kind and invocation: the first few, and the latest in the last slot
/// (`sending tarball 28.6s done` ends a run of progress lines). Bounded memory on any input.
pub const EVIDENCE_PER_KIND: usize = 4;

/// The open invocation's evidence, bounded per kind. Text stays bytes until the invocation
/// closes: a kind past its cap overwrites its last slot in place, with no allocation.
#[derive(Debug, Default)]
struct EvidenceBuf {
    lines: Vec<Pending>,
    /// Per kind (by discriminant): how many were kept, and where the last slot is.
    kept: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct Pending {
    vertex: Option<u32>,
    kind: EvidenceKind,
    line: u64,
    text: Vec<u8>,
    secs: Option<f64>,
}

impl EvidenceBuf {
    fn push(&mut self, line: u64, vertex: Option<u32>, kind: EvidenceKind, text: &[u8]) {
        let k = kind as usize;
        if self.kept.len() <= k {
            self.kept.resize(k + 1, (0, 0));
        }
        // Only the cache machinery's own lines have their time added up (`CacheCost`).
        let timed = matches!(
            kind,
            EvidenceKind::SendingTarball | EvidenceKind::InlineCacheExport
        );
        let secs = timed.then(|| evidence::stated_secs(text)).flatten();
        let text = &text[..text.len().min(Evidence::MAX_TEXT)];
        let (n, last) = &mut self.kept[k];
        if *n < EVIDENCE_PER_KIND {
            *n += 1;
            *last = self.lines.len();
            self.lines.push(Pending {
                vertex,
                kind,
                line,
                text: text.to_vec(),
                secs,
            });
        } else {
            let p = &mut self.lines[*last];
            (p.vertex, p.line, p.secs) = (vertex, line, secs);
            p.text.clear();
            p.text.extend_from_slice(text);
        }
    }

    /// The lines kept, as evidence of `invocation`.
    fn take(&mut self, invocation: u32) -> Vec<Evidence> {
        self.kept.clear();
        (self.lines.drain(..))
            .map(|p| Evidence {
                invocation,
                vertex: p.vertex,
                kind: p.kind,
                line: p.line,
                text: String::from_utf8_lossy(&p.text).into_owned(),
                secs: p.secs,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Plain,
    Tty,
    RawJson,
    Legacy,
}

#[derive(Debug)]
struct StepState {
    origin: Origin,
    vertex: Option<u32>,
    id: String,
    name: String,
    line: u64,
    cached: bool,
    done: Option<f64>,
    /// `duration:` of a v0.5-era detail row: the time of a vertex that ran, not of a cache hit.
    detail_secs: Option<f64>,
    completed: bool,
    error: Option<String>,
    canceled: bool,
    // Legacy builder only.
    /// A `---> <image id>` or `Successfully built` line: the step produced its image.
    result: bool,
    /// A line saying a command failed (`exit code 1`, CodeBuild's `Command did not exit
    /// successfully`) while the step had no result: the step failed if nothing follows it.
    failed: Option<String>,
    index: Option<u32>,
    total: Option<u32>,
    legacy_stage: Option<u32>,
    buildah: bool,
    output: bool,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    announced: bool,
}

impl StepState {
    fn new(origin: Origin, vertex: Option<u32>, id: String, name: String, line: u64) -> Self {
        StepState {
            origin,
            vertex,
            id,
            name,
            line,
            cached: false,
            done: None,
            detail_secs: None,
            completed: false,
            error: None,
            canceled: false,
            result: false,
            failed: None,
            index: None,
            total: None,
            legacy_stage: None,
            buildah: false,
            output: false,
            start_ms: None,
            end_ms: None,
            announced: false,
        }
    }

    /// Whether a legacy step header numbered `index` (in podman stage `stage`) after this one
    /// starts a new run: numbers restart — except in a later podman stage of the same run.
    fn numbers_restart(&self, stage: Option<u32>, index: u32) -> bool {
        match (self.legacy_stage, stage) {
            (Some(a), Some(b)) if a != b => b < a,
            _ => self.index.is_some_and(|i| index <= i),
        }
    }

    fn status(&self, is_last: bool) -> StepStatus {
        if self.origin == Origin::Legacy {
            return if self.cached {
                StepStatus::Cached
            } else if self.error.is_some() || (is_last && self.failed.is_some()) {
                StepStatus::Error
            } else if is_last && !self.result {
                // The log stops inside the step: it never printed its image.
                StepStatus::Unfinished
            } else {
                StepStatus::Rebuilt
            };
        }
        if self.cached {
            StepStatus::Cached
        } else if self.done.is_some() || self.completed {
            StepStatus::Rebuilt
        } else if self.error.is_some() {
            StepStatus::Error
        } else if self.canceled {
            StepStatus::Canceled
        } else {
            StepStatus::Unfinished
        }
    }

    fn duration(&self) -> Option<f64> {
        match self.origin {
            Origin::Legacy => match (self.start_ms, self.end_ms) {
                // Event times are whatever the JSON said: no overflow, no negative durations.
                (Some(s), Some(e)) => e
                    .checked_sub(s)
                    .filter(|d| *d >= 0)
                    .map(|d| d as f64 / 1000.0),
                _ => None,
            },
            // A cached step did not run: an earlier `DONE` of the vertex is not its time.
            _ if self.cached => None,
            _ => self.done.or(self.detail_secs),
        }
    }

    fn into_step(self, invocation: u32, is_last: bool) -> Step {
        let status = self.status(is_last);
        let duration_s = self.duration();
        let (stage, index, total, instruction, kind) = if self.origin == Origin::Legacy {
            let instr = self
                .name
                .split([' ', '\t'])
                .next()
                .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase);
            (None, self.index, self.total, instr, StepKind::Dockerfile)
        } else {
            match line::dockerfile_name(&self.name) {
                Some((stage, i, n, instr)) => (
                    stage.map(str::to_string),
                    Some(i),
                    Some(n),
                    Some(instr.to_ascii_uppercase()),
                    StepKind::Dockerfile,
                ),
                None => (None, None, None, None, kind_of(&self.name)),
            }
        };
        Step {
            invocation,
            vertex: self.vertex,
            step: self.id,
            name: self.name,
            stage,
            index,
            total,
            instruction,
            kind,
            status,
            duration_s,
            line: self.line,
            error: (self.error)
                .or_else(|| self.failed.filter(|_| status == StepStatus::Error))
                .filter(|e| !e.is_empty()),
        }
    }
}

/// The kind of a non-Dockerfile BuildKit vertex, from its name.
fn kind_of(name: &str) -> StepKind {
    // The words that tell the kind are at the start.
    let lower = name.get(..64).unwrap_or(name).to_ascii_lowercase();
    // `[internal]`, and with compose/bake or multi-platform builds `[web internal]`,
    // `[linux/amd64 internal]`.
    let bracket = lower
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(inside, _)| inside.rsplit(' ').next().unwrap_or(""));
    if matches!(bracket, Some("internal" | "auth"))
        || lower.starts_with("resolve image config")
        || lower.starts_with("load metadata")
    {
        StepKind::Internal
    } else if lower.starts_with("importing cache") {
        StepKind::CacheImport
    } else if lower.starts_with("exporting") && lower.contains("cache") {
        StepKind::CacheExport
    } else if lower.starts_with("exporting")
        || lower.starts_with("pushing")
        || lower.starts_with("naming to")
        || lower.starts_with("sending tarball")
    {
        StepKind::Export
    } else {
        StepKind::Other
    }
}

/// Step index by vertex number: a table for the small numbers every build uses, a map above.
#[derive(Debug, Default)]
struct VertexIndex {
    /// `index + 1` by vertex number; 0 = none.
    small: Vec<usize>,
    large: HashMap<u32, usize>,
}

impl VertexIndex {
    const SMALL: u32 = 4096;

    fn get(&self, id: u32) -> Option<usize> {
        if id < Self::SMALL {
            let n = *self.small.get(id as usize)?;
            n.checked_sub(1)
        } else {
            self.large.get(&id).copied()
        }
    }

    fn insert(&mut self, id: u32, index: usize) {
        if id < Self::SMALL {
            let id = id as usize;
            if self.small.len() <= id {
                self.small.resize(id + 1, 0);
            }
            self.small[id] = index + 1;
        } else {
            self.large.insert(id, index);
        }
    }

    fn clear(&mut self) {
        self.small.clear();
        self.large.clear();
    }
}

#[derive(Debug, Default)]
pub struct Tracker {
    /// Number of the open invocation (1-based).
    invocation: u32,
    /// Wrappers learned from the log.
    unwrapper: Unwrapper,
    /// The input ended (no next run closes the open one).
    at_end: bool,
    /// A command other than a docker build ran since the last run closed (`cat build.log`).
    other_command: bool,
    /// Reading the text of an Engine API JSON message.
    in_json_text: bool,
    /// The vertex of the last output line (output comes in runs of one vertex).
    last_output_vertex: Option<u32>,
    steps: Vec<StepState>,
    by_vertex: VertexIndex,
    by_key: HashMap<Vec<u8>, usize>,
    /// Keyed steps (TTY rows, rawjson digests) numbered so far in this run, by origin.
    keyed_count: [u32; 4],
    legacy_open: Option<usize>,
    trigger_steps_left: u32,
    tty_finished: bool,
    /// The vertex total and elapsed seconds of the last frame header.
    tty_total: Option<u32>,
    tty_elapsed: Option<f64>,
    tty_frame_seen: bool,
    /// The last run's steps, by [`fingerprint`], to tell a reprint.
    previous: Vec<u64>,
    /// Timestamp of the current line's CloudWatch event, when the source has one.
    event_ms: Option<i64>,
    events: Vec<Event>,
    evidence: EvidenceBuf,
    /// A rawjson object printed over several lines (early buildx indented its output): the
    /// lines so far, and the line number of its `{`.
    pretty_json: Option<(Vec<u8>, u64)>,
    /// Step names and errors cut at [`MAX_STEP_TEXT`]: how many, and the first one's line.
    long_texts: (u64, Option<u64>),
}

/// The most of a step's name or error text kept (bytes): a step is one line of the log, which
/// may be a megabyte long, and every report prints the name.
pub const MAX_STEP_TEXT: usize = 8 << 10;

/// Cuts `text` to at most [`MAX_STEP_TEXT`] bytes, on a character boundary, ending in `…`.
fn cap_text(text: &mut String) -> bool {
    if text.len() <= MAX_STEP_TEXT {
        return false;
    }
    let mut end = MAX_STEP_TEXT - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    true
}

/// A multi-line JSON object larger than this is not progress output: give up on it.
const MAX_PRETTY_JSON: usize = 1 << 20;

impl Tracker {
    pub fn new() -> Self {
        Tracker {
            invocation: 1,
            ..Default::default()
        }
    }

    pub fn set_event_time(&mut self, ms: Option<i64>) {
        self.event_ms = ms;
    }

    pub fn take_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    pub fn invocations(&self) -> u32 {
        self.invocation - 1
    }

    /// Steps whose name or error was cut at [`MAX_STEP_TEXT`], and the first one's line.
    pub fn long_texts(&self) -> (u64, Option<u64>) {
        self.long_texts
    }

    /// Lines that held a build line after a prefix not taken for a wrapper.
    pub fn unread(&self) -> &[Unread] {
        self.unwrapper.unread()
    }

    /// A line saying a command failed, while a legacy step waits for its result, may be the
    /// build failing in that step (the builder's own message can be missing or unrecognised).
    fn legacy_failure_hint(&mut self, text: &[u8]) {
        let Some(i) = self.legacy_open else { return };
        let s = &mut self.steps[i];
        if s.result || s.failed.is_some() || !line::says_command_failed(text) {
            return;
        }
        let text = line::trim_end(text).trim_ascii_start();
        let text = &text[..text.len().min(Evidence::MAX_TEXT)];
        s.failed = Some(String::from_utf8_lossy(text).into_owned());
    }

    /// One complete line.
    pub fn line(&mut self, line_no: u64, raw: &[u8]) {
        if self.pretty_json.is_some() && self.pretty_json_line(raw) {
            return;
        }
        if line::trim_end(raw) == b"{" {
            self.pretty_json = Some((b"{".to_vec(), line_no));
            return;
        }
        let clean;
        let mut text = raw;
        let (mut l, mut read) = self.unwrapper.classify(line_no, raw);
        if l == Line::Text && memchr::memchr(0x1b, raw).is_some() {
            clean = line::strip_ansi(raw);
            text = &clean;
            (l, read) = self.unwrapper.classify(line_no, text);
        }
        // Inside a legacy step's output, a weak line under a learned wrapper continues a vertex
        // but never starts one (`    #1 0x4f5e3a in main` from a sanitizer is output).
        if let (Line::Vertex { id, .. }, Read::Weak) = (&l, read) {
            if self.legacy_open.is_some() && self.by_vertex.get(*id).is_none() {
                l = Line::Text;
            }
        }
        // Plain lines, failure lines and CodeBuild's own (`Command did not exit successfully
        // docker build`) can be evidence; a legacy RUN's own output is not scanned.
        let noted = match &l {
            Line::Text => self.scans_text(),
            Line::LegacyFailure(_) | Line::DockerCommand(_) => true,
            Line::Container { what, .. } => matches!(what, Container::Other),
            _ => false,
        };
        if noted {
            self.note(line_no, None, text, Place::Text);
        }
        let container_other = matches!(
            l,
            Line::Container {
                what: Container::Other,
                ..
            }
        );
        if l == Line::Text || container_other {
            self.legacy_failure_hint(text);
        }
        self.apply(line_no, l);
    }

    /// Ends the input: closes the open invocation.
    pub fn finish(&mut self) {
        self.pretty_json = None;
        self.at_end = true;
        self.close_invocation();
        // Evidence with no step to go with (a build that failed before its first step, such as
        // an unsupported `--cache-to`): it belongs to the run that never started.
        let left = self.evidence.take(self.invocation);
        self.events.extend(left.into_iter().map(Event::Evidence));
    }

    /// Continues a multi-line JSON object: indented lines belong to it, a `}` at column 0 ends
    /// it. Returns false (and gives up on the object) for any other line, which is then
    /// processed as usual.
    fn pretty_json_line(&mut self, raw: &[u8]) -> bool {
        let Some((buf, start)) = self.pretty_json.as_mut() else {
            return false;
        };
        let l = line::trim_end(raw);
        let inside =
            matches!(l.first(), Some(b' ' | b'\t')) && !l.trim_ascii_start().starts_with(b"--->");
        if (inside || l == b"}") && buf.len() + l.len() < MAX_PRETTY_JSON {
            buf.push(b'\n');
            buf.extend_from_slice(l);
            if l == b"}" {
                let (json, start) = (std::mem::take(buf), *start);
                self.pretty_json = None;
                self.raw_json(start, &json);
            }
            return true;
        }
        self.pretty_json = None;
        self.legacy_output(|_| {});
        false
    }

    fn apply(&mut self, line_no: u64, l: Line<'_>) {
        match l {
            Line::Blank => {}
            Line::Vertex { id, body } => self.vertex(line_no, id, body),
            Line::BuildingWith(text) => {
                self.close_invocation();
                self.keep(line_no, None, EvidenceKind::BuilderDriver, text);
            }
            Line::SendingContext => self.close_invocation(),
            Line::DockerCommand(command) => {
                self.close_invocation();
                self.events.push(Event::Command(CommandEvent {
                    command: String::from_utf8_lossy(command).trim().to_string(),
                    at_ms: None,
                    line: line_no,
                }));
            }
            // Frames are redraws of one build; after a finished build, a frame that counts
            // another number of vertices (builds side by side in one terminal each end with
            // their own final frame) or an earlier time (a rebuild) is the next build.
            Line::TtyFrame {
                finished,
                total,
                elapsed,
            } => {
                let earlier = matches!((elapsed, self.tty_elapsed), (Some(e), Some(p)) if e < p);
                if self.tty_finished && (total != self.tty_total || earlier) {
                    self.close_invocation();
                }
                self.tty_finished = finished;
                self.tty_total = total;
                self.tty_elapsed = elapsed;
                self.tty_frame_seen = true;
            }
            Line::TtyVertex { mark, name, secs } => self.tty_vertex(line_no, mark, name, secs),
            Line::LegacyStep {
                stage,
                buildah,
                index,
                total,
                name,
            } => self.legacy_step(line_no, stage, buildah, index, total, name),
            Line::LegacyUsingCache => self.legacy_output(|s| s.cached = true),
            Line::LegacyRunning => self.legacy_output(|s| s.cached = false),
            Line::LegacyResult => self.legacy_output(|s| {
                s.result = true;
                s.failed = None;
            }),
            Line::BuildTriggers(n) => {
                self.trigger_steps_left = n;
                self.legacy_output(|_| {});
            }
            Line::BuildahCommit if !self.legacy_open.is_some_and(|i| self.steps[i].buildah) => {
                self.legacy_output(|_| {})
            }
            // A stage's image is committed (the next stage's steps may follow in this run);
            // `Successfully built/tagged` ends the run.
            Line::BuildahCommit | Line::LegacySuccess => {
                let open = self.legacy_open;
                if let Some(i) = open {
                    self.steps[i].output = true;
                    self.steps[i].result = true;
                    self.close_legacy_step(i, true);
                }
                let committed = || self.steps.last().is_some_and(|s| s.buildah && s.result);
                if l == Line::LegacySuccess && (open.is_some() || committed()) {
                    self.close_invocation();
                }
            }
            Line::LegacyFailure(msg) => {
                self.keep(line_no, None, EvidenceKind::StepError, msg);
                if let Some(i) = self.legacy_open {
                    self.steps[i].error = Some(String::from_utf8_lossy(msg).into_owned());
                    self.close_legacy_step(i, true);
                    self.close_invocation();
                }
            }
            Line::Container { at_ms, what } => self.container(line_no, at_ms, what),
            Line::RawJson(json) => self.raw_json(line_no, json),
            Line::Text => self.legacy_output(|_| {}),
        }
    }

    fn vertex(&mut self, line_no: u64, id: u32, body: Body<'_>) {
        if matches!(body, Body::Output | Body::Ellipsis) {
            // The bulk of a log: step output changes no state — unless the vertex's header was
            // never seen (the log starts inside it, or its header was cut out).
            if self.last_output_vertex != Some(id) {
                self.last_output_vertex = Some(id);
                if self.by_vertex.get(id).is_none() {
                    self.open_vertex(id, String::new(), line_no);
                }
            }
            return;
        }
        let idx = match self.by_vertex.get(id) {
            Some(i) if self.steps[i].name.is_empty() => {
                if let Body::Text(header) = body {
                    if header.first() == Some(&b'[') {
                        // A header after the vertex's first lines names it.
                        let header = line::trim_end(header);
                        self.steps[i].name = String::from_utf8_lossy(header).into();
                    }
                }
                i
            }
            Some(i) if !self.restarts_numbering(i, &body) => i,
            Some(_) => {
                // A new header for a vertex number that already ended: the next build run.
                self.close_invocation();
                return self.vertex(line_no, id, body);
            }
            None => {
                let Body::Text(header) = body else {
                    // An ending of a vertex whose header was never seen: a step with no name.
                    self.open_vertex(id, String::new(), line_no);
                    return self.vertex(line_no, id, body);
                };
                if !is_dockerfile_header(header) {
                    self.note(line_no, Some(id), header, Place::Vertex);
                }
                let name = String::from_utf8_lossy(line::trim_end(header)).into_owned();
                self.open_vertex(id, name, line_no);
                return;
            }
        };
        match body {
            Body::Text(text) => self.note(line_no, Some(id), text, Place::Vertex),
            Body::Error(text) | Body::Detail(Detail::Error(text)) => {
                // Any error of the import vertex is the import's failure.
                let importing = self.steps[idx].name.starts_with("importing cache");
                let kind = match evidence::classify(text, Place::VertexError) {
                    Some(EvidenceKind::StepError) | None if importing => EvidenceKind::ImportFailed,
                    Some(kind) => kind,
                    None => EvidenceKind::StepError,
                };
                self.keep(line_no, Some(id), kind, text);
            }
            _ => {}
        }
        let s = &mut self.steps[idx];
        match body {
            Body::Output | Body::Ellipsis | Body::Text(_) => return,
            Body::Done(secs) => s.done = Some(secs),
            Body::Cached => s.cached = true,
            Body::Error(msg) => s.error = Some(String::from_utf8_lossy(msg).into_owned()),
            Body::Canceled => s.canceled = true,
            Body::Detail(Detail::Completed) if s.error.is_none() => s.completed = true,
            Body::Detail(Detail::Duration(secs)) if s.error.is_none() => {
                s.completed = true;
                s.detail_secs = Some((secs * 10.0).round() / 10.0);
            }
            Body::Detail(Detail::Completed | Detail::Duration(_)) => return,
            Body::Detail(Detail::Cached) => s.cached = true,
            Body::Detail(Detail::Error(msg)) => {
                // v0.4 prints `error:` after `completed:`: the vertex completed by failing.
                s.completed = false;
                s.detail_secs = None;
                let msg = String::from_utf8_lossy(msg);
                s.error = Some(msg.trim_matches('"').to_string());
            }
            Body::Detail(Detail::Other) => return,
        }
        self.announce(idx);
    }

    /// A step for vertex `id`, first seen at `line_no`. A vertex first seen without its header
    /// gets no name, and is kept only if the log says how it ended.
    fn open_vertex(&mut self, id: u32, name: String, line_no: u64) {
        let st = StepState::new(Origin::Plain, Some(id), format!("#{id}"), name, line_no);
        self.steps.push(st);
        self.by_vertex.insert(id, self.steps.len() - 1);
    }

    /// A build run without a `#0 building with` line (older BuildKit) still restarts its vertex
    /// numbers: a header-like line (`[...] ...`) for an ended vertex with another name. A repeated
    /// identical header is the same vertex (BuildKit re-prints it when it revisits the vertex).
    fn restarts_numbering(&self, idx: usize, body: &Body<'_>) -> bool {
        let Body::Text(text) = body else {
            return false;
        };
        let s = &self.steps[idx];
        let header_like = line::bracket_label(text).is_some();
        header_like && s.announced && !same_vertex(line::trim_end(text), s.name.as_bytes())
    }

    /// Whether plain text lines can be evidence now: not while a legacy RUN (or COPY, …) prints
    /// its output — the bulk of a legacy log, and no cache line comes from it; the legacy FROM's
    /// `Pulling from` lines and everything outside a step do.
    fn scans_text(&self) -> bool {
        self.legacy_open.is_none_or(|i| {
            let name = self.steps[i].name.trim_start().as_bytes();
            name.len() >= 4 && name[..4].eq_ignore_ascii_case(b"FROM")
        })
    }

    /// Keeps `text` as evidence if it carries any.
    fn note(&mut self, line_no: u64, vertex: Option<u32>, text: &[u8], place: Place) {
        if let Some(kind) = evidence::classify(text, place) {
            self.keep(line_no, vertex, kind, text);
        }
    }

    fn keep(&mut self, line_no: u64, vertex: Option<u32>, kind: EvidenceKind, text: &[u8]) {
        let text = line::trim_end(text).trim_ascii_start();
        self.evidence.push(line_no, vertex, kind, text);
    }

    fn announce(&mut self, idx: usize) {
        let s = &mut self.steps[idx];
        if !s.announced {
            s.announced = true;
            let status = s.status(false);
            let step = s.id.clone();
            self.events.push(Event::StepEnded {
                invocation: self.invocation,
                step,
                status,
            });
        }
    }

    fn keyed_step(&mut self, key: &[u8], origin: Origin, name: &str, line_no: u64) -> usize {
        if let Some(&i) = self.by_key.get(key) {
            return i;
        }
        let count = &mut self.keyed_count[origin as usize];
        *count += 1;
        let n = *count;
        let st = StepState::new(origin, Some(n), format!("#{n}"), name.to_string(), line_no);
        self.steps.push(st);
        self.by_key.insert(key.to_vec(), self.steps.len() - 1);
        self.steps.len() - 1
    }

    fn tty_vertex(&mut self, line_no: u64, mark: TtyMark, name: &[u8], secs: Option<f64>) {
        // `=> Booting Puma` from a legacy RUN is output, not a TTY row: outside a `[+] Building`
        // frame, only rows with a mark or a bracketed vertex name count.
        if !self.tty_frame_seen && mark == TtyMark::None && name.first() != Some(&b'[') {
            return self.legacy_output(|_| {});
        }
        let text = String::from_utf8_lossy(name).into_owned();
        let idx = self.keyed_step(name, Origin::Tty, &text, line_no);
        let s = &mut self.steps[idx];
        // Earlier frames show running timers: a mark in a later frame replaces them.
        match mark {
            TtyMark::Cached => (s.cached, s.done) = (true, None),
            TtyMark::Error => (s.error, s.done) = (Some(String::new()), None),
            TtyMark::Canceled => (s.canceled, s.done) = (true, None),
            TtyMark::None => match secs {
                Some(v) => s.done = Some(v),
                None => return,
            },
        }
        self.announce(idx);
    }

    fn raw_json(&mut self, line_no: u64, json: &[u8]) {
        let updates = match rawjson::parse(json) {
            Some(rawjson::Message::Vertexes(updates)) => updates,
            // The CLI's own text inside an Engine API message (not decoded twice: a message
            // quoting a message is text).
            Some(rawjson::Message::Text(text)) if !self.in_json_text => {
                self.in_json_text = true;
                for l in text.lines() {
                    self.line(line_no, l.as_bytes());
                }
                self.in_json_text = false;
                return;
            }
            _ => return self.legacy_output(|_| {}),
        };
        for u in updates {
            let idx = self.keyed_step(u.digest.as_bytes(), Origin::RawJson, &u.name, line_no);
            let s = &mut self.steps[idx];
            if s.name.is_empty() {
                s.name = u.name;
            }
            s.cached |= u.cached;
            match u.completed {
                Some(Ok(secs)) if !u.cached => s.done = Some(secs),
                Some(Err(e)) if e.contains("context canceled") => s.canceled = true,
                Some(Err(e)) => s.error = Some(e),
                _ if u.cached => {}
                _ => continue,
            }
            self.announce(idx);
        }
    }

    fn legacy_step(
        &mut self,
        line_no: u64,
        stage: Option<u32>,
        buildah: bool,
        index: u32,
        total: Option<u32>,
        name: &[u8],
    ) {
        if let Some(open) = self.legacy_open {
            let open_step = &self.steps[open];
            let name_now = line::trim_end(name);
            if !open_step.output
                && open_step.index == Some(index)
                && open_step.total == total
                && open_step.legacy_stage == stage
                && open_step.name.as_bytes() == name_now
            {
                return; // the same header printed twice (some CI agents double lines)
            }
            let trigger_like =
                open_step.index.is_some_and(|i| index <= i) || open_step.total != total;
            if self.trigger_steps_left > 0 && trigger_like {
                // `Step 1/1 : COPY ...` printed for an ONBUILD trigger of the FROM step: part of
                // that step; whether it came from cache is decided by its last trigger.
                self.trigger_steps_left -= 1;
                self.steps[open].output = true;
                self.steps[open].cached = false;
                return;
            }
            self.trigger_steps_left = 0;
            if self.steps[open].numbers_restart(stage, index) {
                if self.event_ms.is_some() {
                    self.steps[open].end_ms = self.event_ms;
                }
                self.close_invocation();
            } else {
                self.close_legacy_step(open, true);
            }
        } else if let Some(prev) = self.steps.iter().rev().find(|s| s.origin == Origin::Legacy) {
            // After a stage's COMMIT (podman numbers steps on across stages).
            if prev.numbers_restart(stage, index) {
                self.close_invocation();
            }
        }
        let name = String::from_utf8_lossy(line::trim_end(name)).into_owned();
        let id = match total {
            Some(n) => format!("Step {index}/{n}"),
            None => format!("Step {index}"),
        };
        let mut st = StepState::new(Origin::Legacy, None, id, name, line_no);
        st.index = Some(index);
        st.total = total;
        st.legacy_stage = stage;
        st.buildah = buildah;
        st.start_ms = self.event_ms;
        st.end_ms = self.event_ms;
        self.steps.push(st);
        self.legacy_open = Some(self.steps.len() - 1);
    }

    /// A non-blank line while a legacy step is open is that step's output.
    fn legacy_output(&mut self, f: impl FnOnce(&mut StepState)) {
        if let Some(i) = self.legacy_open {
            let s = &mut self.steps[i];
            s.output = true;
            if self.event_ms.is_some() {
                s.end_ms = self.event_ms;
            }
            f(s);
        }
    }

    /// `at_next_line`: the step ended where the current line (next header, result) begins.
    fn close_legacy_step(&mut self, i: usize, at_next_line: bool) {
        if at_next_line && self.event_ms.is_some() {
            self.steps[i].end_ms = self.event_ms;
        }
        self.legacy_open = None;
        self.announce(i);
    }

    fn container(&mut self, line_no: u64, at_ms: i64, what: Container<'_>) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
        match what {
            Container::EnteringPhase(p) => self.events.push(Event::Phase(PhaseEvent {
                phase: text(p),
                state: "STARTED".into(),
                at_ms,
                line: line_no,
            })),
            Container::PhaseComplete { phase, state } => {
                self.events.push(Event::Phase(PhaseEvent {
                    phase: text(phase),
                    state: text(state),
                    at_ms,
                    line: line_no,
                }))
            }
            Container::RunningCommand(c) => {
                // CodeBuild runs one command at a time: a new one ends a docker build that has
                // steps (and its output, such as a `docker pull`, belongs to what comes next).
                let build = line::launches_docker_build(c);
                if build || !self.steps.is_empty() {
                    self.close_invocation();
                }
                self.other_command |= !build;
                self.events.push(Event::Command(CommandEvent {
                    command: text(c),
                    at_ms: Some(at_ms),
                    line: line_no,
                }));
            }
            Container::Other => {}
        }
    }

    /// Closes the open run where the next one begins (or the input ends, `at_end`).
    fn close_invocation(&mut self) {
        if let Some(i) = self.legacy_open {
            // A legacy step without its image when the next run starts (a retry, the next
            // command) did not finish: its build failed.
            let s = &mut self.steps[i];
            if !self.at_end && !s.result && s.failed.is_none() {
                s.failed = Some(String::new());
            }
            self.close_legacy_step(i, false);
        }
        self.trigger_steps_left = 0;
        if std::mem::take(&mut self.tty_finished) {
            // The last frame said FINISHED: a row without a time column did complete.
            for s in self.steps.iter_mut().filter(|s| s.origin == Origin::Tty) {
                s.completed = true;
            }
        }
        self.tty_frame_seen = false;
        self.last_output_vertex = None;
        self.by_vertex.clear();
        self.by_key.clear();
        self.keyed_count = [0; 4];
        self.tty_total = None;
        self.tty_elapsed = None;
        // A vertex seen only by its output, never named or ended, is not a step to report.
        let known =
            |s: &StepState| !(s.name.is_empty() && s.status(false) == StepStatus::Unfinished);
        self.steps.retain(known);
        if self.steps.is_empty() {
            return;
        }
        let n = self.steps.len();
        let mut cut = Vec::new();
        let steps: Vec<Step> = self
            .steps
            .drain(..)
            .enumerate()
            .map(|(i, s)| {
                let mut step = s.into_step(self.invocation, i + 1 == n);
                let name = cap_text(&mut step.name);
                if step.error.as_mut().is_some_and(cap_text) || name {
                    cut.push(step.line);
                }
                step
            })
            .collect();
        let evidence = self.evidence.take(self.invocation);
        // A failed run repeated exactly is a retry, unless another command printed it again.
        let retry = steps.iter().any(|s| s.status == StepStatus::Error) && !self.other_command;
        self.other_command = false;
        let prints: Vec<u64> = steps.iter().map(fingerprint).collect();
        if is_reprint(&self.previous, &prints) && !retry {
            return;
        }
        // (a reprint's cuts are not counted again)
        self.long_texts.0 += cut.len() as u64;
        if let Some(&line) = cut.first() {
            self.long_texts.1.get_or_insert(line);
        }
        self.events.extend(steps.into_iter().map(Event::Step));
        self.events
            .extend(evidence.into_iter().map(Event::Evidence));
        self.previous = prints;
        self.invocation += 1;
    }
}

/// `[stage 2/6] RUN …`, `[2/6] COPY …`: a Dockerfile step, whose header is the user's own text
/// (BuildKit's cache lines are its own vertices and sub-status lines).
fn is_dockerfile_header(h: &[u8]) -> bool {
    let Some((label, _)) = line::bracket_label(h) else {
        return false;
    };
    let last = label.rsplit(|&b| b == b' ').next().unwrap_or(b"");
    last.contains(&b'/') && last.iter().all(|&b| b == b'/' || b.is_ascii_digit())
}

/// Whether two headers name one vertex. Compose and bake print a vertex shared by several
/// services again under each service's name — `[api 2/6] COPY . .`, then `[web 2/6] COPY . .`,
/// `[api internal] load …` and `[web internal] load …` — so the first word inside the brackets
/// may differ when the rest agrees.
fn same_vertex(a: &[u8], b: &[u8]) -> bool {
    fn split(h: &[u8]) -> Option<(&[u8], &[u8])> {
        let (label, rest) = line::bracket_label(h)?;
        let last = label.trim_ascii().rsplit(|b| *b == b' ').next()?;
        Some((last, rest))
    }
    a == b || (split(a).is_some() && split(a) == split(b))
}

/// What makes two steps the same printed step: id, name, status, duration, hashed eight bytes
/// at a time (a reprint check, not a defence against crafted collisions).
fn fingerprint(s: &Step) -> u64 {
    let duration = s.duration_s.map_or(u64::MAX, f64::to_bits).to_le_bytes();
    let parts: [&[u8]; 4] = [
        s.step.as_bytes(),
        s.name.as_bytes(),
        s.status.as_str().as_bytes(),
        &duration,
    ];
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for part in parts {
        let mut words = part.chunks_exact(8);
        for w in &mut words {
            h = mix(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        h = mix(mix(h, u64::from_le_bytes(tail)), part.len() as u64);
    }
    h
}

/// The same run printed again: every step equals the previous run's step at the same place
/// (compared by [`fingerprint`]).
fn is_reprint(previous: &[u64], steps: &[u64]) -> bool {
    !previous.is_empty()
        && steps.len() <= previous.len()
        && steps.iter().zip(previous).all(|(a, b)| a == b)
}
