//! Where a command's bytes go: stdout, or a file written atomically (temporary file + rename),
//! so a reader never sees half a report and a failed run leaves no partial file.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::ColorChoice;

pub enum Output {
    Stdout(io::BufWriter<io::Stdout>),
    /// An existing non-regular file (`/dev/null`, a FIFO, a terminal): written in place, since
    /// renaming over it would replace the device.
    Special(io::BufWriter<std::fs::File>),
    File {
        tmp: io::BufWriter<tempfile::NamedTempFile>,
        dest: PathBuf,
    },
}

impl Output {
    /// `None` or `-` is stdout.
    pub fn open(path: Option<&Path>) -> Result<Output> {
        match path {
            None => Ok(Output::Stdout(io::BufWriter::new(io::stdout()))),
            Some(p) if p == Path::new("-") => Ok(Output::Stdout(io::BufWriter::new(io::stdout()))),
            Some(p) if std::fs::metadata(p).is_ok_and(|m| !m.is_file()) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                Ok(Output::Special(io::BufWriter::new(f)))
            }
            Some(p) => {
                // Through a symbolic link, the link's target is written, not the link replaced.
                let p = &resolve_links(p);
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let tmp = tempfile::Builder::new()
                    .prefix(".cachescope-")
                    .tempfile_in(dir)
                    .with_context(|| format!("cannot create a file in {}", dir.display()))?;
                Ok(Output::File {
                    tmp: io::BufWriter::new(tmp),
                    dest: p.to_path_buf(),
                })
            }
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, Output::Stdout(_)) && io::stdout().is_terminal()
    }

    /// The columns a table should fit in: the terminal's (`COLUMNS` when set), or `None` when
    /// the output is not a terminal (a file or a pipe gets the full width).
    pub fn width(&self) -> Option<u16> {
        if !self.is_terminal() {
            return None;
        }
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
        columns.or_else(|| comfy_table::Table::new().width())
    }

    /// Whether to colour: `always`/`never` as said; `auto` only on a terminal without NO_COLOR.
    pub fn use_color(&self, choice: ColorChoice) -> bool {
        match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                self.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }

    /// Flushes; a file is renamed into place only now.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => Ok(w.flush()?),
            Output::Special(mut w) => Ok(w.flush()?),
            Output::File { tmp, dest } => {
                let tmp = tmp.into_inner().map_err(|e| e.into_error())?;
                // A temporary file is private (0600); the result is an ordinary file.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
                }
                tmp.persist(&dest)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                Ok(())
            }
        }
    }
}

/// Where a path that may be a symbolic link (to a link …, or to nothing yet) leads.
fn resolve_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    // As many hops as the kernel follows.
    for _ in 0..40 {
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        let Some(target) = is_link.then(|| std::fs::read_link(&p).ok()).flatten() else {
            break;
        };
        p = match p.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    p
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::Special(w) => w.write(buf),
            Output::File { tmp, .. } => tmp.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Special(w) => w.flush(),
            Output::File { tmp, .. } => tmp.flush(),
        }
    }
}
