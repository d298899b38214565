//! DuckDB, the reader users point at the store and at Parquet frames (Athena reads the same
//! way): a query through Python's `duckdb` package. Without it, [`query`] returns `None` and the
//! caller skips with a printed reason, unless `CACHESCOPE_REQUIRE_DUCKDB=1` (set by `.ci/run`).

#![allow(dead_code)] // each test binary uses its own part of this module

/// The rows of `sql`, each row's values joined by a space.
pub fn query(sql: &str) -> Option<Vec<String>> {
    let script = "import duckdb, sys\n\
        for row in duckdb.sql(sys.argv[1]).fetchall():\n    print(*row)\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, sql])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            let missing = why.contains("No module named 'duckdb'") || !why.contains("Error");
            assert!(
                !missing || std::env::var("CACHESCOPE_REQUIRE_DUCKDB").as_deref() != Ok("1"),
                "CACHESCOPE_REQUIRE_DUCKDB=1: DuckDB is missing: {why}"
            );
            assert!(missing, "DuckDB failed on {sql}: {why}");
            eprintln!("SKIPPED (the DuckDB check): python3 -m pip install duckdb");
            None
        }
    }
}
