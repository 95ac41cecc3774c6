//! End-to-end tests of `maskgate compare` / `convert` through the binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maskgate"))
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("compare-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("binary runs")
}

fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn fasseg() -> PathBuf {
    crate::common::shared().join("data/fasseg")
}

fn compare_cmd(gold: &Path, preds: &[(&str, &Path)], baseline: &str, out: &Path) -> Command {
    let mut c = bin();
    c.arg("compare")
        .arg("--gold")
        .arg(gold)
        .arg("--baseline")
        .arg(baseline)
        .arg("--out")
        .arg(out);
    for (n, p) in preds {
        c.arg("--pred").arg(format!("{n}={}", p.display()));
    }
    c.args(["--run-id", "test", "--generated-at", "2026-01-01T00:00:00Z"]);
    c
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn samples(dir: &Path) -> Vec<Value> {
    crate::common::sample_rows(dir)
}

/// FASSEG precise labels as gold, rough labels and rough labels eroded by 2 px as arms.
pub(crate) fn fasseg_inputs(d: &Path) {
    for (v, name, erode) in [
        ("V2", "precise", "0"),
        ("V1", "rough", "0"),
        ("V1", "rough_eroded", "2"),
    ] {
        ok(bin()
            .args([
                "convert", "--format", "fasseg", "--corpus", "fasseg", "--erode", erode,
            ])
            .arg("--path")
            .arg(fasseg().join(v))
            .arg("--out")
            .arg(d.join(format!("{name}.ndjson"))));
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn fasseg_gate_exit_codes_follow_the_verdict() {
    let d = tmp("gate");
    fasseg_inputs(&d);
    let (gold, r, e) = (
        d.join("precise.ndjson"),
        d.join("rough.ndjson"),
        d.join("rough_eroded.ndjson"),
    );
    let preds = [("rough", r.as_path()), ("rough_eroded", e.as_path())];
    let gate = |criteria: &str, out: &str| {
        let mut c = compare_cmd(&gold, &preds, "rough", &d.join(out));
        c.arg("--criteria")
            .arg(examples().join("fasseg-gate").join(criteria));
        c.arg("--notes")
            .arg(examples().join("fasseg-gate/notes.json"));
        run(&mut c)
    };
    let nogo = gate("criteria-nogo.toml", "nogo");
    assert_eq!(
        nogo.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&nogo.stderr)
    );
    let md = std::fs::read_to_string(d.join("nogo/report.md")).unwrap();
    let last = md.lines().last().unwrap();
    assert!(
        last.starts_with("recommendation: no-go — failed: no-failure-class-regression: "),
        "{last}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("nogo/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["recommendation"], "no-go");
    assert_eq!(
        report["deciding_criteria"],
        serde_json::json!(["no-failure-class-regression"])
    );
    assert_eq!(report["criteria"].as_array().unwrap().len(), 4);
    let fc_rows = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["group_by"] == "failure_class")
        .count();
    assert!(fc_rows > 0, "metrics keyed by failure class");

    let go = gate("criteria-go.toml", "go");
    assert_eq!(
        go.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&go.stderr)
    );
    let md = std::fs::read_to_string(d.join("go/report.md")).unwrap();
    assert!(md
        .lines()
        .last()
        .unwrap()
        .starts_with("recommendation: go; closest: "));

    // A bad criteria file stops the run before any report is written.
    std::fs::write(
        d.join("bad.toml"),
        "[[criterion]]\nid = \"x\"\narm = \"rough_eroded\"\nmetric = \"iou.mean\"\nclass = \"beard\"\nmin = 1\n",
    )
    .unwrap();
    let mut c = compare_cmd(&gold, &preds, "rough", &d.join("bad"));
    c.arg("--criteria").arg(d.join("bad.toml"));
    fails_with(
        &mut c,
        "bad.toml:2: criterion \"x\": unknown class \"beard\"",
    );
    assert!(!d.join("bad/report.json").exists());
}

#[test]
fn fasseg_reports_are_byte_identical_across_thread_counts() {
    let d = tmp("determinism");
    fasseg_inputs(&d);
    let gold = d.join("precise.ndjson");
    let (r, e) = (d.join("rough.ndjson"), d.join("rough_eroded.ndjson"));
    let preds = [("rough", r.as_path()), ("rough_eroded", e.as_path())];
    ok(compare_cmd(&gold, &preds, "rough", &d.join("t1")).args(["--threads", "1"]));
    ok(compare_cmd(&gold, &preds, "rough", &d.join("t2")).args(["--threads", "2"]));
    for f in ["metrics.csv", "samples.jsonl", "report.json", "report.md"] {
        let a = std::fs::read(d.join("t1").join(f)).unwrap();
        let b = std::fs::read(d.join("t2").join(f)).unwrap();
        assert!(!a.is_empty(), "{f} is empty");
        assert!(a == b, "{f} differs between --threads 1 and 2");
    }
    let lines = samples(&d.join("t1"));
    assert_eq!(lines.len(), 140);
    let keys: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["arm"].as_str().unwrap().into(),
                l["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "samples.jsonl sorted by arm then id");
    // Rough labels vs precise ones: real disagreement, neither perfect nor absent.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("t1/report.json")).unwrap()).unwrap();
    let skin = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["arm"] == "rough" && r["class"] == "skin" && r["group"] == "all")
        .unwrap();
    let iou = skin["iou_mean"].as_f64().unwrap();
    assert!(iou > 0.7 && iou < 0.99, "rough skin IoU {iou}");
    let csv = std::fs::read_to_string(d.join("t1/metrics.csv")).unwrap();
    assert!(csv.starts_with("arm,corpus,group_by,group,class,n,n_empty,iou_mean,iou_median,iou_p10,iou_p90,pass_rate,iou_micro,dice_mean,precision_mean,recall_mean,leakage_mean,coverage_mean,bbox_iou_mean,boundary_iou_mean"));
}

const GOLD: &str = r#"{"id": "a", "source": "lapa", "size": [4, 4], "masks": {"skin": {"polygons": [[0, 0, 3, 0, 3, 3, 0, 3]]}}}
{"id": "b", "source": "internal", "size": [4, 4], "masks": {"skin": {"size": [4, 4], "counts": [0, 8, 8]}, "hair": {"size": [4, 4], "counts": [12, 4]}}}
{"id": "c", "size": [4, 4], "masks": {}}
"#;

#[test]
fn fail_reasons_are_recorded_and_other_samples_survive() {
    let d = tmp("fail_reasons");
    write(&d.join("gold.ndjson"), GOLD);
    // base: perfect on b, a missing; cand: bad RLE on a, wrong size on b, unknown id z.
    write(
        &d.join("base.jsonl"),
        r#"{"id": "b", "masks": {"skin": {"size": [4, 4], "counts": [0, 8, 8]}, "hair": {"size": [4, 4], "counts": [12, 4]}}}
{"id": "c", "masks": {"skin": {"size": [4, 4], "counts": [16]}}}
"#,
    );
    write(
        &d.join("cand.jsonl"),
        r#"{"id": "a", "masks": {"skin": {"size": [4, 4], "counts": "zz"}}}
{"id": "b", "masks": {"skin": {"size": [5, 4], "counts": [0, 20]}}}
{"id": "c", "masks": {"skin": {"size": [4, 4], "counts": [0, 16]}}}
{"id": "z", "masks": {}}
"#,
    );
    let out = d.join("out");
    ok(&mut compare_cmd(
        &d.join("gold.ndjson"),
        &[
            ("base", &d.join("base.jsonl")),
            ("cand", &d.join("cand.jsonl")),
        ],
        "base",
        &out,
    ));
    let lines = samples(&out);
    let get = |arm: &str, id: &str| {
        lines
            .iter()
            .find(|l| l["arm"] == arm && l["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(get("base", "a")["fail_reason"], "PRED_MISSING");
    assert_eq!(get("base", "b")["fail_reason"], Value::Null);
    assert_eq!(get("base", "b")["classes"]["skin"]["iou"], 1.0);
    assert_eq!(get("base", "c")["fail_reason"], "PRED_CLASSES_MISSING");
    assert_eq!(get("cand", "a")["fail_reason"], "PRED_MASK_INVALID");
    assert_eq!(get("cand", "b")["fail_reason"], "SIZE_MISMATCH");
    assert_eq!(get("cand", "b")["classes"]["skin"]["iou"], 0.0);
    // c has no GT: the candidate's full mask is pure leakage, IoU 0, recall undefined.
    let c_skin = &get("cand", "c")["classes"]["skin"];
    assert_eq!(
        (
            c_skin["iou"].as_f64(),
            c_skin["leakage"].as_f64(),
            c_skin["recall"].as_f64()
        ),
        (Some(0.0), Some(1.0), None)
    );
    assert_eq!(get("base", "c")["classes"]["hair"]["iou"], Value::Null);
    // The polygon GT of a: pixels 0..=2 in both axes (right/bottom edges exclusive) = 9 pixels.
    assert_eq!(get("base", "a")["classes"]["skin"]["fn"], 9);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["unmatched_predictions"]["cand"],
        serde_json::json!(["z"])
    );
    assert_eq!(report["schema_version"], 1);
    let groups: Vec<&str> = report["summaries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["arm"] == "base" && !s["group_by"].as_str().unwrap().starts_with("slice:"))
        .map(|s| s["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["all", "internal", "lapa", "unspecified"]);
    let cmp = &report["comparisons"][0];
    assert_eq!(cmp["arm"], "cand");
    assert_eq!(cmp["regressions"][0]["id"], "b");
    assert_eq!(cmp["regressions"][0]["hash"].as_str().unwrap().len(), 20);
}

#[test]
fn grid_rescales_before_scoring() {
    let d = tmp("grid");
    write(
        &d.join("gold.ndjson"),
        r#"{"id": "a", "size": [4, 4], "masks": {"fg": {"size": [4, 4], "counts": [0, 8, 8]}}}
"#,
    );
    // The same left half, predicted at 8×8.
    write(
        &d.join("p.jsonl"),
        r#"{"id": "a", "masks": {"fg": {"size": [8, 8], "counts": [0, 32, 32]}}}
"#,
    );
    let out = d.join("out");
    ok(compare_cmd(
        &d.join("gold.ndjson"),
        &[("p", &d.join("p.jsonl")), ("q", &d.join("p.jsonl"))],
        "p",
        &out,
    )
    .args(["--grid", "16"]));
    let l = &samples(&out)[0];
    assert_eq!(l["fail_reason"], Value::Null);
    assert_eq!(l["classes"]["fg"]["iou"], 1.0);
    assert_eq!(l["classes"]["fg"]["tp"], 128);
    // Without the grid the same inputs are a size mismatch.
    ok(&mut compare_cmd(
        &d.join("gold.ndjson"),
        &[("p", &d.join("p.jsonl")), ("q", &d.join("p.jsonl"))],
        "p",
        &out,
    ));
    assert_eq!(samples(&out)[0]["fail_reason"], "SIZE_MISMATCH");
}

fn fails_with(cmd: &mut Command, needle: &str) {
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "expected exit 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

#[test]
fn malformed_inputs_are_clear_errors() {
    let d = tmp("malformed");
    let p = d.join("p.jsonl");
    write(&p, "");
    let cases = [
        ("json", "{\"id\": \"a\", \"size\": [2, 2], \"masks\": {}}\n{not json}\n", "gold.ndjson:2: invalid JSON"),
        ("rle", "{\"id\": \"a\", \"masks\": {\"x\": {\"size\": [2, 2], \"counts\": [1, 1]}}}\n", "gold.ndjson:1: class \"x\": bad RLE: RLE counts sum to 2"),
        ("dup", "{\"id\": \"a\", \"size\": [2, 2]}\n\n{\"id\": \"a\", \"size\": [2, 2]}\n", "gold.ndjson:3: duplicate id \"a\" (first on line 1)"),
        ("noid", "{\"size\": [2, 2]}\n", "gold.ndjson:1: missing or empty \"id\""),
        ("polysize", "{\"id\": \"a\", \"masks\": {\"x\": {\"polygons\": [[0, 0, 1, 0, 1, 1]]}}}\n", "needs the line's \"size\""),
        ("sizes", "{\"id\": \"a\", \"size\": [3, 2], \"masks\": {\"x\": {\"size\": [2, 2], \"counts\": [4]}}}\n", "class \"x\" is 2x2 but the sample is 3x2"),
    ];
    for (name, text, needle) in cases {
        let dir = d.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir.join("gold.ndjson"), text);
        fails_with(
            &mut compare_cmd(
                &dir.join("gold.ndjson"),
                &[("p", &p), ("q", &p)],
                "p",
                &dir.join("out"),
            ),
            needle,
        );
        assert!(
            !dir.join("out/report.json").exists(),
            "{name}: no report on bad input"
        );
    }
    write(&d.join("gold.ndjson"), GOLD);
    write(&d.join("bad.jsonl"), "{\"id\": \"a\"}\n[1]\n");
    fails_with(
        &mut compare_cmd(
            &d.join("gold.ndjson"),
            &[("p", &d.join("bad.jsonl")), ("q", &p)],
            "p",
            &d.join("o"),
        ),
        "bad.jsonl:2: each line must be a JSON object",
    );
    fails_with(
        &mut compare_cmd(
            &d.join("gold.ndjson"),
            &[("p", &p), ("q", &p)],
            "nope",
            &d.join("o"),
        ),
        "--baseline \"nope\" is not one of the arms",
    );
    fails_with(
        &mut compare_cmd(
            &d.join("missing.ndjson"),
            &[("p", &p), ("q", &p)],
            "p",
            &d.join("o"),
        ),
        "missing.ndjson",
    );
}

/// (group, score) of a single-corpus report's `groups.scores`.
fn group_scores(report: &Value) -> Vec<(String, f64)> {
    let scores = report["groups"]["scores"].as_array().unwrap();
    assert!(scores.iter().all(|s| s["corpus"] == scores[0]["corpus"]));
    scores
        .iter()
        .map(|s| {
            (
                s["group"].as_str().unwrap().to_string(),
                s["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The recommendation rule as the manual states it (docs/src/variants.md), restated here instead of
/// read from maskgate: the highest score wins; scores within 1e-12 of it tie, and a tie goes to the
/// baseline, else to the name that sorts first.
fn expected_group(report: &Value, baseline: &str) -> String {
    let scores = group_scores(report);
    let best = scores.iter().map(|(_, s)| *s).fold(f64::MIN, f64::max);
    let mut tied: Vec<&str> = scores
        .iter()
        .filter(|(_, s)| best - s <= 1e-12)
        .map(|(g, _)| g.as_str())
        .collect();
    tied.sort();
    if tied.contains(&baseline) {
        baseline.to_string()
    } else {
        tied[0].to_string()
    }
}

#[test]
fn fasseg_sweep_recommends_and_renders_identical_galleries() {
    let d = tmp("sweep");
    fasseg_inputs(&d);
    let (gold, r) = (d.join("precise.ndjson"), d.join("rough.ndjson"));
    let variants = examples().join("fasseg-sweep/variants.toml");
    for t in ["1", "2"] {
        let mut c = compare_cmd(
            &gold,
            &[("rough", r.as_path())],
            "rough",
            &d.join(format!("t{t}")),
        );
        c.arg("--variants")
            .arg(&variants)
            .args(["--gallery", "1", "--threads", t]);
        ok(&mut c);
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("t1/report.json")).unwrap()).unwrap();
    assert_eq!(
        report["arms"].as_array().unwrap().len(),
        10,
        "rough + 9 variants"
    );
    let groups = &report["groups"];
    let rec = groups["recommended_group"].as_str().unwrap();
    assert_eq!(group_scores(&report).len(), 10, "one score per group");
    assert_eq!(rec, expected_group(&report, "rough"));
    assert!(groups["rationale"].as_str().unwrap().starts_with(
        "maximize strong_mIoU (+1) and small_mIoU (+1) while penalizing hair_leakage (−0.5)"
    ));
    let gallery = report["gallery"].as_array().unwrap();
    assert!(!gallery.is_empty());
    for e in gallery {
        for k in ["baseline_png", "arm_png", "strip_png"] {
            let rel = e[k].as_str().unwrap();
            let a = std::fs::read(d.join("t1").join(rel)).unwrap();
            assert!(a.starts_with(b"\x89PNG"), "{rel} is a PNG");
            assert!(
                a == std::fs::read(d.join("t2").join(rel)).unwrap(),
                "{rel} differs between runs"
            );
        }
    }
    let md = std::fs::read_to_string(d.join("t1/report.md")).unwrap();
    assert!(
        md.contains("## Group metrics")
            && md.contains("## Recommendation")
            && md.contains(&format!("recommended_group: `{rec}`"))
    );
    for f in ["metrics.csv", "samples.jsonl", "report.json", "report.md"] {
        assert!(
            std::fs::read(d.join("t1").join(f)).unwrap()
                == std::fs::read(d.join("t2").join(f)).unwrap(),
            "{f}"
        );
    }
    // Ties. The sweep's [score] with two unchanged copies of the baseline: all three tie, and
    // the baseline wins over the names that sort before and after it.
    let sweep = std::fs::read_to_string(&variants).unwrap();
    let score = &sweep[sweep.find("[score.class_sets]").unwrap()..];
    let copies = "[[variant]]\nname = \"a_copy\"\nfrom = \"rough\"\nops = []\n\n\
                  [[variant]]\nname = \"z_copy\"\nfrom = \"rough\"\nops = []\n\n";
    write(&d.join("tie.toml"), &format!("{copies}{score}"));
    let mut c = compare_cmd(&gold, &[("rough", r.as_path())], "rough", &d.join("tie"));
    c.arg("--variants").arg(d.join("tie.toml"));
    ok(&mut c);
    let tie: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("tie/report.json")).unwrap()).unwrap();
    let scores = group_scores(&tie);
    assert_eq!(scores.len(), 3);
    assert!(scores.iter().all(|(_, s)| *s == scores[0].1), "{scores:?}");
    assert_eq!(expected_group(&tie, "rough"), "rough");
    assert_eq!(tie["groups"]["recommended_group"], "rough");
    // Two arms equal to the gold (IoU 1, leakage 0: score 2) tie above the baseline: the name
    // that sorts first wins, whatever the order the arms were given in.
    write(&d.join("score.toml"), score);
    let preds = [
        ("rough", r.as_path()),
        ("zeta", gold.as_path()),
        ("alpha", gold.as_path()),
    ];
    let mut c = compare_cmd(&gold, &preds, "rough", &d.join("tie2"));
    c.arg("--variants").arg(d.join("score.toml"));
    ok(&mut c);
    let tie: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("tie2/report.json")).unwrap())
            .unwrap();
    let scores = group_scores(&tie);
    let of = |g: &str| scores.iter().find(|(n, _)| n == g).unwrap().1;
    assert_eq!((of("alpha"), of("zeta")), (2.0, 2.0), "{scores:?}");
    assert!(of("rough") < 2.0);
    assert_eq!(expected_group(&tie, "rough"), "alpha");
    assert_eq!(tie["groups"]["recommended_group"], "alpha");

    // A variant naming an unknown class, or a source that is not an arm, stops before any work.
    std::fs::write(d.join("bad.toml"), "[[variant]]\nname = \"v\"\nfrom = \"rough\"\nops = [{op = \"dilate\", class = \"beard\", px = 1}]\n").unwrap();
    let mut c = compare_cmd(&gold, &[("rough", r.as_path())], "rough", &d.join("bad"));
    c.arg("--variants").arg(d.join("bad.toml"));
    fails_with(&mut c, "unknown class \"beard\"");
    std::fs::write(
        d.join("bad2.toml"),
        "[[variant]]\nname = \"v\"\nfrom = \"nope\"\nops = []\n",
    )
    .unwrap();
    let mut c = compare_cmd(&gold, &[("rough", r.as_path())], "rough", &d.join("bad"));
    c.arg("--variants").arg(d.join("bad2.toml"));
    fails_with(&mut c, "neither an arm nor an earlier variant");
}

#[test]
fn inspect_counts_class_pixels_and_reports_problems() {
    let d = tmp("inspect");
    write(&d.join("gold.ndjson"), GOLD);
    write(
        &d.join("c.toml"),
        "[[corpus]]\nname = \"g\"\nformat = \"gold-ndjson\"\npath = \"gold.ndjson\"\n",
    );
    let out = ok(bin().arg("inspect").arg(d.join("c.toml")).arg("--json"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["corpora"][0];
    assert_eq!(c["samples"], 3);
    // skin: 9 px (polygon 0..=2 squared) + 8 px (RLE) = 17 of 3 × 16 pixels; hair: 4.
    assert_eq!(c["classes"]["skin"]["pixels"], 17);
    assert_eq!(c["classes"]["skin"]["share"].as_f64().unwrap(), 17.0 / 48.0);
    assert_eq!(c["classes"]["hair"]["pixels"], 4);
    assert_eq!(c["sizes"]["4x4"], 3);
    // A FASSEG folder with a label missing: recorded as a problem, the rest still loads.
    let root = d.join("fasseg");
    for sub in ["Test_RGB", "Test_Labels"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for f in ["1.bmp", "2.bmp"] {
        std::fs::copy(
            fasseg().join("V2/Test_RGB").join(f),
            root.join("Test_RGB").join(f),
        )
        .unwrap();
    }
    std::fs::copy(
        fasseg().join("V2/Test_Labels/1.bmp"),
        root.join("Test_Labels/1.bmp"),
    )
    .unwrap();
    write(
        &d.join("f.toml"),
        "[[corpus]]\nname = \"f\"\nformat = \"fasseg\"\npath = \"fasseg\"\n",
    );
    let out = ok(bin().arg("inspect").arg(d.join("f.toml")).arg("--json"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["corpora"][0]["samples"], 1);
    assert_eq!(v["corpora"][0]["problems"][0]["sample"], "Test/2");
    assert_eq!(v["corpora"][0]["problems"][0]["kind"], "missing_label");
    // Face modules drawn on the photo: one PNG per loaded sample, photo-sized, same bytes twice.
    write(
        &d.join("m.toml"),
        "[[corpus]]\nname = \"m\"\nformat = \"fasseg\"\npath = \"fasseg\"\n\
         classes = { skin = [\"skin\", \"nose\"], eyes = [\"eyes\"] }\n[corpus.modules]\n",
    );
    let png = |dir: &str| {
        ok(bin()
            .arg("inspect")
            .arg(d.join("m.toml"))
            .arg("--overlays")
            .arg(d.join(dir)));
        // Ids with characters outside [A-Za-z0-9_-] get a hash of the id in the file name, so
        // `Test/1` and `Test_1` never share a picture.
        let names: Vec<String> = std::fs::read_dir(d.join(dir).join("m"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let one: Vec<&String> = names.iter().filter(|n| n.starts_with("Test_1-")).collect();
        assert_eq!(one.len(), 1, "{names:?}");
        std::fs::read(d.join(dir).join("m").join(one[0])).unwrap()
    };
    let (a, b) = (png("ov1"), png("ov2"));
    assert_eq!(a, b);
    let img = image::load_from_memory(&a).unwrap();
    assert_eq!((img.width(), img.height()), (354, 512));
    assert!(
        !std::fs::read_dir(d.join("ov1/m")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("Test_2-")),
        "a sample with a problem has no overlay"
    );
}

/// Ground truth from a config's [[corpus]] (here the real VOC examples, void 255 included)
/// instead of gold NDJSON: predictions that add exactly the void pixels score as perfect.
#[test]
fn compare_reads_ground_truth_from_a_config_corpus() {
    let voc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/data/voc");
    assert!(voc.is_dir(), "run scripts/setup.sh first (vendor/data)");
    let d = tmp("config-corpus");
    let cfg = d.join("maskgate.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[corpus]]\nname = \"voc\"\nformat = \"voc\"\npath = {:?}\nclasses = {{ person = [\"person\"] }}\n\n\
             [[corpus]]\nname = \"other\"\nformat = \"voc\"\npath = {:?}\n",
            voc.display().to_string(),
            voc.display().to_string()
        ),
    )
    .unwrap();
    // "exact": the person masks as VOC has them; "plus_void": person ∪ void (255) pixels.
    let corpus =
        maskgate::read::read_corpus(&maskgate::config::load_corpora(&cfg).unwrap()[1]).unwrap();
    let (mut exact, mut plus_void) = (String::new(), String::new());
    for e in &corpus.samples {
        let s = corpus.load(e).unwrap();
        let person = s.gt["person"].rasterize(None).unwrap();
        let mut with_void = person.clone();
        if let Some(v) = &s.void {
            with_void.union_in_place(&v.rasterize(None).unwrap());
        }
        for (text, m) in [(&mut exact, &person), (&mut plus_void, &with_void)] {
            let rle = maskgate_core::Rle::encode(m);
            text.push_str(&format!(
                "{{\"id\": {:?}, \"masks\": {{\"person\": {{\"size\": [{}, {}], \"counts\": {:?}}}}}}}\n",
                s.id, rle.h, rle.w, rle.to_compressed()
            ));
        }
    }
    std::fs::write(d.join("exact.jsonl"), exact).unwrap();
    std::fs::write(d.join("plus_void.jsonl"), plus_void).unwrap();
    let out = d.join("out");
    let mut c = bin();
    c.args(["compare", "--config"])
        .arg(&cfg)
        .args(["--corpus", "voc"]);
    c.arg("--pred")
        .arg(format!("exact={}", d.join("exact.jsonl").display()));
    c.arg("--pred")
        .arg(format!("plus_void={}", d.join("plus_void.jsonl").display()));
    c.args(["--baseline", "exact", "--bootstrap", "0", "--out"])
        .arg(&out);
    ok(&mut c);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["corpora"][0]["format"], "voc");
    assert_eq!(report["corpora"][0]["samples"], 3);
    let lines = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let mut plus_void_fp = 0;
    for line in lines.lines() {
        let s: Value = serde_json::from_str(line).unwrap();
        let iou = &s["classes"]["person"]["iou"];
        // 2011_000025 has no person: an empty GT matched by an empty prediction.
        assert!(iou.is_null() || iou.as_f64() == Some(1.0), "{s}");
        if s["arm"] == "plus_void" {
            plus_void_fp += s["classes"]["person"]["fp"].as_u64().unwrap();
        }
    }
    assert_eq!(
        plus_void_fp, 0,
        "void pixels must not count as false positives"
    );
    // A config with several corpora needs --corpus; an unknown name lists the known ones.
    let mut c = bin();
    c.args(["compare", "--config"]).arg(&cfg);
    c.arg("--pred")
        .arg(format!("exact={}", d.join("exact.jsonl").display()));
    c.arg("--pred")
        .arg(format!("b={}", d.join("exact.jsonl").display()));
    c.args(["--baseline", "exact", "--out"]).arg(d.join("x"));
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pick one with --corpus"));
}

/// A corpus's listing problems name samples `limit` may leave out of the run: only the samples
/// the run took count towards an arm's failed share.
#[test]
fn listing_problems_outside_the_sampled_slice_are_no_failures() {
    let d = tmp("limit-listing-problems");
    let corpus = d.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    // Every photo lies outside the gold file's folder: a listing problem on each of 8 samples,
    // each still scored (a prediction file needs no photo).
    write(&d.join("outside.bmp"), "never read");
    let gold: String = (0..8)
        .map(|i| format!("{{\"id\": \"s{i}\", \"image\": \"../outside.bmp\", \"size\": [2, 2], \"masks\": {{\"fg\": {{\"size\": [2, 2], \"counts\": [0, 4]}}}}}}\n"))
        .collect();
    let gold_path = corpus.join("gold.ndjson");
    write(&gold_path, &gold);
    let cfg = d.join("maskgate.toml");
    write(
        &cfg,
        "[[corpus]]\nname = \"g\"\nformat = \"gold-ndjson\"\npath = \"corpus/gold.ndjson\"\nlimit = 2\n",
    );
    let mut c = bin();
    c.args(["compare", "--config"]).arg(&cfg);
    for arm in ["a", "b"] {
        c.arg("--pred")
            .arg(format!("{arm}={}", gold_path.display()));
    }
    c.args(["--baseline", "a", "--bootstrap", "0", "--out"])
        .arg(d.join("out"));
    let out = ok(&mut c);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("samples failed"), "{stderr}");
    assert!(!stderr.contains("scored no sample"), "{stderr}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(report["corpora"][0]["samples"], 2);
    // The report still lists every listing problem, the left-out samples' too.
    assert_eq!(
        report["corpora"][0]["problems"].as_array().unwrap().len(),
        8
    );
}

/// The skin-module A/B of examples/skin-modules on the real FASSEG faces: module classes,
/// region overlaps per sample and as means, an overlap term in the composite score, and the
/// same bytes at any thread count.
#[test]
fn skin_modules_overlaps_and_variants_on_fasseg() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let variants = root.join("examples/skin-modules/variants.toml");
    let d = tmp("skin-modules");
    // The example's config, with its data paths pointed at $MASKGATE_SHARED.
    let text = std::fs::read_to_string(root.join("examples/skin-modules/maskgate.toml")).unwrap();
    let shared = crate::common::shared().display().to_string();
    let cfg = d.join("maskgate.toml");
    std::fs::write(&cfg, text.replace("../../../shared", &shared)).unwrap();
    let rough = d.join("rough.ndjson");
    ok(bin()
        .args(["convert", "--config"])
        .arg(&cfg)
        .args(["--corpus", "fasseg-rough", "--out"])
        .arg(&rough));
    let run_with = |threads: &str| {
        let out = d.join(format!("out{threads}"));
        ok(bin()
            .args(["compare", "--config"])
            .arg(&cfg)
            .args(["--corpus", "fasseg"])
            .arg("--pred")
            .arg(format!("rough={}", rough.display()))
            .args(["--baseline", "rough", "--variants"])
            .arg(&variants)
            .args(["--gallery", "0", "--bootstrap", "200", "--threads", threads])
            .args([
                "--run-id",
                "t",
                "--generated-at",
                "2026-01-01T00:00:00Z",
                "--out",
            ])
            .arg(&out));
        out
    };
    let (a, b) = (run_with("1"), run_with("2"));
    for f in ["samples.jsonl", "report.json", "metrics.csv", "report.md"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("report.json")).unwrap()).unwrap();
    let classes = report["corpora"][0]["classes"].as_array().unwrap();
    for m in ["forehead", "chin", "under_eye_left", "left_cheek"] {
        assert!(classes.iter().any(|c| c == m), "{m} missing");
    }
    let overlap = |arm: &str, m: &str| {
        report["overlaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["arm"] == arm && o["measure"] == m)
            .and_then(|o| o["mean"].as_f64())
            .unwrap()
    };
    // Clipping the forehead by the arm's own hair takes most of it off the GT hair.
    let (base, clip) = (
        overlap("rough", "forehead_hair_overlap"),
        overlap("variant1_forehead_hair_clip", "forehead_hair_overlap"),
    );
    assert!(base > 0.01 && clip < base / 2.0, "{base} {clip}");
    let groups = &report["groups"];
    assert!(groups["recommended_group"].is_string(), "{groups}");
    // The locked criteria: the clip takes the forehead off the hair (two overlap criteria
    // pass) but costs the forehead's own IoU, which decides a no-go (exit 1).
    let out = d.join("gate");
    let status = run(bin()
        .args(["compare", "--config"])
        .arg(&cfg)
        .args(["--corpus", "fasseg"])
        .arg("--pred")
        .arg(format!("rough={}", rough.display()))
        .args(["--baseline", "rough", "--variants"])
        .arg(&variants)
        .arg("--criteria")
        .arg(root.join("examples/skin-modules/criteria.toml"))
        .args(["--gallery", "0", "--bootstrap", "200", "--out"])
        .arg(&out))
    .status;
    assert_eq!(status.code(), Some(1));
    let gate: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(gate["recommendation"], "no-go");
    assert_eq!(
        gate["deciding_criteria"],
        serde_json::json!(["no-module-regression"])
    );
    let status_of = |id: &str| {
        gate["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].clone())
            .unwrap()
    };
    assert_eq!(status_of("forehead-off-the-hair"), "pass");
    assert_eq!(status_of("hair-overlap-not-worse"), "pass");
    // Every sample line carries its overlaps.
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(a.join("samples.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        first["overlaps"]["under_eye_leak_bg"].is_number(),
        "{first}"
    );
}
