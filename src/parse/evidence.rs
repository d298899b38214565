//! Which lines carry cache evidence, and what each shows.
//!
//! The diagnosis quotes the log's own lines ("proven by the log"), but the analysis never reads the
//! log again: the tracker asks this module about the few lines that can matter (vertex headers and
//! sub-status lines, error lines, plain text outside steps) and keeps the matches, bounded. One
//! table of the phrases BuildKit, buildx and the legacy builder print, searched in one pass; a new
//! phrase is a new row, not a new code path. Stateless.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::model::EvidenceKind as K;

/// Where a line was found: some phrases mean something only in some places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A vertex header or sub-status line (`#4 sha256:… 1.05MB / 2.81MB 3.4s`).
    Vertex,
    /// A vertex's `ERROR` line.
    VertexError,
    /// A line outside BuildKit's `#N` lines (legacy output, error summaries, CI chatter).
    Text,
}

/// Where a phrase means something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum W {
    Any,
    /// Only on a plain line: legacy builder output, which inside a `#N` vertex would be some
    /// command's output.
    Text,
    /// Only on a BuildKit vertex line (a header or sub-status).
    Vertex,
}

/// Phrases, in priority order: when a line holds several, the earlier row names it
/// (`error writing manifest blob: … 400 Bad Request` is the ECR rejection, not a generic error).
/// Matched as written (a case-sensitive search keeps the fast prefilter: this runs on every plain
/// text line of a legacy log), so a phrase printed in two casings has two rows. Each says where
/// it means something ([`W`]): plain text lines search only the phrases they can hold.
const PHRASES: &[(&str, K, W)] = &[
    (
        "Cache export is not supported for the docker driver",
        K::ExportUnsupported,
        W::Any,
    ),
    (
        "cache export is not supported for the docker driver",
        K::ExportUnsupported,
        W::Any,
    ),
    (
        "cache export feature is currently not supported",
        K::ExportUnsupported,
        W::Any,
    ),
    (
        "failed to configure registry cache importer",
        K::ImportFailed,
        W::Any,
    ),
    ("400 Bad Request", K::BadRequest, W::Any),
    ("toomanyrequests", K::RateLimited, W::Any),
    ("error writing layer blob", K::ExportFailed, W::Any),
    ("error writing manifest blob", K::ExportFailed, W::Any),
    ("failed to export cache", K::ExportFailed, W::Any),
    ("unknown flag: --cache", K::UnknownFlag, W::Any),
    (
        "No output specified with docker-container driver",
        K::NoOutput,
        W::Any,
    ),
    ("importing cache manifest from", K::CacheImport, W::Vertex),
    (
        "inferred cache manifest type",
        K::CacheManifestType,
        W::Vertex,
    ),
    (
        "preparing layers for inline cache",
        K::InlineCacheExport,
        W::Vertex,
    ),
    ("exporting cache to", K::CacheExport, W::Vertex),
    (
        "preparing build cache for export",
        K::CacheExport,
        W::Vertex,
    ),
    ("writing cache manifest", K::CacheExport, W::Vertex),
    ("writing cache image manifest", K::CacheExport, W::Vertex),
    ("booting buildkit", K::BuilderBoot, W::Vertex),
    ("sending tarball", K::SendingTarball, W::Vertex),
    ("failed to solve", K::BuildFailed, W::Any),
    // CodeBuild's own line when a buildspec command fails.
    (
        "Command did not exit successfully docker build",
        K::BuildFailed,
        W::Any,
    ),
    (
        "Command did not exit successfully docker buildx build",
        K::BuildFailed,
        W::Any,
    ),
    (
        "Error response from daemon: manifest for",
        K::PullFailed,
        W::Text,
    ),
    (
        "error response from daemon: manifest for",
        K::PullFailed,
        W::Text,
    ),
    ("pull access denied", K::PullFailed, W::Text),
    (
        "Status: Downloaded newer image for",
        K::LayerDownload,
        W::Text,
    ),
    ("Status: Image is up to date for", K::ImageUpToDate, W::Text),
    (": Pulling from ", K::LayerDownload, W::Text),
    (": Pull complete", K::LayerDownload, W::Text),
];

/// The length of the shortest phrase (checked by a test).
const SHORTEST: usize = 15;

/// A search for the phrases a place can hold, and each match's row in [`PHRASES`].
struct Search {
    ac: AhoCorasick,
    rows: Vec<usize>,
}

fn search(text: bool) -> &'static Search {
    static TEXT: OnceLock<Search> = OnceLock::new();
    static VERTEX: OnceLock<Search> = OnceLock::new();
    let (cell, skip) = if text {
        (&TEXT, W::Vertex)
    } else {
        (&VERTEX, W::Text)
    };
    cell.get_or_init(|| {
        let rows: Vec<usize> = (0..PHRASES.len())
            .filter(|&i| PHRASES[i].2 != skip)
            .collect();
        let ac = AhoCorasick::builder()
            // Leftmost-first keeps the packed (SIMD) prefilter, which a standard search gives up.
            .match_kind(MatchKind::LeftmostFirst)
            // The prefilter does the scanning; a DFA would cost more to build than it saves.
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(rows.iter().map(|&i| PHRASES[i].0))
            .expect("the phrase table builds");
        Search { ac, rows }
    })
}

/// What `text` (a line without its `#N ` or wrapper) shows, if anything.
pub fn classify(text: &[u8], place: Place) -> Option<K> {
    if place != Place::Text {
        // A FROM vertex pulling its base image: `sha256:<digest> 1.05MB / 2.81MB 3.4s`,
        // `extracting sha256:<digest> 0.1s done`.
        let layer = text.strip_prefix(b"extracting ").unwrap_or(text);
        let progress = memchr::memmem::find(text, b" / ").is_some();
        if layer.starts_with(b"sha256:") && (layer.len() < text.len() || progress) {
            return Some(K::LayerDownload);
        }
    }
    // Shorter than the shortest phrase: nothing to find.
    if text.len() < SHORTEST {
        return (place == Place::VertexError).then_some(K::StepError);
    }
    let search = search(place == Place::Text);
    let best = (search.ac.find_iter(text))
        .map(|m| search.rows[m.pattern().as_usize()])
        .min()
        .map(|i| PHRASES[i].1);
    match (best, place) {
        (Some(k), _) => Some(k),
        (None, Place::VertexError) => Some(K::StepError),
        (None, _) => None,
    }
}

/// The time a status line states: its last `<seconds>s` word before an optional `done`
/// (`sending tarball 28.6s done` → 28.6; `sha256:… 1.05MB / 2.81MB 3.4s` → 3.4).
pub fn stated_secs(text: &[u8]) -> Option<f64> {
    let mut words = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .rev();
    let mut word = words.next()?;
    if word.eq_ignore_ascii_case(b"done") {
        word = words.next()?;
    }
    let digits = word.strip_suffix(b"s")?;
    match super::line::float(digits) {
        Ok((b"", v)) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_progress_only_under_a_vertex() {
        let progress = b"sha256:ca3cd42a7c9525f6ce3d64c1a70982613a8235f0cc057ec9244052921853ef15 1.05MB / 2.81MB 3.4s";
        assert_eq!(classify(progress, Place::Vertex), Some(K::LayerDownload));
        assert_eq!(
            classify(b"extracting sha256:ca3cd42a 0.1s done", Place::Vertex),
            Some(K::LayerDownload)
        );
        // A digest alone (BuildKit v0.5's `#N sha256:…` header) is not a download.
        assert_eq!(classify(b"sha256:ca3cd42a7c95", Place::Vertex), None);
        assert_eq!(classify(progress, Place::Text), None);
    }

    #[test]
    fn the_earlier_row_wins() {
        let ecr = b"error: failed to solve: error writing manifest blob: failed commit on ref \"sha256:dbdd\": unexpected status from PUT request to https://1.dkr.ecr.us-east-1.amazonaws.com/v2/x/manifests/cache: 400 Bad Request";
        assert_eq!(classify(ecr, Place::Text), Some(K::BadRequest));
        assert_eq!(
            classify(b"ERROR: failed to solve: process \"/bin/sh -c make\" did not complete successfully: exit code: 2", Place::Text),
            Some(K::BuildFailed)
        );
    }

    #[test]
    fn legacy_pull_lines_only_as_plain_text() {
        let pull = b"3.12-slim: Pulling from library/python";
        assert_eq!(classify(pull, Place::Text), Some(K::LayerDownload));
        assert_eq!(classify(pull, Place::Vertex), None);
        assert_eq!(
            classify(
                b"Status: Image is up to date for python:3.12-slim",
                Place::Text
            ),
            Some(K::ImageUpToDate)
        );
    }

    #[test]
    fn vertex_errors_without_a_phrase_are_step_errors() {
        assert_eq!(
            classify(
                b"process \"/bin/sh -c exit 1\" did not complete",
                Place::VertexError
            ),
            Some(K::StepError)
        );
        assert_eq!(classify(b"some output", Place::Text), None);
    }

    #[test]
    fn shortest_is_the_shortest_phrase() {
        assert_eq!(PHRASES.iter().map(|p| p.0.len()).min(), Some(SHORTEST));
    }

    #[test]
    fn stated_seconds() {
        assert_eq!(stated_secs(b"sending tarball 28.6s done"), Some(28.6));
        assert_eq!(stated_secs(b"sha256:ab 1.05MB / 2.81MB 3.4s"), Some(3.4));
        assert_eq!(stated_secs(b"preparing layers for inline cache"), None);
        assert_eq!(stated_secs(b"writing cache manifest sha256:ab done"), None);
    }
}
