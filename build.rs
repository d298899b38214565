//! Records the commit the binary is built from, for `cachescope --version`: `git describe`
//! of the source tree (`-dirty` when it has uncommitted changes), or `CACHESCOPE_COMMIT` when
//! the tree is not a git checkout (a release archive's build sets it), else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CACHESCOPE_COMMIT");
    // A new commit or checkout changes HEAD or the ref it points to.
    for path in [".git/HEAD", ".git/index"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let from_git = Command::new("git")
        .args([
            "describe",
            "--always",
            "--dirty",
            "--abbrev=12",
            "--exclude=*",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let commit = std::env::var("CACHESCOPE_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or(from_git)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CACHESCOPE_COMMIT={commit}");
}
