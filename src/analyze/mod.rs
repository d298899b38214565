//! One build's steps → the answers a DevOps engineer wants after a slow build: counts, both hit
//! ratios, the step that broke the cache and why, the scenario, cache-health findings with fixes,
//! and what changed against a baseline build. The only module that builds DataFrames.
//!
//! Frames ([`frames`]) carry the data out (CSV, Parquet, and later the trend store); the summary
//! counts are a polars query over the steps frame; the order-dependent rules (cache bust,
//! findings) walk the steps directly.

pub mod baseline;
pub mod diagnose;
pub mod doctor;
pub mod frames;
pub mod gates;
pub mod history;
pub mod schema;
pub mod summary;
pub mod trend;
pub mod verdict;

pub use summary::{summarize, BuildInput, Summary};
