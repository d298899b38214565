//! AWS without AWS, for tests and benchmarks: a moto server (a real CloudWatch Logs emulator) on
//! a free loopback port, seeded over its HTTP API, and a stub in front of it that answers
//! CodeBuild with recorded responses, counts requests, and injects faults.
//!
//! moto is found as `moto_server` on PATH (or `$MOTO_SERVER`). Without it, [`Moto::start`]
//! returns `None` and the caller skips with a printed reason — unless
//! `CACHESCOPE_REQUIRE_MOTO=1` (set by `.ci/run`), which makes a missing moto a failure.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

pub const LOGS: &str = "Logs_20140328";

/// A recorded CodeBuild response from `tests/data/aws/`.
pub fn recorded(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/aws")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cachescope"))
}

/// The tool with nothing from this machine's AWS set-up: no `AWS_*` variables, no config or
/// credentials files, no instance metadata.
pub fn bare() -> Command {
    let mut cmd = bin();
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/cachescope-test")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cachescope-test",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    cmd
}

/// The tool pointed at the stub, with dummy credentials in us-east-1.
pub fn run(stub: &Stub, args: &[&str]) -> Output {
    bare()
        .args(args)
        .args(["--endpoint-url", &stub.url])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap()
}

/// The tool on a host of its own: `home` as HOME and cache directory (a fresh one is a fresh
/// CodeBuild host), dummy credentials in us-east-1, the stub as endpoint (AWS_ENDPOINT_URL).
pub fn on_host(stub: &Stub, home: &Path) -> Command {
    let mut c = bare();
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &stub.url)
        .env("XDG_CACHE_HOME", home)
        .env("HOME", home);
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout of a run that must have succeeded.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(o));
    stdout(o)
}
pub const CODEBUILD: &str = "CodeBuild_20161006";

/// A moto server process, killed on drop.
pub struct Moto {
    child: Child,
    pub url: String,
    pub port: u16,
    /// The region seeding calls are signed for (moto keeps regions apart).
    region: Mutex<String>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts moto on a free port and waits until it answers. `None` when moto is not installed
    /// and not required.
    pub fn start() -> Option<Moto> {
        let exe = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let required = std::env::var("CACHESCOPE_REQUIRE_MOTO").is_ok_and(|v| v == "1");
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(&exe)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) if !required => {
                    eprintln!("SKIPPED: moto server not available ({exe}: {e}); pip install 'moto[server]'");
                    return None;
                }
                Err(e) => panic!("CACHESCOPE_REQUIRE_MOTO=1 but {exe} cannot start: {e}"),
            };
            let mut moto = Moto {
                child,
                url: format!("http://127.0.0.1:{port}"),
                port,
                region: Mutex::new("us-east-1".into()),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = moto.child.try_wait() {
                    break; // exited: the port was taken; try another
                }
                if http(port, "GET", "/moto-api/", &[], b"").is_ok() {
                    return Some(moto);
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = moto.child.kill();
        }
        panic!("moto server did not start");
    }

    /// Puts an object into S3 (path-style; the bucket is created if needed).
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request";
        let headers = [("Authorization", auth)];
        let made = http(self.port, "PUT", &format!("/{bucket}"), &headers, b"").expect("moto");
        assert!(
            made.status < 300 || made.status == 409,
            "bucket {bucket}: {}",
            made.status
        );
        let put = http(
            self.port,
            "PUT",
            &format!("/{bucket}/{key}"),
            &headers,
            bytes,
        )
        .expect("moto");
        assert!(put.status < 300, "s3://{bucket}/{key}: {}", put.status);
    }

    /// Seed in `region` from now on (default us-east-1).
    pub fn set_region(&self, region: &str) {
        *self.region.lock().unwrap() = region.to_string();
    }

    /// One awsJson call to moto: `target` like `Logs_20140328.PutLogEvents`.
    pub fn call(&self, target: &str, body: &Value) -> Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{}/logs/aws4_request",
            self.region.lock().unwrap()
        );
        let resp = http(
            self.port,
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", target),
                ("Authorization", &auth),
            ],
            body.to_string().as_bytes(),
        )
        .expect("moto answers");
        assert!(
            resp.status < 300,
            "{target}: {} {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
    }

    pub fn create_stream(&self, group: &str, stream: &str) {
        let groups = self.call(
            &format!("{LOGS}.DescribeLogGroups"),
            &json!({ "logGroupNamePrefix": group }),
        );
        let exists = groups["logGroups"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g["logGroupName"] == group));
        if !exists {
            self.call(
                &format!("{LOGS}.CreateLogGroup"),
                &json!({ "logGroupName": group }),
            );
        }
        self.call(
            &format!("{LOGS}.CreateLogStream"),
            &json!({ "logGroupName": group, "logStreamName": stream }),
        );
    }

    /// Writes `events` (timestamp ms, message) to a stream in PutLogEvents-sized batches.
    pub fn put_events(&self, group: &str, stream: &str, events: &[(i64, String)]) {
        let mut batch: Vec<Value> = Vec::new();
        let mut bytes = 0;
        let flush = |batch: &mut Vec<Value>| {
            if !batch.is_empty() {
                self.call(
                    &format!("{LOGS}.PutLogEvents"),
                    &json!({ "logGroupName": group, "logStreamName": stream, "logEvents": batch }),
                );
                batch.clear();
            }
        };
        for (ts, msg) in events {
            // AWS limits: 10,000 events and 1 MiB (message bytes + 26 per event) per call.
            if batch.len() == 10_000 || bytes + msg.len() + 26 > 1_000_000 {
                flush(&mut batch);
                bytes = 0;
            }
            bytes += msg.len() + 26;
            batch.push(json!({ "timestamp": ts, "message": msg }));
        }
        flush(&mut batch);
    }
}

/// A log as CloudWatch events, one per line, as CodeBuild writes them: an empty line becomes a
/// lone newline (CloudWatch refuses empty messages). Timestamps start an hour ago (moto, like
/// AWS, drops events older than 14 days) and advance one millisecond every `per_ms` lines.
pub fn events_of(log: &str, per_ms: usize) -> Vec<(i64, String)> {
    let start = now_ms() - 3_600_000;
    let text = log.strip_suffix('\n').unwrap_or(log);
    text.split('\n')
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let msg = if line.is_empty() {
                "\n".to_string()
            } else {
                line.to_string()
            };
            (start + (i / per_ms.max(1)) as i64, msg)
        })
        .collect()
}

/// The JSON `aws logs get-log-events` prints for these events.
pub fn get_log_events_json(events: &[(i64, String)]) -> String {
    let evs: Vec<Value> = events
        .iter()
        .map(|(t, m)| json!({ "timestamp": t, "message": m, "ingestionTime": t }))
        .collect();
    json!({ "events": evs, "nextForwardToken": "f/1", "nextBackwardToken": "b/1" }).to_string()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One HTTP/1.1 request on a fresh connection.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut reader = BufReader::new(s);
    let (status, headers) = read_head(&mut reader)?;
    let len = header(&headers, "content-length").and_then(|v| v.parse::<usize>().ok());
    let mut body = Vec::new();
    match len {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a status or request line and the headers; the first value is the status code (for a
/// response) or 0 (for a request).
fn read_head(r: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    read_head_line(r).map(|(_, status, headers)| (status, headers))
}

/// HTTP headers, in their order.
type Headers = Vec<(String, String)>;

/// [`read_head`], with the first line itself (`GET /bucket/key HTTP/1.1`).
fn read_head_line(r: &mut impl BufRead) -> std::io::Result<(String, u16, Headers)> {
    let mut first = String::new();
    if r.read_line(&mut first)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status = first
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok((first.trim_end().to_string(), status, headers))
}

/// A canned answer: HTTP status and JSON body.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub body: String,
}

impl Canned {
    pub fn ok(body: impl Into<String>) -> Canned {
        Canned {
            status: 200,
            body: body.into(),
        }
    }
    /// An awsJson error, as AWS sends it.
    pub fn error(status: u16, code: &str, message: &str) -> Canned {
        Canned {
            status,
            body: json!({ "__type": code, "message": message }).to_string(),
        }
    }
}

/// What the stub does to CloudWatch Logs requests before forwarding them to moto.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Answer ThrottlingException to every n-th GetLogEvents request (0: never).
    pub throttle_every: u64,
    /// Delay every request that is forwarded by this long.
    pub delay: Duration,
    /// Answer every GetLogEvents with this instead of forwarding it.
    pub get_log_events: Option<Canned>,
    /// Answer every S3 GET with 403 AccessDenied.
    pub deny_s3: bool,
}

#[derive(Default)]
struct StubState {
    /// Requests received, by `X-Amz-Target` (S3's by `S3.<METHOD>`).
    counts: HashMap<String, u64>,
    /// GetLogEvents answers forwarded from moto that carried at least one event.
    pages_with_events: u64,
    /// CodeBuild answers by target; `{{ID}}` in a body is replaced by the first requested id,
    /// `{{UUID}}` by its part after the colon.
    codebuild: HashMap<String, Canned>,
    /// CodeBuild answers computed from the request body, by target (win over `codebuild`).
    codebuild_fns: HashMap<String, Responder>,
    faults: Faults,
}

/// Computes an answer from a request's JSON body.
pub type Responder = Arc<dyn Fn(&Value) -> Canned + Send + Sync>;

/// The stub: the endpoint the tool is pointed at.
pub struct Stub {
    pub url: String,
    state: Arc<Mutex<StubState>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wake the accept loop
    }
}

impl Stub {
    /// Serves on a free port, forwarding CloudWatch Logs requests to `moto`.
    pub fn start(moto: &Moto) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(StubState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp, moto_port) = (state.clone(), stop.clone(), moto.port);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                thread::spawn(move || serve(conn, st, moto_port));
            }
        });
        Stub {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            port,
        }
    }

    /// Answers a CodeBuild operation (`BatchGetBuilds`) with `canned`.
    pub fn codebuild(&self, operation: &str, canned: Canned) {
        let mut s = self.state.lock().unwrap();
        s.codebuild
            .insert(format!("{CODEBUILD}.{operation}"), canned);
    }

    /// Answers a CodeBuild operation with whatever `f` makes of the request body.
    pub fn codebuild_fn(
        &self,
        operation: &str,
        f: impl Fn(&Value) -> Canned + Send + Sync + 'static,
    ) {
        let mut s = self.state.lock().unwrap();
        s.codebuild_fns
            .insert(format!("{CODEBUILD}.{operation}"), Arc::new(f));
    }

    pub fn faults(&self, faults: Faults) {
        self.state.lock().unwrap().faults = faults;
    }

    /// Requests received for `target` (`Logs_20140328.GetLogEvents`).
    pub fn count(&self, target: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(target)
            .copied()
            .unwrap_or(0)
    }

    pub fn pages_with_events(&self) -> u64 {
        self.state.lock().unwrap().pages_with_events
    }

    pub fn reset_counts(&self) {
        let mut s = self.state.lock().unwrap();
        s.counts.clear();
        s.pages_with_events = 0;
    }
}

/// One S3 request, counted as `S3.<METHOD>` and forwarded to moto with its method, path and
/// signing headers; moto's answer goes back with its status, type and body.
fn forward_s3(
    conn: &mut TcpStream,
    request_line: &str,
    headers: &[(String, String)],
    body: &[u8],
    state: &Mutex<StubState>,
    moto_port: u16,
) -> std::io::Result<()> {
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
    let deny = {
        let mut s = state.lock().unwrap();
        *s.counts.entry(format!("S3.{method}")).or_default() += 1;
        s.faults.deny_s3 && method == "GET"
    };
    let (status, content_type, body) = if deny {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
                   <Message>Access Denied</Message><RequestId>0</RequestId></Error>";
        (403, "application/xml".to_string(), xml.as_bytes().to_vec())
    } else {
        let pass: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k == "authorization" || k == "content-type" || k.starts_with("x-amz-")
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match http(moto_port, method, path, &pass, body) {
            Ok(r) => (
                r.status,
                header(&r.headers, "content-type")
                    .unwrap_or("application/xml")
                    .to_string(),
                r.body,
            ),
            Err(e) => (500, "text/plain".to_string(), e.to_string().into_bytes()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         x-amz-request-id: 0\r\n\r\n",
        if status < 300 { "OK" } else { "Error" },
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(&body)
}

/// Writes an answer; an error carries its code in `x-amzn-ErrorType` too, as AWS sends it.
fn respond(conn: &mut TcpStream, canned: &Canned) -> std::io::Result<()> {
    let reason = if canned.status < 300 { "OK" } else { "Error" };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nx-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n",
        canned.status,
        canned.body.len()
    );
    if canned.status >= 300 {
        if let Ok(v) = serde_json::from_str::<Value>(&canned.body) {
            if let Some(code) = v["__type"].as_str() {
                head.push_str(&format!("x-amzn-ErrorType: {code}\r\n"));
            }
        }
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(canned.body.as_bytes())
}

/// One keep-alive connection from the SDK.
fn serve(conn: TcpStream, state: Arc<Mutex<StubState>>, moto_port: u16) {
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let Ok((request_line, _, headers)) = read_head_line(&mut reader) else {
            return;
        };
        let len = header(&headers, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let Some(target) = header(&headers, "x-amz-target").map(str::to_string) else {
            // S3 (REST, no target): forwarded to moto as it came.
            if forward_s3(
                &mut writer,
                &request_line,
                &headers,
                &body,
                &state,
                moto_port,
            )
            .is_err()
            {
                return;
            }
            continue;
        };
        let (canned, faults) = {
            let mut s = state.lock().unwrap();
            *s.counts.entry(target.clone()).or_default() += 1;
            let get_n = s.counts[&target];
            let responder = s.codebuild_fns.get(&target).cloned();
            let canned = if let Some(f) = responder {
                let request = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
                Some(f(&request))
            } else if let Some(op) = target.strip_prefix(&format!("{CODEBUILD}.")) {
                let id = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["ids"][0].as_str().map(str::to_string))
                    .unwrap_or_default();
                Some(
                    s.codebuild
                        .get(&target)
                        .cloned()
                        .map(|mut c| {
                            let uuid = id.rsplit(':').next().unwrap_or("");
                            c.body = c.body.replace("{{ID}}", &id).replace("{{UUID}}", uuid);
                            c
                        })
                        .unwrap_or_else(|| {
                            Canned::error(
                                400,
                                "InvalidInputException",
                                &format!("the stub has no answer for {op}"),
                            )
                        }),
                )
            } else if target == format!("{LOGS}.GetLogEvents") {
                let f = &s.faults;
                if f.throttle_every > 0 && get_n.is_multiple_of(f.throttle_every) {
                    Some(Canned::error(400, "ThrottlingException", "Rate exceeded"))
                } else {
                    f.get_log_events.clone()
                }
            } else {
                None
            };
            (canned, s.faults.clone())
        };
        let result = match canned {
            Some(c) => respond(&mut writer, &c),
            None => {
                thread::sleep(faults.delay);
                let content_type = header(&headers, "content-type")
                    .unwrap_or("application/x-amz-json-1.1")
                    .to_string();
                match http(
                    moto_port,
                    "POST",
                    "/",
                    &[
                        ("Content-Type", &content_type),
                        ("X-Amz-Target", &target),
                        (
                            "Authorization",
                            header(&headers, "authorization").unwrap_or(""),
                        ),
                    ],
                    &body,
                ) {
                    Ok(resp) => {
                        if target == format!("{LOGS}.GetLogEvents") && resp.status == 200 {
                            let events = serde_json::from_slice::<Value>(&resp.body)
                                .ok()
                                .and_then(|v| v["events"].as_array().map(|a| a.len()))
                                .unwrap_or(0);
                            if events > 0 {
                                state.lock().unwrap().pages_with_events += 1;
                            }
                        }
                        let canned = Canned {
                            status: resp.status,
                            body: String::from_utf8_lossy(&resp.body).into_owned(),
                        };
                        respond(&mut writer, &canned)
                    }
                    Err(e) => respond(
                        &mut writer,
                        &Canned::error(500, "InternalFailure", &e.to_string()),
                    ),
                }
            }
        };
        if result.is_err()
            || header(&headers, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The UUID of build `n` of project `p` in [`account`].
pub fn account_uuid(p: usize, n: usize) -> String {
    format!("7a6b5c4d-3e2f-4a1b-8c9d-{:012x}", p * 1000 + n)
}

/// A CodeBuild account of `projects` projects (`svc-00`, `svc-01`, …) with `per` builds each,
/// build `n` of project `p` logging `log(p, n)` (events `per_ms` to a millisecond) to
/// `/aws/codebuild/<project>` in moto; ListProjects (pages of 8), ListBuildsForProject and
/// BatchGetBuilds answered by the stub. Returns the project names.
pub fn account(
    moto: &Moto,
    stub: &Stub,
    projects: usize,
    per: usize,
    per_ms: usize,
    log: impl Fn(usize, usize) -> String,
) -> Vec<String> {
    let names: Vec<String> = (0..projects).map(|p| format!("svc-{p:02}")).collect();
    for (p, name) in names.iter().enumerate() {
        let group = format!("/aws/codebuild/{name}");
        for n in 0..per {
            moto.create_stream(&group, &account_uuid(p, n));
            moto.put_events(&group, &account_uuid(p, n), &events_of(&log(p, n), per_ms));
        }
    }
    let listed = names.clone();
    stub.codebuild_fn("ListProjects", move |req| {
        let start: usize = req["nextToken"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let page = &listed[start..(start + 8).min(listed.len())];
        let mut body = json!({ "projects": page });
        if start + 8 < listed.len() {
            body["nextToken"] = json!((start + 8).to_string());
        }
        Canned::ok(body.to_string())
    });
    let projects_of = names.clone();
    stub.codebuild_fn("ListBuildsForProject", move |req| {
        let name = req["projectName"].as_str().unwrap_or("");
        let p = projects_of.iter().position(|n| n == name).unwrap_or(0);
        let ids: Vec<String> = (0..per)
            .rev()
            .map(|n| format!("{name}:{}", account_uuid(p, n)))
            .collect();
        Canned::ok(json!({ "ids": ids }).to_string())
    });
    let base = (now_ms() / 1000 - 20 * 86_400) as f64;
    stub.codebuild_fn("BatchGetBuilds", move |req| {
        let builds: Vec<Value> = (req["ids"].as_array().unwrap().iter())
            .filter_map(|v| v.as_str())
            .map(|id| {
                let (name, u) = id.split_once(':').unwrap();
                let n = usize::from_str_radix(&u[u.len() - 12..], 16).unwrap() % 1000;
                let start = base + n as f64 * 3600.0;
                json!({
                    "id": id, "buildNumber": n + 1, "startTime": start, "endTime": start + 300.0,
                    "currentPhase": "COMPLETED", "projectName": name, "buildStatus": "SUCCEEDED",
                    "logs": { "groupName": format!("/aws/codebuild/{name}"), "streamName": u },
                })
            })
            .collect();
        Canned::ok(json!({ "builds": builds, "buildsNotFound": [] }).to_string())
    });
    names
}
