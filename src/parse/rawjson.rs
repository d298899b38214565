//! JSON progress, one object per line: `docker buildx build --progress=rawjson` (BuildKit
//! `SolveStatus`), and the Docker Engine API's build stream that docker-py, dockerode and other
//! API clients log (`{"stream":"Step 1/3 : FROM alpine\n"}`, `{"error":"..."}`).
//!
//! Of a SolveStatus only the vertex records matter for cache analysis; statuses, logs and
//! warnings are skipped without being materialised. An Engine API message carries the text
//! the CLI would have printed, which is then read as such. Times are rounded to 0.1 s, as the plain printer shows them, so a
//! build gives the same steps whichever progress mode printed it.

use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct JsonLine<'a> {
    // SolveStatus
    #[serde(borrow, default)]
    vertexes: Vec<RawVertex<'a>>,
    // Engine API build stream
    #[serde(borrow, default)]
    stream: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    // What tells the Engine API's messages from any program's JSON log line.
    #[serde(default, rename = "errorDetail")]
    error_detail: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    id: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "progressDetail")]
    progress_detail: Option<serde::de::IgnoredAny>,
}

/// What one JSON progress line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// BuildKit vertex records (none for a status-only SolveStatus).
    Vertexes(Vec<VertexUpdate>),
    /// Engine API text: build output (one or more lines), an error or a pull status.
    Text(String),
}

#[derive(Deserialize)]
struct RawVertex<'a> {
    #[serde(borrow)]
    digest: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    started: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    completed: Option<Cow<'a, str>>,
    #[serde(default)]
    cached: bool,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
}

/// What one vertex record says.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexUpdate {
    pub digest: String,
    pub name: String,
    pub cached: bool,
    /// Set once the vertex completed: `Ok(duration_s)` or `Err(error text)`.
    pub completed: Option<Result<f64, String>>,
}

/// What one JSON line says; `None` if it is not a JSON object.
pub fn parse(line: &[u8]) -> Option<Message> {
    let status: JsonLine = serde_json::from_slice(line).ok()?;
    if status.vertexes.is_empty() {
        // `{"stream": …}`, `{"error": …, "errorDetail": …}`, `{"status": …, "id": …}`: a
        // structured log line with an `error` field is not the build's failure.
        let error = status.error.filter(|_| status.error_detail.is_some());
        let pull = status.id.is_some() || status.progress_detail.is_some();
        let text = (status.stream.or(error)).or(status.status.filter(|_| pull));
        if let Some(text) = text {
            return Some(Message::Text(text.into_owned()));
        }
    }
    Some(Message::Vertexes(
        status
            .vertexes
            .into_iter()
            .map(|v| {
                let completed = v.completed.as_deref().map(|end| match &v.error {
                    Some(e) if !e.is_empty() => Err(e.to_string()),
                    _ => {
                        let secs = match (v.started.as_deref(), end) {
                            (Some(s), e) => super::time::rfc3339_secs(e)
                                .zip(super::time::rfc3339_secs(s))
                                .map_or(0.0, |(e, s)| (e - s).max(0.0)),
                            (None, _) => 0.0,
                        };
                        Ok((secs * 10.0).round() / 10.0)
                    }
                });
                VertexUpdate {
                    digest: v.digest.into_owned(),
                    name: v.name.map(Cow::into_owned).unwrap_or_default(),
                    cached: v.cached,
                    completed,
                }
            })
            .collect(),
    ))
}
