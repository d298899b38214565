//! This build against the project's earlier builds, for `report --compare`: the one question a
//! team asks when a build was slow — what did the cache do last time that it did not do now?
//!
//! Steps are compared with the most recent earlier build (by [`baseline::compare`]'s step
//! identity); hit ratio and docker build time against it and against the median of all the
//! earlier builds given, so one odd previous build does not mislead.

use serde::Serialize;

use super::baseline::{self, Comparison};
use super::trend::{median, TrendBuild};
use super::Summary;
use crate::model::Step;

/// An earlier build, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Earlier {
    /// The build ID, or the store key of a local log.
    pub build: String,
    pub number: Option<i64>,
    pub status: Option<crate::model::BuildStatus>,
    pub hit_ratio: Option<f64>,
    pub docker_build_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The builds compared with, most recent first.
    pub earlier: Vec<Earlier>,
    /// Against the most recent: steps cached there and rebuilt here, and the reverse.
    pub previous: Comparison,
    /// This build's hit ratio minus the previous build's.
    pub hit_ratio_change: Option<f64>,
    /// This build's docker build time minus the previous build's.
    pub docker_build_change_s: Option<f64>,
    /// Over all the earlier builds.
    pub median_hit_ratio: Option<f64>,
    pub median_docker_build_s: Option<f64>,
}

impl History {
    /// `#412` or the build's ID/key: how reports name the previous build.
    pub fn previous_name(&self) -> String {
        self.earlier
            .first()
            .map_or_else(String::new, |e| match e.number {
                Some(n) => format!("#{n}"),
                None => e.build.clone(),
            })
    }
}

fn median_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = values.flatten().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| median(v))
}

/// `earlier` most recent first; `None` when it is empty.
pub fn history(sum: &Summary, steps: &[Step], earlier: &[TrendBuild]) -> Option<History> {
    let prev = earlier.first()?;
    let change = |now: Option<f64>, then: Option<f64>| now.zip(then).map(|(a, b)| a - b);
    Some(History {
        earlier: earlier
            .iter()
            .map(|b| Earlier {
                build: b.build_id.clone().unwrap_or_else(|| b.key.clone()),
                number: b.number,
                status: b.status,
                hit_ratio: b.hit_ratio,
                docker_build_s: b.docker_build_s,
            })
            .collect(),
        previous: baseline::compare(steps, &prev.steps),
        hit_ratio_change: change(sum.hit_ratio, prev.hit_ratio),
        docker_build_change_s: change(sum.docker_build_s, prev.docker_build_s),
        median_hit_ratio: median_of(earlier.iter().map(|b| b.hit_ratio)),
        median_docker_build_s: median_of(earlier.iter().map(|b| b.docker_build_s)),
    })
}
