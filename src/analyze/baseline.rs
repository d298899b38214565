//! This build against a previous one: which steps flipped between cached and rebuilt, and the
//! time the cache saved here.
//!
//! Steps are matched by stage and instruction text (not by `#N`, which BuildKit numbers by
//! arrival), first occurrence wins.

use std::collections::HashMap;

use serde::Serialize;

use super::diagnose::instruction_text;
use crate::model::{Step, StepKind, StepStatus};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    pub stage: Option<String>,
    pub name: String,
    /// The step's duration in the build where it was rebuilt.
    pub rebuilt_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Cached in the baseline, rebuilt here.
    pub now_rebuilt: Vec<Flip>,
    /// Rebuilt in the baseline, cached here.
    pub now_cached: Vec<Flip>,
    /// Sum, over steps cached here, of their duration where the baseline rebuilt them.
    pub time_saved_s: f64,
}

/// A step's identity across builds: its stage and instruction text, whitespace collapsed.
pub fn key(s: &Step) -> (Option<String>, String) {
    (
        s.stage.clone(),
        instruction_text(s)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// [`key`] as one string: `[stage] instruction text`, or the text alone.
pub fn label(s: &Step) -> String {
    match key(s) {
        (Some(stage), text) => format!("[{stage}] {text}"),
        (None, text) => text,
    }
}

pub fn compare(here: &[Step], baseline: &[Step]) -> Comparison {
    let mut base: HashMap<(Option<String>, String), &Step> = HashMap::new();
    for s in baseline.iter().filter(|s| s.kind == StepKind::Dockerfile) {
        base.entry(key(s)).or_insert(s);
    }
    let mut now_rebuilt = Vec::new();
    let mut now_cached = Vec::new();
    let mut saved = 0.0;
    let mut seen = std::collections::HashSet::new();
    for s in here.iter().filter(|s| s.kind == StepKind::Dockerfile) {
        let k = key(s);
        if !seen.insert(k.clone()) {
            continue;
        }
        let Some(b) = base.get(&k) else { continue };
        match (b.status, s.status) {
            (StepStatus::Cached, StepStatus::Rebuilt) => now_rebuilt.push(Flip {
                stage: s.stage.clone(),
                name: s.name.clone(),
                rebuilt_s: s.duration_s,
            }),
            (StepStatus::Rebuilt, StepStatus::Cached) => {
                saved += b.duration_s.unwrap_or(0.0);
                now_cached.push(Flip {
                    stage: s.stage.clone(),
                    name: s.name.clone(),
                    rebuilt_s: b.duration_s,
                });
            }
            _ => {}
        }
    }
    Comparison {
        now_rebuilt,
        now_cached,
        time_saved_s: (saved * 1000.0).round() / 1000.0,
    }
}
