//! The incremental store: every analyzed build kept as Parquet, so a trend over weeks of builds
//! never refetches a log it has already read.
//!
//! Layout (hive-partitioned, so DuckDB, Athena or Spark read each folder as one table):
//!
//! ```text
//! <root>/builds/project=<project>/date=<YYYY-MM-DD>/part-<run>-<n>.parquet   a row per build
//! <root>/steps/project=<project>/date=<YYYY-MM-DD>/part-<run>-<n>.parquet    their steps
//! ```
//!
//! Both tables carry `key` (the build's store key) and `build_id` to join on; `project` and
//! `date` live in the path only (a column of the same name in the file would clash with the
//! partition column). Builds are written in parts of many builds — one small file per build
//! cost more than analyzing it — flushed every [`FLUSH_BUILDS`] builds or [`FLUSH_EVERY`], and
//! at the end of a run. A part is written steps first, each file through a temporary name
//! renamed into place, so a killed run leaves whole files and loses at most its unflushed builds
//! (temporary names do not end in `.parquet`, so readers skip them). A build is stored when a
//! builds part holds its key; where two parts hold one key, the newer part wins.

pub mod s3;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use polars::prelude::*;
use polars_io::prelude::{ParquetCompression, ParquetReader, ParquetWriter, SerReader};

/// The column both tables key builds by.
pub const KEY: &str = "key";
/// Builds per part, at most.
pub const FLUSH_BUILDS: usize = 256;
/// A part is flushed at least this often while builds come in (long fetches lose little).
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Where stored builds live: a local directory, or S3 through a local mirror ([`s3`]).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    remote: Option<std::sync::Arc<s3::Remote>>,
}

/// One stored build: its one-row builds frame and its steps frame (both with `key`).
#[derive(Debug, Clone)]
pub struct StoredBuild {
    pub date: String,
    pub row: DataFrame,
    pub steps: DataFrame,
}

/// What `compact` did.
#[derive(Debug, Default)]
pub struct Compacted {
    pub parts_before: usize,
    pub parts_after: usize,
    pub builds: usize,
    /// Parts left as they were, and why.
    pub skipped: Vec<String>,
}

/// Every build stored for a project.
#[derive(Debug, Default)]
pub struct Loaded {
    pub builds: HashMap<String, StoredBuild>,
    /// Parts that could not be read, with what became of them (their builds are analyzed again).
    pub damaged: Vec<String>,
}

/// A builds part and its steps part.
#[derive(Debug, Clone)]
struct Part {
    date: String,
    builds: PathBuf,
    steps: PathBuf,
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
        Ok(Store { root, remote: None })
    }

    /// `--store`: a directory, `s3://bucket/prefix` (worked on through a mirror in the user's
    /// cache directory), or the default directory.
    pub fn open_url(spec: Option<&str>, aws: &crate::source::aws::AwsSettings) -> Result<Store> {
        let Some(url) = spec.and_then(s3::S3Url::parse) else {
            return Store::open(spec.map(Path::new));
        };
        let mirror = dirs::cache_dir()
            .context("no cache directory for this user to mirror the S3 store in")?
            .join("cachescope")
            .join("s3")
            .join(&url.bucket)
            .join(&url.prefix);
        let remote = s3::Remote::connect(url, aws)?;
        Ok(Store {
            root: mirror,
            remote: Some(std::sync::Arc::new(remote)),
        })
    }

    /// Where the store is, for people: its directory or its S3 URL.
    pub fn describe(&self) -> String {
        match &self.remote {
            Some(r) => format!("{} (mirrored in {})", r.url, self.root.display()),
            None => self.root.display().to_string(),
        }
    }

    /// A part file this store has just written, sent to S3 when the store is there.
    fn sent(&self, path: &Path) -> Result<()> {
        match (&self.remote, path.strip_prefix(&self.root)) {
            (Some(r), Ok(rel)) => r.put(&self.root, rel),
            _ => Ok(()),
        }
    }

    /// A part file this store has just removed, deleted from S3 when the store is there.
    fn unsent(&self, path: &Path) -> Result<()> {
        match (&self.remote, path.strip_prefix(&self.root)) {
            (Some(r), Ok(rel)) => r.delete(rel),
            _ => Ok(()),
        }
    }

    /// Takes the store for this run: an advisory lock on `<root>/.lock`, held until the
    /// returned guard drops. A second run on the same store (another `trend`, a `report
    /// --compare` of a build that ran alongside) waits, saying so once, instead of writing the
    /// same builds again.
    pub fn lock(&self) -> Result<StoreLock> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        let path = self.root.join(".lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                crate::say!(
                    "cachescope: another run is using the store {}; waiting for it",
                    self.root.display()
                );
                file.lock()
                    .with_context(|| format!("locking {}", path.display()))?;
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        self.recover();
        Ok(StoreLock { _file: file })
    }

    /// What a killed run can leave, cleaned up by the next run to take the lock (no other run
    /// of this version is writing then): a steps part whose builds part was never written is
    /// moved aside into `quarantine/` (readers of the steps table would count its rows twice
    /// once the builds are stored again), and temporary files an hour old are removed. Best
    /// effort: what cannot be read or moved stays.
    fn recover(&self) {
        let steps = self.root.join("steps");
        for file in files_in(&steps) {
            let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !is_own_part(name) {
                remove_if_stale_partial(&file);
                continue;
            }
            // `project=P/date=D/<part>`
            let Ok(rel) = file.strip_prefix(&steps) else {
                continue;
            };
            let builds = self.root.join("builds").join(rel);
            // (an error is not an absence: the part stays)
            if builds.try_exists().is_ok_and(|e| !e) {
                let to = self.root.join("quarantine").join("steps").join(rel);
                let moved = (to.parent().map_or(Ok(()), fs::create_dir_all))
                    .and_then(|()| fs::rename(&file, &to));
                if moved.is_ok() {
                    crate::say!(
                        "cachescope: {} has no builds part (a run was killed while writing it): \
                         moved aside to {}",
                        file.display(),
                        to.display()
                    );
                }
            }
        }
        for file in files_in(&self.root.join("builds")) {
            remove_if_stale_partial(&file);
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, table: &str, project: &str, date: &str) -> PathBuf {
        self.root
            .join(table)
            .join(partition(project))
            .join(format!("date={date}"))
    }

    /// The project's parts, oldest first (part names sort by run, then number).
    fn parts(&self, project: &str) -> Result<Vec<Part>> {
        let mut parts = Vec::new();
        let base = self.root.join("builds").join(partition(project));
        let dates = match fs::read_dir(&base) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(parts),
            Err(e) => return Err(e).with_context(|| format!("reading {}", base.display())),
        };
        for date_dir in dates {
            let date_dir = date_dir?.path();
            let Some(date) = (date_dir.file_name().and_then(|n| n.to_str()))
                .and_then(|n| n.strip_prefix("date="))
                .map(str::to_string)
            else {
                continue;
            };
            for file in fs::read_dir(&date_dir)? {
                let path = file?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !name.ends_with(".parquet") {
                    continue;
                }
                let steps = self.dir("steps", project, &date).join(name);
                parts.push(Part {
                    date: date.clone(),
                    builds: path.clone(),
                    steps,
                });
            }
        }
        parts.sort_by(|a, b| a.builds.file_name().cmp(&b.builds.file_name()));
        Ok(parts)
    }

    /// Every build stored for `project`. A part that cannot be read — damaged, written by a
    /// newer version, someone else's file, a passing I/O or permission error — is reported and
    /// never removed: one of this store's own parts (`part-*.parquet`) is moved aside into
    /// `<root>/quarantine/` (so the table does not count its builds twice once they are analyzed
    /// again), any other file is left where it is and skipped.
    pub fn load(&self, project: &str) -> Result<Loaded> {
        if let Some(r) = &self.remote {
            let folders = ["builds", "steps"].map(|t| Path::new(t).join(partition(project)));
            r.pull(&self.root, &folders)?;
        }
        let mut loaded = Loaded::default();
        for part in self.parts(project)? {
            let builds = match read(&part.builds).and_then(|b| Ok((b, read(&part.steps)?))) {
                Ok((b, s)) => split(&part, &b, &s),
                Err(e) => Err(e),
            };
            match builds {
                Ok(list) => loaded.builds.extend(list),
                Err(e) => {
                    let moved = self.quarantine(&part);
                    loaded.damaged.push(format!("{e:#}{moved}"));
                }
            }
        }
        Ok(loaded)
    }

    /// Moves an unreadable part of this store's own aside; says where (or why not).
    fn quarantine(&self, part: &Part) -> String {
        if !part.is_own() {
            return "; not a part this store wrote: left as it is".into();
        }
        let aside = self.root.join("quarantine");
        for path in [&part.steps, &part.builds] {
            let Ok(rel) = path.strip_prefix(&self.root) else {
                continue;
            };
            let to = aside.join(rel);
            let moved = (to.parent().map_or(Ok(()), fs::create_dir_all))
                .and_then(|()| fs::rename(path, &to));
            match moved {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return format!("; could not move it aside ({e}): left as it is"),
            }
        }
        format!("; moved aside to {}", aside.display())
    }

    /// Removes `keys` from the project's parts, except those `keep_run` wrote (the run that has
    /// just stored them again). Only this store's own parts are rewritten: a file someone else
    /// put there is never changed. A part's two files change together: steps first, then
    /// builds; a part left with no build is removed, builds file first (a killed run leaves at
    /// most a steps file, which the next run moves aside).
    pub fn forget(
        &self,
        project: &str,
        keys: &HashSet<String>,
        keep_run: Option<&str>,
    ) -> Result<()> {
        let kept = |p: &Part| {
            keep_run.is_some_and(|run| {
                (p.builds.file_name().and_then(|n| n.to_str())).is_some_and(|n| n.contains(run))
            })
        };
        for part in self
            .parts(project)?
            .iter()
            .filter(|p| p.is_own() && !kept(p))
        {
            let (Ok(mut builds), Ok(mut steps)) = (read(&part.builds), read(&part.steps)) else {
                continue;
            };
            // A file without our key column is not ours to rewrite.
            let keep = |df: &DataFrame| -> Option<BooleanChunked> {
                let key = df.column(KEY).ok()?.str().ok()?;
                Some(
                    key.iter()
                        .map(|k| Some(k.is_none_or(|k| !keys.contains(k))))
                        .collect(),
                )
            };
            let (Some(keep_builds), Some(keep_steps)) = (keep(&builds), keep(&steps)) else {
                continue;
            };
            if keep_builds.all() && keep_steps.all() {
                continue;
            }
            builds = builds.filter(&keep_builds)?;
            steps = steps.filter(&keep_steps)?;
            if builds.height() == 0 {
                for path in [&part.builds, &part.steps] {
                    remove(path)?;
                    self.unsent(path)?;
                }
            } else {
                for (path, frame) in [(&part.steps, &mut steps), (&part.builds, &mut builds)] {
                    write_atomic(path, frame)?;
                    self.sent(path)?;
                }
            }
        }
        Ok(())
    }

    /// Merges each date's parts of `project` into one part (`store compact`): the builds of all
    /// of them, each once (where two parts hold one build, the newer one's), written as a new
    /// part before the old ones are removed, so a reader sees every build at every moment (at
    /// worst twice, and readers keep the newer). Parts that cannot be read, and files this
    /// store did not write, are left as they are.
    pub fn compact(&self, project: &str) -> Result<Compacted> {
        if let Some(r) = &self.remote {
            let folders = ["builds", "steps"].map(|t| Path::new(t).join(partition(project)));
            r.pull(&self.root, &folders)?;
        }
        let mut by_date: BTreeMap<String, Vec<Part>> = BTreeMap::new();
        for part in self.parts(project)?.into_iter().filter(Part::is_own) {
            by_date.entry(part.date.clone()).or_default().push(part);
        }
        let mut done = Compacted::default();
        let mut writer = self.writer(project);
        for (date, parts) in by_date {
            if parts.len() < 2 {
                continue;
            }
            let mut builds: BTreeMap<String, StoredBuild> = BTreeMap::new();
            let mut merged = Vec::new();
            for part in parts {
                let read_part = read(&part.builds)
                    .and_then(|b| Ok((b, read(&part.steps)?)))
                    .and_then(|(b, s)| split(&part, &b, &s));
                match read_part {
                    // (parts in name order: a later part's copy of a build wins)
                    Ok(list) => {
                        builds.extend(list);
                        merged.push(part);
                    }
                    Err(e) => done.skipped.push(format!("{e:#}")),
                }
            }
            if merged.len() < 2 {
                continue;
            }
            for (key, b) in &builds {
                let (mut row, mut steps) = (b.row.clone(), b.steps.clone());
                let _ = row.drop_in_place(KEY)?;
                let _ = steps.drop_in_place(KEY)?;
                writer.add(&date, key, &row, &steps)?;
            }
            writer.flush()?;
            for part in &merged {
                for path in [&part.builds, &part.steps] {
                    remove(path)?;
                    self.unsent(path)?;
                }
            }
            done.parts_before += merged.len();
            done.parts_after += 1;
            done.builds += builds.len();
        }
        Ok(done)
    }

    /// The projects stored, by their partition folders (a name too long for a folder, stored
    /// cut with a hash, cannot be told back and is left out).
    pub fn projects(&self) -> Result<Vec<String>> {
        if let Some(r) = &self.remote {
            r.pull(
                &self.root,
                &[PathBuf::from("builds"), PathBuf::from("steps")],
            )?;
        }
        let mut out = Vec::new();
        let Ok(dirs) = fs::read_dir(self.root.join("builds")) else {
            return Ok(out);
        };
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if let Some(project) = name.strip_prefix("project=").and_then(unescape) {
                if partition(&project) == name {
                    out.push(project);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Collects builds into parts for `project`.
    pub fn writer(&self, project: &str) -> Writer<'_> {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Writer {
            store: self,
            project: project.to_string(),
            // Unique across hosts too (a store in S3 has many writers): time, process, and
            // 32 random bits.
            run: format!(
                "{ms:012x}-{:05x}-{:08x}",
                std::process::id() & 0xf_ffff,
                random_u32()
            ),
            seq: 0,
            pending: BTreeMap::new(),
            count: 0,
            last_flush: Instant::now(),
        }
    }
}

impl Part {
    fn is_own(&self) -> bool {
        (self.builds.file_name().and_then(|n| n.to_str())).is_some_and(is_own_part)
    }
}

/// A part this store writes: `part-<run>-<n>.parquet`.
pub(crate) fn is_own_part(name: &str) -> bool {
    name.starts_with("part-") && name.ends_with(".parquet")
}

/// Every file under `dir`, at any depth (none if it cannot be read).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for p in entries.flatten().map(|e| e.path()) {
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The project's folder name, `project=<name>`: the name as Hive escapes partition values (any
/// byte but letters, digits, `-` and `_` as `%XX`, so `../x` stays inside the store), and a name
/// too long for a file name (CodeBuild allows 255 characters) cut with a hash of the whole.
pub fn partition(project: &str) -> String {
    let mut name = String::from("project=");
    for b in project.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    const MAX: usize = 255;
    if name.len() > MAX {
        // FNV-1a of the whole name keeps cut names apart.
        let hash = (project.bytes()).fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        name.truncate(MAX - 17);
        name.push_str(&format!("~{hash:016x}"));
    }
    name
}

/// A partition value as [`partition`] escaped it (`%XX`), or `None`.
fn unescape(s: &str) -> Option<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A part's rows, one build each, with the consecutive steps rows of the same key.
fn split(part: &Part, builds: &DataFrame, steps: &DataFrame) -> Result<Vec<(String, StoredBuild)>> {
    let keys = builds.column(KEY)?.str()?.clone();
    let step_keys = steps.column(KEY)?.str()?.clone();
    // Steps are written build by build: find each key's run of rows.
    let mut runs: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut i = 0;
    while i < step_keys.len() {
        // A null key (a damaged or foreign row) is a run of its own, matching no build.
        let k = step_keys.get(i).unwrap_or("");
        let start = i;
        while i < step_keys.len() && step_keys.get(i).unwrap_or("") == k {
            i += 1;
        }
        runs.insert(k, (start, i - start));
    }
    let mut out = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let Some(k) = keys.get(i) else { continue };
        let (start, len) = runs.get(k).copied().unwrap_or((0, 0));
        out.push((
            k.to_string(),
            StoredBuild {
                date: part.date.clone(),
                row: builds.slice(i as i64, 1),
                steps: steps.slice(start as i64, len),
            },
        ));
    }
    Ok(out)
}

/// The store taken by one run (see [`Store::lock`]); released when dropped.
pub struct StoreLock {
    _file: fs::File,
}

/// Writes builds in parts: see the module docs.
pub struct Writer<'a> {
    store: &'a Store,
    project: String,
    run: String,
    seq: u32,
    pending: BTreeMap<String, (DataFrame, DataFrame)>,
    count: usize,
    last_flush: Instant,
}

impl Writer<'_> {
    /// Adds one build (its builds-frame row and steps frame, without `key`).
    pub fn add(&mut self, date: &str, key: &str, row: &DataFrame, steps: &DataFrame) -> Result<()> {
        let with_key = |df: &DataFrame| -> PolarsResult<DataFrame> {
            let mut df = df.clone();
            df.insert_column(0, Column::new(KEY.into(), vec![key; df.height()]))?;
            Ok(df)
        };
        let (row, steps) = (with_key(row)?, with_key(steps)?);
        match self.pending.get_mut(date) {
            Some((rows, all_steps)) => {
                // Steps first: should the row fail, stray steps are ignored on load.
                all_steps.vstack_mut(&steps)?;
                rows.vstack_mut(&row)?;
            }
            None => {
                self.pending.insert(date.to_string(), (row, steps));
            }
        }
        self.count += 1;
        if self.count >= FLUSH_BUILDS || self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// This writer's run: in the name of every part it writes.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Writes what has been added since the last flush.
    pub fn flush(&mut self) -> Result<()> {
        for (date, (mut rows, mut steps)) in std::mem::take(&mut self.pending) {
            self.seq += 1;
            let name = format!("part-{}-{:05}.parquet", self.run, self.seq);
            rows.rechunk_mut();
            steps.rechunk_mut();
            let dir = |table| self.store.dir(table, &self.project, &date).join(&name);
            for (path, frame) in [(dir("steps"), &mut steps), (dir("builds"), &mut rows)] {
                write_atomic(&path, frame)?;
                self.store.sent(&path)?;
            }
        }
        self.count = 0;
        self.last_flush = Instant::now();
        Ok(())
    }
}

/// 32 bits from the standard library's per-process random hash keys.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
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
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(frame)
        .map_err(|e| anyhow::anyhow!("encoding {}: {e}", path.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(&bytes)?;
    // A store is shared: others must read what this run writes (a temporary file is 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    // No fsync: the rename is atomic for a killed run, which is what the store promises (a
    // power cut may lose or empty the latest parts; `load` skips unreadable ones, and their
    // builds are analyzed again).
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads one Parquet file of the store. polars' decoder can panic on a damaged file (an
/// assertion in its dictionary decoding, found by the store fuzz test with flipped bytes): the
/// panic is caught and the file reported as unreadable like any other damage, and the decoder's
/// panic message is not printed.
pub fn read(path: &Path) -> Result<DataFrame> {
    let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    quiet_decoder_panics();
    READING.fetch_add(1, Ordering::SeqCst);
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(file).finish()
    }));
    READING.fetch_sub(1, Ordering::SeqCst);
    match decoded {
        Ok(frame) => frame.map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display())),
        Err(_) => anyhow::bail!(
            "reading {}: the Parquet decoder failed on it (a damaged file)",
            path.display()
        ),
    }
}

/// Store files being read now, by any thread.
static READING: AtomicUsize = AtomicUsize::new(0);

/// Panics raised inside polars' Parquet code while [`read`] runs are left to it to report.
fn quiet_decoder_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_decoder = READING.load(Ordering::SeqCst) > 0
                && (info.location()).is_some_and(|l| {
                    l.file().contains("polars-parquet") || l.file().contains("polars-arrow")
                });
            if !in_decoder {
                previous(info);
            }
        }));
    });
}
