//! Streaming one CloudWatch Logs stream into a [`LogSink`], page by page, as it is fetched.
//!
//! A task fetches `GetLogEvents` pages from the head of the stream while the caller feeds the
//! previous page to the parser; at most [`PAGES_IN_FLIGHT`] pages wait between them, so memory
//! stays flat however long the stream. The stream ends when the forward token comes back
//! unchanged (pages may be empty before that); a page cap guards against a stream that is
//! written faster than it is read.
//!
//! A build reading its own stream ([`Follow`]) reads a stream that is still being written, and
//! CloudWatch delivers events seconds late: at the end it keeps polling until the line it waits
//! for arrives, no new event has come for its wait, or its overall limit is reached — so the read
//! always ends at a bounded point.

use std::fmt;
use std::time::Duration;

use anyhow::{anyhow, Result};
use tokio::sync::mpsc;

use super::{classify, explain, Aws, Failure};
use crate::source::LogSink;

/// Pages fetched ahead of the parser.
const PAGES_IN_FLIGHT: usize = 4;

/// A log stream in a log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    pub group: String,
    pub stream: String,
}

impl fmt::Display for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "log stream {} in group {}", self.stream, self.group)
    }
}

/// Reading a stream that is still being written, up to a line that marks the end of interest.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    /// The line to wait for: the read stops after the page that has it.
    pub until: fn(&[u8]) -> bool,
    /// How long to keep polling at the end of the stream while no new event arrives.
    pub wait: Duration,
    /// How long to follow in all once the end is first reached, however steadily events arrive.
    pub limit: Duration,
    /// The pause between polls at the end of the stream.
    pub poll: Duration,
}

/// What one stream took to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// `GetLogEvents` calls made (retried attempts not counted).
    pub calls: u64,
    pub events: u64,
    /// The page cap stopped the read before the stream's end.
    pub capped: bool,
    /// Following: the awaited line arrived.
    pub found: bool,
    /// Following: how long the end of the stream had no new event when the read stopped.
    pub waited: Duration,
    /// Following: the overall limit stopped the read.
    pub limited: bool,
    /// The timestamp of the last event read (ms since the epoch).
    pub last_event_ms: Option<i64>,
}

type Page = Vec<(i64, String)>;

/// Reads the whole stream into `sink`, in order (with `follow`, up to the line it waits for).
/// `max_pages` caps the calls.
pub async fn stream_into(
    aws: &Aws,
    loc: &LogStream,
    max_pages: u64,
    follow: Option<Follow>,
    sink: &mut dyn LogSink,
) -> Result<FetchStats> {
    let (tx, mut rx) = mpsc::channel::<Result<Page>>(PAGES_IN_FLIGHT);
    let fetcher = tokio::spawn(fetch_pages(aws.clone(), loc.clone(), max_pages, follow, tx));
    let mut events = 0;
    let mut last_event_ms = None;
    while let Some(page) = rx.recv().await {
        for (timestamp, message) in page? {
            events += 1;
            last_event_ms = Some(timestamp);
            sink.event(timestamp, message.as_bytes());
        }
    }
    let stats = fetcher
        .await
        .map_err(|e| anyhow!("the CloudWatch Logs reader stopped: {e}"))?;
    Ok(FetchStats {
        events,
        last_event_ms,
        ..stats
    })
}

/// Fetches pages until the token repeats (following: until the awaited line, the wait or the
/// limit) or `max_pages` calls were made. Errors go down the channel, in order.
async fn fetch_pages(
    aws: Aws,
    loc: LogStream,
    max_pages: u64,
    follow: Option<Follow>,
    tx: mpsc::Sender<Result<Page>>,
) -> FetchStats {
    let mut token: Option<String> = None;
    let mut stats = FetchStats::default();
    // Following: when the end was first reached, and since when no new event has come there.
    let mut first_end: Option<tokio::time::Instant> = None;
    let mut idle_since: Option<tokio::time::Instant> = None;
    loop {
        if stats.calls >= max_pages {
            stats.capped = true;
            return stats;
        }
        aws.limit.wait().await;
        stats.calls += 1;
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
                return stats;
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
        if let Some(f) = &follow {
            stats.found = page.iter().any(|(_, m)| (f.until)(m.as_bytes()));
        }
        let new_events = !page.is_empty();
        if new_events && tx.send(Ok(page)).await.is_err() {
            return stats; // the reader gave up
        }
        if stats.found {
            return stats;
        }
        // The end of the stream: the same token back (or none at all).
        if next.is_none() || next == token {
            let Some(f) = &follow else { return stats };
            let now = tokio::time::Instant::now();
            if new_events {
                idle_since = Some(now);
            }
            stats.waited = now - *idle_since.get_or_insert(now);
            let left = f.limit.saturating_sub(now - *first_end.get_or_insert(now));
            stats.limited = left.is_zero();
            if next.is_none() || stats.waited >= f.wait || stats.limited {
                return stats;
            }
            tokio::time::sleep(f.poll.min(f.wait - stats.waited).min(left)).await;
        } else if new_events {
            idle_since = None;
        }
        token = next;
    }
}

/// Tells a missing group from a missing stream (AWS and emulators word both alike), with one
/// `DescribeLogStreams` call, and says what to do about each.
async fn missing(aws: &Aws, loc: &LogStream) -> anyhow::Error {
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
