//! Wrappers the grammar has never seen: the prefix a CI system puts before each line, inferred
//! from the log itself.
//!
//! [`line::classify`] peels the wrappers it knows by form (timestamps, console line numbers,
//! compose services, log levels). Any other prefix is found from the other end: a line whose
//! text after some prefix is an *anchor* — a build line prose is not mistaken for, such as
//! `#5 [2/6] RUN`, `Step 3/12 : COPY`, `[Container] 2024/…`, ` ---> Using cache`, `#5 DONE 1.2s`
//! — is read as that line when the prefix looks like a wrapper: short, ending in blanks (or a
//! bar or bracket) after anything but a lowercase word or a quote — a stamp, number, bracket,
//! bar, colon, level — so prose such as `+ echo ` is not one. The prefix's *shape*
//! (runs of digits, letters and blanks as classes, punctuation as itself) is then remembered, so
//! that weaker lines under the same wrapper (`#5 12.3 output`, `#5 exporting to image`) are read
//! too while timestamps, line numbers and service names change from line to line (inside a
//! legacy step's output they only continue a step the log already showed). A line that means something without
//! a prefix is never re-read (a command line is: `Step #0: + docker build` may be step output).
//!
//! Nothing is buffered or looked ahead: each line is decided as it arrives, from the lines
//! before it, so the result is the same however the input was chunked, and the state is a few
//! shapes.

use super::line::{self, Body, Line, TtyMark};

/// The longest prefix considered, in bytes (an RFC 3339 stamp, a job name and a level fit).
const MAX_PREFIX: usize = 120;
/// Shapes remembered (compose prints one per service name form; a log rarely has more).
const MAX_SHAPES: usize = 8;
/// The longest shape remembered, in classes.
const MAX_SHAPE: usize = 48;

/// A prefix's shape: `2024/01/02 15:04:05 ` → `0/0/0 0:0:0 `, `web-1  | ` → `a-0 | `.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    len: u8,
    bytes: [u8; MAX_SHAPE],
}

impl Shape {
    fn of(prefix: &[u8]) -> Option<Shape> {
        let mut s = Shape {
            len: 0,
            bytes: [0; MAX_SHAPE],
        };
        // Indentation alone is its own shape, width and all: two spaces are not eight.
        if prefix.iter().all(|&b| b == b' ' || b == b'\t') {
            let len = prefix.len().min(MAX_SHAPE);
            s.bytes[..len].copy_from_slice(&prefix[..len]);
            s.len = len as u8;
            return (prefix.len() <= MAX_SHAPE).then_some(s);
        }
        for &b in prefix {
            let class = match b {
                b'0'..=b'9' => b'0',
                b'a'..=b'z' | b'A'..=b'Z' => b'a',
                b' ' | b'\t' => b' ',
                _ => b,
            };
            let len = usize::from(s.len);
            if len > 0 && s.bytes[len - 1] == class && matches!(class, b'0' | b'a' | b' ') {
                continue;
            }
            if len == MAX_SHAPE {
                return None;
            }
            s.bytes[len] = class;
            s.len += 1;
        }
        Some(s)
    }

    fn classes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether a whole line of shape `line` is this wrapper alone, or its outer part (a line
    /// number without the tool prefix that follows it on other lines): the line's classes
    /// begin this shape up to a blank, and are not only a word (`Done` is output).
    fn is_bare(&self, line: &Shape) -> bool {
        let (mine, theirs) = (self.classes(), line.classes());
        mine.starts_with(theirs)
            && matches!(mine.get(theirs.len()), None | Some(b' '))
            && theirs.iter().any(|&c| c != b'a')
    }
}

/// One unrecognised line's first anchor, kept for the "no steps found" message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// 1-based line number.
    pub line: u64,
    /// What stood before the anchor (lossy UTF-8, at most [`MAX_PREFIX`] bytes).
    pub prefix: String,
}

/// How many unread anchor lines are remembered.
const KEEP_UNREAD: usize = 3;

/// How a line was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// As it is, or after a wrapper the grammar knows by form.
    Plain,
    /// A strong anchor after an inferred wrapper.
    Strong,
    /// A weak anchor (`#5 12.3 output`, `#5 exporting …`) under a learned wrapper: enough to
    /// continue a step; the tracker decides where it may start one.
    Weak,
}

/// The wrapper shapes learned so far.
#[derive(Debug, Default)]
pub struct Unwrapper {
    /// Most recently used first.
    shapes: Vec<Shape>,
    unread: Vec<Unread>,
}

impl Unwrapper {
    /// What `raw` says: the line grammar's answer, or, for a line it cannot read (or reads as
    /// a command line), the anchor after a wrapper.
    pub fn classify<'a>(&mut self, line_no: u64, raw: &'a [u8]) -> (Line<'a>, Read) {
        let l = line::classify(raw);
        if !matches!(l, Line::Text | Line::DockerCommand(_)) {
            return (l, Read::Plain);
        }
        let s = line::trim_end(raw);
        if l == Line::Text && s.len() <= MAX_PREFIX && !self.shapes.is_empty() {
            // A learned wrapper with nothing after it: a blank line of the wrapped output.
            let whole = Shape::of(s);
            if whole.is_some_and(|w| self.shapes.iter().any(|k| k.is_bare(&w))) {
                return (Line::Blank, Read::Weak);
            }
        }
        let end = s.len().min(MAX_PREFIX + 1);
        let mut unread = None;
        for p in 1..end {
            if !starts_anchor(&s[..p], s[p]) {
                continue;
            }
            let anchor = line::classify_bare(&s[p..]);
            if matches!(anchor, Line::Text | Line::Blank) {
                continue;
            }
            let prefix = &s[..p];
            let shape = Shape::of(prefix);
            let strong = is_strong(&anchor);
            if let Some(i) = shape.and_then(|sh| self.shapes.iter().position(|&k| k == sh)) {
                self.shapes[..=i].rotate_right(1);
                return (anchor, if strong { Read::Strong } else { Read::Weak });
            }
            if strong && looks_like_wrapper(prefix) {
                if let Some(sh) = shape {
                    self.shapes.truncate(MAX_SHAPES - 1);
                    self.shapes.insert(0, sh);
                }
                return (anchor, Read::Strong);
            }
            if strong {
                unread.get_or_insert(p);
            }
        }
        if let Some(p) = unread {
            let seen = self.unread.last().is_some_and(|u| u.line == line_no);
            if self.unread.len() < KEEP_UNREAD && !seen {
                self.unread.push(Unread {
                    line: line_no,
                    prefix: String::from_utf8_lossy(&s[..p]).into_owned(),
                });
            }
        }
        (l, Read::Plain)
    }

    /// The first lines that held a build line after a prefix that could not be taken for a
    /// wrapper.
    pub fn unread(&self) -> &[Unread] {
        &self.unread
    }
}

/// Where an anchor can start: a token after a blank or a wrapper's closing mark, on a byte that
/// can begin a line the grammar recognises — or right after a glued prefix: a line number a
/// web log viewer copies without a blank (`41Step 1/5 : …`), or the repository GitHub writes
/// before `#5` when it moves an issue (`moby/moby#5 [2/2] RUN …`).
fn starts_anchor(prefix: &[u8], first: u8) -> bool {
    let anchor_byte = matches!(
        first,
        b'#' | b'[' | b'{' | b'S' | b'-' | b'=' | b'C' | b'T' | b'E' | b'e' | b'A'
    );
    anchor_byte
        && match prefix.last() {
            Some(b' ' | b'\t' | b'|' | b']') => true,
            Some(b'0'..=b'9') => {
                let glued = glued_token(prefix);
                glued.len() <= 6 && glued.iter().all(u8::is_ascii_digit)
            }
            Some(_) => first == b'#' && is_repository(glued_token(prefix)),
            None => false,
        }
}

/// The part of a prefix glued to the anchor: after its last blank, bar or bracket.
fn glued_token(prefix: &[u8]) -> &[u8] {
    let start = prefix.iter().rposition(|b| b" \t|]".contains(b));
    &prefix[start.map_or(0, |i| i + 1)..]
}

/// `owner/name`, as GitHub spells a repository.
fn is_repository(s: &[u8]) -> bool {
    let part = |p: &[u8]| {
        !p.is_empty()
            && p.len() <= 100
            && p.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    matches!(s.iter().position(|&b| b == b'/'), Some(i) if part(&s[..i]) && part(&s[i + 1..]))
}

/// A wrapper ends with a stamp, a number, a bracket, a bar or a colon — never with a word of
/// prose or a quote (`+ echo `, `See issue `, `msg="`) — and holds no control characters.
fn looks_like_wrapper(prefix: &[u8]) -> bool {
    let body = line::trim_end(prefix);
    if prefix.iter().any(|&b| b < 0x20 && b != b'\t') {
        return false;
    }
    match body.last() {
        None => true, // indentation alone
        Some(_) if is_repository(glued_token(prefix)) => true,
        Some(&last) => !last.is_ascii_lowercase() && !b"\"'`=(,;&".contains(&last),
    }
}

/// Dockerfile instructions, as the legacy builder prints them after `Step i/n :`.
const INSTRUCTIONS: [&[u8]; 18] = [
    b"FROM",
    b"RUN",
    b"COPY",
    b"ADD",
    b"WORKDIR",
    b"ENV",
    b"ARG",
    b"EXPOSE",
    b"CMD",
    b"ENTRYPOINT",
    b"USER",
    b"VOLUME",
    b"LABEL",
    b"ONBUILD",
    b"STOPSIGNAL",
    b"HEALTHCHECK",
    b"SHELL",
    b"MAINTAINER",
];

/// Names of BuildKit's own vertices, which carry no `[...]` label.
const VERTEX_NAMES: [&[u8]; 12] = [
    b"exporting ",
    b"importing cache",
    b"resolve image config",
    b"load metadata",
    b"load build definition",
    b"load .dockerignore",
    b"writing image",
    b"naming to",
    b"pushing layers",
    b"preparing layers",
    b"sending tarball",
    b"transferring ",
];

/// Whether a line is a build line no prose is taken for, so that it can teach a wrapper.
fn is_strong(l: &Line<'_>) -> bool {
    match l {
        Line::Vertex { body, .. } => match body {
            Body::Done(_) | Body::Cached | Body::Canceled | Body::Error(_) => true,
            Body::Text(t) => {
                line::bracket_label(t).is_some() || VERTEX_NAMES.iter().any(|n| t.starts_with(n))
            }
            Body::Output | Body::Ellipsis | Body::Detail(_) => false,
        },
        Line::LegacyStep { name, .. } => {
            let word = name
                .split(|b| b.is_ascii_whitespace())
                .next()
                .unwrap_or(b"");
            INSTRUCTIONS.iter().any(|i| i.eq_ignore_ascii_case(word))
        }
        Line::TtyVertex { mark, name, .. } => *mark != TtyMark::None || name.first() == Some(&b'['),
        Line::BuildingWith(_)
        | Line::TtyFrame { .. }
        | Line::LegacyUsingCache
        | Line::LegacyRunning
        | Line::LegacyResult
        | Line::BuildTriggers(_)
        | Line::SendingContext
        | Line::LegacySuccess
        | Line::LegacyFailure(_)
        | Line::Container { .. } => true,
        // JSON progress objects (not any JSON a program logs).
        Line::RawJson(json) => [&b"{\"vertexes\":"[..], b"{\"stream\":", b"{\"error"]
            .iter()
            .any(|k| json.starts_with(k)),
        Line::Blank | Line::Text | Line::BuildahCommit | Line::DockerCommand(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Vec<String> {
        let mut u = Unwrapper::default();
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{:?}", u.classify(i as u64 + 1, l.as_bytes()).0))
            .collect()
    }

    fn is_text(s: &str) -> bool {
        s == "Text" || s.starts_with("DockerCommand")
    }

    #[test]
    fn unknown_wrappers_are_learned_from_strong_lines() {
        for prefix in [
            "  ",
            "12\t",
            "[Build/build   ]   | ",
            "10:42:07 | DEBUG | ",
            "1|webhook  | ",
            "Step #0: ",
            "Step #1 - \"build\": ",
            "2024/01/02 15:04:05 ",
            "[build] [2024-01-02T15:04:05+01:00] ",
            "[error] ",
            "remote: ",
        ] {
            let got = read(&[
                &format!("{prefix}#1 [internal] load build definition from Dockerfile"),
                &format!("{prefix}#1 transferring dockerfile: 2B done"),
                &format!("{prefix}#5 0.512 + docker build ."),
                &format!("{prefix}#5 DONE 0.1s"),
            ]);
            assert!(
                got.iter().all(|g| g.starts_with("Vertex")),
                "{prefix:?}: {got:?}"
            );
        }
    }

    #[test]
    fn varying_stamps_share_a_shape() {
        let got = read(&[
            "2024/01/02 15:04:05 Step 1/3 : FROM alpine",
            "2024/01/02 15:04:06  ---> Using cache",
            "2024/01/02 15:04:07 #3 12.5 output under a changed second",
            "2024/01/02 16:00:00 #3 exporting to image",
        ]);
        assert!(got[0].starts_with("LegacyStep"), "{got:?}");
        assert_eq!(got[1], "LegacyUsingCache");
        assert!(
            got[2].starts_with("Vertex") && got[3].starts_with("Vertex"),
            "{got:?}"
        );
    }

    #[test]
    fn glued_line_numbers_and_moved_issue_references() {
        let got = read(&[
            "41Step 1/5 : FROM centos:7",
            "49 ---> eeb6ee3f44bd",
            "moby/moby#5 [2/2] RUN env | grep proxy",
            "moby/moby#5 DONE 0.1s",
        ]);
        assert!(got[0].starts_with("LegacyStep"), "{got:?}");
        assert_eq!(got[1], "LegacyResult");
        assert!(
            got[2].starts_with("Vertex") && got[3].starts_with("Vertex"),
            "{got:?}"
        );
        // Digits glued to a word are not a line number; a path is not a repository.
        let got = read(&["ab12Step 1/5 : FROM x", "see a/b/c#5 DONE 0.1s"]);
        assert!(got.iter().all(|g| is_text(g)), "{got:?}");
    }

    #[test]
    fn prose_is_not_a_wrapper() {
        let got = read(&[
            "See issue #12 for details",
            "+ echo Step 1/2 : FROM alpine",
            "echo \"#5 DONE 1.2s\"",
            "msg=\"#1 [internal] load\"",
            "we fixed #5 [2/6] RUN make in the end",
        ]);
        assert!(got.iter().all(|g| is_text(g)), "{got:?}");
    }

    #[test]
    fn weak_lines_need_a_learned_wrapper() {
        // Output under a prefix no strong line taught stays text.
        let got = read(&["Step #0: #5 0.51 output", "Step #0: #5 exporting to image"]);
        assert!(is_text(&got[0]), "{got:?}");
        assert!(got[1].starts_with("Vertex"), "{got:?}");
        let got = read(&["Step #0: #5 0.51 output"]);
        assert!(is_text(&got[0]));
    }

    #[test]
    fn a_learned_wrapper_alone_is_a_blank_line() {
        let got = read(&[
            "12\tStep #0: #1 [internal] load",
            "13\tStep #1:",
            "14\tStep #12: ",
            "15",
            "16\tStep 3:",
            "Done",
        ]);
        assert_eq!(got[1..], ["Blank", "Blank", "Blank", "Text", "Text"]);
    }

    #[test]
    fn unread_anchor_lines_are_remembered() {
        let mut u = Unwrapper::default();
        u.classify(1, b"nothing here");
        u.classify(2, b"+ echo Step 1/2 : FROM alpine");
        assert_eq!(
            u.unread(),
            [Unread {
                line: 2,
                prefix: "+ echo ".into()
            }]
        );
    }
}
