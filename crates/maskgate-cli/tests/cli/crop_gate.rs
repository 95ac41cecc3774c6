//! The crop-gate example end to end: u2netp (rembg) against the candidate on the held-out split
//! (files) and the human-flagged corpus (a database query), first from the example's SQLite
//! file, then from the same rows loaded into a real PostgreSQL server. The two report sets must
//! be byte-identical apart from the database URL they name.
//!
//! The gate reads its predictions from the committed prediction cache (docs/examples/
//! prediction-cache/, which the examples check reads too): what is tested here is the gate, the
//! databases and the attestation. `the_committed_predictions_are_what_the_models_give_now` runs
//! both models for real on samples of both corpora and checks the committed entries against
//! them, and `tests/library/real_parity.rs` checks each adapter against its reference package.
//!
//! PostgreSQL comes from `scripts/test.sh`, which runs the tests inside `pg_virtualenv` (a
//! throwaway cluster; PGHOST, PGUSER and PGPASSWORD set) with MASKGATE_TEST_POSTGRES=1. Run
//! outside it, this test fails unless MASKGATE_SKIP_POSTGRES=1 says to check SQLite only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maskgate"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("crop-gate-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The example config with its paths made absolute and the flagged corpus's URL replaced.
fn config_with_url(dir: &Path, url: &str) -> PathBuf {
    let ex = root().join("examples/crop-gate");
    let text = std::fs::read_to_string(ex.join("maskgate.toml")).unwrap();
    let abs = |rel: &str| ex.join(rel).display().to_string();
    let text = text
        .replace(
            "url = \"sqlite:../../vendor/crop-gate/app.db\"",
            &format!("url = \"{url}\""),
        )
        .replace("\"../../", &format!("\"{}/", abs("../..")))
        .replace(
            "\"criteria.toml\"",
            &format!("\"{}\"", abs("criteria.toml")),
        )
        .replace("\"flagged.sql\"", &format!("\"{}\"", abs("flagged.sql")));
    assert!(text.contains(url), "the example's url line changed");
    let p = dir.join("maskgate.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(config: &Path, out: &Path, cache: &Path, key: &Path) -> Output {
    bin()
        .arg("run")
        .arg(config)
        .arg("--out")
        .arg(out)
        .env("MASKGATE_CACHE", cache)
        .env("MASKGATE_SIGN_KEY", key)
        .args(["--run-id", "crop", "--generated-at", "2026-01-01T00:00:00Z"])
        .output()
        .unwrap()
}

fn psql(db: &str, args: &[&str]) {
    let out = Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-d", db])
        .args(args)
        .output()
        .expect("psql (scripts/test.sh installs PostgreSQL)");
    assert!(
        out.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), target).unwrap();
    }
}

/// A cache entry's masks, decoded: class → (height, width, pixels).
fn cached_masks(file: &Path) -> Vec<(String, maskgate_core::Mask)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    v["masks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(class, m)| (class.clone(), crate::common::mask_of(m)))
        .collect()
}

/// The committed prediction cache, which the crop-gate test and the examples check read, is
/// what the models give today: both models run for real on 3 samples of each corpus, and each
/// fresh entry has a committed twin (same key: model, adapter, parameters, photo) whose masks
/// agree to within ONNX Runtime's floating point across CPUs.
#[test]
fn the_committed_predictions_are_what_the_models_give_now() {
    let d = tmp("fresh");
    let config = config_with_url(
        &d,
        &format!(
            "sqlite:{}",
            root().join("vendor/crop-gate/app.db").display()
        ),
    );
    let text = std::fs::read_to_string(&config).unwrap();
    // Three samples of each corpus (the flagged one by the same seeded choice).
    let text = text.replace("limit = 30", "limit = 3").replace(
        "mask_class = \"foreground\"",
        "mask_class = \"foreground\"\nsample_seed = \"fresh\"\nlimit = 3",
    );
    std::fs::write(&config, text).unwrap();
    let cache = d.join("cache");
    let out = bin()
        .arg("run")
        .arg(&config)
        .args(["--out", d.join("out").to_str().unwrap(), "--gallery", "0"])
        .env("MASKGATE_CACHE", &cache)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().unwrap() <= 1, "{said}");
    // Both models ran for real on every distinct photo (a photo both corpora chose is
    // inferred once, then served from the run's own cache).
    let mut inferred = 0;
    for arm in ["rembg", "candidate", "isnet"] {
        let line = (said.lines())
            .find(|l| l.starts_with(&format!("maskgate: arm {arm}: ")))
            .unwrap_or_else(|| panic!("{said}"));
        let count = |after: &str| -> usize {
            let head = line.split(after).next().unwrap();
            head.rsplit([' ', '('])
                .find(|w| !w.is_empty())
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(
            line.ends_with(", 0 failed"),
            "every sample predicted: {line}"
        );
        assert_eq!(count(" inferences") + count(" cached"), 6, "{line}");
        assert!(count(" inferences") >= 5, "{line}");
        inferred += count(" inferences");
    }
    let committed = root().join("docs/examples/prediction-cache");
    let fresh: Vec<PathBuf> = files(&cache)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|x| x == "json"))
        .collect();
    let mut compared = 0;
    for f in &fresh {
        // A model's recorded input size (`models/`) is no prediction.
        let twin = committed.join(f);
        if f.starts_with("models") || !twin.is_file() {
            continue;
        }
        let (now, then) = (cached_masks(&cache.join(f)), cached_masks(&twin));
        assert_eq!(now.len(), then.len(), "{}", f.display());
        for ((class, a), (_, b)) in now.iter().zip(&then) {
            let (inter, union) = (a.intersection_count(b), a.union_count(b));
            let iou = if union == 0 {
                1.0
            } else {
                inter as f64 / union as f64
            };
            assert!(
                iou > 0.999,
                "{}: class {class}: the committed prediction differs from the model's (IoU {iou}): run `bash scripts/regen_examples.sh` with a fresh cache and commit",
                f.display()
            );
        }
        compared += 1;
    }
    assert_eq!(
        compared, inferred,
        "every fresh prediction has a committed twin: {fresh:?}"
    );
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn crop_gate_from_sqlite_and_postgres_gives_identical_reports() {
    let db_file = root().join("vendor/crop-gate/app.db");
    assert!(
        db_file.is_file(),
        "{} missing: run `bash scripts/setup.sh`",
        db_file.display()
    );
    let d = tmp("both");
    // The committed predictions, copied: a run may add to its cache, never to the committed one.
    let cache = d.join("cache");
    copy_tree(&root().join("docs/examples/prediction-cache"), &cache);
    let sqlite_url = format!("sqlite:{}", db_file.display());
    let sqlite_out = d.join("sqlite");
    let keys = d.join("keys");
    let keygen = bin().arg("keygen").arg(&keys).output().unwrap();
    assert!(keygen.status.success());
    let key = keys.join("maskgate.key");
    let out = run(&config_with_url(&d, &sqlite_url), &sqlite_out, &cache, &key);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().unwrap() <= 1, "{stderr}");
    // Every prediction came from the cache, and every sample was scored.
    let said = String::from_utf8_lossy(&out.stderr);
    for arm in ["rembg", "candidate", "isnet"] {
        assert!(
            said.contains(&format!("arm {arm}: 0 inferences"))
                && said.contains(" 53 cached, 0 failed"),
            "{said}"
        );
    }
    let md = std::fs::read_to_string(sqlite_out.join("report.md")).unwrap();
    // The gate as the crop team asked for it: a verdict on the last line, both corpora, the
    // failure classes from reporter notes, the database named with its dataset version.
    let last = md.lines().last().unwrap();
    assert!(last.starts_with("recommendation: "), "{last}");
    assert!(
        md.contains("## Corpus `flagged` (23 samples, format sql)"),
        "{md}"
    );
    assert!(md.contains("## Corpus `test` (30 samples, format fasseg, held out)"));
    assert!(md.contains("Read from the database `sqlite:"), "{md}");
    assert!(md.contains("23 rows; query sha256"));
    // CropRun.source is shown as what it is, the rows' metadata, not as the samples' source.
    assert!(
        md.contains("`backend` rembg-u2net (23); `deployment` crop-prod (23); `type` human (23)"),
        "{md}"
    );
    assert!(
        !md.contains("| rembg-u2net |"),
        "no source column of backends: {md}"
    );
    for class in [
        "glossy_glaze",
        "thin_handle",
        "busy_background",
        "shadow",
        "unclassified",
    ] {
        let shown = class.replace('_', "\\_");
        assert!(
            md.contains(&shown),
            "failure class {class} missing from the report"
        );
    }
    // The deploy step's check: the verdict is signed, about this candidate model, and go.
    let verify = |model: &str| {
        bin()
            .arg("verify")
            .arg(sqlite_out.join("attestation.dsse.json"))
            .arg("--pubkey")
            .arg(keys.join("maskgate.pub"))
            .arg("--root")
            .arg(root())
            .arg("--model")
            .arg(root().join(model))
            .args(["--require", "go"])
            .output()
            .unwrap()
    };
    let verified = verify("models/crop-yolo/best.onnx");
    let said = String::from_utf8_lossy(&verified.stderr);
    let recommendation = md.lines().last().unwrap();
    let expected = if recommendation.starts_with("recommendation: go") {
        0
    } else {
        1
    };
    assert_eq!(verified.status.code(), Some(expected), "{said}");
    assert!(said.contains("model: "), "{said}");
    // A model the gate never saw is refused.
    let other = verify("vendor/test-models/yolov8-seg-synthetic.onnx");
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("is not a model this verdict is about"));
    let csv = std::fs::read_to_string(sqlite_out.join("metrics.csv")).unwrap();
    assert!(csv
        .lines()
        .any(|l| l.contains(",flagged,") && l.contains("thin_handle")));

    if std::env::var("MASKGATE_TEST_POSTGRES").as_deref() != Ok("1") {
        assert_eq!(
            std::env::var("MASKGATE_SKIP_POSTGRES").as_deref(),
            Ok("1"),
            "no PostgreSQL: run `bash scripts/test.sh` (it starts one), or set MASKGATE_SKIP_POSTGRES=1 to check SQLite only"
        );
        return;
    }
    let db = format!("crop_gate_{}", std::process::id());
    psql(
        "postgres",
        &["-c", &format!("DROP DATABASE IF EXISTS {db}")],
    );
    psql("postgres", &["-c", &format!("CREATE DATABASE {db}")]);
    psql(
        &db,
        &[
            "-f",
            root().join("vendor/crop-gate/app.pg.sql").to_str().unwrap(),
        ],
    );
    let pg_url = format!("postgres:///{db}");
    let pg_dir = tmp("pg-config");
    let pg_config = config_with_url(&pg_dir, &pg_url);
    let pg_out = d.join("postgres");
    let out = run(&pg_config, &pg_out, &cache, &key);
    assert!(
        out.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&sqlite_out), files(&pg_out));
    for f in files(&sqlite_out) {
        let a = std::fs::read(sqlite_out.join(&f)).unwrap();
        let b = std::fs::read(pg_out.join(&f)).unwrap();
        let name = f.display().to_string();
        // Only the declared source differs: the URL, and the config file that names it.
        let text = |bytes: Vec<u8>, url: &str| -> String {
            let t = String::from_utf8(bytes).unwrap().replace(url, "URL");
            if name == "report.json" {
                let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
                v["run"]["inputs"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|i| i["role"] != "config");
                v.to_string()
            } else {
                t.lines()
                    .filter(|l| {
                        !l.starts_with("- config: ")
                            && !l.starts_with("| config | ")
                            && !l.starts_with("<li>config: ")
                            && !l.contains("<td>config</td>")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        match name.as_str() {
            // The statement names the same subjects and verdict; the reports' digests differ
            // as the reports do (they name their source), and so does the config's.
            "attestation.dsse.json" => {
                let statement = |bytes: Vec<u8>| -> serde_json::Value {
                    use base64::Engine;
                    let env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    let payload = base64::engine::general_purpose::STANDARD
                        .decode(env["payload"].as_str().unwrap())
                        .unwrap();
                    let mut v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                    for s in v["subject"].as_array_mut().unwrap() {
                        let kind = s["annotations"]["maskgate.kind"].clone();
                        if kind == "report" || kind == "dataset" {
                            s["digest"] = serde_json::Value::Null;
                        }
                    }
                    v["predicate"]["configuration"]
                        .as_array_mut()
                        .unwrap()
                        .retain(|c| c["annotations"]["maskgate.role"] != "config");
                    v
                };
                assert_eq!(statement(a), statement(b), "{name} differs");
            }
            "report.json" | "report.md" | "report.html" | "dataset.json" => {
                assert_eq!(text(a, &sqlite_url), text(b, &pg_url), "{name} differs")
            }
            // The manifest hashes the reports above, which name their source: the same files.
            "report-set.json" => {
                let paths = |bytes: Vec<u8>| -> Vec<serde_json::Value> {
                    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    v["files"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["path"].clone())
                        .collect()
                };
                assert_eq!(paths(a), paths(b), "{name} lists other files");
            }
            _ => assert!(a == b, "{name} differs between SQLite and PostgreSQL"),
        }
    }
    let json = std::fs::read_to_string(pg_out.join("report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let flagged = r["corpora"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "flagged")
        .unwrap();
    assert_eq!(flagged["dataset"]["source"], pg_url.as_str());
    assert_eq!(flagged["dataset"]["rows"], 23);
    let sqlite_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sqlite_out.join("report.json")).unwrap())
            .unwrap();
    let sqlite_flagged = sqlite_json["corpora"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "flagged")
        .unwrap()
        .clone();
    assert_eq!(
        flagged["dataset"]["rows_sha256"], sqlite_flagged["dataset"]["rows_sha256"],
        "the same rows give the same fingerprint on both databases"
    );

    // Connection and query failures are errors before any work, in PostgreSQL's own words,
    // and never show a password.
    let inspect = |config: &Path, env: &[(&str, &str)]| {
        let mut c = bin();
        c.arg("inspect").arg(config).args(["--corpus", "flagged"]);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = inspect(&pg_config, &[("PGPASSWORD", "wrong-secret-7f3a")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(err.contains(&pg_url), "{err}");
    assert!(!err.contains("wrong-secret-7f3a"), "{err}");
    let with_password = config_with_url(
        &tmp("pw"),
        &format!("postgres://postgres:hunter2@localhost/{db}"),
    );
    let out = inspect(&with_password, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PGPASSWORD") && !err.contains("hunter2"),
        "{err}"
    );

    let query_dir = tmp("bad-query");
    let bad = std::fs::read_to_string(&pg_config).unwrap().replace(
        &format!(
            "\"{}\"",
            root().join("examples/crop-gate/flagged.sql").display()
        ),
        "\"bad.sql\"",
    );
    std::fs::write(query_dir.join("maskgate.toml"), &bad).unwrap();
    std::fs::write(query_dir.join("bad.sql"), "SELECT r.idd FROM crop_run r").unwrap();
    let out = inspect(&query_dir.join("maskgate.toml"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("column r.idd does not exist"), "{err}");
    std::fs::write(
        query_dir.join("bad.sql"),
        "SELECT r.id AS run, r.notes AS mask FROM crop_run r",
    )
    .unwrap();
    let out = inspect(&query_dir.join("maskgate.toml"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no `id` column"), "{err}");
    // A read-only transaction: a writing query is refused by the server.
    std::fs::write(
        query_dir.join("bad.sql"),
        "UPDATE crop_run SET notes = 'x' RETURNING id, notes AS mask",
    )
    .unwrap();
    let out = inspect(&query_dir.join("maskgate.toml"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read-only transaction"), "{err}");
    psql("postgres", &["-c", &format!("DROP DATABASE {db}")]);
}
