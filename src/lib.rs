//! cachescope: Docker build cache analysis for AWS CodeBuild.
//!
//! The flow is bytes in ([`source`]) → [`parse`] → [`model`] → [`report`]; [`cmd`] glues them
//! per subcommand and [`cli`] holds the arguments. DESIGN.md has the module map.

/// `eprintln!` that cannot panic: with stderr closed or a broken pipe the message is lost, not
/// the run (a warning must never turn a report into a crash).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

#[cfg(feature = "cli")]
pub mod analyze;
#[cfg(feature = "cli")]
pub mod chart;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod cmd;
#[cfg(feature = "cli")]
pub mod collect;
pub mod model;
pub mod parse;
#[cfg(feature = "cli")]
pub mod report;
#[cfg(feature = "cli")]
pub mod source;
#[cfg(feature = "cli")]
pub mod store;
