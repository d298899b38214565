//! `report.html` in a real browser (headless Chromium): string checks on the file cannot tell
//! whether the page parses into the report, whether the inline SVG timeline is actually painted,
//! whether the page fetches anything from the network, or whether log text stays text once
//! parsed. These tests open the file and look at what Chromium made of it: the serialized DOM
//! (`--dump-dom`), a screenshot, and the network log (`--log-net-log`).
//!
//! Chromium is `$CACHESCOPE_CHROMIUM`, else `/usr/bin/chromium`, else `chromium` on PATH. Without
//! it each test prints `SKIPPED: <reason>` and passes — unless `CACHESCOPE_REQUIRE_CHROMIUM=1`
//! (set by `.ci/run`), which makes a missing Chromium a failure.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cachescope::chart::waterfall::status_color;
use cachescope::model::StepStatus;
use serde_json::Value;

const LOG: &str = "testdata/corpus/logs/020-codebuild-buildkit-pip-no-cache.log"; // 0 of 6 cached
const TIMEOUT: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    let found = match std::env::var_os("CACHESCOPE_CHROMIUM") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => std::iter::once(PathBuf::from("/usr/bin/chromium"))
            .chain(
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(|d| d.join("chromium")),
            )
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        let why = match std::env::var("CACHESCOPE_CHROMIUM") {
            Ok(p) => format!("CACHESCOPE_CHROMIUM={p} is not a file"),
            Err(_) => "no /usr/bin/chromium and no chromium on PATH".into(),
        };
        if std::env::var("CACHESCOPE_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
            panic!("CACHESCOPE_REQUIRE_CHROMIUM=1 but {why}");
        }
        eprintln!("SKIPPED: {why} (apt-get install chromium)");
    }
    found
}

fn corpus_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(LOG)
}

/// `cachescope report` for `log`; returns the path of `report.html`.
fn report(log: &Path, out: &Path) -> PathBuf {
    let o = Command::new(env!("CARGO_BIN_EXE_cachescope"))
        .args([
            "report",
            "--log",
            log.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("CODEBUILD_BUILD_ID")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out.join("report.html")
}

/// Runs headless Chromium on `page` with `extra` flags (each run with a fresh profile, no real
/// network: every host name fails to resolve), killed after [`TIMEOUT`]. Returns its stdout.
fn browse(chromium: &Path, page: &Path, extra: &[String]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox", // as root (CI containers)
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .args(extra)
        .arg(url(page))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .process_group(0) // so a hung browser goes with all its helper processes
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("Chromium still running after {TIMEOUT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(status.success(), "Chromium exited with {status}: {err}");
    std::fs::read_to_string(&stdout).unwrap()
}

fn url(page: &Path) -> String {
    format!("file://{}", page.canonicalize().unwrap().display())
}

/// The report's Content-Security-Policy, as the template writes it.
const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">";

/// A copy of `page` (next to it) with `from` replaced by `to`, for a control.
fn variant(page: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains(from), "{from:?} not in {}", page.display());
    let copy = page.with_file_name(name);
    std::fs::write(&copy, html.replacen(from, to, 1)).unwrap();
    copy
}

/// Screenshot of `page` in a tall window (the whole report), and how many pixels have `rgb`.
fn pixels_of(chromium: &Path, page: &Path, rgb: [u8; 3]) -> usize {
    let png = page.with_extension("png");
    let flags = [
        "--window-size=1400,4000".into(),
        "--hide-scrollbars".into(),
        format!("--screenshot={}", png.display()),
    ];
    browse(chromium, page, &flags);
    let img = image::open(&png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    img.pixels().filter(|p| p.0 == rgb).count()
}

/// Every URL request in the network log of a run on `page`, as (url, initiator). `file:` and
/// `data:` URLs never reach the network stack, so they are not logged at all.
fn requests(chromium: &Path, page: &Path) -> Vec<(String, String)> {
    let netlog = page.with_extension("netlog.json");
    let flags = [
        format!("--log-net-log={}", netlog.display()),
        "--dump-dom".into(),
    ];
    browse(chromium, page, &flags);
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap()).unwrap();
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    assert!(
        start_job.is_u64(),
        "no URL_REQUEST_START_JOB in the net log's constants"
    );
    let events = log["events"].as_array().expect("net log events");
    events
        .iter()
        .filter(|e| &e["type"] == start_job)
        .filter_map(|e| {
            let initiator = e["params"]["initiator"].as_str().unwrap_or("not an origin");
            Some((
                e["params"]["url"].as_str()?.to_string(),
                initiator.to_string(),
            ))
        })
        .collect()
}

/// The network URLs web content asked for: without Chromium's own background requests (to
/// Google's time, account and search services here), which have no initiating origin.
fn from_the_page(requests: &[(String, String)]) -> Vec<&str> {
    requests
        .iter()
        .filter(|(_, initiator)| initiator != "not an origin")
        .filter(|(url, _)| !url.starts_with("file:") && !url.starts_with("data:"))
        .map(|(url, _)| url.as_str())
        .collect()
}

#[test]
fn renders_the_report() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = report(&corpus_log(), &dir.path().join("r"));
    let dom = browse(&chromium, &page, &["--dump-dom".into()]);
    for want in [
        "<h1>Docker build cache: ",
        "<h2>Summary</h2>",
        "<h2>Timeline</h2>",
        "<h2>Steps</h2>",
        "<th>run</th><th>step</th><th>status</th><th>duration</th><th>name</th>",
        "<code>[5/7] RUN pip install --default-timeout=100 --no-cache-dir",
        "<div class=\"chart\"><svg ",
        "Generated by cachescope ",
    ] {
        assert!(dom.contains(want), "{want:?} not in the DOM:\n{dom}");
    }
    let row = "<td class=\"rebuilt\">rebuilt</td>";
    let written = std::fs::read_to_string(&page).unwrap().matches(row).count();
    assert!(written >= 6, "{written} rebuilt steps in report.html");
    assert_eq!(dom.matches(row).count(), written, "rows of the steps table");
}

#[test]
fn timeline_bars_are_painted() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = report(&corpus_log(), &dir.path().join("r"));
    // Every step of this log rebuilt: the bars are the chart's "rebuilt" colour. The control is the
    // same page without its <svg>, so nothing else on the page (CSS) may count as a bar.
    let c = status_color(StepStatus::Rebuilt);
    let rgb = [c.0, c.1, c.2];
    let html = std::fs::read_to_string(&page).unwrap();
    let svg =
        &html[html.find("<svg").expect("inline svg")..html.find("</svg>").expect("</svg>") + 6];
    let control = variant(&page, "no-chart.html", svg, "");
    let (bars, without) = (
        pixels_of(&chromium, &page, rgb),
        pixels_of(&chromium, &control, rgb),
    );
    assert_eq!(
        without, 0,
        "{rgb:?} outside the chart: not a signal for its bars"
    );
    // The bars cover about 19,000 pixels here; each legend swatch 144.
    assert!(
        bars > 5_000,
        "only {bars} pixels of {rgb:?}: the timeline's bars are not painted"
    );
}

#[test]
fn the_page_makes_no_network_requests() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = report(&corpus_log(), &dir.path().join("r"));
    // The detector works: it sees the request of a control page with an image from the network
    // (port 9, which Chromium refuses to connect to, after logging the request).
    let img = "http://127.0.0.1:9/x.png";
    let with_img = format!("<h2>Timeline</h2><img src=\"{img}\">");
    let no_csp = variant(&page, "no-csp.html", CSP, "");
    let control = variant(&no_csp, "control.html", "<h2>Timeline</h2>", &with_img);
    let all = requests(&chromium, &control);
    assert!(
        from_the_page(&all).contains(&img),
        "the detector missed {img}: {all:?}"
    );
    // And the page's Content-Security-Policy blocks such a request, were one ever written in.
    let guarded = variant(&page, "guarded.html", "<h2>Timeline</h2>", &with_img);
    let all = requests(&chromium, &guarded);
    assert!(
        from_the_page(&all).is_empty(),
        "the CSP let a request through: {all:?}"
    );
    let all = requests(&chromium, &page);
    assert!(
        from_the_page(&all).is_empty(),
        "report.html made requests: {all:?}"
    );
}

#[test]
fn markup_in_a_step_name_stays_text() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read_to_string(corpus_log()).unwrap().replace(
        "#6 [2/7] RUN pip install",
        "#6 [2/7] RUN echo <script>alert(1)</script> && pip install",
    );
    let file = dir.path().join("x.log");
    std::fs::write(&file, log).unwrap();
    let page = report(&file, &dir.path().join("r"));
    let dom = browse(&chromium, &page, &["--dump-dom".into()]);
    assert!(
        !dom.contains("<script"),
        "a <script> element in the parsed page:\n{dom}"
    );
    let text = "<code>[2/7] RUN echo &lt;script&gt;alert(1)&lt;/script&gt; &amp;&amp; pip install";
    assert!(
        dom.contains(text),
        "the step name as text, {text:?}, not in the DOM:\n{dom}"
    );
}
