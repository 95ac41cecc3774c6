//! Object storage against a real S3 API: moto's server from PyPI on loopback (installed by
//! `bash scripts/setup_storage.sh`). Models, the corpus and a prediction file are read from
//! `s3://`; reports, shards and the prediction cache are written there; the store itself refuses
//! a second commit of a marker (`If-None-Match: *`); a merge read back from the bucket equals
//! the unsharded run's set byte for byte, and no credential reaches a report or a message.
#![cfg(feature = "object-store")]

use maskgate::storage::remote::RemoteStore;
use maskgate::storage::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "moto-secret-never-shown-7f3a";
const RUN: [&str; 4] = ["--run-id", "s3", "--generated-at", "2026-01-01T00:00:00Z"];

mod common;
use common::shared;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir("s3", name)
}

/// moto's server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let server = repo("vendor/moto/bin/moto_server");
        assert!(
            server.exists(),
            "{} missing: run `bash scripts/setup_storage.sh`",
            server.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The standard AWS variables `object_store`'s `from_env` reads.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "moto-key".into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    /// Creates `bucket` and uploads (local file, key) pairs with boto3 (moto's dependency).
    fn upload(&self, bucket: &str, files: &[(PathBuf, String)]) {
        let pairs: Vec<String> = files
            .iter()
            .map(|(p, k)| format!("({:?}, {k:?})", p.display().to_string()))
            .collect();
        let script = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url={:?}, region_name='us-east-1', aws_access_key_id='moto-key', aws_secret_access_key={SECRET:?})\ns3.create_bucket(Bucket={bucket:?})\nfor path, key in [{}]:\n    s3.upload_file(path, {bucket:?}, key)\n",
            self.endpoint,
            pairs.join(", ")
        );
        let out = Command::new(repo("vendor/moto/bin/python"))
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn maskgate(moto: &Moto, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::bin();
    cmd.args(args).envs(moto.env()).env_remove("MASKGATE_CACHE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(!text.contains(SECRET), "a credential in a message: {text}");
    text
}

/// Every object of a report set under `url` (shards left out) and its bytes.
fn report_set(url: &str) -> Vec<(String, Vec<u8>)> {
    let store = RemoteStore::open(url, Default::default()).unwrap();
    store
        .list("")
        .unwrap()
        .into_iter()
        .filter(|k| !k.starts_with("shards/"))
        .map(|k| {
            let bytes = store.get(&k).unwrap().unwrap();
            (k, bytes)
        })
        .collect()
}

#[test]
fn gates_read_and_write_s3_through_a_real_s3_api() {
    let moto = Moto::start();
    // The test process reads the bucket back through the same variables.
    for (k, v) in moto.env() {
        std::env::set_var(k, v);
    }
    let d = tmp("gate");
    let fasseg = shared().join("data/fasseg/V2");
    let models = shared().join("models");
    let mut files = vec![
        (
            models.join("mediapipe_selfie_segmentation_256.onnx"),
            "models/selfie.onnx".to_string(),
        ),
        (
            models.join("mediapipe_selfie_segmentation_landscape_144x256.onnx"),
            "models/landscape.onnx".to_string(),
        ),
    ];
    for n in 1..=6 {
        for folder in ["Test_RGB", "Test_Labels"] {
            files.push((
                fasseg.join(folder).join(format!("{n}.bmp")),
                format!("fasseg/{folder}/{n}.bmp"),
            ));
        }
    }
    // A prediction file: the selfie model's masks, saved by a local run over the same photos.
    let local_corpus = d.join("fasseg");
    for (path, key) in &files[2..] {
        let to = local_corpus.join(key.trim_start_matches("fasseg/"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(path, to).unwrap();
    }
    let classes = "classes = { foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }";
    let local = d.join("local.toml");
    std::fs::write(
        &local,
        format!(
            "[run]\nbaseline = \"selfie\"\n\n[[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"{}\"\n{classes}\n\n[[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{}\"\nclass = \"foreground\"\n\n[[arm]]\nname = \"landscape\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{}\"\nclass = \"foreground\"\n",
            local_corpus.display(),
            files[0].0.display(),
            files[1].0.display()
        ),
    )
    .unwrap();
    let saved = d.join("saved");
    ok(&maskgate(
        &moto,
        &[
            "run",
            local.to_str().unwrap(),
            "--no-cache",
            "--save-predictions",
            "--out",
            saved.to_str().unwrap(),
        ],
        &[],
    ));
    files.push((
        saved.join("predictions/fasseg/selfie.jsonl"),
        "predictions/selfie.jsonl".into(),
    ));
    moto.upload("gate", &files);

    let config = d.join("gate.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 100\n\n\
             [[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"s3://gate/fasseg/\"\n{classes}\n\n\
             [[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"s3://gate/models/selfie.onnx\"\nclass = \"foreground\"\n\n\
             [[arm]]\nname = \"landscape\"\nadapter = \"mediapipe-selfie\"\nmodel = \"s3://gate/models/landscape.onnx\"\nclass = \"foreground\"\n\n\
             [[arm]]\nname = \"saved\"\npredictions = \"s3://gate/predictions/selfie.jsonl\"\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let cache = d.join("cache");
    let cache = cache.to_str().unwrap();

    // The whole run, reports to the bucket; downloads kept under the local cache.
    let mut args = vec!["run", config, "--out", "s3://gate/single"];
    args.extend(RUN);
    let text = ok(&maskgate(&moto, &args, &[("MASKGATE_CACHE", cache)]));
    assert!(
        text.contains("wrote s3://gate/single/report.json"),
        "{text}"
    );
    let single = report_set("s3://gate/single");
    let names: Vec<&str> = single.iter().map(|(k, _)| k.as_str()).collect();
    for want in [
        "metrics.csv",
        "samples.jsonl",
        "report.json",
        "report.html",
        "report-set.json",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    let report = String::from_utf8(
        single
            .iter()
            .find(|(k, _)| k == "report.json")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(
        report.contains("\"s3://gate/models/selfie.onnx\""),
        "the model is named by its URL"
    );
    assert!(report.contains("\"s3://gate/predictions/selfie.jsonl\""));
    for (k, bytes) in &single {
        assert!(
            !String::from_utf8_lossy(bytes).contains(SECRET)
                && !String::from_utf8_lossy(bytes).contains("moto-key"),
            "a credential in {k}"
        );
    }
    // The saved predictions are the selfie model's own masks: identical rows (but the model's
    // noise check, which a predictions file has no probabilities for).
    let samples = String::from_utf8(
        single
            .iter()
            .find(|(k, _)| k == "samples.jsonl")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    let rows = |arm: &str| -> Vec<String> {
        samples
            .lines()
            .filter(|l| l.contains(&format!("\"arm\":\"{arm}\"")))
            .map(|l| {
                let mut row: serde_json::Value = serde_json::from_str(l).unwrap();
                let row = row.as_object_mut().unwrap();
                row.remove("arm");
                row.remove("noise");
                serde_json::to_string(row).unwrap()
            })
            .collect()
    };
    assert_eq!(rows("saved").len(), 6);
    assert_eq!(rows("saved"), rows("selfie"));
    // Downloads are kept by content hash.
    let blobs = std::fs::read_dir(Path::new(cache).join("objects/blobs"))
        .unwrap()
        .count();
    assert_eq!(
        blobs,
        2 + 12 + 1,
        "two models, twelve photos and labels, one prediction file"
    );

    // Two shards to the bucket, the prediction cache in the bucket too.
    for shard in ["0/2", "1/2"] {
        let mut args = vec![
            "run",
            config,
            "--shard",
            shard,
            "--out",
            "s3://gate/sharded",
        ];
        args.extend(RUN);
        let text = ok(&maskgate(
            &moto,
            &args,
            &[("MASKGATE_CACHE", "s3://gate/cache")],
        ));
        assert!(text.contains(&format!("shard {shard} committed")), "{text}");
    }
    let text = ok(&maskgate(
        &moto,
        &[
            "run",
            config,
            "--shard",
            "0/2",
            "--out",
            "s3://gate/sharded",
        ],
        &[("MASKGATE_CACHE", "s3://gate/cache")],
    ));
    assert!(text.contains("shard 0/2 was already committed"), "{text}");
    let cached = RemoteStore::open("s3://gate/cache", Default::default())
        .unwrap()
        .list("")
        .unwrap();
    assert!(
        cached.len() >= 12,
        "two models × six photos cached in the bucket: {cached:?}"
    );

    // The store itself refuses a second commit of the same marker.
    let sharded = RemoteStore::open("s3://gate/sharded", Default::default()).unwrap();
    let markers: Vec<String> = sharded
        .list("shards/")
        .unwrap()
        .into_iter()
        .filter(|k| k.ends_with(".commit.json"))
        .collect();
    assert_eq!(markers.len(), 2, "{markers:?}");
    let before = sharded.get(&markers[0]).unwrap();
    assert!(!sharded.create(&markers[0], b"{\"forged\": true}").unwrap());
    assert_eq!(sharded.get(&markers[0]).unwrap(), before);
    assert!(sharded.create("probe/once", b"1").unwrap());
    assert!(!sharded.create("probe/once", b"2").unwrap());
    sharded.delete("probe/once").unwrap();

    // The merge reads the shards from the bucket and uploads the same set the whole run did.
    let mut args = vec!["merge", "s3://gate/sharded"];
    args.extend(RUN);
    ok(&maskgate(&moto, &args, &[("MASKGATE_CACHE", cache)]));
    let merged = report_set("s3://gate/sharded");
    assert_eq!(
        merged.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        single.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    for ((k, a), (_, b)) in merged.iter().zip(&single) {
        assert!(a == b, "{k} differs between the merge and the whole run");
    }

    // A later run replaces the set: files it does not write are gone from the bucket.
    let mut args = vec![
        "run",
        config,
        "--format",
        "csv",
        "--gallery",
        "0",
        "--out",
        "s3://gate/single",
    ];
    args.extend(RUN);
    ok(&maskgate(&moto, &args, &[("MASKGATE_CACHE", cache)]));
    let names: Vec<String> = report_set("s3://gate/single")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, ["metrics.csv", "report-set.json"]);

    // A missing object is a clear, permanent error; an unreachable store a retryable one.
    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(config)
            .unwrap()
            .replace("models/selfie.onnx", "models/nothing.onnx"),
    )
    .unwrap();
    let out = maskgate(
        &moto,
        &["run", bad.to_str().unwrap()],
        &[("MASKGATE_CACHE", cache)],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("s3://gate/models/nothing.onnx"), "{text}");
    assert!(!text.contains(SECRET), "{text}");

    // A signed verdict about models read from the bucket: `verify` rehashes them through the
    // same URLs, and a model replaced in the bucket afterwards is refused.
    let criteria = d.join("criteria.toml");
    std::fs::write(
        &criteria,
        "[[criterion]]\nid = \"no-collapse\"\nmetric = \"iou.mean\"\narm = \"landscape\"\nmin = 0.1\n",
    )
    .unwrap();
    let keys = d.join("keys");
    ok(&maskgate(&moto, &["keygen", keys.to_str().unwrap()], &[]));
    let attested = d.join("attested");
    let mut args = vec![
        "run",
        config,
        "--criteria",
        criteria.to_str().unwrap(),
        "--gallery",
        "0",
        "--out",
        attested.to_str().unwrap(),
        "--sign-key",
    ];
    let key = keys.join("maskgate.key");
    args.push(key.to_str().unwrap());
    args.extend(RUN);
    ok(&maskgate(&moto, &args, &[("MASKGATE_CACHE", cache)]));
    let attestation = attested.join("attestation.dsse.json");
    let pubkey = keys.join("maskgate.pub");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            attestation.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--root",
            "/",
        ];
        args.extend(extra);
        maskgate(&moto, &args, &[])
    };
    let text = ok(&verify(&["--require", "go"]));
    assert!(text.contains("the attestation holds; verdict go"), "{text}");
    moto.upload(
        "gate",
        &[(
            models.join("mediapipe_selfie_segmentation_256.onnx"),
            "models/landscape.onnx".to_string(),
        )],
    );
    let out = verify(&[]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("subject \"s3://gate/models/landscape.onnx\" (model) changed"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}

/// A `.pt` checkpoint in a bucket (where a training job leaves `best.pt`): fetched, exported
/// by the Python `[run] python` names, and named in the report by its URL and both hashes.
/// The stand-in Python answers as Ultralytics does (see `tests/cli/checkpoint.rs`).
#[test]
fn a_checkpoint_in_a_bucket_is_exported_and_named_by_its_url() {
    let moto = Moto::start();
    let d = tmp("checkpoint");
    let pt = common::crop_model("best.pt");
    moto.upload("weights", &[(pt.clone(), "runs/7/weights/best.pt".into())]);
    let python = common::stand_in_python(&d);
    let config =
        common::checkpoint_config(&d, "s3://weights/runs/7/weights/best.pt", Some(&python));
    let out = maskgate(&moto, &["run", config.to_str().unwrap()], &[]);
    ok(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let arm = report["arm_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "pt")
        .unwrap();
    assert_eq!(arm["model"], "s3://weights/runs/7/weights/best.pt");
    assert_eq!(arm["model_sha256"], maskgate::sha256_file(&pt).unwrap());
    assert_eq!(
        arm["exported_onnx_sha256"],
        common::stand_in_export_sha256(&d)
    );
    // Scored, not refused: both arms give the same instances on every photo.
    let rows = common::sample_rows(&d.join("out"));
    assert_eq!(rows.len(), 6);
    for r in &rows {
        assert_eq!(r["fail_reason"], serde_json::Value::Null, "{r}");
        assert!(r["instances"].as_u64().unwrap() >= 1, "{r}");
    }
}
