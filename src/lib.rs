//! cachescope: Docker build cache analysis for AWS CodeBuild.
//!
//! The flow is bytes in → [`parse`] → [`model`] → outputs; see DESIGN.md for the module map.

pub mod model;
pub mod parse;
