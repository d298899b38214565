//! A store kept in S3 (`--store s3://bucket/prefix`): the same hive layout, one object per part
//! file, so Athena and DuckDB read the prefix as they read a local store.
//!
//! The store works on a local mirror (`<cache dir>/cachescope/s3/<bucket>/<prefix>`): before a
//! project is read, the mirror takes the objects it lacks or holds at another size, and drops
//! the parts no longer in S3; every part file the store writes is put as a whole object
//! (PutObject replaces atomically) and every part it removes is deleted. Part names are unique
//! per run and host (time, process, random), so writers on many hosts never overwrite each
//! other; where two parts hold one build, readers keep the newer, and `store compact` merges.
//! No lock spans hosts: a host's runs still take the mirror's lock.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::{files_in, is_own_part};
use crate::source::aws::{causes, explain, Aws, AwsSettings};

/// `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl S3Url {
    pub fn parse(s: &str) -> Option<S3Url> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The object key of a path relative to the store's root.
    fn key(&self, rel: &Path) -> String {
        let rel = rel.to_string_lossy().replace('\\', "/");
        match self.prefix.is_empty() {
            true => rel,
            false => format!("{}/{rel}", self.prefix),
        }
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// The S3 side of a store: a client on a runtime of its own, so the store's synchronous calls
/// work both outside and inside the commands' async code.
pub struct Remote {
    rt: tokio::runtime::Runtime,
    aws: Aws,
    pub url: S3Url,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish()
    }
}

impl Remote {
    pub fn connect(url: S3Url, settings: &AwsSettings) -> Result<Remote> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let aws = rt.block_on(Aws::connect(settings, None))?;
        Ok(Remote { rt, aws, url })
    }

    /// Runs `f` on the store's runtime; from inside another runtime's worker too.
    fn run<F: Future>(&self, f: F) -> F::Output {
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(|| self.rt.block_on(f)),
            Err(_) => self.rt.block_on(f),
        }
    }

    /// Every object under `rel` (a folder relative to the root): its path relative to the root
    /// and its size. Paginated.
    fn list(&self, rel: &Path) -> Result<Vec<(PathBuf, i64)>> {
        let mut prefix = self.url.key(rel);
        prefix.push('/');
        let strip = match self.url.prefix.is_empty() {
            true => String::new(),
            false => format!("{}/", self.url.prefix),
        };
        self.run(async {
            let mut out = Vec::new();
            let mut token = None;
            loop {
                self.aws.limit.wait().await;
                let page = (self.aws.s3.list_objects_v2())
                    .bucket(&self.url.bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| {
                        explain(&self.aws, &e, "s3:ListBucket", &format!("{}", self.url))
                    })?;
                for o in page.contents() {
                    if let Some(key) = o.key().and_then(|k| k.strip_prefix(strip.as_str())) {
                        out.push((PathBuf::from(key), o.size().unwrap_or(0)));
                    }
                }
                match page.next_continuation_token() {
                    Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => return Ok(out),
                }
            }
        })
    }

    /// Brings `folders` (relative to the root) of the mirror at `root` level with S3: objects it
    /// lacks or holds at another size are fetched; part files S3 no longer has are removed from
    /// the mirror. Returns the objects fetched.
    pub fn pull(&self, root: &Path, folders: &[PathBuf]) -> Result<usize> {
        let mut fetched = 0;
        for folder in folders {
            let remote = self.list(folder)?;
            let in_s3: HashSet<&Path> = remote.iter().map(|(r, _)| r.as_path()).collect();
            for (rel, size) in &remote {
                let local = root.join(rel);
                let same = std::fs::metadata(&local).is_ok_and(|m| m.len() as i64 == *size);
                if !same {
                    self.get(rel, &local)?;
                    fetched += 1;
                }
            }
            for file in files_in(&root.join(folder)) {
                let Ok(rel) = file.strip_prefix(root) else {
                    continue;
                };
                let ours = (file.file_name().and_then(|n| n.to_str())).is_some_and(is_own_part);
                if ours && !in_s3.contains(rel) {
                    let _ = std::fs::remove_file(&file);
                }
            }
        }
        Ok(fetched)
    }

    fn get(&self, rel: &Path, to: &Path) -> Result<()> {
        let key = self.url.key(rel);
        let bytes = self.run(async {
            self.aws.limit.wait().await;
            let out = (self.aws.s3.get_object())
                .bucket(&self.url.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| explain(&self.aws, &e, "s3:GetObject", &key))?;
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| anyhow!("{}", causes(&e)))?;
            Ok::<_, anyhow::Error>(body.into_bytes())
        })?;
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(to, &bytes).with_context(|| format!("writing {}", to.display()))
    }

    /// Puts the file at `root/rel` as one object.
    pub fn put(&self, root: &Path, rel: &Path) -> Result<()> {
        let key = self.url.key(rel);
        let bytes = std::fs::read(root.join(rel))
            .with_context(|| format!("reading {}", root.join(rel).display()))?;
        self.run(async {
            self.aws.limit.wait().await;
            (self.aws.s3.put_object())
                .bucket(&self.url.bucket)
                .key(&key)
                .body(bytes.into())
                .send()
                .await
                .map_err(|e| explain(&self.aws, &e, "s3:PutObject", &key))?;
            Ok(())
        })
    }

    /// Deletes the object of a part this store removed (rewritten without its builds, or merged
    /// by compaction).
    pub fn delete(&self, rel: &Path) -> Result<()> {
        let key = self.url.key(rel);
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !is_own_part(name) {
            bail!("not deleting {key}: not a part this store writes");
        }
        self.run(async {
            self.aws.limit.wait().await;
            (self.aws.s3.delete_object())
                .bucket(&self.url.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| explain(&self.aws, &e, "s3:DeleteObject", &key))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_bucket_and_prefix() {
        let u = S3Url::parse("s3://team-bucket/cachescope/").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix.as_str()),
            ("team-bucket", "cachescope")
        );
        assert_eq!(
            u.key(Path::new("builds/project=p/x.parquet")),
            "cachescope/builds/project=p/x.parquet"
        );
        let bare = S3Url::parse("s3://b").unwrap();
        assert_eq!(bare.key(Path::new("steps/a")), "steps/a");
        assert_eq!(S3Url::parse("s3://"), None);
        assert_eq!(S3Url::parse("/tmp/store"), None);
    }
}
