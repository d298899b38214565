//! Does the parse hide inside the fetch? For a build whose CloudWatch stream holds 100,000+
//! events (moto server behind the test stub), times, in the same run and alternating:
//!
//! - fetch: every GetLogEvents page pulled and dropped (the baseline: the network alone), and
//! - result: the same pages parsed as they arrive, summarized and rendered as the JSON report.
//!
//! Reports medians and the ratio result ÷ fetch (target ≤ 1.1), at the default rate limit
//! (10 requests/s) and with no limit (the worst case for hiding the parse), the GetLogEvents
//! calls made against the pages needed, and the binary's peak RSS for a stream three times as
//! long (flat memory). Needs `moto_server` (pip install 'moto[server]') and GNU time.
//!
//!   cargo bench --bench cloudwatch [-- EVENTS]     default 100000

#[path = "../tests/support/aws.rs"]
mod aws_support;
#[path = "support/synth.rs"]
mod synth;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_support::{events_of, Canned, Moto, Stub, LOGS};
use cachescope::analyze::{summarize, BuildInput};
use cachescope::cmd::read::Feed;
use cachescope::parse::{Parsed, Parser};
use cachescope::report::build::json;
use cachescope::source::aws::{read_build, AwsSettings, BuildRef, FetchOptions};
use cachescope::source::LogSink;

const RUNS: usize = 5;

struct Discard;
impl LogSink for Discard {
    fn bytes(&mut self, _: &[u8]) {}
    fn event(&mut self, _: i64, _: &[u8]) {}
}

fn options(endpoint: &str, rate: f64) -> FetchOptions {
    FetchOptions {
        settings: AwsSettings {
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.into()),
            max_attempts: None,
            requests_per_second: rate,
            verbose: false,
        },
        log_group: None,
        log_stream: None,
        max_pages: 10_000,
        want_meta: true,
        follow: None,
        log_source: Default::default(),
    }
}

fn seed(moto: &Moto, uuid: &str, lines: usize) -> usize {
    let events = events_of(&synth::log_with_lines(lines, 11), 50);
    moto.create_stream("/aws/codebuild/bench", uuid);
    moto.put_events("/aws/codebuild/bench", uuid, &events);
    events.len()
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn main() {
    // Dummy credentials for the emulator; nothing from this machine's AWS set-up.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/cachescope-bench"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cachescope-bench",
        ),
    ] {
        std::env::set_var(k, v);
    }
    let events: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let moto = Moto::start().expect("moto_server is needed: pip install 'moto[server]'");
    let stub = Stub::start(&moto);
    stub.codebuild(
        "BatchGetBuilds",
        Canned::error(
            400,
            "AccessDeniedException",
            "not allowed in this benchmark",
        ),
    );
    let uuid = "00000000-0000-4000-8000-000000000001";
    let n = seed(&moto, uuid, events);
    let build = BuildRef::parse(&format!("bench:{uuid}")).unwrap();
    println!("stream: {n} events");

    for rate in [10.0, 0.0] {
        let opts = options(&stub.url, rate);
        let (mut fetch, mut result) = (Vec::new(), Vec::new());
        let mut steps = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            read_build(&build, &opts, &mut Discard).unwrap();
            fetch.push(t.elapsed());

            let t = Instant::now();
            let mut parsed = Parsed::default();
            let mut feed = Feed::new(Parser::default(), |e| parsed.collect(e));
            let fetched = read_build(&build, &opts, &mut feed).unwrap();
            feed.finish();
            drop(feed);
            let input = BuildInput::from_parsed(build.to_string(), parsed, fetched.meta);
            let report = json(&summarize(&input, None).unwrap(), &input.steps);
            std::hint::black_box(report);
            result.push(t.elapsed());
            steps = input.steps.len();
        }
        let (f, r) = (median(fetch), median(result));
        let label = if rate > 0.0 {
            format!("{rate}/s")
        } else {
            "no limit".into()
        };
        println!(
            "rate {label}: fetch {f:.3}s, result {r:.3}s ({steps} steps): result/fetch = {:.3} (median of {RUNS})",
            r / f
        );
    }

    stub.reset_counts();
    read_build(&build, &options(&stub.url, 0.0), &mut Discard).unwrap();
    let (calls, pages) = (
        stub.count(&format!("{LOGS}.GetLogEvents")),
        stub.pages_with_events(),
    );
    println!(
        "GetLogEvents calls: {calls} for {pages} pages with events (pages + 1 = {})",
        pages + 1
    );

    // Flat memory: peak RSS of the binary for this stream and one three times as long.
    let uuid3 = "00000000-0000-4000-8000-000000000003";
    let n3 = seed(&moto, uuid3, events * 3);
    for (u, count) in [(uuid, n), (uuid3, n3)] {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_cachescope"))
            .args([
                "build",
                &format!("bench:{u}"),
                "--format",
                "json",
                "-o",
                "/dev/null",
            ])
            .args([
                "--endpoint-url",
                &stub.url,
                "--region",
                "us-east-1",
                "--rate",
                "0",
            ])
            .output()
            .expect("GNU time (/usr/bin/time) is needed");
        let err = String::from_utf8_lossy(&out.stderr);
        let kib = err.lines().last().unwrap_or("?");
        println!("cachescope build, {count} events: peak RSS {kib} KiB");
    }
}
