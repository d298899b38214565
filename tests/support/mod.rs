pub mod aws;
pub mod logs;
