//! The network half of the reliability suite: inputs over HTTP, S3 and PostgreSQL served (or
//! refused, or never answered) by servers this file starts on 127.0.0.1. Every run goes through
//! the same memory cap as `reliability.rs` and pinned run metadata; every case asserts the exit
//! status (never a panic, an abort or a hang), the error text, and that no credential reaches
//! stdout, stderr or any file written.
#![cfg(feature = "object-store")]
use crate::common;
use crate::shared::*;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The network timeout the failure cases run with (`MASKGATE_NETWORK_TIMEOUT`, seconds).
const TIMEOUT_S: &str = "2";

/// How long a failure case may take: the timeout, object_store's bounded retries and the
/// process around them, with room for a loaded machine; far below the 181 s of before.
const FAILS_WITHIN: Duration = Duration::from_secs(30);

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("reliability-net", name)
}

/// `maskgate ARGS` under the memory cap with pinned run metadata, object-store downloads kept
/// under `<d>/cache`, no credential from the caller's environment, and `env` on top; the
/// wall-clock time it took.
fn capped(d: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_maskgate"))
        .args(args)
        .env("MASKGATE_RUN_ID", "r")
        .env("MASKGATE_GENERATED_AT", "2026-01-01T00:00:00Z")
        .env("MASKGATE_CACHE", d.join("cache"))
        .env("HOME", d)
        .env_remove("MASKGATE_NETWORK_TIMEOUT")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    (out, started.elapsed())
}

/// `secret` is in neither stdout nor stderr nor any file under `dirs`.
fn assert_no_secret(o: &Output, dirs: &[PathBuf], secret: &str) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(secret), "{secret} in {name}: {text}");
    }
    let mut pending: Vec<PathBuf> = dirs.iter().filter(|d| d.exists()).cloned().collect();
    while let Some(dir) = pending.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {}",
                    path.display()
                );
            }
        }
    }
}

/// The stderr lines that name `needle` (a URL's host and port).
fn lines_naming(o: &Output, needle: &str) -> usize {
    stderr(o).lines().filter(|l| l.contains(needle)).count()
}

/// What the local server answers to one request.
#[derive(Clone)]
enum Reply {
    /// `status` with `body`; `length` is the Content-Length claimed (the body's own by default).
    Answer {
        status: u16,
        body: Vec<u8>,
        length: Option<u64>,
        headers: Vec<(&'static str, String)>,
    },
    /// Accepts the request and never answers.
    Silent,
}

fn ok(body: &[u8]) -> Reply {
    Reply::Answer {
        status: 200,
        body: body.to_vec(),
        length: None,
        headers: vec![],
    }
}

fn status(code: u16) -> Reply {
    Reply::Answer {
        status: code,
        body: vec![],
        length: None,
        headers: vec![],
    }
}

type Route = dyn Fn(&str, &str) -> Reply + Send + Sync;

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1; `route(method, path)` decides.
struct Server {
    port: u16,
}

impl Server {
    fn start(route: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let route: Arc<Route> = Arc::new(route);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let route = route.clone();
                std::thread::spawn(move || serve(stream, &*route));
            }
        });
        Server { port }
    }

    /// A server that accepts connections and never reads or writes a byte.
    fn silent() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        Server { port }
    }

    /// A PostgreSQL server that lets a client in (trust authentication, ready for queries) and
    /// then never answers a query.
    fn postgres_mute_after_hello() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    // The startup message: its length, then the rest of it.
                    let mut len = [0u8; 4];
                    if stream.read_exact(&mut len).is_err() {
                        return;
                    }
                    let mut rest = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
                    if stream.read_exact(&mut rest).is_err() {
                        return;
                    }
                    // AuthenticationOk, ReadyForQuery (idle).
                    let _ = stream.write_all(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
                    let mut sink = [0u8; 4096];
                    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
                });
            }
        });
        Server { port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(mut stream: TcpStream, route: &Route) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) if head.len() < 65536 => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    // A request body (an upload) is read whole, so the answer is not lost to a reset.
    let body_len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; body_len.min(1 << 26)];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    match route(method, path) {
        Reply::Silent => std::thread::sleep(Duration::from_secs(300)),
        Reply::Answer {
            status,
            body,
            length,
            headers,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
                length.unwrap_or(body.len() as u64)
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let mut bytes = out.into_bytes();
            if method != "HEAD" {
                bytes.extend_from_slice(&body);
            }
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A gold file of three 2×2 samples (`a`, `b`, `c`), all foreground.
fn gold_text() -> String {
    ["a", "b", "c"]
        .iter()
        .map(|id| {
            format!(
                "{{\"id\": \"{id}\", \"size\": [2, 2], \"masks\": {{\"fg\": {RLE_2X2_FULL}}}}}\n"
            )
        })
        .collect()
}

/// Predictions for `a`, `b`, `c`; `c` is half right.
fn preds_text() -> String {
    format!(
        "{{\"id\": \"a\", \"masks\": {{\"fg\": {RLE_2X2_FULL}}}}}\n\
         {{\"id\": \"b\", \"masks\": {{\"fg\": {RLE_2X2_FULL}}}}}\n\
         {{\"id\": \"c\", \"masks\": {{\"fg\": {{\"size\": [2, 2], \"counts\": [2, 2]}}}}}}\n"
    )
}

/// Local gold and baseline predictions in `d`.
fn local_inputs(d: &Path) -> (PathBuf, PathBuf) {
    let (g, b) = (d.join("gold.ndjson"), d.join("base.jsonl"));
    write(&g, &gold_text());
    write(&b, &preds_text());
    (g, b)
}

/// `compare` of local gold and baseline against a candidate at `cand` (a URL), under the small
/// network timeout.
fn compare_with_candidate(d: &Path, cand: &str) -> (Output, Duration) {
    let (g, b) = local_inputs(d);
    capped(
        d,
        &[
            "compare",
            "--gold",
            p(&g),
            "--pred",
            &format!("base={}", p(&b)),
            "--pred",
            &format!("cand={cand}"),
            "--baseline",
            "base",
            "--bootstrap",
            "20",
            "--out",
            p(&d.join("out")),
        ],
        &[("MASKGATE_NETWORK_TIMEOUT", TIMEOUT_S)],
    )
}

/// A run config over a `sql` corpus at `url`, with two local prediction arms.
fn sql_config(d: &Path, url: &str, run_extra: &str) -> PathBuf {
    let (_, b) = local_inputs(d);
    let cfg = d.join("db.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"base\"\nbootstrap = 20\ngallery = 0\n{run_extra}\n\
             [[corpus]]\nname = \"db\"\nformat = \"sql\"\nurl = \"{url}\"\nquery = \"SELECT id, masks FROM samples\"\n\
             [[arm]]\nname = \"base\"\npredictions = \"{b}\"\n\
             [[arm]]\nname = \"cand\"\npredictions = \"{b}\"\n",
            b = p(&b)
        ),
    );
    cfg
}

fn run(d: &Path, cfg: &Path, env: &[(&str, &str)]) -> (Output, Duration) {
    capped(d, &["run", p(cfg), "--out", p(&d.join("out"))], env)
}

fn sample_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Defect 1: every shape of credential, through every place a location is given (a model, a
/// gold file, a prediction file, a database in a config, `--out`), fails with its exit status
/// and a message naming the location without the credential, in no output and no file.
#[test]
fn no_credential_reaches_a_message_or_a_written_file() {
    let missing = Server::start(|_, _| status(404));
    let refusing = Server::start(|method, _| match method {
        "PUT" => status(405),
        _ => status(404),
    });
    let closed = closed_port();

    // A gold URL with user and password, a presigned prediction URL: object_store's HTTP client
    // would send neither the credentials nor the signature, so both are refused as written.
    let d = tmp("secret-gold");
    let (_, b) = local_inputs(&d);
    let gold = missing
        .url("/gold.ndjson")
        .replace("://", "://gate:Sekr1tGold@");
    let (o, _) = capped(
        &d,
        &[
            "compare",
            "--gold",
            &gold,
            "--pred",
            &format!("base={}", p(&b)),
            "--pred",
            &format!("cand={}", p(&b)),
            "--baseline",
            "base",
            "--out",
            p(&d.join("out")),
        ],
        &[("MASKGATE_NETWORK_TIMEOUT", TIMEOUT_S)],
    );
    expect_status(&o, 2);
    assert!(
        stderr(&o).contains(&missing.url("/gold.ndjson")),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("credentials or a query string"),
        "{}",
        stderr(&o)
    );
    assert_no_secret(&o, &[d.join("out"), d.join("cache")], "Sekr1tGold");

    let d = tmp("secret-presigned");
    let presigned = format!(
        "https://127.0.0.1:{closed}/p.jsonl?X-Amz-Credential=AKIA%2FSekr1tCred&X-Amz-Signature=Sekr1tSig&X-Amz-Expires=60"
    );
    let (o, _) = compare_with_candidate(&d, &presigned);
    expect_status(&o, 2);
    let shown = format!("https://127.0.0.1:{closed}/p.jsonl?X-Amz-Expires=60");
    assert!(stderr(&o).contains(&shown), "{}", stderr(&o));
    for secret in ["Sekr1tCred", "Sekr1tSig"] {
        assert_no_secret(&o, &[d.join("out"), d.join("cache")], secret);
    }

    // A model on S3 with the keys in the URL; the endpoint refuses connections.
    let d = tmp("secret-s3");
    let (g, b) = local_inputs(&d);
    let cfg = d.join("s3.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"base\"\n[[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"{}\"\n\
             [[arm]]\nname = \"base\"\npredictions = \"{}\"\n\
             [[arm]]\nname = \"m\"\nadapter = \"mediapipe-selfie\"\nmodel = \"s3://AKIAKEY:Sekr1tS3@bucket/m.onnx\"\nclass = \"fg\"\n",
            p(&g),
            p(&b)
        ),
    );
    let endpoint = format!("http://127.0.0.1:{closed}");
    let (o, took) = run(
        &d,
        &cfg,
        &[
            ("MASKGATE_NETWORK_TIMEOUT", TIMEOUT_S),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_ACCESS_KEY_ID", "test-key"),
            ("AWS_SECRET_ACCESS_KEY", "Sekr1tEnv"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ],
    );
    expect_status(&o, 3);
    assert!(took < FAILS_WITHIN, "{took:?}");
    assert!(stderr(&o).contains("s3://bucket/m.onnx"), "{}", stderr(&o));
    for secret in ["Sekr1tS3", "AKIAKEY", "Sekr1tEnv"] {
        assert_no_secret(&o, &[d.join("out"), d.join("cache")], secret);
    }

    // Database URLs carrying a password in every spelling: refused, never shown.
    for (i, (url, says)) in [
        ("postgres://gate:p%2FSekr1tPg@127.0.0.1:1/app", "PGPASSWORD"),
        (
            "postgresql://gate@127.0.0.1:1/app?password=Sekr1tPg",
            "PGPASSWORD",
        ),
        (
            "postgresql://gate@127.0.0.1:1/app?pass%77ord=Sekr1tPg",
            "PGPASSWORD",
        ),
        ("postgres://gate:pw/Sekr1tPg@127.0.0.1:1/app", "PGPASSWORD"),
        ("postgres://gate:pw?Sekr1tPg@127.0.0.1:1/app", "PGPASSWORD"),
    ]
    .into_iter()
    .enumerate()
    {
        let d = tmp(&format!("secret-db{i}"));
        let cfg = sql_config(&d, url, "");
        let (o, _) = run(&d, &cfg, &[]);
        expect_status(&o, 2);
        assert!(stderr(&o).contains(says), "{url}: {}", stderr(&o));
        assert!(stderr(&o).contains("127.0.0.1:1/app"), "{}", stderr(&o));
        assert_no_secret(&o, &[d.join("out"), d.join("cache")], "Sekr1tPg");
    }

    // `--out` with user and password: refused before any work, the secret shown nowhere.
    let d = tmp("secret-out");
    let (g, b) = local_inputs(&d);
    let out = refusing
        .url("/reports")
        .replace("://", "://gate:Sekr1tOut@");
    let args = |out: &str| {
        [
            "compare",
            "--gold",
            p(&g),
            "--pred",
            &format!("base={}", p(&b)),
            "--pred",
            &format!("cand={}", p(&b)),
            "--baseline",
            "base",
            "--bootstrap",
            "20",
            "--out",
            out,
        ]
        .map(str::to_string)
    };
    let (o, _) = capped(
        &d,
        &args(&out).iter().map(String::as_str).collect::<Vec<_>>(),
        &[("MASKGATE_NETWORK_TIMEOUT", TIMEOUT_S)],
    );
    expect_status(&o, 2);
    assert!(
        stderr(&o).contains("credentials or a query string"),
        "{}",
        stderr(&o)
    );
    assert_no_secret(&o, &[d.join("out"), d.join("cache")], "Sekr1tOut");
    // The same folder without credentials: the reports are scored and written locally, then
    // the upload is refused (405).
    let out = refusing.url("/reports");
    let (o, _) = capped(
        &d,
        &args(&out).iter().map(String::as_str).collect::<Vec<_>>(),
        &[("MASKGATE_NETWORK_TIMEOUT", TIMEOUT_S)],
    );
    expect_status(&o, 2);
    assert!(
        stderr(&o).contains(&refusing.url("/reports")),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("HTTP 405"), "{}", stderr(&o));
    // Work happened: the local copy of the set holds every sample's line.
    let staged: Vec<PathBuf> = walk(&d.join("cache"))
        .into_iter()
        .filter(|f| f.ends_with("samples.jsonl"))
        .collect();
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert_eq!(sample_lines(staged[0].parent().unwrap()).len(), 6);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Defect 2: plain http:// works — a gold file and two prediction files, and a model, served
/// over HTTP, are scored.
#[test]
fn plain_http_serves_gold_predictions_and_a_model() {
    let model = std::fs::read(
        crate::common::shared().join("models/mediapipe_selfie_segmentation_256.onnx"),
    )
    .expect("shared models");
    let server = Server::start(move |_, path| match path {
        "/gold.ndjson" => ok(gold_text().as_bytes()),
        "/base.jsonl" | "/cand.jsonl" => ok(preds_text().as_bytes()),
        "/selfie.onnx" => ok(&model),
        _ => status(404),
    });

    let d = tmp("http-compare");
    let (o, _) = capped(
        &d,
        &[
            "compare",
            "--gold",
            &server.url("/gold.ndjson"),
            "--pred",
            &format!("base={}", server.url("/base.jsonl")),
            "--pred",
            &format!("cand={}", server.url("/cand.jsonl")),
            "--baseline",
            "base",
            "--bootstrap",
            "20",
            "--out",
            p(&d.join("out")),
        ],
        &[],
    );
    expect_status(&o, 0);
    let r = report(&d.join("out"));
    assert_eq!(r["corpora"][0]["samples"], 3);
    let lines = sample_lines(&d.join("out"));
    assert_eq!(lines.len(), 6);
    let c = lines
        .iter()
        .find(|l| l["arm"] == "cand" && l["id"] == "c")
        .unwrap();
    assert_eq!(c["classes"]["fg"]["iou"], 0.5);
    // Reports name the inputs by their URLs.
    let text = std::fs::read_to_string(d.join("out/report.json")).unwrap();
    assert!(text.contains(&server.url("/cand.jsonl")), "{text}");

    // A model arm whose ONNX file comes over HTTP, on two photos.
    let d = tmp("http-model");
    for name in ["a.png", "b.png"] {
        let img =
            image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 90]));
        img.save(d.join(name)).unwrap();
    }
    two_photo_gold(&d.join("gold.ndjson"));
    let cfg = d.join("run.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 20\ngallery = 0\n\
             [[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n\
             [[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"fg\"\n\
             [[arm]]\nname = \"low\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"fg\"\nthreshold = 0.3\n",
            m = server.url("/selfie.onnx")
        ),
    );
    let (o, _) = run(&d, &cfg, &[("MASKGATE_NO_CACHE", "1")]);
    expect_status(&o, 0);
    let lines = sample_lines(&d.join("out"));
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(l["fail_reason"], Value::Null, "{l}");
        assert!(l["classes"]["fg"]["iou"].is_number(), "{l}");
    }
    let arms = report(&d.join("out"))["arm_details"].to_string();
    assert!(arms.contains(&server.url("/selfie.onnx")), "{arms}");
}

/// A server with one route per failure.
fn failing_server() -> Server {
    Server::start(|method, path| match path {
        "/loop" => Reply::Answer {
            status: 302,
            body: vec![],
            length: None,
            headers: vec![("Location", "/loop".into())],
        },
        "/silent" => Reply::Silent,
        // The whole length announced, a tenth sent, then the connection closed.
        "/cut" => Reply::Answer {
            status: 200,
            body: if method == "HEAD" {
                vec![]
            } else {
                vec![b'{'; 100]
            },
            length: Some(1000),
            headers: vec![],
        },
        "/refuse" => status(405),
        "/forbidden" => status(403),
        "/busy" => status(503),
        // 10 GB announced, 16 bytes sent.
        "/huge" => Reply::Answer {
            status: 200,
            body: b"{\"id\": \"a\"}    \n".to_vec(),
            length: Some(10_000_000_000),
            headers: vec![],
        },
        // Small by HEAD, 10 GB by GET.
        "/grows" => Reply::Answer {
            status: 200,
            body: b"{\"id\": \"a\"}    \n".to_vec(),
            length: Some(if method == "HEAD" { 16 } else { 10_000_000_000 }),
            headers: vec![],
        },
        _ => status(404),
    })
}

/// A failure case: its exit status and what its one error line says.
fn expect_url_error(server: &Server, tag: &str, route: &str, code: i32, says: &[&str]) -> Output {
    let d = tmp(&format!("{tag}{}", route.replace('/', "-")));
    let url = server.url(route);
    let (o, took) = compare_with_candidate(&d, &url);
    expect_status(&o, code);
    assert!(took < FAILS_WITHIN, "{route}: {took:?}");
    let err = stderr(&o);
    assert!(err.contains(&url), "{route}: {err}");
    for s in says {
        assert!(err.contains(s), "{route}: {s:?} not in {err}");
    }
    o
}

/// Defect 2 (its failures): a redirect loop, a 404, a silent server and a cut transfer are each
/// an error naming the URL and what to do, with the documented status.
#[test]
fn http_failures_are_clear_errors() {
    let server = failing_server();
    expect_url_error(
        &server,
        "d2",
        "/loop",
        2,
        &["redirect loop", "check the URL"],
    );
    expect_url_error(
        &server,
        "d2",
        "/missing",
        2,
        &["not found", "check the URL"],
    );
    expect_url_error(
        &server,
        "d2",
        "/silent",
        3,
        &["network_timeout_s", "MASKGATE_NETWORK_TIMEOUT", "retry"],
    );
    expect_url_error(&server, "d2", "/cut", 3, &["retry"]);
}

/// Defect 3: a server that accepts and never answers costs the timeout, not forever: a
/// PostgreSQL corpus silent from the start and one silent after letting the client in (the
/// timeout from the config), and an HTTP input (from the environment).
#[test]
fn silent_servers_fail_within_the_network_timeout() {
    let silent = Server::silent();
    let d = tmp("silent-pg");
    let cfg = sql_config(
        &d,
        &format!("postgres://gate@127.0.0.1:{}/app", silent.port),
        "network_timeout_s = 2",
    );
    let (o, took) = run(&d, &cfg, &[]);
    expect_status(&o, 3);
    assert!(took < FAILS_WITHIN, "{took:?}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("postgres://gate@127.0.0.1:{}/app", silent.port))
            || err.contains(&format!("postgres://127.0.0.1:{}/app", silent.port)),
        "{err}"
    );
    assert!(err.contains("no answer within 2 s"), "{err}");

    // Connected, then silent: the query's wait is bounded too.
    let mute = Server::postgres_mute_after_hello();
    let d = tmp("mute-pg");
    let cfg = sql_config(
        &d,
        &format!("postgres://gate@127.0.0.1:{}/app", mute.port),
        "network_timeout_s = 2",
    );
    let (o, took) = run(&d, &cfg, &[]);
    expect_status(&o, 3);
    assert!(took < FAILS_WITHIN, "{took:?}");
    let err = stderr(&o);
    assert!(err.contains("query failed: no answer within 2 s"), "{err}");

    let d = tmp("silent-http");
    let (o, took) = compare_with_candidate(&d, &silent.url("/x"));
    expect_status(&o, 3);
    assert!(took < FAILS_WITHIN, "{took:?}");
    assert!(stderr(&o).contains(&silent.url("/x")), "{}", stderr(&o));
}

/// Defect 4: an object whose Content-Length is 10 GB is refused by its length before anything
/// is allocated, whether HEAD or only GET announces it, under the memory cap.
#[test]
fn a_huge_remote_object_is_refused_by_its_length() {
    let server = failing_server();
    for route in ["/huge", "/grows"] {
        expect_url_error(
            &server,
            "d4",
            route,
            2,
            &["10000000000 bytes exceeds the limit", "max_file_bytes"],
        );
    }
}

/// Defect 5: unreachable is retryable (3), a deterministic refusal is not (2).
#[test]
fn exit_codes_tell_retryable_from_permanent() {
    let d = tmp("closed-pg");
    let cfg = sql_config(
        &d,
        &format!("postgres://gate@127.0.0.1:{}/app", closed_port()),
        "network_timeout_s = 2",
    );
    let (o, took) = run(&d, &cfg, &[]);
    expect_status(&o, 3);
    assert!(took < FAILS_WITHIN, "{took:?}");
    assert!(stderr(&o).contains("retry"), "{}", stderr(&o));

    let server = failing_server();
    expect_url_error(&server, "d5", "/missing", 2, &["not found"]);
    // object_store takes a 405 to GET or HEAD for "no such object" (stores answer so for
    // folders); a 405 to an upload is the refusal itself (see the `--out` case above).
    expect_url_error(&server, "d5", "/refuse", 2, &["not found", "check the URL"]);
    expect_url_error(&server, "d5", "/forbidden", 2, &["access refused"]);
    expect_url_error(&server, "d5", "/busy", 3, &["503", "retry"]);
}

/// Defect 6: a URL error is one error line about the URL, with no local-path message after it.
#[test]
fn a_url_error_is_one_line_about_the_url() {
    let server = failing_server();
    for (route, code) in [("/missing", 2), ("/busy", 3)] {
        let o = expect_url_error(&server, "d6", route, code, &[]);
        let err = stderr(&o);
        assert_eq!(
            lines_naming(&o, &format!("127.0.0.1:{}", server.port)),
            1,
            "{err}"
        );
        assert_eq!(
            err.lines().filter(|l| l.contains("error")).count(),
            1,
            "{err}"
        );
        assert!(!err.contains("No such file or directory"), "{err}");
    }
}
