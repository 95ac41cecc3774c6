//! `maskgate run` end to end on real models (the MediaPipe selfie pair) and real photos (FASSEG),
//! plus its failure paths. Needs `bash scripts/setup.sh` (ONNX Runtime and test models).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{bin, shared};

fn tmp(name: &str) -> PathBuf {
    crate::common::fresh_dir("run", name)
}

fn vendor(rel: &str) -> PathBuf {
    crate::common::repo(&format!("vendor/{rel}"))
}

fn run(config: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("run")
        .arg(config)
        .args(["--run-id", "t", "--generated-at", "2026-01-01T00:00:00Z"])
        .args(extra)
        .output()
        .unwrap()
}

fn selfie_arm(name: &str, file: &str) -> String {
    format!(
        "[[arm]]\nname = \"{name}\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{}\"\nclass = \"foreground\"\nthreshold = 0.5\n",
        shared().join("models").join(file).display()
    )
}

/// `d/maskgate.toml`: the two MediaPipe selfie models (`selfie` the baseline, `landscape`) on
/// FASSEG V2's foreground, with `run` lines in `[run]`, `corpus` lines in the corpus and
/// `tail` after the arms.
fn selfie_pair_config(d: &Path, run: &str, corpus: &str, tail: &str) -> PathBuf {
    let config = d.join("maskgate.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"selfie\"\n{run}\n[[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"{}\"\nclasses = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\n{corpus}\n{}\n{}{tail}",
            shared().join("data/fasseg/V2").display(),
            selfie_arm("selfie", "mediapipe_selfie_segmentation_256.onnx"),
            selfie_arm("landscape", "mediapipe_selfie_segmentation_landscape_144x256.onnx"),
        ),
    )
    .unwrap();
    config
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn selfie_ab_on_fasseg_is_real_deterministic_and_cached() {
    let d = tmp("selfie");
    let config = selfie_pair_config(&d, "pass_iou = 0.5\ncache = \"cache\"\n", "", "");
    let first = run(
        &config,
        &["--out", d.join("a").to_str().unwrap(), "--threads", "2"],
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // (inferences, cache hits) of the selfie arm from the run summary on stderr.
    let counts = |out: &Output| -> (usize, usize) {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let line = err
            .lines()
            .find(|l| l.starts_with("maskgate: arm selfie: "))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string();
        let num = |after: &str| -> usize {
            line.split(after)
                .next()
                .unwrap()
                .split_whitespace()
                .last()
                .unwrap()
                .parse()
                .unwrap()
        };
        (num(" inferences"), num(" cached"))
    };
    // 70 photos, 6 of them byte-identical Train/Test duplicates in FASSEG: the cache serves a
    // duplicate unless both copies happen to be in flight at once.
    let (inferred, hits) = counts(&first);
    assert_eq!(inferred + hits, 70);
    assert!((64..=70).contains(&inferred), "{inferred} inferences");
    let second = run(
        &config,
        &["--out", d.join("b").to_str().unwrap(), "--threads", "1"],
    );
    assert!(second.status.success());
    assert_eq!(
        counts(&second),
        (0, 70),
        "the re-run is served from the cache"
    );
    let third = run(
        &config,
        &[
            "--out",
            d.join("c").to_str().unwrap(),
            "--no-cache",
            "--progress",
            "1",
        ],
    );
    assert!(third.status.success());
    // stderr is a pipe here, as in a log: progress lines at the interval, not a bar.
    let said = String::from_utf8_lossy(&third.stderr);
    assert!(
        said.lines().any(|l| l.starts_with("maskgate: ")
            && l.contains("/70 samples (")
            && l.contains("/s, ETA ")
            && l.contains("per sample: landscape ")),
        "{said}"
    );
    // Without the cache, the gallery reuses the run's own predictions: no inference twice.
    let (inferred, hits) = counts(&third);
    assert_eq!(inferred + hits, 70, "the gallery inferred again");
    // Served entirely from the cache, the run never loads a model, nor ONNX Runtime itself: a
    // runtime that is not there goes unnoticed.
    let fourth = bin()
        .arg("run")
        .arg(&config)
        .args(["--run-id", "t", "--generated-at", "2026-01-01T00:00:00Z"])
        .args(["--out", d.join("e").to_str().unwrap()])
        .env("MASKGATE_ORT_LIB", d.join("no-such-libonnxruntime.so"))
        .output()
        .unwrap();
    assert!(
        fourth.status.success(),
        "{}",
        String::from_utf8_lossy(&fourth.stderr)
    );
    assert_eq!(counts(&fourth), (0, 70));
    assert_eq!(
        std::fs::read(d.join("a/report.json")).unwrap(),
        std::fs::read(d.join("e/report.json")).unwrap()
    );
    for f in ["metrics.csv", "samples.jsonl", "report.json", "report.md"] {
        let a = std::fs::read(d.join("a").join(f)).unwrap();
        assert_eq!(
            a,
            std::fs::read(d.join("b").join(f)).unwrap(),
            "{f}: cached run differs"
        );
        assert_eq!(
            a,
            std::fs::read(d.join("c").join(f)).unwrap(),
            "{f}: uncached run differs"
        );
    }
    let r = report(&d.join("a"));
    let row = |arm: &str| {
        r["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["arm"] == arm && m["group"] == "all")
            .unwrap()["iou_mean"]
            .as_f64()
            .unwrap()
    };
    // Person segmentation of frontal faces against every labelled class: high, not perfect.
    for arm in ["selfie", "landscape"] {
        let iou = row(arm);
        assert!(iou > 0.9 && iou < 0.999, "{arm}: mean IoU {iou}");
    }
    let details = r["arm_details"].as_array().unwrap();
    assert!(details
        .iter()
        .all(|a| a["params"].as_str().unwrap().contains("threshold=0.5")
            && a["model_sha256"].as_str().unwrap().len() == 64));
    assert_eq!(r["corpora"][0]["samples"], 70);
}

/// Bad photos and a model that always fails: each is a per-sample failure with the same
/// message on the terminal as in the report; an arm that scored nothing fails the run (exit 2,
/// one line per cause) with its report still written, and an arm over max_failed_share ends
/// the run with a warning.
#[test]
fn bad_images_and_nan_outputs_are_per_sample_failures() {
    let d = tmp("failures");
    let photo = shared().join("data/fasseg/V2/Test_RGB/1.bmp");
    std::fs::copy(&photo, d.join("good.bmp")).unwrap();
    std::fs::write(d.join("corrupt.bmp"), b"BM this is not a bitmap").unwrap();
    // A readable photo outside the gold file's folder: never read, for a reason the user can fix.
    let outside = d.with_file_name("run-failures-outside.bmp");
    std::fs::copy(&photo, &outside).unwrap();
    let (h, w) = (512, 354);
    let gold: String = [
        ("good", "good.bmp".to_string()),
        ("corrupt", "corrupt.bmp".into()),
        ("missing", "missing.bmp".into()),
        ("outside", format!("../{}", outside.file_name().unwrap().to_str().unwrap())),
    ]
    .iter()
    .map(|(id, image)| format!("{{\"id\": \"{id}\", \"image\": \"{image}\", \"size\": [{h}, {w}], \"masks\": {{\"foreground\": {{\"polygons\": [[60, 60, 300, 60, 300, 500, 60, 500]]}}}}}}\n"))
    .collect();
    std::fs::write(d.join("gold.ndjson"), gold).unwrap();
    std::fs::write(
        d.join("maskgate.toml"),
        format!(
            "[run]\nbaseline = \"selfie\"\ncache = \"cache\"\n[[corpus]]\nname = \"g\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n{}\n[[arm]]\nname = \"nan\"\nadapter = \"sigmoid\"\nmodel = \"{}\"\nclass = \"foreground\"\n",
            selfie_arm("selfie", "mediapipe_selfie_segmentation_256.onnx"),
            vendor("test-models/nan-probability.onnx").display()
        ),
    )
    .unwrap();
    let out = run(
        &d.join("maskgate.toml"),
        &["--out", d.join("out").to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The nan arm scored no sample: an error, with one line per cause and its count.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("arm nan scored no sample: all 4 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  IMAGE_UNREADABLE: 3 samples; to fix: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("  INFERENCE_FAILED: 1 sample; to fix: "),
        "{stderr}"
    );
    // The selfie arm scored one photo of four: a warning, not an error.
    assert!(
        stderr.contains(
            "arm selfie: 3 of 4 samples failed (75.0%, more than max_failed_share = 0.1)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("arm selfie scored no sample"), "{stderr}");
    // The report set is still written, for the record.
    let lines: Vec<Value> = crate::common::sample_rows(&d.join("out"));
    let get = |arm: &str, id: &str| {
        lines
            .iter()
            .find(|l| l["arm"] == arm && l["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(get("selfie", "good")["fail_reason"], Value::Null);
    assert!(
        get("selfie", "good")["classes"]["foreground"]["iou"]
            .as_f64()
            .unwrap()
            > 0.3
    );
    assert_eq!(get("selfie", "corrupt")["fail_reason"], "IMAGE_UNREADABLE");
    assert_eq!(get("selfie", "missing")["fail_reason"], "IMAGE_UNREADABLE");
    assert_eq!(get("selfie", "outside")["fail_reason"], "IMAGE_UNREADABLE");
    assert_eq!(get("nan", "good")["fail_reason"], "INFERENCE_FAILED");
    assert_eq!(get("nan", "good")["classes"]["foreground"]["iou"], 0.0);
    // The photo outside the root is reported for what it is, not as "no image path".
    let outside_detail = get("selfie", "outside")["fail_detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        outside_detail.contains("outside the dataset root"),
        "{outside_detail}"
    );
    assert!(
        outside_detail.contains("set image_root"),
        "{outside_detail}"
    );
    // Every per-sample message on the terminal is the report's, word for word.
    let md = std::fs::read_to_string(d.join("out/report.md"))
        .unwrap()
        .replace('\\', "");
    assert!(md.contains("### Failed samples (7)"), "{md}");
    let shown: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("maskgate: arm "))
        .filter(|l| l.contains(": sample "))
        .collect();
    assert_eq!(shown.len(), 7, "{stderr}");
    for line in shown {
        let (arm, rest) = line.split_once(": sample ").unwrap();
        let (id, message) = rest.split_once(": ").unwrap();
        assert!(message.contains("; to fix: "), "{line}");
        assert!(
            md.contains(&format!("| {arm} | {id} | {message} |")),
            "{message:?} not in the report:\n{md}"
        );
    }
    assert!(
        stderr.contains("sample outside: IMAGE_UNREADABLE: "),
        "{stderr}"
    );
    assert!(!stderr.contains("no image path"), "{stderr}");

    // Allowed a larger failed share (flag, then environment), the warning goes; the error stays.
    let out = run(
        &d.join("maskgate.toml"),
        &[
            "--out",
            d.join("out").to_str().unwrap(),
            "--max-failed-share",
            "0.8",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("more than max_failed_share"), "{stderr}");
    let out = bin()
        .arg("run")
        .arg(d.join("maskgate.toml"))
        .args(["--out", d.join("out").to_str().unwrap()])
        .env("MASKGATE_MAX_FAILED_SHARE", "1.5")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("max_failed_share = 1.5 must be within [0, 1]"),
        "{stderr}"
    );
}

#[test]
fn config_and_model_errors_are_clear() {
    let d = tmp("errors");
    std::fs::write(d.join("broken.onnx"), b"not a model").unwrap();
    std::fs::write(
        d.join("a.toml"),
        "[run]\n[[corpus]]\nname = \"x\"\n[[arm]]\nname = \"a\"\nadapter = \"nope\"\nmodel = \"m.onnx\"\n",
    )
    .unwrap();
    let out = run(&d.join("a.toml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "baseline is missing",
        "missing format, path",
        "a comparison needs at least two",
        "unknown adapter \"nope\"",
        "m.onnx: No such file",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    std::fs::write(d.join("gold.ndjson"), "{\"id\": \"a\", \"size\": [2, 2]}\n").unwrap();
    std::fs::write(
        d.join("b.toml"),
        format!(
            "[run]\nbaseline = \"a\"\n[[corpus]]\nname = \"x\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n[[arm]]\nname = \"a\"\nadapter = \"mediapipe-selfie\"\nmodel = \"broken.onnx\"\nclass = \"fg\"\n{}",
            selfie_arm("b", "mediapipe_selfie_segmentation_256.onnx")
        ),
    )
    .unwrap();
    // An arm's class the corpus lacks is refused before any model is loaded.
    let out = run(&d.join("b.toml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("arm \"a\": class \"fg\" is not a class of corpus \"x\""),
        "{err}"
    );
    assert!(!err.contains("cannot load model"), "{err}");
    std::fs::write(
        d.join("gold.ndjson"),
        "{\"id\": \"a\", \"size\": [2, 2], \"masks\": {\"fg\": {\"size\": [2, 2], \"counts\": [4]}, \"foreground\": {\"size\": [2, 2], \"counts\": [4]}}}\n",
    )
    .unwrap();
    let out = run(&d.join("b.toml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.onnx: cannot load model"), "{err}");
    // A key the adapter does not read is an error that lists the keys it does read.
    std::fs::write(
        d.join("c.toml"),
        format!(
            "[run]\nbaseline = \"a\"\n[[corpus]]\nname = \"x\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n[[arm]]\nname = \"a\"\nadapter = \"semantic-argmax\"\nmodel = \"broken.onnx\"\nlabels = [\"bg\", \"fg\"]\nthreshold = 0.3\n{}",
            selfie_arm("b", "mediapipe_selfie_segmentation_256.onnx")
        ),
    )
    .unwrap();
    let out = run(&d.join("c.toml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("adapter semantic-argmax does not use `threshold` (it uses: labels, classes, mean, std, decode)"),
        "{err}"
    );
}

/// `--save-predictions` writes each model arm's masks as prediction JSONL; a run that reads
/// them back as `predictions = "…"` arms, with no inference, gives byte-identical metrics. A
/// later run without the flag replaces the set, saved predictions included.
#[test]
fn saved_predictions_score_again_byte_identically() {
    let d = tmp("saved-predictions");
    let corpus = format!(
        "[[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"{}\"\nclasses = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\n",
        shared().join("data/fasseg/V2").display()
    );
    let models = d.join("models.toml");
    std::fs::write(
        &models,
        format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 200\n\n{corpus}\n{}\n{}",
            selfie_arm("selfie", "mediapipe_selfie_segmentation_256.onnx"),
            selfie_arm(
                "landscape",
                "mediapipe_selfie_segmentation_landscape_144x256.onnx"
            ),
        ),
    )
    .unwrap();
    let a = d.join("a");
    let out = run(
        &models,
        &[
            "--out",
            a.to_str().unwrap(),
            "--no-cache",
            "--save-predictions",
            // Saved predictions are masks, not probabilities: no noise check to compare.
            "--noise-epsilon",
            "0",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = a.join("predictions/fasseg");
    for arm in ["selfie", "landscape"] {
        let text = std::fs::read_to_string(saved.join(format!("{arm}.jsonl"))).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(ids.len(), 70, "{arm}: one line per photo");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{arm}: lines sorted by id"
        );
    }

    let files = d.join("files.toml");
    std::fs::write(
        &files,
        format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 200\n\n{corpus}\n[[arm]]\nname = \"selfie\"\npredictions = \"{}\"\n\n[[arm]]\nname = \"landscape\"\npredictions = \"{}\"\n",
            saved.join("selfie.jsonl").display(),
            saved.join("landscape.jsonl").display(),
        ),
    )
    .unwrap();
    let b = d.join("b");
    let out = run(&files, &["--out", b.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["metrics.csv", "samples.jsonl"] {
        let (x, y) = (
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
        );
        assert!(!x.is_empty());
        assert!(
            x == y,
            "{file} differs once scored from the saved predictions"
        );
    }

    let out = run(&models, &["--out", a.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !a.join("predictions").exists(),
        "the new set has no saved predictions"
    );
}

/// `--explain` prints every setting with its value and source, and reads nothing but the
/// config and criteria files: its corpus and models are missing (one a bucket URL, never
/// fetched), and the output folder is not created.
#[test]
fn explain_shows_each_setting_and_where_it_came_from_without_any_work() {
    let d = tmp("explain");
    let config = d.join("gate.toml");
    std::fs::write(d.join("criteria.toml"), "[bootstrap]\nresamples = 50\n").unwrap();
    std::fs::write(
        &config,
        "[run]\nbaseline = \"a\"\ntop = 7\ncriteria = \"criteria.toml\"\n\n[[corpus]]\nname = \"c\"\nformat = \"fasseg\"\npath = \"missing-corpus\"\n\n[[arm]]\nname = \"a\"\npredictions = \"missing.jsonl\"\n\n[[arm]]\nname = \"b\"\nadapter = \"mediapipe-selfie\"\nmodel = \"s3://no-such-bucket/model.onnx\"\nclass = \"fg\"\n",
    )
    .unwrap();
    let explain = |extra: &[&str]| {
        bin()
            .arg("run")
            .arg(&config)
            .arg("--explain")
            .args(extra)
            .env("MASKGATE_GALLERY", "5")
            .output()
            .unwrap()
    };
    let out = explain(&["--seed", "4"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let shown = maskgate::pathnames::display(&config);
    for want in [
        "gallery = 5  (from MASKGATE_GALLERY)".to_string(),
        "seed = 4  (from --seed)".to_string(),
        format!("top = 7  (from [run] top in {shown})"),
        format!(
            "bootstrap = 50  (from [bootstrap] resamples in the criteria file {})",
            maskgate::pathnames::display(&d.join("criteria.toml"))
        ),
        "pass_iou = 0.5  (from default)".to_string(),
    ] {
        assert!(lines.contains(&want.as_str()), "{want:?} not in:\n{stdout}");
    }
    assert_eq!(lines.len(), maskgate::plan::SETTINGS.len(), "{stdout}");
    assert!(
        !d.join("reports").exists(),
        "--explain wrote the output folder"
    );

    // The same plan (its model local, so nothing waits on a network) without --explain stops
    // at its missing files, all named at once.
    let text = std::fs::read_to_string(&config).unwrap();
    let local = d.join("local.toml");
    std::fs::write(
        &local,
        text.replace("s3://no-such-bucket/model.onnx", "missing.onnx"),
    )
    .unwrap();
    let err = bin().arg("run").arg(&local).output().unwrap();
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert_eq!(err.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.jsonl"), "{stderr}");
    assert!(stderr.contains("missing-corpus"), "{stderr}");
    assert!(stderr.contains("missing.onnx"), "{stderr}");

    // A bad value is refused by --explain too, naming the variable.
    let bad = bin()
        .arg("run")
        .arg(&config)
        .arg("--explain")
        .env("MASKGATE_THREADS", "many")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("MASKGATE_THREADS"));

    // compare --explain: the command line's settings, none from a config.
    let gold = d.join("g.ndjson");
    let out = bin()
        .args(["compare", "--explain", "--gold"])
        .arg(&gold)
        .args([
            "--pred",
            "x=x.jsonl",
            "--pred",
            "y=y.jsonl",
            "--baseline",
            "x",
        ])
        .args(["--gallery", "0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l == "gallery = 0  (from --gallery)"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "out = reports/run  (from default)"),
        "{stdout}"
    );
}

/// The inference-noise check on real models: the MediaPipe pair's pixels within ε of 0.5 are
/// counted per sample, a criterion met exactly is named as one noise could flip, `--strict`
/// holds that go back as inconclusive, and ε = 0 turns the check off.
#[test]
fn the_noise_check_counts_real_near_pixels_and_strict_holds_back_a_fragile_go() {
    let d = tmp("noise");
    let criteria = d.join("criteria.toml");
    let config = selfie_pair_config(
        &d,
        "cache = \"cache\"\ncriteria = \"criteria.toml\"\nbootstrap = 200\n",
        "limit = 12\nsample_seed = \"noise\"\n",
        "",
    );
    let write_min = |min: &str| {
        std::fs::write(
            &criteria,
            format!("[[criterion]]\nid = \"landscape-iou\"\narm = \"landscape\"\nmetric = \"iou.mean\"\nmin = {min}\n"),
        )
        .unwrap()
    };
    write_min("0.5");
    let out = |name: &str| d.join(name);
    let first = run(&config, &["--out", out("a").to_str().unwrap()]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let r = report(&out("a"));
    let noise = &r["noise_check"];
    assert_eq!(noise["epsilon"], 0.001);
    assert_eq!(noise["flips"].as_array().unwrap().len(), 0, "{noise}");
    // Both arms measured, on the samples scored: the per-sample counts add up to the totals.
    let lines = std::fs::read_to_string(out("a").join("samples.jsonl")).unwrap();
    for arm in ["selfie", "landscape"] {
        let per_sample: Vec<u64> = lines
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|s| s["arm"] == arm)
            .map(|s| {
                s["noise"]["pixels"]
                    .as_u64()
                    .expect("every sample measured")
            })
            .collect();
        assert_eq!(per_sample.len(), 12);
        let total = noise["pixels"][arm].as_u64().unwrap();
        assert!(total > 0, "a soft edge has pixels near 0.5");
        assert_eq!(per_sample.iter().sum::<u64>(), total);
    }
    let summary = r["verdict_summary"].as_str().unwrap();
    assert!(
        summary.contains("Robust to inference noise (ε = 0.001)"),
        "{summary}"
    );

    // The candidate's mean IoU as the bound: a go by no margin at all, which the landscape
    // model's near pixels set against it would turn.
    let value = r["criteria"][0]["checks"][0]["value"].as_f64().unwrap();
    write_min(&format!("{value}"));
    let fragile = run(
        &config,
        &["--out", out("b").to_str().unwrap(), "--threads", "2"],
    );
    assert_eq!(fragile.status.code(), Some(0));
    let r = report(&out("b"));
    let flips = r["noise_check"]["flips"].as_array().unwrap();
    assert_eq!(flips.len(), 1, "{flips:?}");
    assert_eq!(
        (flips[0]["from"].as_str(), flips[0]["to"].as_str()),
        (Some("pass"), Some("fail"))
    );
    let md = std::fs::read_to_string(out("b").join("report.md")).unwrap();
    assert!(
        md.contains("could flip 1 of the checks")
            && md.contains("Checks inference noise could flip"),
        "{md}"
    );
    // The same bytes at another thread count.
    let again = run(
        &config,
        &["--out", out("c").to_str().unwrap(), "--threads", "1"],
    );
    assert_eq!(again.status.code(), Some(0));
    for f in ["report.json", "samples.jsonl", "report.md"] {
        assert_eq!(
            std::fs::read(out("b").join(f)).unwrap(),
            std::fs::read(out("c").join(f)).unwrap(),
            "{f}"
        );
    }

    let strict = run(&config, &["--out", out("d").to_str().unwrap(), "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "strict holds the go back");
    let r = report(&out("d"));
    assert_eq!(r["recommendation"], "inconclusive");
    assert!(r["criteria"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("inference noise (ε = 0.001) could flip it to fail"));

    let off = run(
        &config,
        &["--out", out("e").to_str().unwrap(), "--noise-epsilon", "0"],
    );
    assert_eq!(off.status.code(), Some(0));
    let r = report(&out("e"));
    assert!(r.get("noise_check").is_none());
    assert!(!std::fs::read_to_string(out("e").join("samples.jsonl"))
        .unwrap()
        .contains("\"noise\""));

    let bad = run(
        &config,
        &[
            "--out",
            out("f").to_str().unwrap(),
            "--noise-epsilon",
            "0.7",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("noise_epsilon must be within [0, 0.5]"));
}

/// Cost on real models: measured into cost.json and a Cost section while the deterministic
/// files stay byte-identical; a latency criterion decides on this run's latencies and is
/// inconclusive, saying why, when they come from the cache.
#[test]
fn cost_is_measured_apart_and_decides_only_on_one_runs_latencies() {
    let d = tmp("cost");
    let config = selfie_pair_config(
        &d,
        "cache = \"cache\"\nbootstrap = 100\n",
        "limit = 16\nsample_seed = \"cost\"\n",
        "\n[cost]\nprice_per_hour = 0.5\n",
    );
    let out = |name: &str| d.join(name);
    let plain = run(
        &config,
        &["--out", out("plain").to_str().unwrap(), "--no-cache"],
    );
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let costed = run(
        &config,
        &[
            "--out",
            out("cost").to_str().unwrap(),
            "--no-cache",
            "--cost",
            "--cost-repeat",
            "2",
        ],
    );
    assert!(
        costed.status.success(),
        "{}",
        String::from_utf8_lossy(&costed.stderr)
    );
    for f in ["metrics.csv", "samples.jsonl", "report.json"] {
        assert_eq!(
            std::fs::read(out("plain").join(f)).unwrap(),
            std::fs::read(out("cost").join(f)).unwrap(),
            "{f} changed with cost measured"
        );
    }
    assert!(!out("plain").join("cost.json").exists());
    let cost: Value =
        serde_json::from_slice(&std::fs::read(out("cost").join("cost.json")).unwrap()).unwrap();
    assert_eq!(cost["warmup"], 3);
    for arm in cost["arms"].as_array().unwrap() {
        // 16 photos, 3 of them warm-up; a byte-identical duplicate is inferred once.
        let measured = arm["measured"].as_u64().unwrap();
        assert!((10..=13).contains(&measured), "{arm}");
        assert_eq!(arm["from_cache"], 0, "{arm}");
        let l = &arm["latency"];
        let (p50, p95) = (l["p50_ms"].as_f64().unwrap(), l["p95_ms"].as_f64().unwrap());
        assert!(p50 > 0.0 && p50 <= p95, "{arm}");
        assert!(arm["model_mb"].as_f64().unwrap() > 0.1 && arm["load_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(arm["repeat_p50_ms"].as_array().unwrap().len(), 2, "{arm}");
        assert!(arm["cost_per_1000"].as_f64().unwrap() > 0.0);
    }
    let md = std::fs::read_to_string(out("cost").join("report.md")).unwrap();
    assert!(
        md.contains("## Cost") && md.contains("Measured on "),
        "{md}"
    );
    assert!(!std::fs::read_to_string(out("plain").join("report.md"))
        .unwrap()
        .contains("## Cost"));

    // A latency criterion: decided on a run that timed every photo, inconclusive on cached ones.
    std::fs::write(
        d.join("criteria.toml"),
        "[[criterion]]\nid = \"latency\"\narm = \"landscape\"\nmetric = \"latency.p95_ms\"\nmax_ratio = 100\n",
    )
    .unwrap();
    let gate = |name: &str, extra: &[&str]| {
        let mut args = vec!["--out", name, "--criteria"];
        let criteria = d.join("criteria.toml");
        let criteria = criteria.to_str().unwrap().to_string();
        let path = out(name);
        let path = path.to_str().unwrap().to_string();
        args[1] = &path;
        args.push(&criteria);
        args.extend_from_slice(extra);
        let o = run(&config, &args);
        (o.status.code(), report(&out(name)))
    };
    let (code, r) = gate("timed", &["--no-cache"]);
    assert_eq!(code, Some(0), "{}", r["verdict_summary"]);
    assert!(r["criteria"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("× the baseline's"));
    // Through the cache: a re-run served whole from one earlier run on this host decides on
    // that run's latencies, and says so.
    gate("fill", &[]);
    let (code, r) = gate("cached", &[]);
    let reason = r["criteria"][0]["reason"].as_str().unwrap();
    assert_eq!(code, Some(0), "{reason}");
    assert!(reason.contains("served from the cache"), "{reason}");
    // Four more photos: latencies of two runs mixed, which no latency criterion reads.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("limit = 16", "limit = 20")).unwrap();
    let (code, r) = gate("mixed", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(r["recommendation"], "inconclusive");
    let reason = r["criteria"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("come from the prediction cache") && reason.contains("--no-cache"),
        "{reason}"
    );
}

/// ONNX Runtime 1.29+ keeps telemetry state under `~/.cache/Microsoft` (a device id, an event
/// cache) and uploads from Linux unless `ORT_DISABLE_TELEMETRY=1` is set before it loads: a
/// gate writes nothing outside its reports. (Without the variable, this runtime creates that
/// folder; the test does not run it so, since that would upload.)
#[test]
fn a_run_leaves_no_runtime_telemetry_in_the_home_folder() {
    let d = tmp("telemetry");
    let config = selfie_pair_config(&d, "", "limit = 2\n", "");
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = bin()
        .arg("run")
        .arg(&config)
        .args(["--no-cache", "--gallery", "0", "--out"])
        .arg(home.join("out"))
        .env("HOME", &home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("ORT_DISABLE_TELEMETRY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The models ran: the runtime was loaded and its environment created.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("maskgate: arm selfie: ")
            && l.contains(" inferences")
            && l.ends_with(", 0 failed")),
        "{err}"
    );
    assert_eq!(report(&home.join("out"))["corpora"][0]["samples"], 2);
    let left: Vec<String> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["out"], "the run wrote outside its reports");
}
