//! Streaming one CloudWatch Logs stream into a [`LogSink`], page by page, as it is fetched.
//!
//! A task fetches `GetLogEvents` pages from the head of the stream while the caller feeds the
//! previous page to the parser; at most [`PAGES_IN_FLIGHT`] pages wait between them, so memory
//! stays flat however long the stream. The stream ends when the forward token comes back
//! unchanged (pages may be empty before that); a page cap guards against a stream that is
//! written faster than it is read.

use std::fmt;

use anyhow::{anyhow, Result};
use tokio::sync::mpsc;

use super::{classify, explain, Aws, Failure};
use crate::source::LogSink;

/// Pages fetched ahead of the parser.
const PAGES_IN_FLIGHT: usize = 4;

/// A log stream in a log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLocation {
    pub group: String,
    pub stream: String,
}

impl fmt::Display for LogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "log stream {} in group {}", self.stream, self.group)
    }
}

/// What one stream took to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// `GetLogEvents` calls made (retried attempts not counted).
    pub calls: u64,
    pub events: u64,
    /// The page cap stopped the read before the stream's end.
    pub capped: bool,
}

type Page = Vec<(i64, String)>;

/// Reads the whole stream into `sink`, in order. `max_pages` caps the calls.
pub async fn stream_into(
    aws: &Aws,
    loc: &LogLocation,
    max_pages: u64,
    sink: &mut dyn LogSink,
) -> Result<FetchStats> {
    let (tx, mut rx) = mpsc::channel::<Result<Page>>(PAGES_IN_FLIGHT);
    let fetcher = tokio::spawn(fetch_pages(aws.clone(), loc.clone(), max_pages, tx));
    let mut stats = FetchStats::default();
    while let Some(page) = rx.recv().await {
        for (timestamp, message) in page? {
            stats.events += 1;
            sink.event(timestamp, message.as_bytes());
        }
    }
    let (calls, capped) = fetcher
        .await
        .map_err(|e| anyhow!("the CloudWatch Logs reader stopped: {e}"))?;
    stats.calls = calls;
    stats.capped = capped;
    Ok(stats)
}

/// Fetches pages until the token repeats or `max_pages` calls were made; returns the calls made
/// and whether the cap stopped it. Errors go down the channel, in order.
async fn fetch_pages(
    aws: Aws,
    loc: LogLocation,
    max_pages: u64,
    tx: mpsc::Sender<Result<Page>>,
) -> (u64, bool) {
    let mut token: Option<String> = None;
    let mut calls = 0;
    loop {
        if calls >= max_pages {
            return (calls, true);
        }
        aws.limit.wait().await;
        calls += 1;
        let sent = aws
            .logs
            .get_log_events()
            .log_group_name(&loc.group)
            .log_stream_name(&loc.stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                let err = if classify(&e) == Failure::NotFound {
                    missing(&aws, &loc).await
                } else {
                    explain(&aws, &e, "logs:GetLogEvents", &loc.to_string())
                };
                let _ = tx.send(Err(err)).await;
                return (calls, false);
            }
        };
        let page: Page = out
            .events()
            .iter()
            .map(|e| {
                (
                    e.timestamp().unwrap_or(0),
                    e.message().unwrap_or("").to_string(),
                )
            })
            .collect();
        let next = out.next_forward_token().map(str::to_string);
        if !page.is_empty() && tx.send(Ok(page)).await.is_err() {
            return (calls, false); // the reader gave up
        }
        // The end of the stream: the same token back (or none at all).
        if next.is_none() || next == token {
            return (calls, false);
        }
        token = next;
    }
}

/// Tells a missing group from a missing stream (AWS and emulators word both alike), with one
/// `DescribeLogStreams` call, and says what to do about each.
async fn missing(aws: &Aws, loc: &LogLocation) -> anyhow::Error {
    aws.limit.wait().await;
    let described = aws
        .logs
        .describe_log_streams()
        .log_group_name(&loc.group)
        .log_stream_name_prefix(&loc.stream)
        .send()
        .await;
    match described {
        Ok(out)
            if out
                .log_streams()
                .iter()
                .any(|s| s.log_stream_name() == Some(&loc.stream)) =>
        {
            anyhow!("{loc}: CloudWatch Logs says it does not exist, but it is listed; try again")
        }
        Ok(_) => anyhow!(
            "{loc} does not exist (region {}): the build's logs may have expired under the log \
             group's retention, or the build logs elsewhere (--log-group, --log-stream)",
            aws.region
        ),
        Err(e) if classify(&e) == Failure::NotFound => anyhow!(
            "log group {} does not exist (region {}): the project may log to another group \
             (--log-group), to S3 only, or CloudWatch logging is off for it",
            loc.group,
            aws.region
        ),
        Err(_) => anyhow!(
            "{loc} was not found (region {}): the logs may have expired, or the build logs \
             elsewhere (--log-group, --log-stream)",
            aws.region
        ),
    }
}
