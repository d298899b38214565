//! `docker buildx build --progress=rawjson`: one BuildKit `SolveStatus` JSON object per line.
//!
//! Only the vertex records matter for cache analysis; statuses, logs and warnings are skipped
//! without being materialised. Times are rounded to 0.1 s, as the plain printer shows them, so a
//! build gives the same steps whichever progress mode printed it.

use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct SolveStatus<'a> {
    #[serde(borrow, default)]
    vertexes: Vec<RawVertex<'a>>,
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

/// The vertex updates in one rawjson line; `None` if the line is not a SolveStatus.
pub fn vertex_updates(line: &[u8]) -> Option<Vec<VertexUpdate>> {
    let status: SolveStatus = serde_json::from_slice(line).ok()?;
    Some(
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
    )
}
