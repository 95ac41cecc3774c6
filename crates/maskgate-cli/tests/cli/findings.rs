//! Finding what fails, end to end on real FASSEG photos: suspect labels planted in a corpus are
//! found exactly, a darkened quarter of the photos on which one arm fails is found as a weak
//! luminance slice with an interval that excludes 0, a criterion checks every luminance bin,
//! and each sample's error anatomy sums to 1 − IoU.

use crate::common::bin;
use maskgate_core::{Mask, Rle};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    crate::common::fresh_dir("findings", name)
}

fn rle_json(m: &Mask) -> Value {
    let r = Rle::encode(m);
    json!({"size": [r.h, r.w], "counts": r.to_compressed()})
}

fn shifted(m: &Mask, dx: i64) -> Mask {
    Mask::from_fn(m.height(), m.width(), |y, x| {
        let sx = x as i64 - dx;
        sx >= 0 && sx < m.width() as i64 && m.get(y, sx as u32)
    })
}

/// One FASSEG sample: its id, photo (RGB) and skin mask.
struct Face {
    id: String,
    rgb: image::RgbImage,
    skin: Mask,
}

/// The first `n` FASSEG V2 samples (converted by maskgate itself), skin only.
fn faces(d: &Path, n: usize) -> Vec<Face> {
    crate::common::fasseg_skin(d, n)
        .into_iter()
        .map(|(id, photo, skin)| Face {
            id,
            rgb: image::open(&photo).unwrap().to_rgb8(),
            skin,
        })
        .collect()
}

/// A sample's mask from its index and its true skin mask.
type MaskOf<'a> = &'a dyn Fn(usize, &Mask) -> Mask;

/// Writes the photos (darkened where `dark`), the gold file (skin masks as `gt` gives them) and
/// one prediction file per arm; returns the compare command.
fn corpus(
    d: &Path,
    faces: &[Face],
    dark: &dyn Fn(usize) -> bool,
    gt: MaskOf,
    arms: &[(&str, MaskOf)],
) -> Command {
    std::fs::create_dir_all(d.join("photos")).unwrap();
    let mut gold = String::new();
    let mut preds = vec![String::new(); arms.len()];
    for (i, f) in faces.iter().enumerate() {
        let mut rgb = f.rgb.clone();
        if dark(i) {
            rgb.pixels_mut().for_each(|p| p.0 = p.0.map(|v| v / 5));
        }
        let photo = format!("photos/{i:02}.png");
        rgb.save(d.join(&photo)).unwrap();
        let (h, w) = (f.skin.height(), f.skin.width());
        gold += &format!(
            "{}\n",
            json!({"id": f.id, "image": photo, "size": [h, w], "masks": {"skin": rle_json(&gt(i, &f.skin))}})
        );
        for (k, (_, arm)) in arms.iter().enumerate() {
            preds[k] += &format!(
                "{}\n",
                json!({"id": f.id, "size": [h, w], "masks": {"skin": rle_json(&arm(i, &f.skin))}})
            );
        }
    }
    std::fs::write(d.join("gold.ndjson"), gold).unwrap();
    let mut c = bin();
    c.arg("compare").arg("--gold").arg(d.join("gold.ndjson"));
    for (k, (name, _)) in arms.iter().enumerate() {
        let p = d.join(format!("{name}.jsonl"));
        std::fs::write(&p, &preds[k]).unwrap();
        c.arg("--pred").arg(format!("{name}={}", p.display()));
    }
    c.args(["--baseline", arms[0].0, "--out"])
        .arg(d.join("out"));
    c.args([
        "--run-id",
        "findings",
        "--generated-at",
        "2026-01-01T00:00:00Z",
    ]);
    c
}

fn report(d: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap()
}

fn samples(d: &Path) -> Vec<Value> {
    crate::common::sample_rows(&d.join("out"))
}

const PLANTED: [usize; 5] = [3, 17, 29, 41, 52];

#[test]
fn planted_label_errors_are_exactly_the_suspects() {
    let d = tmp("suspects");
    let faces = faces(&d, 60);
    // Both arms are right (one exact, one 2 px thinner); five labels are shifted 150 px aside.
    let exact = |_: usize, m: &Mask| m.clone();
    let thinner = |_: usize, m: &Mask| maskgate_core::morphology::erode_square_inside(m, 2);
    let gt = |i: usize, m: &Mask| match PLANTED.contains(&i) {
        true => shifted(m, 150),
        false => m.clone(),
    };
    let summary = d.join("step-summary.md");
    let out = corpus(
        &d,
        &faces,
        &|_| false,
        &gt,
        &[("exact", &exact), ("thinner", &thinner)],
    )
    .env("GITHUB_STEP_SUMMARY", &summary)
    .output()
    .unwrap();
    assert!(
        matches!(out.status.code(), Some(0)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The CI job summary names them too.
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.contains("5 suspect labels (every arm agrees"),
        "{text}"
    );
    let rows = samples(&d);
    assert_eq!(rows.len(), 120, "every sample scored for both arms");
    assert!(
        rows.iter().all(|s| s["fail_reason"].is_null()),
        "nothing refused"
    );
    let want: Vec<String> = PLANTED.iter().map(|&i| faces[i].id.clone()).collect();
    let r = report(&d);
    let mut found: Vec<String> = (r["suspects"].as_array().unwrap().iter())
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(
        found, want_sorted,
        "the suspects are exactly the planted labels"
    );
    for s in r["suspects"].as_array().unwrap() {
        assert!(s["agreement"].as_f64().unwrap() >= 0.9, "{s}");
        assert!(s["miou"]["exact"].as_f64().unwrap() <= 0.5, "{s}");
    }
    // samples.jsonl flags them, for both arms; the report says they still count.
    for s in &rows {
        let planted = want.iter().any(|w| w == s["id"].as_str().unwrap());
        assert_eq!(s["suspect"] == true, planted, "{s}");
        assert!(s["agreement"].as_f64().unwrap() >= 0.9, "{s}");
    }
    assert_eq!(r["suspects_excluded"], false);
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(md.contains("## Suspect labels (5)"), "{md}");
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Suspect labels (5)"));
    let gallery = r["gallery"].as_array().unwrap();
    assert_eq!(
        gallery.iter().filter(|g| g["kind"] == "suspect").count(),
        5,
        "a picture each"
    );

    // Excluded: the verdict's aggregates leave them out and the report says how many.
    let n_all = r["summaries"][0]["n"].as_u64().unwrap();
    let out = corpus(
        &d,
        &faces,
        &|_| false,
        &gt,
        &[("exact", &exact), ("thinner", &thinner)],
    )
    .arg("--exclude-suspects")
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(&d);
    assert_eq!(r["suspects_excluded"], true);
    assert_eq!(r["suspects"].as_array().unwrap().len(), 5, "still listed");
    assert_eq!(r["summaries"][0]["n"].as_u64().unwrap(), n_all - 5);
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(md.contains("These 5 samples were left out"), "{md}");

    // `inspect --suspects` prints the review queue from the report.
    let cfg = d.join("unused.toml");
    std::fs::write(&cfg, "[run]\nbaseline = \"exact\"\n[[corpus]]\nname = \"c\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n").unwrap();
    let out = bin()
        .args(["inspect", "--suspects", "--report"])
        .arg(d.join("out"))
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("5 suspect labels"), "{text}");
    for id in &want {
        assert!(text.contains(id.as_str()), "{id} in {text}");
    }
}

#[test]
fn a_darkened_quarter_is_found_as_a_weak_luminance_slice() {
    let d = tmp("slices");
    let faces = faces(&d, 60);
    // Every fourth photo darkened to a fifth; the candidate loses 25 px of skin on those.
    let dark = |i: usize| i % 4 == 1;
    let exact = |_: usize, m: &Mask| m.clone();
    let candidate = move |i: usize, m: &Mask| {
        maskgate_core::morphology::erode_square_inside(m, if dark(i) { 25 } else { 1 })
    };
    let criteria = d.join("criteria.toml");
    std::fs::write(
        &criteria,
        "[bootstrap]\nresamples = 1000\nseed = 7\n\n[[criterion]]\nid = \"no-dark-slice-loss\"\nmetric = \"iou.mean\"\narm = \"candidate\"\nper = \"slice:luminance\"\nmax_drop = 0.05\n",
    )
    .unwrap();
    let out = corpus(
        &d,
        &faces,
        &dark,
        &|_, m: &Mask| m.clone(),
        &[("exact", &exact), ("candidate", &candidate)],
    )
    .arg("--criteria")
    .arg(&criteria)
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "no-go: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = samples(&d);
    assert_eq!(rows.len(), 120);
    assert!(rows
        .iter()
        .all(|s| s["fail_reason"].is_null() && s["properties"]["luminance"].is_number()));
    let r = report(&d);
    // The luminance bins: the darkened 15 are exactly the first quartile.
    let bins = (r["slices"].as_array().unwrap().iter())
        .find(|b| b["property"] == "luminance")
        .expect("luminance is sliced");
    assert_eq!(bins["bins"][0]["n"], 15);
    let dark_ids: Vec<&str> = (0..60)
        .filter(|&i| dark(i))
        .map(|i| faces[i].id.as_str())
        .collect();
    let q1_max = bins["bins"][0]["max"].as_f64().unwrap();
    for s in rows.iter().filter(|s| s["arm"] == "exact") {
        let lum = s["properties"]["luminance"].as_f64().unwrap();
        assert_eq!(
            lum <= q1_max,
            dark_ids.contains(&s["id"].as_str().unwrap()),
            "{s}"
        );
    }
    // The worst slice is that quartile, its interval below 0, significant after Holm.
    let weak = r["weak_slices"].as_array().unwrap();
    assert!(!weak.is_empty() && weak.len() <= 5);
    let lum = (weak.iter())
        .find(|w| w["property"] == "luminance")
        .expect("the luminance slice is among the weakest");
    assert_eq!(lum["group"], "q1");
    assert_eq!(lum["n"], 15);
    let ci = lum["ci95"].as_array().unwrap();
    assert!(
        ci[1].as_f64().unwrap() < 0.0,
        "the interval excludes 0: {lum}"
    );
    assert!(lum["p_holm"].as_f64().unwrap() < 0.05, "{lum}");
    assert!(weak[0]["delta"].as_f64().unwrap() <= lum["delta"].as_f64().unwrap());
    // The criterion checked every luminance bin, and failed on q1 only.
    let c = &r["criteria"][0];
    let checks = c["checks"].as_array().unwrap();
    assert_eq!(checks.len(), bins["bins"].as_array().unwrap().len(), "{c}");
    let failed: Vec<&str> = (checks.iter())
        .filter(|k| k["status"] == "fail")
        .map(|k| k["group"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["q1"], "{c}");
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(md.contains("### Weak slices: candidate vs exact"), "{md}");
    // The loss is mostly extent: the Boundary-IoU band of a 512 × 354 photo is 12 px wide
    // (2% of the diagonal), so 25 px of erosion reaches 13 px past it.
    let anatomy = |arm: &str, key: &str| {
        (r["summaries"].as_array().unwrap().iter())
            .find(|s| s["arm"] == arm && s["group_by"] == "all")
            .unwrap()[key]
            .as_f64()
            .unwrap()
    };
    assert!(anatomy("candidate", "extent_error_mean") > anatomy("candidate", "segment_error_mean"));
    assert!(anatomy("candidate", "extent_error_mean") > 0.05);
    assert_eq!(anatomy("exact", "extent_error_mean"), 0.0);
    // Every scored sample's three shares sum to 1 − IoU.
    for s in &rows {
        let k = &s["classes"]["skin"];
        let sum = ["boundary_error", "extent_error", "segment_error"]
            .iter()
            .map(|m| k[m].as_f64().unwrap())
            .sum::<f64>();
        assert!(
            (sum - (1.0 - k["iou"].as_f64().unwrap())).abs() < 1e-12,
            "{s}"
        );
    }
}

/// `maskgate compare` on the ground truth `truth` names (`--gold FILE` or `--config FILE`),
/// with `preds` as (arm, file) and `exact` as baseline, quickly: no intervals, no gallery.
fn quick_compare(
    truth: &[std::ffi::OsString],
    preds: &[(&str, PathBuf)],
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut c = bin();
    c.arg("compare").args(truth);
    for (arm, file) in preds {
        c.arg("--pred").arg(format!("{arm}={}", file.display()));
    }
    c.args([
        "--baseline",
        "exact",
        "--bootstrap",
        "0",
        "--gallery",
        "0",
        "--out",
    ])
    .arg(out)
    .args(extra);
    c.output().unwrap()
}

/// The README's route, `convert` then `compare`, with no other flag: the converted file
/// declares its photos' folder, so compare reads them as written and scores for real; a
/// prediction file whose classes the gold never has is named before it scores 0 everywhere; an
/// `--image-root` elsewhere still keeps the photos unread, and says so.
#[test]
fn convert_then_compare_reads_the_photos_and_names_foreign_classes() {
    let d = tmp("route");
    let gold = d.join("gold/precise.ndjson");
    std::fs::create_dir_all(gold.parent().unwrap()).unwrap();
    let fasseg = crate::common::shared().join("data/fasseg/V2");
    // `maskgate convert` of FASSEG V2 to `out` (from the folder `cwd`), with `extra` flags.
    let convert = |out: &Path, cwd: &Path, extra: &[&str]| {
        let done = bin()
            .args(["convert", "--format", "fasseg", "--path"])
            .arg(&fasseg)
            .arg("--out")
            .arg(out)
            .args(extra)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        done
    };
    let out = convert(&gold, &d, &[]);
    let said = String::from_utf8_lossy(&out.stderr);
    let root = fasseg.canonicalize().unwrap();
    assert!(
        said.contains(&format!(
            "the file declares their folder {} as its image root",
            root.display()
        )),
        "{said}"
    );
    let text = std::fs::read_to_string(&gold).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["maskgate"], "gold-ndjson", "{header}");
    // Predictions named `foreground` against a gold of face classes.
    let foreign: String = text
        .lines()
        .skip(1)
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let skin = v["masks"]["skin"].clone();
            v["masks"] = json!({ "foreground": skin });
            format!("{v}\n")
        })
        .collect();
    std::fs::write(d.join("fg.jsonl"), foreign).unwrap();
    // A rougher copy, as the README makes it: the converter's own output is a prediction file.
    let rough = d.join("gold/rough.ndjson");
    convert(&rough, &d, &["--erode", "3"]);
    let preds = [
        ("exact", gold.clone()),
        ("rough", rough),
        ("fg", d.join("fg.jsonl")),
    ];
    let compare = |extra: &[&str]| {
        let truth = ["--gold".into(), gold.clone().into_os_string()];
        quick_compare(&truth, &preds, &d.join("out"), extra)
    };
    let out = compare(&[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("outside the image root"), "{said}");
    assert!(
        said.contains("arm fg: ")
            && said.contains("names the classes foreground, none of which the ground truth has"),
        "{said}"
    );
    // Every photo read (luminance for every sample), real scores: exact is 1, rough below it.
    let rows = samples(&d);
    let of = |arm: &str| -> Vec<&Value> { rows.iter().filter(|s| s["arm"] == arm).collect() };
    assert_eq!(of("exact").len(), 70);
    assert!(of("exact")
        .iter()
        .all(|s| s["properties"]["luminance"].is_number() && s["classes"]["skin"]["iou"] == 1.0));
    let rough_iou: Vec<f64> = (of("rough").iter())
        .filter_map(|s| s["classes"]["skin"]["iou"].as_f64())
        .collect();
    assert_eq!(rough_iou.len(), 70);
    assert!(
        rough_iou.iter().all(|&v| v > 0.5 && v < 1.0),
        "{rough_iou:?}"
    );
    // A bare output name (the working folder's file) declares the photos' folder too.
    let bare = convert(Path::new("bare.ndjson"), &d.join("gold"), &[]);
    let first = std::fs::read_to_string(d.join("gold/bare.ndjson")).unwrap();
    assert!(
        first.lines().next().unwrap().contains("\"image_root\""),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    // A root that is not the photos' keeps them unread, and says how many.
    let elsewhere = d.join("gold");
    let out = compare(&["--image-root", elsewhere.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("70 photos outside the image root were not read"),
        "{said}"
    );

    // `compare --config` reads the config's corpora only, and says so when its [run] table
    // names criteria the comparison did not take.
    std::fs::write(d.join("criteria.toml"), "pass_iou = 0.8\n").unwrap();
    std::fs::write(
        d.join("maskgate.toml"),
        "[run]\nbaseline = \"exact\"\ncriteria = \"criteria.toml\"\n\n[[corpus]]\nname = \"precise\"\nformat = \"gold-ndjson\"\npath = \"gold/precise.ndjson\"\n",
    )
    .unwrap();
    let by_config = |extra: &[&str]| {
        let truth = ["--config".into(), d.join("maskgate.toml").into_os_string()];
        let preds = [("exact", gold.clone()), ("also", gold.clone())];
        let out = quick_compare(&truth, &preds, &d.join("by-config"), extra);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = by_config(&[]);
    assert!(
        said.contains("compared with τ = 0.5 (from default) and seed 0 (from default): compare reads only the corpora of")
            && said.contains("not its [run] criteria"),
        "{said}"
    );
    let criteria = d.join("criteria.toml");
    let said = by_config(&["--criteria", criteria.to_str().unwrap()]);
    assert!(!said.contains("compare reads only the corpora"), "{said}");
}
