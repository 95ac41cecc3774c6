//! What a reviewer must see, end to end on real FASSEG photos: photos two corpora share and
//! photos of the training set, found by content and reported in every format, with the
//! `overlap` policy applied; reporter notes read back from `samples.jsonl` and shown beside
//! the ranked samples.

use crate::common::{bin, sample_rows as rows};
use maskgate_core::{Mask, Rle};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

fn rle_json(m: &Mask) -> Value {
    let r = Rle::encode(m);
    json!({"size": [r.h, r.w], "counts": r.to_compressed()})
}

/// FASSEG V2's first `n` samples as (id, photo bytes, skin mask), converted by maskgate.
fn faces(d: &Path, n: usize) -> Vec<(String, Vec<u8>, Mask)> {
    crate::common::fasseg_skin(d, n)
        .into_iter()
        .map(|(id, photo, skin)| (id, std::fs::read(photo).unwrap(), skin))
        .collect()
}

const NOTE: &str = "thin handle <b>lost</b> | at the edge, and a long tail of words that a table cell would never show whole";

/// Two corpora: `held` (held out) holds faces 0–4, `flagged` faces 3–8, so
/// faces 3 and 4 are in both (as copies under other names); `train/` holds face 7. Returns
/// the config.
fn setup(d: &Path) -> PathBuf {
    let faces = faces(d, 9);
    let mut base = String::new();
    let mut cand = String::new();
    for (corpus, range, prefix) in [("held", 0..5, "h"), ("flagged", 3..9, "f")] {
        std::fs::create_dir_all(d.join(corpus)).unwrap();
        let mut gold = String::new();
        for i in range {
            let (_, photo, skin) = &faces[i];
            std::fs::write(d.join(format!("{corpus}/{prefix}{i}.bmp")), photo).unwrap();
            let (h, w) = (skin.height(), skin.width());
            let id = format!("{prefix}{i}");
            let mut line = json!({"id": id, "image": format!("{prefix}{i}.bmp"), "size": [h, w], "masks": {"skin": rle_json(skin)}});
            if corpus == "flagged" {
                line["notes"] = json!(format!("{NOTE} #{i}"));
            }
            gold += &format!("{line}\n");
            base += &format!(
                "{}\n",
                json!({"id": id, "size": [h, w], "masks": {"skin": rle_json(skin)}})
            );
            let thinner = maskgate_core::morphology::erode_square_inside(skin, 2);
            cand += &format!(
                "{}\n",
                json!({"id": id, "size": [h, w], "masks": {"skin": rle_json(&thinner)}})
            );
        }
        std::fs::write(d.join(format!("{corpus}/gold.ndjson")), gold).unwrap();
    }
    std::fs::write(d.join("base.jsonl"), base).unwrap();
    std::fs::write(d.join("cand.jsonl"), cand).unwrap();
    std::fs::create_dir_all(d.join("train/images")).unwrap();
    std::fs::write(d.join("train/images/x.bmp"), &faces[7].1).unwrap();
    std::fs::write(
        d.join("criteria.toml"),
        "[[criterion]]\nid = \"holds\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmin = 0.1\n",
    )
    .unwrap();
    let config = d.join("maskgate.toml");
    std::fs::write(
        &config,
        "[run]\nbaseline = \"base\"\ncriteria = \"criteria.toml\"\ntraining_manifest = \"train\"\nbootstrap = 0\ngallery = 0\n\n\
         [[corpus]]\nname = \"held\"\nformat = \"gold-ndjson\"\npath = \"held/gold.ndjson\"\nheld_out = true\n\n\
         [[corpus]]\nname = \"flagged\"\nformat = \"gold-ndjson\"\npath = \"flagged/gold.ndjson\"\n\n\
         [[arm]]\nname = \"base\"\npredictions = \"base.jsonl\"\n\n[[arm]]\nname = \"cand\"\npredictions = \"cand.jsonl\"\n",
    )
    .unwrap();
    config
}

fn run(config: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("run")
        .arg(config)
        .arg("--out")
        .arg(out)
        .args([
            "--run-id",
            "reviewer",
            "--generated-at",
            "2026-01-01T00:00:00Z",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn shared_photos_and_training_photos_are_reported_and_the_policy_holds() {
    let d = crate::common::fresh_dir("reviewer", "shared");
    let config = setup(&d);

    // keep (the default): every sample scored, the overlaps reported in every format.
    let out = d.join("keep");
    let done = run(&config, &out, &[]);
    let said = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{said}");
    let scored = rows(&out);
    assert_eq!(scored.len(), 22, "11 samples × 2 arms");
    assert!(
        scored.iter().all(|s| s["fail_reason"].is_null()),
        "nothing refused"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let shared = &report["shared_photos"];
    let pairs: Vec<String> = (shared["between_corpora"].as_array().unwrap().iter())
        .map(|p| {
            (p["samples"].as_array().unwrap().iter())
                .map(|s| {
                    format!(
                        "{}/{}",
                        s["corpus"].as_str().unwrap(),
                        s["id"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect();
    assert_eq!(
        pairs,
        ["held/h3=flagged/f3", "held/h4=flagged/f4"],
        "{shared}"
    );
    let trained: Vec<&str> = (shared["in_training"].as_array().unwrap().iter())
        .flat_map(|p| p["samples"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(trained, ["f7"], "{shared}");
    let verdict = report["verdict_summary"].as_str().unwrap();
    assert!(
        verdict.contains(
            "Warning: 2 photos of held-out corpus \"held\" are also in corpus \"flagged\""
        ) && verdict.contains("1 evaluated photo is in the training manifest"),
        "{verdict}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Shared photos (2 between corpora, 1 of the training set)"),
        "{md}"
    );
    assert!(md.contains("`held`: h3 · `flagged`: f3"), "{md}");
    assert!(md.contains("## Corpus `held` (5 samples, format gold-ndjson, held out)"));
    // Every path from the config's folder, whatever the working folder: the run says so once.
    assert_eq!(
        report["run"]["paths_relative_to"],
        "the folder of the config maskgate.toml"
    );
    let paths: Vec<&str> = (report["run"]["inputs"].as_array().unwrap().iter())
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "maskgate.toml",
            "train",
            "held/gold.ndjson",
            "flagged/gold.ndjson",
            "base.jsonl",
            "cand.jsonl",
            "criteria.toml"
        ]
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Shared photos (2 between corpora, 1 of the training set)"));
    // The training manifest is an input of the run, by its content.
    assert!(
        (report["run"]["inputs"].as_array().unwrap().iter())
            .any(|i| i["role"] == "training manifest" && i["path"] == "train"),
        "{}",
        report["run"]["inputs"]
    );

    // Notes: read back whole from samples.jsonl, shortened beside the ranked samples with the
    // whole on hover, escaped in both formats.
    for s in scored.iter().filter(|s| s["corpus"] == "flagged") {
        let i = &s["id"].as_str().unwrap()[1..];
        assert_eq!(s["notes"], json!(format!("{NOTE} #{i}")), "{s}");
    }
    assert!(scored
        .iter()
        .filter(|s| s["corpus"] == "held")
        .all(|s| s["notes"].is_null()));
    assert!(md.contains("| notes |"), "{md}");
    assert!(
        md.contains(
            "| thin handle &lt;b&gt;lost&lt;/b&gt; \\| at the edge, and a long tail of w… |"
        ),
        "{md}"
    );
    assert!(
        !md.contains("would never show whole"),
        "shortened in the table: {md}"
    );
    assert!(html.contains("title=\"thin handle &lt;b&gt;lost&lt;/b&gt; | at the edge, and a long tail of words that a table cell would never show whole #"), "{html}");

    // inspect says it before any run.
    let inspect = bin().arg("inspect").arg(&config).output().unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        text.contains("photos shared between corpora (byte-identical): 2")
            && text.contains("held: h3 = flagged: f3"),
        "{text}"
    );

    // drop: the later corpus and the training photo lose their samples; the held-out split
    // stays whole, and the corpus lists what left.
    let out = d.join("drop");
    let done = run(&config, &out, &["--overlap", "drop"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let ids: Vec<String> = (rows(&out).iter())
        .filter(|s| s["arm"] == "cand")
        .map(|s| {
            format!(
                "{}/{}",
                s["corpus"].as_str().unwrap(),
                s["id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "flagged/f5",
            "flagged/f6",
            "flagged/f8",
            "held/h0",
            "held/h1",
            "held/h2",
            "held/h3",
            "held/h4"
        ]
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let flagged = &report["corpora"][1];
    let left: Vec<&str> = (flagged["problems"].as_array().unwrap().iter())
        .filter(|p| p["kind"] == "shared_photo")
        .map(|p| p["sample"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["f3", "f4", "f7"], "{flagged}");

    // refuse: stopped before any work, naming the photos and what to set.
    let out = d.join("refuse");
    let done = run(&config, &out, &["--overlap", "refuse"]);
    let said = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(2), "{said}");
    assert!(
        said.contains(
            "2 photos shared between corpora (held/h3 = flagged/f3; held/h4 = flagged/f4)"
        ) && said.contains("set overlap = \"keep\""),
        "{said}"
    );
    assert!(!out.join("report.json").exists());

    // A manifest as `sha256sum` writes it finds the same training photo.
    let sum = std::process::Command::new("sha256sum")
        .arg("images/x.bmp")
        .current_dir(d.join("train"))
        .output()
        .unwrap();
    std::fs::write(d.join("train.sha256"), &sum.stdout).unwrap();
    let out = d.join("listed");
    let done = run(
        &config,
        &out,
        &[
            "--training-manifest",
            d.join("train.sha256").to_str().unwrap(),
        ],
    );
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["shared_photos"]["in_training"][0]["samples"][0]["id"],
        "f7"
    );
}
