//! The checks a build can be made to pass: minimum hit ratio, maximum rebuilt seconds, a cache
//! import that must have worked. `cachescope report` fails the build (exit 1) on any of them.

use serde::Serialize;

use super::verdict::ImportOutcome;
use super::Summary;

/// The gates asked for; `None`/`false` means not asked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gates {
    pub min_hit_ratio: Option<f64>,
    pub max_rebuilt_seconds: Option<f64>,
    pub fail_on_cache_import_error: bool,
}

/// One gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// `min-hit-ratio`, `max-rebuilt-seconds`, `cache-import`.
    pub gate: &'static str,
    pub passed: bool,
    /// One line: what was required and what the build did.
    pub message: String,
}

/// Every asked gate's verdict, in a fixed order.
pub fn check(sum: &Summary, gates: &Gates) -> Vec<GateResult> {
    let mut out = Vec::new();
    if let Some(min) = gates.min_hit_ratio {
        let (passed, got) = match sum.hit_ratio {
            Some(h) => (h >= min, format!("{:.0}%", h * 100.0)),
            // No Dockerfile step ran or was cached: nothing to judge, nothing failed.
            None => (true, "n/a (no Dockerfile steps)".to_string()),
        };
        out.push(GateResult {
            gate: "min-hit-ratio",
            passed,
            message: format!(
                "hit_ratio {got} (cached {} of {} Dockerfile steps), required at least {:.0}%",
                sum.dockerfile_cached,
                sum.dockerfile_finished,
                min * 100.0
            ),
        });
    }
    if let Some(max) = gates.max_rebuilt_seconds {
        out.push(GateResult {
            gate: "max-rebuilt-seconds",
            passed: sum.rebuilt_s <= max,
            message: format!(
                "{:.1}s spent in rebuilt Dockerfile steps, allowed at most {max:.1}s",
                sum.rebuilt_s
            ),
        });
    }
    if gates.fail_on_cache_import_error {
        let failed = sum.health.cache_import == ImportOutcome::Failed;
        out.push(GateResult {
            gate: "cache-import",
            passed: !failed,
            message: match (&sum.health.cache_import_error, failed) {
                (Some(e), true) => format!("the cache import failed: {e}"),
                (None, true) => "the cache import failed".to_string(),
                (_, false) => format!("cache import: {}", sum.health.cache_import.as_str()),
            },
        });
    }
    out
}
