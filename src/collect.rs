//! One place that collects builds: the builds a command wants — a CodeBuild project's (listed,
//! described, filtered), local log files, the builds before a given one for `report
//! --compare` — read from the store when stored, else fetched or read, analyzed and stored.
//! `trend`, `report` and `doctor` call it; the store's layout stays in [`crate::store`].
//!
//! Builds already in the store are read from it, never fetched again (`refresh` redoes them);
//! the rest are fetched and analyzed `jobs` at a time under one request-rate limit. A build
//! that fails is returned with its reason and the others go on.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::analyze::trend::{meta_from_log, TrendBuild, TrendRow};
use crate::analyze::{frames, summarize, BuildInput};
use crate::cmd::read::{self, Feed, ReadOptions};
use crate::model::{BuildMeta, BuildStatus, StepKind};
use crate::parse::Parsed;
use crate::report::printable;
use crate::source::aws::{self, codebuild, Aws, BuildRef};
use crate::source::{read_local, LocalInput};
use crate::store::{Store, Writer};

/// Which builds the user asked for.
#[derive(Default)]
pub struct Filter {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub statuses: Vec<BuildStatus>,
    /// The most recent this many.
    pub limit: Option<usize>,
}

/// How to collect the builds that are not stored yet.
pub struct Collect {
    /// Analyze the wanted builds again even if stored.
    pub refresh: bool,
    /// Builds fetched at once.
    pub jobs: usize,
    /// No progress bar.
    pub quiet: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `30d`, `12h`, `2w` back from now; or `2026-11-01`; or RFC 3339.
fn parse_when(s: &str, flag: &str) -> Result<i64> {
    if let Ok(d) = humantime::parse_duration(s) {
        return i64::try_from(d.as_millis())
            .ok()
            .and_then(|back| now_ms().checked_sub(back))
            .with_context(|| format!("{flag} {s:?} reaches too far back"));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis()));
    }
    bail!("{flag} {s:?}: give a duration back from now (30d, 12h, 2w) or a date (2026-11-01, RFC 3339)")
}

impl Filter {
    /// From the command line's `--since`, `--until`, `--status` and `--limit`.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        statuses: &[String],
        limit: Option<usize>,
    ) -> Result<Filter> {
        Ok(Filter {
            since_ms: since.map(|s| parse_when(s, "--since")).transpose()?,
            until_ms: until.map(|s| parse_when(s, "--until")).transpose()?,
            statuses: (statuses.iter())
                .map(|s| {
                    BuildStatus::parse(s).with_context(|| {
                        format!("--status {s}: one of SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS, STOPPED")
                    })
                })
                .collect::<Result<_>>()?,
            limit,
        })
    }

    pub fn admits(&self, start_ms: Option<i64>, status: Option<BuildStatus>) -> bool {
        let after = self
            .since_ms
            .is_none_or(|s| start_ms.is_some_and(|t| t >= s));
        let before = self
            .until_ms
            .is_none_or(|u| start_ms.is_some_and(|t| t < u));
        let status_ok =
            self.statuses.is_empty() || status.is_some_and(|st| self.statuses.contains(&st));
        after && before && status_ok
    }

    /// Keeps the admitted rows, the most recent `limit` of them, in their order.
    pub fn apply(&self, mut rows: Vec<TrendRow>) -> Vec<TrendRow> {
        rows.retain(|r| self.admits(r.start_ms, r.status));
        if let Some(n) = self.limit {
            rows.drain(..rows.len().saturating_sub(n));
        }
        rows
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise or with `--quiet`.
fn progress(total: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} analyzing builds [{bar:30}] {pos}/{len} {msg} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// UTC date of a build for its store partition.
fn date_of(start_ms: Option<i64>) -> String {
    start_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| "unknown".into(), |t| t.format("%Y-%m-%d").to_string())
}

/// Analyzes a parsed build and adds it to the store's writer under `key`; returns it as the
/// trend reads it back (the same frames, so the same values).
fn store_build(writer: &Mutex<Writer>, key: &str, input: &BuildInput) -> Result<TrendBuild> {
    let summary = summarize(input, None)?;
    let (row, steps) = frames::stored(input, &summary, key)?;
    let date = date_of(input.meta.as_ref().and_then(|m| m.start_ms));
    let build = TrendBuild::from_frames(key, &row, &steps)?;
    (writer.lock().unwrap_or_else(|p| p.into_inner())).add(&date, key, &row, &steps)?;
    Ok(build)
}

/// Stores one analyzed build under `key` (`report --compare` adds the build it reports on, so
/// every build that runs the report joins the history).
pub fn store_one(store: &Store, project: &str, key: &str, input: &BuildInput) -> Result<()> {
    let writer = Mutex::new(store.writer(project));
    store_build(&writer, key, input)?;
    (writer.into_inner().unwrap_or_else(|p| p.into_inner())).flush()
}

/// The project's stored builds. Unreadable parts are reported; their builds are analyzed
/// again.
pub fn load_stored(store: &Store, project: &str) -> Result<HashMap<String, TrendBuild>> {
    let loaded = store.load(project)?;
    for d in &loaded.damaged {
        let d = printable(d);
        crate::say!("cachescope: warning: {d}; its builds are analyzed again");
    }
    let mut out = HashMap::new();
    for (key, b) in loaded.builds {
        match TrendBuild::from_frames(&key, &b.row, &b.steps) {
            Ok(t) => {
                out.insert(key, t);
            }
            Err(e) => {
                let (key, e) = (printable(&key), printable(&e.to_string()));
                crate::say!("cachescope: warning: stored build {key}: {e}; analyzing it again")
            }
        }
    }
    Ok(out)
}

/// A failed build: its ID (or file) and why.
pub type Failure = (String, String);

/// The builds a run wants, by store key, those already in hand, and the failures.
#[derive(Default)]
pub struct Collected {
    /// Most recent first for CodeBuild; in file order for local logs.
    pub keys: Vec<String>,
    /// Analyzed in this run, or read whole from the store while deciding what to analyze.
    pub ready: HashMap<String, TrendBuild>,
    pub failures: Vec<Failure>,
}

/// A CodeBuild build the trend wants.
struct Wanted {
    key: String,
    number: Option<i64>,
    start_ms: Option<i64>,
    /// Its record, when it has to be fetched (not stored yet, or `--refresh`).
    fetch: Option<BuildMeta>,
}

/// CodeBuild: list the project's builds, fetch those not stored, store them. Returns the keys
/// of every build wanted and the failures.
pub fn from_codebuild(
    args: &Collect,
    opts: &ReadOptions,
    store: &Store,
    project: &str,
    filter: &Filter,
) -> Result<Collected> {
    let named = Projects::Named(vec![project.to_string()]);
    let mut all = from_projects(args, opts, store, &named, filter)?;
    all.pop().map_or_else(|| bail!("no project"), |(_, c)| c)
}

/// Which CodeBuild projects a command covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projects {
    Named(Vec<String>),
    /// Every project of the account in the region (ListProjects).
    All,
}

/// [`from_codebuild`] for each project, one after the other on one AWS connection (so under one
/// rate limit). A project that fails (not found, denied) is returned with its error; the others
/// go on. Fails only when the projects cannot be listed.
pub fn from_projects(
    args: &Collect,
    opts: &ReadOptions,
    store: &Store,
    projects: &Projects,
    filter: &Filter,
) -> Result<Vec<(String, Result<Collected>)>> {
    let fetch = opts.fetch_options();
    aws::runtime()?.block_on(async {
        let aws = Aws::connect(&fetch.settings, None).await?;
        let names = match projects {
            Projects::Named(names) => names.clone(),
            Projects::All => codebuild::list_projects(&aws).await?,
        };
        let mut out = Vec::with_capacity(names.len());
        for project in names {
            let collected =
                collect_project(&aws, args, opts, &fetch, store, &project, filter).await;
            out.push((project, collected));
        }
        Ok(out)
    })
}

/// One project: list its builds, fetch those not stored, store them. Returns the keys of every
/// build wanted and the failures.
async fn collect_project(
    aws: &Aws,
    args: &Collect,
    opts: &ReadOptions<'_>,
    fetch: &aws::FetchOptions,
    store: &Store,
    project: &str,
    filter: &Filter,
) -> Result<Collected> {
    let ids = codebuild::list_build_ids(aws, project).await?;
    let uuid = |id: &str| id.rsplit(':').next().unwrap_or(id).to_string();
    // Stored builds come from the store, with no request.
    let listed: HashSet<String> = ids.iter().map(|id| uuid(id)).collect();
    let mut from_store = load_stored(store, project)?;
    from_store.retain(|k, _| listed.contains(k));
    // --refresh describes every build again, and redoes those the filters pick.
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| args.refresh || !from_store.contains_key(&uuid(id)))
        .cloned()
        .collect();
    let described = codebuild::batch_get(aws, &unknown).await;
    let mut wanted: Vec<Wanted> = Vec::new();
    for m in described.found {
        let running = m.status == Some(BuildStatus::InProgress);
        if running && filter.admits(m.start_ms, m.status) {
            crate::say!("cachescope: note: build {} is still running; skipped", m.id);
        }
        if !running && filter.admits(m.start_ms, m.status) {
            wanted.push(Wanted {
                key: uuid(&m.id),
                number: m.number,
                start_ms: m.start_ms,
                fetch: Some(m),
            });
        }
    }
    for (key, b) in from_store.iter().filter(|_| !args.refresh) {
        if filter.admits(b.start_ms, b.status) {
            wanted.push(Wanted {
                key: key.clone(),
                number: b.number,
                start_ms: b.start_ms,
                fetch: None,
            });
        }
    }
    wanted.sort_by_key(|w| std::cmp::Reverse((w.number, w.start_ms)));
    if let Some(n) = filter.limit {
        wanted.truncate(n);
    }
    let mut failures: Vec<Failure> = described.failed;
    failures.extend(
        (described.not_found.into_iter())
            .map(|id| (id, "CodeBuild does not know this build".to_string())),
    );
    let todo: Vec<BuildMeta> = wanted.iter().filter_map(|w| w.fetch.clone()).collect();
    let bar = progress(todo.len(), args.quiet);
    let writer = Mutex::new(store.writer(project));
    let run = (writer.lock().unwrap_or_else(|p| p.into_inner()).run_id()).to_string();
    let results: Vec<(String, Result<TrendBuild>)> = stream::iter(todo)
        .map(|meta| {
            let (bar, writer) = (&bar, &writer);
            async move {
                let id = meta.id.clone();
                let result = fetch_and_store(aws, meta, fetch, opts.max_line, writer).await;
                bar.inc(1);
                (id, result)
            }
        })
        .buffer_unordered(args.jobs)
        .collect()
        .await;
    bar.finish_and_clear();
    (writer.into_inner().unwrap_or_else(|p| p.into_inner())).flush()?;
    let mut ready = from_store;
    let mut redone = HashSet::new();
    for (id, r) in results {
        match r {
            Ok(b) => {
                redone.insert(b.key.clone());
                ready.insert(b.key.clone(), b);
            }
            Err(e) => failures.push((id, format!("{e:#}"))),
        }
    }
    if args.refresh {
        // Out with the old copies of what was stored again (never before: a build that
        // cannot be read now keeps its stored copy). Nothing is stored twice.
        store.forget(project, &redone, Some(&run))?;
    }
    Ok(Collected {
        keys: wanted.into_iter().map(|w| w.key).collect(),
        ready,
        failures,
    })
}

async fn fetch_and_store(
    aws: &Aws,
    meta: BuildMeta,
    fetch: &aws::FetchOptions,
    max_line: Option<usize>,
    writer: &Mutex<Writer<'_>>,
) -> Result<TrendBuild> {
    let uuid = BuildRef::parse(&meta.id).map(|b| b.uuid);
    let input = read::fetch_parsed(aws, meta, fetch, max_line).await?;
    let key = uuid.context("not a build ID")?;
    store_build(writer, &key, &input)
}

/// Every file named, in directories named, or matching a glob pattern; sorted, once each.
fn expand(inputs: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in inputs {
        let path = Path::new(arg);
        if path.is_dir() {
            for entry in std::fs::read_dir(path).with_context(|| format!("reading {arg}"))? {
                let p = entry?.path();
                if p.is_file() {
                    files.push(p);
                }
            }
        } else if path.exists() {
            files.push(path.to_path_buf());
        } else {
            let matches: Vec<PathBuf> = glob::glob(arg)
                .with_context(|| format!("{arg}: no such file, and not a glob pattern"))?
                .filter_map(|m| m.ok())
                .filter(|p| p.is_file())
                .collect();
            if matches.is_empty() {
                bail!("{arg}: no such file or directory, and no file matches it");
            }
            files.extend(matches);
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// A local log's store key: its file name, for people, and 128 bits of a BLAKE3 hash of its
/// content, so two different logs never share a key (whatever their names and times), an edited
/// file is analyzed again and an unchanged one (or the same file named twice) never.
fn local_key(path: &Path) -> Result<String> {
    let reading = || format!("reading {}", path.display());
    let mut file = std::fs::File::open(path).with_context(reading)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(&mut file).with_context(reading)?;
    let hash = hasher.finalize().to_hex();
    Ok(format!("{}-{}", key_name(path), &hash[..32]))
}

/// The key cachescope gave a local log before it hashed the content (name, size, modification
/// second: two logs could share it). Builds stored under it are forgotten when the file is seen again, so the
/// store does not hold them twice.
fn legacy_local_key(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Some(format!("{}-{:x}-{mtime:x}", key_name(path), meta.len()))
}

fn key_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Local files (paths, directories, glob patterns): analyze those not stored, `jobs` threads
/// at a time.
pub fn from_files(
    inputs: &[String],
    args: &Collect,
    opts: &ReadOptions,
    store: &Store,
    project: &str,
) -> Result<Collected> {
    let mut files = Vec::new();
    let mut keys = Vec::new();
    let mut unreadable: Vec<Failure> = Vec::new();
    for f in expand(inputs)? {
        let key = match local_key(&f) {
            Ok(k) => k,
            Err(e) => {
                unreadable.push((f.display().to_string(), format!("{e:#}")));
                continue;
            }
        };
        if !keys.contains(&key) {
            // (the same file named twice is one build)
            keys.push(key.clone());
            files.push((f, key));
        }
    }
    let mut stored = load_stored(store, project)?;
    // Stored under the older kind of key: the old key, and the new one.
    let legacy: Vec<(String, String)> = (files.iter())
        .filter_map(|(f, key)| Some((legacy_local_key(f)?, key.clone())))
        .filter(|(old, _)| stored.contains_key(old))
        .collect();
    if !legacy.is_empty() {
        crate::say!(
            "cachescope: {} stored log(s) kept under an older kind of key: analyzing them again",
            legacy.len()
        );
    }
    let mut ready = HashMap::new();
    let mut todo: Vec<(PathBuf, String)> = Vec::new();
    for (f, key) in files {
        match stored.remove(&key).filter(|_| !args.refresh) {
            Some(b) => {
                ready.insert(key, b);
            }
            None => todo.push((f, key)),
        }
    }
    let fresh: Mutex<Vec<TrendBuild>> = Mutex::new(Vec::new());
    let bar = progress(todo.len(), args.quiet);
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<Failure>> = Mutex::new(unreadable);
    let writer = Mutex::new(store.writer(project));
    let run = (writer.lock().unwrap_or_else(|p| p.into_inner()).run_id()).to_string();
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.min(todo.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, key)) = todo.get(i) else {
                    break;
                };
                match analyze_file(path, key, opts, project, &writer) {
                    Ok(b) => fresh.lock().unwrap_or_else(|p| p.into_inner()).push(b),
                    Err(e) => failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((path.display().to_string(), format!("{e:#}"))),
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    (writer.into_inner().unwrap_or_else(|p| p.into_inner())).flush()?;
    // Out with the copies stored before, now that the new ones are in: a refreshed log's, and
    // those under the older kind of key (a log that cannot be read now keeps its copy).
    let mut forget = HashSet::new();
    for b in fresh.into_inner().unwrap_or_else(|p| p.into_inner()) {
        if args.refresh {
            forget.insert(b.key.clone());
        }
        ready.insert(b.key.clone(), b);
    }
    forget.extend(
        (legacy.into_iter()).filter_map(|(old, new)| ready.contains_key(&new).then_some(old)),
    );
    if !forget.is_empty() {
        store.forget(project, &forget, Some(&run))?;
    }
    Ok(Collected {
        keys,
        ready,
        failures: failures.into_inner().unwrap_or_else(|p| p.into_inner()),
    })
}

fn analyze_file(
    path: &Path,
    key: &str,
    opts: &ReadOptions,
    project: &str,
    writer: &Mutex<Writer>,
) -> Result<TrendBuild> {
    let local = LocalInput::File(path.to_path_buf());
    let mut parsed = Parsed::default();
    let mut feed = Feed::new(read::parser(opts.max_line), |e| parsed.collect(e));
    let result = read_local(&local, &mut feed);
    feed.finish();
    drop(feed);
    result?;
    if parsed.steps.is_empty() {
        bail!("no docker build steps in it");
    }
    let mut input = BuildInput::from_parsed(local.to_string(), parsed, None);
    let mut meta = meta_from_log(&input, project, key);
    if meta.start_ms.is_none() {
        // No CodeBuild times in the log: the file's modification time stands in.
        meta.start_ms = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64);
    }
    input.meta = Some(meta);
    store_build(writer, key, &input)
}

/// The `n` most recent builds of `meta`'s project that ran before it to an end and reached
/// their docker build (`report --compare`), most recent first: stored ones from the store, the
/// rest from CodeBuild (and stored). A build that cannot be read is left out with a warning;
/// without CodeBuild (denied, unreachable) the stored builds alone decide.
pub fn earlier(
    meta: &BuildMeta,
    n: usize,
    opts: &ReadOptions,
    store: &Store,
) -> Result<Vec<TrendBuild>> {
    // Builds started before this one that ran to an end: a stopped or timed-out one may never
    // have reached its docker build (and one that did not is skipped below).
    let mut filter = Filter {
        until_ms: meta.start_ms,
        statuses: vec![BuildStatus::Succeeded, BuildStatus::Failed],
        ..Filter::default()
    };
    let how = Collect {
        refresh: false,
        jobs: 4,
        quiet: true,
    };
    let this = BuildRef::parse(&meta.id).map(|b| b.uuid);
    let usable = |b: &TrendBuild| {
        Some(&b.key) != this.as_ref()
            && meta
                .number
                .is_none_or(|now| b.number.is_none_or(|x| x < now))
            && b.steps.iter().any(|s| s.kind == StepKind::Dockerfile)
    };
    // The most recent `want` builds, more each round while too few of them are usable (the
    // fetched ones are stored, so a round reads only builds it has not read before).
    let mut want = n + usize::from(meta.start_ms.is_none());
    let (mut ready, keys) = loop {
        filter.limit = Some(want);
        match from_codebuild(&how, opts, store, &meta.project, &filter) {
            Ok(c) => {
                let found = (c.keys.iter())
                    .filter_map(|k| c.ready.get(k))
                    .filter(|b| usable(b))
                    .count();
                let all_seen = c.keys.len() < want;
                if found >= n || all_seen || want >= 8 * (n + 1) {
                    if let Some((id, why)) = c.failures.first() {
                        crate::say!(
                            "cachescope: warning: {} build(s) of {} could not be read for the \
                             comparison (first: {id}: {why})",
                            c.failures.len(),
                            meta.project
                        );
                    }
                    break (c.ready, c.keys);
                }
                want *= 2;
            }
            Err(e) => {
                crate::say!(
                    "cachescope: warning: could not list the earlier builds of {} in CodeBuild \
                     ({e:#}); comparing with the stored ones",
                    meta.project
                );
                // Stored local logs have no status: only the time decides for them.
                let time_only = Filter {
                    until_ms: filter.until_ms,
                    ..Filter::default()
                };
                let ended =
                    |st: Option<BuildStatus>| st.is_none_or(|s| filter.statuses.contains(&s));
                let stored = load_stored(store, &meta.project)?;
                let mut keys: Vec<(Option<i64>, Option<i64>, String)> = (stored.values())
                    .filter(|b| time_only.admits(b.start_ms, None) && ended(b.status))
                    .map(|b| (b.number, b.start_ms, b.key.clone()))
                    .collect();
                keys.sort_by(|a, b| b.cmp(a));
                break (stored, keys.into_iter().map(|k| k.2).collect());
            }
        }
    };
    Ok(keys
        .iter()
        .filter_map(|k| ready.remove(k))
        .filter(|b| usable(b))
        .take(n)
        .collect())
}

/// CodeBuild's record of a build (one named by `report --build`).
pub fn describe(opts: &ReadOptions, meta: &BuildMeta) -> Result<BuildMeta> {
    let id = BuildRef::parse(&meta.id).with_context(|| format!("not a build ID: {}", meta.id))?;
    let fetch = opts.fetch_options();
    aws::runtime()?.block_on(async {
        let aws = Aws::connect(&fetch.settings, id.region.as_deref()).await?;
        match codebuild::lookup(&aws, &id).await? {
            codebuild::Lookup::Found(m) => Ok(m),
            codebuild::Lookup::Denied(why) => {
                bail!("codebuild:BatchGetBuilds is not allowed ({why}) to place build {id}")
            }
        }
    })
}

/// The project's most recent build that ran to an end (SUCCEEDED or FAILED: a stopped or
/// timed-out build may never have reached its docker build). CodeBuild lists newest first; the
/// first 100 listed are described (one call).
/// Also the start times of the builds described, for the gaps between them.
pub async fn latest_finished(aws: &Aws, project: &str) -> Result<(Option<BuildMeta>, Vec<i64>)> {
    let ids = codebuild::list_build_ids(aws, project).await?;
    let first: Vec<String> = ids.into_iter().take(100).collect();
    let described = codebuild::batch_get(aws, &first).await;
    if let Some((_, why)) = described.failed.first() {
        bail!("describing the builds of {project}: {why}");
    }
    let starts = described.found.iter().filter_map(|m| m.start_ms).collect();
    let latest = (described.found.into_iter())
        .filter(|m| m.status.is_some_and(BuildStatus::ran_to_end))
        .max_by_key(|m| (m.number, m.start_ms));
    Ok((latest, starts))
}
