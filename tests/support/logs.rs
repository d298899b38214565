//! Generated CodeBuild logs for tests that need many builds of one project.

#![allow(dead_code)] // each test binary uses its own part of this module

/// Dockerfile steps in a [`codebuild_log`] (FROM included).
pub const STEPS: usize = 6;

/// A CodeBuild log of one docker build whose first `cached` Dockerfile steps come from cache,
/// on day `day` (seconds after midnight `at`), with build `n`'s own source copy.
pub fn codebuild_log(n: usize, day: u32, cached: usize) -> String {
    let t = |s: u32| {
        format!(
            "[Container] 2026/10/{day:02} 10:{:02}:{:02}.000000",
            s / 60,
            s % 60
        )
    };
    let mut out = format!(
        "{} Entering phase BUILD\n{} Running command docker build --cache-from app:latest --build-arg BUILDKIT_INLINE_CACHE=1 -t app:{n} .\n#0 building with \"default\" instance using docker driver\n\n#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n",
        t(0),
        t(1)
    );
    let instructions = [
        "FROM docker.io/library/python:3.12-slim@sha256:0f1e2d3c".to_string(),
        "WORKDIR /app".to_string(),
        "COPY requirements.txt .".to_string(),
        "RUN pip install -r requirements.txt".to_string(),
        "COPY src/ ./src/".to_string(),
        format!("RUN python -m compileall src # build {}", n % 3),
    ];
    for (i, ins) in instructions.iter().enumerate() {
        let v = i + 2;
        out.push_str(&format!("#{v} [{}/{STEPS}] {ins}\n", i + 1));
        if i < cached {
            out.push_str(&format!("#{v} CACHED\n\n"));
        } else {
            out.push_str(&format!(
                "#{v} 0.512 working on step {}\n#{v} DONE {}.{}s\n\n",
                i + 1,
                3 * (i + 1),
                n % 10
            ));
        }
    }
    out.push_str(&format!(
        "#9 exporting to image\n#9 DONE 0.4s\n{} Phase complete: BUILD State: SUCCEEDED\n",
        t(40 + 200 * (STEPS - cached.min(STEPS)) as u32 / 10 + (n % 7) as u32)
    ));
    out
}
