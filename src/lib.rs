//! cachescope: Docker build cache analysis for AWS CodeBuild.
//!
//! The flow is bytes in ([`source`]) → [`parse`] → [`model`] → [`report`]; [`cmd`] glues them
//! per subcommand and [`cli`] holds the arguments. DESIGN.md has the module map.

#[cfg(feature = "cli")]
pub mod analyze;
#[cfg(feature = "cli")]
pub mod chart;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod cmd;
pub mod model;
pub mod parse;
#[cfg(feature = "cli")]
pub mod report;
#[cfg(feature = "cli")]
pub mod source;
#[cfg(feature = "cli")]
pub mod store;
