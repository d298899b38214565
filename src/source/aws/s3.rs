//! Build logs in S3: a project with `logsConfig.s3Logs` gets one gzip object per build,
//! `<bucket>[/<prefix>]/<build-uuid>.gz`, named by `logs.s3LogsArn` in BatchGetBuilds. The
//! object is streamed through a gzip decoder into the sink as it arrives (flat memory, any
//! size); CodeBuild writes it when the build ends, so a reader may wait a bounded time for it.

use std::fmt;
use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use flate2::write::MultiGzDecoder;

use super::{causes, classify, explain, Aws, Failure};
use crate::source::LogSink;

/// An S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

impl S3Object {
    /// `arn:<partition>:s3:::<bucket>/<key>` (BatchGetBuilds' `s3LogsArn`).
    pub fn from_arn(arn: &str) -> Option<S3Object> {
        let rest = arn.strip_prefix("arn:")?;
        let (_partition, rest) = rest.split_once(':')?;
        let path = rest.strip_prefix("s3:::")?;
        let (bucket, key) = path.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty()).then(|| S3Object {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl fmt::Display for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What reading one object took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S3Stats {
    /// `GetObject` calls made (retried attempts not counted; waiting for the object counts).
    pub calls: u64,
    /// Bytes of the object as stored (compressed).
    pub bytes: u64,
    /// How long the object was waited for.
    pub waited: Duration,
}

/// The pause between looks for an object not written yet.
const POLL: Duration = Duration::from_secs(2);

/// Streams `obj` into `sink` (gunzipped when it is gzip, as CodeBuild writes it). A missing
/// object is looked for again every 2 s for up to `wait` (CodeBuild writes it when the build
/// ends), saying so once.
pub async fn stream_into(
    aws: &Aws,
    obj: &S3Object,
    wait: Duration,
    sink: &mut dyn LogSink,
) -> Result<S3Stats> {
    let mut stats = S3Stats::default();
    let started = tokio::time::Instant::now();
    let out = loop {
        aws.limit.wait().await;
        stats.calls += 1;
        let sent = (aws.s3.get_object())
            .bucket(&obj.bucket)
            .key(&obj.key)
            .send()
            .await;
        match sent {
            Ok(out) => break out,
            Err(e) => {
                let missing = e.code() == Some("NoSuchKey");
                // Without s3:ListBucket, S3 answers AccessDenied for a missing object too.
                let maybe_missing = missing || classify(&e) == Failure::AccessDenied;
                let waited = started.elapsed();
                if maybe_missing && waited + POLL <= wait {
                    if stats.calls == 1 {
                        crate::say!(
                            "cachescope: {obj} is not there yet (CodeBuild writes it when the \
                             build ends): waiting up to {}s",
                            wait.as_secs()
                        );
                    }
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                return Err(get_failed(aws, &e, obj, missing, waited));
            }
        }
    };
    stats.waited = started.elapsed();
    let mut body = out.body;
    let mut feed = Gunzip::new(sink);
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| anyhow!("reading {obj}: {}", causes(&e)))?
    {
        stats.bytes += chunk.len() as u64;
        feed.push(&chunk)
            .map_err(|e| anyhow!("{obj} is not a whole gzip file: {e}"))?;
    }
    feed.finish()
        .map_err(|e| anyhow!("{obj} is not a whole gzip file: {e}"))?;
    Ok(stats)
}

/// A failed GetObject as a message that says what to do.
fn get_failed<E, R>(
    aws: &Aws,
    e: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>,
    obj: &S3Object,
    missing: bool,
    waited: Duration,
) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let region = &aws.region;
    if missing {
        let after = match waited.as_secs() {
            0 => String::new(),
            s => format!(" after waiting {s}s"),
        };
        return anyhow!(
            "the build log {obj} does not exist{after}: the build may still be running, or \
             the object was deleted (a lifecycle rule?)"
        );
    }
    match e.code() {
        Some("NoSuchBucket") => anyhow!("the bucket of {obj} does not exist (region {region})"),
        Some(
            "PermanentRedirect"
            | "AuthorizationHeaderMalformed"
            | "IllegalLocationConstraintException",
        ) => anyhow!(
            "the bucket of {obj} is not in region {region}: pass the bucket's region with --region"
        ),
        _ if classify(e) == Failure::AccessDenied => anyhow!(
            "access denied: s3:GetObject on {obj} (region {region}): the role or user needs \
             `s3:GetObject` on the log bucket, and `kms:Decrypt` on its key when the logs are \
             encrypted (CodeBuild encrypts S3 logs by default); without `s3:ListBucket`, S3 \
             also answers so for an object that does not exist ({})",
            e.message().unwrap_or("no message")
        ),
        _ => explain(aws, e, "s3:GetObject", &obj.to_string()),
    }
}

/// Bytes of an object into the sink: gunzipped when they start with gzip's magic number.
struct Gunzip<'s> {
    state: Feed<'s>,
}

enum Feed<'s> {
    /// Fewer than two bytes seen: gzip or not is not known yet.
    Start(Vec<u8>, &'s mut dyn LogSink),
    Plain(&'s mut dyn LogSink),
    Gzip(Box<MultiGzDecoder<SinkWriter<'s>>>),
    Done,
}

/// The decoder's output, handed to the sink.
struct SinkWriter<'s>(&'s mut dyn LogSink);

impl Write for SinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.bytes(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'s> Gunzip<'s> {
    fn new(sink: &'s mut dyn LogSink) -> Self {
        Gunzip {
            state: Feed::Start(Vec::new(), sink),
        }
    }

    fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if let Feed::Start(head, _) = &mut self.state {
            head.extend_from_slice(chunk);
            if head.len() < 2 {
                return Ok(());
            }
            let Feed::Start(head, sink) = std::mem::replace(&mut self.state, Feed::Done) else {
                unreachable!()
            };
            self.state = if head.starts_with(&[0x1f, 0x8b]) {
                Feed::Gzip(Box::new(MultiGzDecoder::new(SinkWriter(sink))))
            } else {
                Feed::Plain(sink)
            };
            return self.push_started(&head);
        }
        self.push_started(chunk)
    }

    fn push_started(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.state {
            Feed::Plain(sink) => {
                sink.bytes(chunk);
                Ok(())
            }
            Feed::Gzip(gz) => gz.write_all(chunk),
            Feed::Start(..) | Feed::Done => Ok(()),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self.state {
            Feed::Start(head, sink) => {
                sink.bytes(&head);
                Ok(())
            }
            Feed::Gzip(gz) => gz.finish().map(drop),
            Feed::Plain(_) | Feed::Done => Ok(()),
        }
    }
}

/// The S3 object CodeBuild names for a build, checked to be one.
pub fn object_of(arn: &str) -> Result<S3Object> {
    match S3Object::from_arn(arn) {
        Some(o) => Ok(o),
        None => bail!("CodeBuild's s3LogsArn {arn:?} is not an S3 object ARN"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Bytes(Vec<u8>);
    impl LogSink for Bytes {
        fn bytes(&mut self, chunk: &[u8]) {
            self.0.extend_from_slice(chunk);
        }
        fn event(&mut self, _: i64, _: &[u8]) {
            unreachable!()
        }
    }

    #[test]
    fn arns_name_bucket_and_key() {
        let o = S3Object::from_arn("arn:aws:s3:::logs-bucket/codebuild/logs/0f1e.gz").unwrap();
        assert_eq!(
            (o.bucket.as_str(), o.key.as_str()),
            ("logs-bucket", "codebuild/logs/0f1e.gz")
        );
        assert_eq!(o.to_string(), "s3://logs-bucket/codebuild/logs/0f1e.gz");
        assert!(S3Object::from_arn("arn:aws-cn:s3:::b/k").is_some());
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:logs:::b/k",
            "s3://b/k",
            "arn:aws:s3:::/k",
        ] {
            assert_eq!(S3Object::from_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn gzip_or_plain_in_chunks_of_any_size() {
        let text = b"#1 [1/2] FROM alpine\n#1 DONE 0.1s\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        for input in [&gz[..], &text[..]] {
            for size in [1, 2, 3, 1000, input.len()] {
                let mut sink = Bytes::default();
                let mut feed = Gunzip::new(&mut sink);
                for chunk in input.chunks(size) {
                    feed.push(chunk).unwrap();
                }
                feed.finish().unwrap();
                assert_eq!(sink.0, text, "chunks of {size}");
            }
        }
        let mut sink = Bytes::default();
        let mut feed = Gunzip::new(&mut sink);
        feed.push(&gz[..gz.len() / 2]).unwrap();
        assert!(feed.finish().is_err(), "a cut gzip file is an error");
    }
}
