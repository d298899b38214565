//! Renderers: one per output format, each turning model values into bytes. No file writes here;
//! the commands decide where bytes go.

pub mod brief;
pub mod build;
pub mod page;
pub mod steps;
pub mod trend;
