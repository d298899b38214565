//! cachescope: Docker build cache analysis for AWS CodeBuild.
//!
//! The flow is bytes in ([`source`]) → [`parse`] → [`model`] → [`report`]; [`cmd`] glues them
//! per subcommand and [`cli`] holds the arguments. DESIGN.md has the module map.

pub mod analyze;
pub mod chart;
pub mod cli;
pub mod cmd;
pub mod model;
pub mod parse;
pub mod report;
pub mod source;
