//! The incremental store: every analyzed build kept as Parquet, so a trend over weeks of builds
//! never refetches a log it has already read.
//!
//! Layout (hive-partitioned, so DuckDB, Athena or Spark read each folder as one table):
//!
//! ```text
//! <root>/builds/project=<project>/date=<YYYY-MM-DD>/<key>.parquet   one row: the builds frame
//! <root>/steps/project=<project>/date=<YYYY-MM-DD>/<key>.parquet    the build's steps frame
//! ```
//!
//! `project` and `date` live in the path only (a column of the same name in the file would
//! clash with the partition column). A build is stored when its `builds` file exists: the steps
//! file is written first, each through a temporary file renamed into place, so a killed run
//! leaves whole files or none (temporary names do not end in `.parquet`, so readers skip them).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use polars_io::prelude::{ParquetCompression, ParquetReader, ParquetWriter, SerReader};

/// Where stored builds live.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// One stored build's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub date: String,
    pub builds_file: PathBuf,
    pub steps_file: PathBuf,
}

impl Store {
    /// `dir`, or the user's cache directory (`$XDG_CACHE_HOME/cachescope`, `~/.cache/cachescope`).
    pub fn open(dir: Option<&Path>) -> Result<Store> {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => dirs::cache_dir()
                .context("no cache directory for this user: pass --store DIR")?
                .join("cachescope"),
        };
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, table: &str, project: &str, date: &str) -> PathBuf {
        self.root
            .join(table)
            .join(format!("project={project}"))
            .join(format!("date={date}"))
    }

    /// Every build stored for `project`, by key.
    pub fn list(&self, project: &str) -> Result<HashMap<String, Stored>> {
        let mut out = HashMap::new();
        let base = self.root.join("builds").join(format!("project={project}"));
        let dates = match fs::read_dir(&base) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("reading {}", base.display())),
        };
        for date_dir in dates {
            let date_dir = date_dir?.path();
            let Some(date) = date_dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("date="))
                .map(str::to_string)
            else {
                continue;
            };
            for file in fs::read_dir(&date_dir)? {
                let path = file?.path();
                if path.extension().and_then(|e| e.to_str()) != Some("parquet") {
                    remove_if_stale_partial(&path);
                    continue;
                }
                let Some(key) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let steps_file = self
                    .dir("steps", project, &date)
                    .join(format!("{key}.parquet"));
                out.insert(
                    key.to_string(),
                    Stored {
                        key: key.to_string(),
                        date: date.clone(),
                        builds_file: path.clone(),
                        steps_file,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Stores one build: its steps, then its summary row (which marks it stored).
    pub fn write(
        &self,
        project: &str,
        date: &str,
        key: &str,
        build_row: &mut DataFrame,
        steps: &mut DataFrame,
    ) -> Result<()> {
        let name = format!("{key}.parquet");
        write_atomic(&self.dir("steps", project, date).join(&name), steps)?;
        write_atomic(&self.dir("builds", project, date).join(&name), build_row)
    }

    /// Removes a stored build (before it is stored again under another date).
    pub fn remove(&self, stored: &Stored) -> Result<()> {
        for f in [&stored.builds_file, &stored.steps_file] {
            match fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", f.display())),
            }
        }
        Ok(())
    }
}

/// A killed run's temporary file, an hour old or more (a running writer's is younger).
fn remove_if_stale_partial(path: &Path) {
    let partial = (path.file_name().and_then(|n| n.to_str()))
        .is_some_and(|n| n.starts_with(".partial-") && n.ends_with(".tmp"));
    let old = (fs::metadata(path).and_then(|m| m.modified()).ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() >= 3600);
    if partial && old {
        let _ = fs::remove_file(path);
    }
}

fn write_atomic(path: &Path, frame: &mut DataFrame) -> Result<()> {
    let dir = path.parent().expect("store paths have a parent");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut bytes = Vec::new();
    // Uncompressed: the files are a row or a few dozen, and setting up a codec per column cost
    // more than the build's whole analysis.
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(frame)
        .map_err(|e| anyhow::anyhow!("encoding {}: {e}", path.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(&bytes)?;
    // No fsync: the rename is atomic for a killed run, which is what the store promises (a
    // power cut may lose or empty the latest files; `trend` analyzes unreadable ones again).
    // Two fsyncs per build cost more than the whole analysis.
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads one Parquet file of the store.
pub fn read(path: &Path) -> Result<DataFrame> {
    let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ParquetReader::new(file).finish().map_err(|e| {
        anyhow::anyhow!(
            "reading {}: {e} (a damaged store file: delete it, or run with --refresh)",
            path.display()
        )
    })
}
