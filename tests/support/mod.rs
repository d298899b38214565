pub mod aws;
pub mod duckdb;
pub mod logs;
