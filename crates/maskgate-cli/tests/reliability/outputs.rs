//! The reliability suite: each hostile input found by the trust probe, replayed under a memory
//! cap (`ulimit -v`), one test per row of the table. Every case asserts the exit status, the
//! fail reason or error text, no panic (101) or abort (134), and, where one sample is bad, that
//! every other sample's line in `samples.jsonl` is byte-identical to a clean run's.

use crate::shared::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reliability-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `maskgate ARGS` under the memory cap, with pinned run metadata.
fn capped(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_maskgate"))
        .args(args)
        .env("MASKGATE_RUN_ID", "r")
        .env("MASKGATE_GENERATED_AT", "2026-01-01T00:00:00Z")
        .output()
        .unwrap()
}

/// Every line not about `bad_id` is the same in both runs.
fn others_identical(clean: &Path, dirty: &Path, bad_id: &str) {
    let keep = |rows: Vec<(String, String, String)>| -> Vec<String> {
        rows.into_iter()
            .filter(|(_, id, _)| id != bad_id)
            .map(|(_, _, l)| l)
            .collect()
    };
    let (a, b) = (keep(samples(clean)), keep(samples(dirty)));
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

/// Predictions for `a`, `b`, `c`; `b`'s mask is `b_mask`.
fn preds(d: &Path, name: &str, b_mask: &str) -> PathBuf {
    let f = d.join(name);
    write(
        &f,
        &format!(
            "{{\"id\": \"a\", \"masks\": {{\"fg\": {RLE_2X2_FULL}}}}}\n\
             {{\"id\": \"b\", \"size\": [2, 2], \"masks\": {{\"fg\": {b_mask}}}}}\n\
             {{\"id\": \"c\", \"masks\": {{\"fg\": {{\"size\": [2, 2], \"counts\": [2, 2]}}}}}}\n"
        ),
    );
    f
}

fn compare(gold: &Path, base: &Path, cand: &Path, out: &Path, extra: &[&str]) -> Output {
    let base_arg = format!("base={}", p(base));
    let cand_arg = format!("cand={}", p(cand));
    let mut args = vec![
        "compare",
        "--gold",
        p(gold),
        "--pred",
        &base_arg,
        "--pred",
        &cand_arg,
        "--baseline",
        "base",
        "--out",
        p(out),
        "--bootstrap",
        "50",
    ];
    args.extend_from_slice(extra);
    capped(&args)
}

#[test]
fn row01_polygon_vertex_at_1e12_is_cheap_and_the_rest_identical() {
    let d = tmp("row01");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let clean = preds(&d, "clean.jsonl", r#"{"polygons": [[0, 0, 1, 0, 1, 1]]}"#);
    let far = preds(
        &d,
        "far.jsonl",
        r#"{"polygons": [[0, 0, 1e12, 0, 1, 1e12], [0, 0, 1e7, 1, 1, 1e7]]}"#,
    );
    let t0 = std::time::Instant::now();
    let o = compare(&g, &base, &far, &d.join("far"), &[]);
    expect_status(&o, 0);
    assert!(t0.elapsed().as_secs() < 60);
    expect_status(&compare(&g, &base, &clean, &d.join("clean"), &[]), 0);
    others_identical(&d.join("clean"), &d.join("far"), "b");
    // The far triangle covers the whole 2×2 canvas: its IoU with the full GT is 1.
    let rows = samples(&d.join("far"));
    assert_eq!(sample(&rows, "cand", "b")["classes"]["fg"]["iou"], 1.0);
}

#[test]
fn row02_gold_size_65536_square_is_a_sample_problem() {
    let d = tmp("row02");
    let g = gold(&d);
    let mut text = std::fs::read_to_string(&g).unwrap();
    text += r#"{"id": "huge", "size": [65536, 65536], "masks": {"fg": {"polygons": [[0, 0, 65535, 0, 0, 65535]]}}}"#;
    text += "\n";
    let huge = d.join("huge.ndjson");
    write(&huge, &text);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let o = compare(&huge, &base, &base, &d.join("out"), &["--corpus", "gold"]);
    expect_status(&o, 0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let problems = report["corpora"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["sample"], "huge");
    assert_eq!(problems[0]["kind"], "mask_too_large");
    assert_eq!(report["corpora"][0]["samples"], 3);
    expect_status(&compare(&g, &base, &base, &d.join("clean"), &[]), 0);
    others_identical(&d.join("clean"), &d.join("out"), "huge");
}

/// A run config scoring the MediaPipe selfie model on the photos of `gold`.
fn selfie_config(d: &Path, gold: &Path, extra_arm: &str) -> PathBuf {
    let model = crate::common::shared()
        .join("models/mediapipe_selfie_segmentation_256.onnx")
        .canonicalize()
        .expect("shared models");
    let cfg = d.join("run.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 50\ngallery = 0\ncache = \"cache\"\n\
             [[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"{}\"\n\
             [[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"fg\"\n\
             [[arm]]\nname = \"other\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"fg\"\nthreshold = 0.3\n{extra_arm}",
            p(gold),
            m = p(&model)
        ),
    );
    cfg
}

/// A gold file of 32×32 samples with the given image paths.
fn photo_gold(d: &Path, images: &[(&str, &str)]) -> PathBuf {
    let full = r#"{"size": [32, 32], "counts": [0, 1024]}"#;
    let lines: Vec<String> = images
        .iter()
        .map(|(id, img)| {
            format!(
                r#"{{"id": "{id}", "image": "{img}", "size": [32, 32], "masks": {{"fg": {full}}}}}"#
            )
        })
        .collect();
    let g = d.join("gold.ndjson");
    write(&g, &(lines.join("\n") + "\n"));
    g
}

/// A PNG whose header claims `w × h` with one tiny, invalid IDAT: 100 bytes that would ask a
/// naive decoder for gigabytes.
fn png_bomb(path: &Path, w: u32, h: u32) {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend(&c);
        out.extend(crc32(&c).to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    std::fs::write(path, out).unwrap();
}

fn run_config(cfg: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", p(cfg), "--out", p(out)];
    args.extend_from_slice(extra);
    capped(&args)
}

#[test]
fn row03_png_claiming_60000_square_is_image_too_large() {
    let d = tmp("row03");
    png_32(&d.join("ok1.png"));
    png_32(&d.join("ok2.png"));
    png_bomb(&d.join("bomb.png"), 60_000, 60_000);
    let g = photo_gold(&d, &[("a", "ok1.png"), ("b", "bomb.png"), ("c", "ok2.png")]);
    let cfg = selfie_config(&d, &g, "");
    let o = run_config(&cfg, &d.join("out"), &["--no-cache"]);
    expect_status(&o, 0);
    let rows = samples(&d.join("out"));
    assert_eq!(
        sample(&rows, "selfie", "b")["fail_reason"],
        "IMAGE_TOO_LARGE"
    );
    assert!(sample(&rows, "selfie", "b")["fail_detail"]
        .as_str()
        .unwrap()
        .contains("60000x60000"));
    // The clean run: the bomb replaced by a normal photo.
    let g2 = d.join("clean.ndjson");
    write(
        &g2,
        &std::fs::read_to_string(&g)
            .unwrap()
            .replace("bomb.png", "ok1.png"),
    );
    let cfg2 = selfie_config(&d, &g2, "");
    expect_status(&run_config(&cfg2, &d.join("clean"), &["--no-cache"]), 0);
    others_identical(&d.join("clean"), &d.join("out"), "b");
}

#[test]
fn row04_dev_zero_image_is_refused_not_read() {
    let d = tmp("row04");
    png_32(&d.join("ok.png"));
    png_32(&d.parent().unwrap().join("row04-escape.png"));
    let g = photo_gold(
        &d,
        &[
            ("a", "ok.png"),
            ("b", "/dev/zero"),
            ("c", "../row04-escape.png"),
        ],
    );
    let cfg = selfie_config(&d, &g, "");
    let t0 = std::time::Instant::now();
    let o = run_config(&cfg, &d.join("out"), &["--no-cache"]);
    expect_status(&o, 0);
    assert!(t0.elapsed().as_secs() < 60);
    // By default photos must lie beside the gold file: neither outside one is read.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let problems = report["corpora"][0]["problems"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p["sample"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("b", "image_outside_root"), ("c", "image_outside_root")]
    );
    let rows = samples(&d.join("out"));
    for id in ["b", "c"] {
        assert_eq!(
            sample(&rows, "selfie", id)["fail_reason"],
            "IMAGE_UNREADABLE"
        );
    }
    assert_eq!(sample(&rows, "selfie", "a")["fail_reason"], Value::Null);
    // With the whole file system allowed, /dev/zero is still not read: not a regular file.
    let text = std::fs::read_to_string(&cfg).unwrap();
    write(
        &cfg,
        &format!("{text}[corpus.options]\nimage_root = \"/\"\n"),
    );
    let o = run_config(&cfg, &d.join("out2"), &["--no-cache"]);
    expect_status(&o, 0);
    let rows = samples(&d.join("out2"));
    let b = sample(&rows, "selfie", "b");
    assert!(
        b["fail_detail"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{b}"
    );
    assert_eq!(sample(&rows, "selfie", "c")["fail_reason"], Value::Null);
}

#[test]
fn row05_symlinks_to_dev_zero_and_folder_loops_do_not_hang_the_fingerprint() {
    let d = tmp("row05");
    png_32(&d.join("ok.png"));
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.png")).unwrap();
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("sub/loop")).unwrap();
    let g = photo_gold(&d, &[("a", "ok.png"), ("b", "zero.png")]);
    let cfg = selfie_config(&d, &g, "");
    let t0 = std::time::Instant::now();
    let o = run_config(&cfg, &d.join("out"), &["--no-cache"]);
    expect_status(&o, 0);
    assert!(t0.elapsed().as_secs() < 60);
    let rows = samples(&d.join("out"));
    assert_eq!(
        sample(&rows, "selfie", "b")["fail_reason"],
        "IMAGE_UNREADABLE"
    );
    assert_eq!(sample(&rows, "selfie", "a")["fail_reason"], Value::Null);
}

#[test]
fn row06_truncated_jpeg_is_never_scored() {
    let d = tmp("row06");
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, 120])
    });
    img.save(d.join("whole.jpg")).unwrap();
    let bytes = std::fs::read(d.join("whole.jpg")).unwrap();
    std::fs::write(d.join("cut.jpg"), &bytes[..bytes.len() * 2 / 5]).unwrap();
    let full = r#"{"size": [64, 64], "counts": [0, 4096]}"#;
    let g = d.join("gold.ndjson");
    write(
        &g,
        &format!(
            "{{\"id\": \"a\", \"image\": \"whole.jpg\", \"size\": [64, 64], \"masks\": {{\"fg\": {full}}}}}\n\
             {{\"id\": \"b\", \"image\": \"cut.jpg\", \"size\": [64, 64], \"masks\": {{\"fg\": {full}}}}}\n"
        ),
    );
    let cfg = selfie_config(&d, &g, "");
    expect_status(&run_config(&cfg, &d.join("out"), &["--no-cache"]), 0);
    let rows = samples(&d.join("out"));
    assert_eq!(
        sample(&rows, "selfie", "b")["fail_reason"],
        "IMAGE_TRUNCATED"
    );
    assert_eq!(sample(&rows, "selfie", "a")["fail_reason"], Value::Null);
}

#[test]
fn row07_arm_class_outside_the_corpus_and_the_cache_key_names_the_class() {
    let d = tmp("row07");
    png_32(&d.join("ok.png"));
    let g = photo_gold(&d, &[("a", "ok.png")]);
    let cfg = selfie_config(&d, &g, "");
    // Warm the cache for class fg.
    expect_status(&run_config(&cfg, &d.join("warm"), &[]), 0);
    let text = std::fs::read_to_string(&cfg).unwrap();
    write(
        &cfg,
        &text.replacen("class = \"fg\"", "class = \"nope\"", 1),
    );
    let o = run_config(&cfg, &d.join("out"), &[]);
    expect_status(&o, 2);
    assert!(
        stderr(&o).contains("arm \"selfie\": class \"nope\" is not a class of corpus \"k\""),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("out/report.json").exists());
    // Another class of the corpus must not be served the fg entry: it is a cache miss.
    let g2 = d.join("gold.ndjson");
    let two = std::fs::read_to_string(&g2).unwrap().replace(
        r#""masks": {"fg": "#,
        r#""masks": {"fg2": {"size": [32, 32], "counts": [1024]}, "fg": "#,
    );
    write(&g2, &two);
    write(&cfg, &text.replacen("class = \"fg\"", "class = \"fg2\"", 1));
    let o = run_config(&cfg, &d.join("out2"), &[]);
    expect_status(&o, 0);
    assert!(
        stderr(&o).contains("arm selfie: 1 inferences"),
        "the fg2 arm was served from fg's cache entry: {}",
        stderr(&o)
    );
}

#[test]
fn row08_cr_and_markup_in_run_id_and_names_are_escaped() {
    let d = tmp("row08");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let o = compare(
        &g,
        &base,
        &base,
        &d.join("out"),
        &[
            "--run-id",
            "x\r<img src=x onerror=alert(1)>",
            "--generated-at",
            "t\r\n## <h2>x</h2>",
            "--corpus",
            "k\r<b>",
        ],
    );
    expect_status(&o, 0);
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(!md.contains('\r'));
    assert!(!md.contains("<img") && !md.contains("<h2>") && !md.contains("<b>"));
    assert!(!md.lines().any(|l| l.starts_with("## &lt;h2")));
}

#[test]
fn row10_two_runs_sharing_out_both_finish_with_whole_files() {
    let d = tmp("row10");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let bin = env!("CARGO_BIN_EXE_maskgate");
    let spawn = || {
        Command::new(bin)
            .args(["compare", "--gold", p(&g)])
            .arg(format!("--pred=base={}", p(&base)))
            .arg(format!("--pred=cand={}", p(&base)))
            .args([
                "--baseline",
                "base",
                "--bootstrap",
                "2000",
                "--out",
                p(&d.join("out")),
            ])
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    expect_status(&a, 0);
    expect_status(&b, 0);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
    let leftovers: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn row11_huge_bootstrap_counts_are_refused_before_work() {
    let d = tmp("row11");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let arm = format!("base={}", p(&base));
    let out = d.join("out");
    for n in ["18446744073709551615", "2000000000"] {
        let o = capped(&[
            "compare",
            "--gold",
            p(&g),
            "--pred",
            &arm,
            "--baseline",
            "base",
            "--out",
            p(&out),
            "--bootstrap",
            n,
        ]);
        expect_status(&o, 2);
        assert!(
            stderr(&o).contains("exceed the limit of 100000"),
            "{}",
            stderr(&o)
        );
    }
    let criteria = d.join("c.toml");
    write(&criteria, "[bootstrap]\nresamples = 2000000000\n");
    let args = [
        "compare",
        "--gold",
        p(&g),
        "--pred",
        &format!("base={}", p(&base)),
        "--baseline",
        "base",
        "--criteria",
        p(&criteria),
        "--out",
        p(&out),
    ];
    let o = capped(&args);
    expect_status(&o, 2);
    assert!(stderr(&o).contains("exceed the limit"), "{}", stderr(&o));
    assert!(!d.join("out/report.json").exists());
}

#[test]
fn row12_grid_zero_and_60000_are_refused_by_one_rule() {
    let d = tmp("row12");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    for (grid, needle) in [
        ("0", "grid must be at least 1"),
        ("60000", "exceeds the limit of 16384"),
    ] {
        let o = compare(&g, &base, &base, &d.join("cli"), &["--grid", grid]);
        expect_status(&o, 2);
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        let cfg = d.join(format!("g{grid}.toml"));
        write(
            &cfg,
            &format!(
                "[run]\nbaseline = \"base\"\ngrid = {grid}\n[[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"{}\"\n\
                 [[arm]]\nname = \"base\"\npredictions = \"{b}\"\n[[arm]]\nname = \"cand\"\npredictions = \"{b}\"\n",
                p(&g),
                b = p(&base)
            ),
        );
        let o = run_config(&cfg, &d.join("cfg"), &[]);
        expect_status(&o, 2);
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

#[test]
fn row13_non_finite_criterion_bounds_are_refused() {
    let d = tmp("row13");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    for rule in ["min = nan", "min = -inf", "max_drop = inf"] {
        let criteria = d.join("c.toml");
        write(
            &criteria,
            &format!("[[criterion]]\nid = \"c\"\narm = \"cand\"\nmetric = \"iou.mean\"\n{rule}\n"),
        );
        let o = compare(
            &g,
            &base,
            &base,
            &d.join("out"),
            &["--criteria", p(&criteria)],
        );
        expect_status(&o, 2);
        assert!(
            stderr(&o).contains("the bound must be a finite number"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn row14_empty_and_colliding_arm_names_and_a_bad_out() {
    let d = tmp("row14");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let half = preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    let empty = format!("={}", p(&base));
    let o = capped(&[
        "compare",
        "--gold",
        p(&g),
        "--pred",
        &empty,
        "--baseline",
        "",
        "--out",
        p(&d.join("o")),
    ]);
    expect_status(&o, 2);
    // v1.0 and v1_0 get distinct gallery files.
    let (a1, a2) = (format!("v1.0={}", p(&base)), format!("v1_0={}", p(&half)));
    let o = capped(&[
        "compare",
        "--gold",
        p(&g),
        "--pred",
        &a1,
        "--pred",
        &a2,
        "--baseline",
        "v1.0",
        "--out",
        p(&d.join("gal")),
        "--gallery",
        "1",
    ]);
    expect_status(&o, 0);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("gal/report.json")).unwrap()).unwrap();
    for e in v["gallery"].as_array().unwrap() {
        assert_ne!(e["baseline_png"], e["arm_png"]);
    }
    // An --out that is a file is refused before any work.
    write(&d.join("a-file"), "x");
    let o = compare(&g, &base, &half, &d.join("a-file"), &[]);
    expect_status(&o, 2);
    assert!(stderr(&o).contains("a-file"), "{}", stderr(&o));
}

#[test]
fn row15_masks_of_different_sizes_in_one_prediction_with_a_variant() {
    let d = tmp("row15");
    let g = d.join("gold.ndjson");
    let two = r#""masks": {"skin": {"size": [2, 2], "counts": [0, 4]}, "hair": {"size": [2, 2], "counts": [4]}}"#;
    write(
        &g,
        &format!("{{\"id\": \"a\", \"size\": [2, 2], {two}}}\n{{\"id\": \"b\", \"size\": [2, 2], {two}}}\n"),
    );
    let base = d.join("base.jsonl");
    write(
        &base,
        &format!(
            "{{\"id\": \"a\", {two}}}\n{{\"id\": \"b\", \"masks\": {{\"skin\": {{\"size\": [2, 2], \"counts\": [0, 4]}}, \"hair\": {{\"size\": [3, 3], \"counts\": [9]}}}}}}\n"
        ),
    );
    let variants = d.join("v.toml");
    write(
        &variants,
        "[[variant]]\nname = \"clip\"\nfrom = \"base\"\nops = [{ op = \"remove_overlap\", class = \"skin\", other = \"hair\", px = 1, min_kept_share = 0.0 }]\n",
    );
    let arg = format!("base={}", p(&base));
    let o = capped(&[
        "compare",
        "--gold",
        p(&g),
        "--pred",
        &arg,
        "--baseline",
        "base",
        "--variants",
        p(&variants),
        "--out",
        p(&d.join("out")),
        "--bootstrap",
        "20",
    ]);
    expect_status(&o, 0);
    let rows = samples(&d.join("out"));
    assert_eq!(sample(&rows, "base", "b")["fail_reason"], "SIZE_MISMATCH");
    assert_eq!(sample(&rows, "clip", "b")["fail_reason"], "SIZE_MISMATCH");
    assert_eq!(sample(&rows, "base", "a")["fail_reason"], Value::Null);
}

#[test]
fn row16_invalid_masks_say_which_class_and_why_and_old_gallery_pictures_go() {
    let d = tmp("row16");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let bad = preds(&d, "bad.jsonl", r#"{"size": [2, 2], "counts": "!!"}"#);
    std::fs::create_dir_all(d.join("out/gallery/old")).unwrap();
    write(&d.join("out/gallery/old/stale.png"), "old");
    let o = compare(&g, &base, &bad, &d.join("out"), &["--gallery", "1"]);
    expect_status(&o, 0);
    let rows = samples(&d.join("out"));
    let b = sample(&rows, "cand", "b");
    assert_eq!(b["fail_reason"], "PRED_MASK_INVALID");
    let detail = b["fail_detail"].as_str().unwrap();
    assert!(detail.contains("class \"fg\""), "{detail}");
    assert!(!d.join("out/gallery/old/stale.png").exists());
    // No temporary files are left beside the reports.
    let tmp_files: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".maskgate-"))
        .collect();
    assert!(tmp_files.is_empty(), "{tmp_files:?}");
}

#[test]
fn row09_sigkill_at_any_moment_leaves_one_whole_set() {
    let d = tmp("row09");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let half = preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    let out = d.join("out");
    let run = |cand: &Path, id: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_maskgate"));
        c.args(["compare", "--gold", p(&g)])
            .arg(format!("--pred=base={}", p(&base)))
            .arg(format!("--pred=cand={}", p(cand)))
            .args([
                "--baseline",
                "base",
                "--bootstrap",
                "20000",
                "--out",
                p(&out),
            ])
            .args(["--run-id", id, "--generated-at", "t"]);
        c
    };
    // The two sets, each complete: metrics differ between them.
    assert!(run(&base, "old").status().unwrap().success());
    let old_metrics = std::fs::read(out.join("metrics.csv")).unwrap();
    let fresh = d.join("fresh");
    let c = run(&half, "new");
    let args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let fresh_args: Vec<String> = args
        .iter()
        .map(|a| {
            if a == p(&out) {
                p(&fresh).to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    assert!(Command::new(env!("CARGO_BIN_EXE_maskgate"))
        .args(&fresh_args)
        .status()
        .unwrap()
        .success());
    let new_metrics = std::fs::read(fresh.join("metrics.csv")).unwrap();
    assert_ne!(old_metrics, new_metrics);
    for delay_ms in [5u64, 20, 40, 80, 120, 200, 400] {
        // Back to the old set, then a new run killed after `delay_ms`.
        assert!(run(&base, "old").status().unwrap().success());
        let mut child = run(&half, "new").spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // The manifest is the commit point: a kill between a set's renames leaves files the
        // manifest does not name, which a reader detects; anything else is one whole set.
        if !manifest_matches(&out) {
            eprintln!("{delay_ms} ms: killed inside a commit; the manifest tells");
            continue;
        }
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        let metrics = std::fs::read(out.join("metrics.csv")).unwrap();
        let id = json["run"]["run_id"].as_str().unwrap().to_string();
        assert!(
            md.contains(&format!("- run_id: `{id}`")),
            "{delay_ms} ms: mixed set"
        );
        let expected = if id == "old" {
            &old_metrics
        } else {
            &new_metrics
        };
        assert_eq!(
            &metrics, expected,
            "{delay_ms} ms: metrics.csv from another set than {id}"
        );
    }
    // A killed run may leave its staging folder; the next run removes it.
    assert!(run(&base, "old").status().unwrap().success());
    let strays: Vec<String> = names_in(&out)
        .into_iter()
        .filter(|n| n.starts_with(".maskgate-"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
    assert!(manifest_matches(&out));
}

#[test]
fn row03_label_images_claiming_60000_square_are_refused_before_decoding() {
    let d = tmp("row03-labels");
    // VOC: an index PNG whose header claims 60000×60000.
    let voc = d.join("voc");
    std::fs::create_dir_all(voc.join("SegmentationClass")).unwrap();
    std::fs::create_dir_all(voc.join("JPEGImages")).unwrap();
    png_bomb(&voc.join("SegmentationClass/a.png"), 60_000, 60_000);
    png_32(&voc.join("JPEGImages/a.jpg"));
    // YOLO: a photo whose header claims 60000×60000, with a polygon label.
    let yolo = d.join("yolo");
    std::fs::create_dir_all(yolo.join("images/val")).unwrap();
    std::fs::create_dir_all(yolo.join("labels/val")).unwrap();
    png_bomb(&yolo.join("images/val/a.png"), 60_000, 60_000);
    write(
        &yolo.join("labels/val/a.txt"),
        "0 0.1 0.1 0.9 0.1 0.5 0.9\n",
    );
    write(
        &yolo.join("data.yaml"),
        "path: .\nval: images/val\nnames: [thing]\n",
    );
    let cfg = d.join("c.toml");
    write(
        &cfg,
        &format!(
            "[[corpus]]\nname = \"v\"\nformat = \"voc\"\npath = \"{}\"\n\
             [[corpus]]\nname = \"y\"\nformat = \"yolo\"\npath = \"{}\"\n",
            p(&voc),
            p(&yolo.join("data.yaml"))
        ),
    );
    let o = capped(&["inspect", p(&cfg), "--json"]);
    expect_status(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for (i, kind) in [(0, "unreadable_label"), (1, "mask_too_large")] {
        let problems = v["corpora"][i]["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0]["kind"], kind, "{problems:?}");
        assert!(
            problems[0]["message"]
                .as_str()
                .unwrap()
                .contains("exceeds the limit"),
            "{problems:?}"
        );
    }
}

/// Whether this process may mount and unshare (root in CI); a test that needs it says why it
/// skipped when not.
fn can_unshare_mounts() -> bool {
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: this kernel or user may not unshare a mount namespace (needs root)");
    }
    ok
}

/// `script` in a private mount namespace, with `$0` the maskgate binary and `$1` `dir`.
fn in_mount_namespace(dir: &Path, script: &str) -> Output {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!("ulimit -v {MEMORY_CAP_KIB}; set -u\n{script}"))
        .arg(env!("CARGO_BIN_EXE_maskgate"))
        .arg(dir)
        .env("MASKGATE_RUN_ID", "r")
        .env("MASKGATE_GENERATED_AT", "2026-01-01T00:00:00Z")
        .output()
        .unwrap()
}

/// Nothing of maskgate's own working files is left in `dir`.
fn no_leftovers(dir: &Path) {
    let left: Vec<String> = names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with(".maskgate"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The files `report-set.json` names, each with the sha256 it records, all present and equal.
fn manifest_matches(out: &Path) -> bool {
    use sha2::Digest;
    let Ok(text) = std::fs::read(out.join("report-set.json")) else {
        return false;
    };
    let v: Value = serde_json::from_slice(&text).unwrap();
    v["files"].as_array().unwrap().iter().all(|f| {
        std::fs::read(out.join(f["path"].as_str().unwrap()))
            .is_ok_and(|b| hex::encode(sha2::Sha256::digest(&b)) == f["sha256"].as_str().unwrap())
    })
}

#[test]
fn row17_a_mount_point_out_gets_the_new_set_and_keeps_the_old_one_on_failure() {
    if !can_unshare_mounts() {
        return;
    }
    let d = tmp("row17");
    let g = gold(&d);
    preds(&d, "base.jsonl", RLE_2X2_FULL);
    preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    std::fs::create_dir_all(d.join("out")).unwrap();
    // A tmpfs at --out is another file system than its parent: Kubernetes', Modal's and NFS
    // volumes are mounted this way. Each step copies the folder out of the namespace.
    let script = format!(
        r#"d="$1"; out="$d/out"
mount -t tmpfs tmpfs "$out" || exit 90
run() {{ "$0" compare --gold {g} --pred "base=$d/base.jsonl" --pred "cand=$d/$1" --baseline base --bootstrap 50 --out "$out"; }}
run base.jsonl; echo $? > "$d/rc-old"; cp -r "$out" "$d/snap-old"
run half.jsonl; echo $? > "$d/rc-new"; cp -r "$out" "$d/snap-new"
run missing.jsonl; echo $? > "$d/rc-bad"; cp -r "$out" "$d/snap-bad"
"#,
        g = p(&g)
    );
    let o = in_mount_namespace(&d, &script);
    assert_ne!(o.status.code(), Some(90), "mount failed: {}", stderr(&o));
    let rc = |name: &str| {
        std::fs::read_to_string(d.join(name))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(
        (rc("rc-old"), rc("rc-new"), rc("rc-bad")),
        ("0".into(), "0".into(), "2".into()),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("cross-device"), "{}", stderr(&o));
    let new = std::fs::read(d.join("snap-new/metrics.csv")).unwrap();
    assert_ne!(new, std::fs::read(d.join("snap-old/metrics.csv")).unwrap());
    assert!(manifest_matches(&d.join("snap-new")));
    // The failed run left the set before it whole, and nothing of its own.
    assert_eq!(new, std::fs::read(d.join("snap-bad/metrics.csv")).unwrap());
    assert_eq!(names_in(&d.join("snap-new")), names_in(&d.join("snap-bad")));
    assert!(manifest_matches(&d.join("snap-bad")));
}

/// Whether nobody holds an `flock` on `lock` (util-linux's `flock -n`).
fn lock_is_free(lock: &Path) -> bool {
    Command::new("flock")
        .arg("-n")
        .arg(lock)
        .arg("true")
        .status()
        .unwrap()
        .success()
}

/// Whether `ready` becomes true within 10 s, polled every 25 ms.
fn within_10_s(mut ready: impl FnMut() -> bool) -> bool {
    (0..400).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        ready()
    })
}

#[test]
fn row18_a_staging_folder_locked_from_another_pid_namespace_is_left_alone() {
    if !can_unshare_mounts() {
        return;
    }
    let d = tmp("row18");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let out = d.join("out");
    std::fs::create_dir_all(out.join(".maskgate-staging-other")).unwrap();
    write(&out.join(".maskgate-staging-other/report.json"), "theirs");
    let lock = out.join(".maskgate-staging-other.lock");
    write(&lock, "");
    // Another container's run: its own PID namespace (its pid means nothing here), holding the
    // staging folder's lock.
    let mut holder = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "flock"])
        .arg(&lock)
        .args(["sleep", "120"])
        .spawn()
        .unwrap();
    let held = within_10_s(|| !lock_is_free(&lock));
    assert!(held, "the holder never took the lock");
    let o = compare(&g, &base, &base, &out, &[]);
    expect_status(&o, 0);
    assert_eq!(
        std::fs::read_to_string(out.join(".maskgate-staging-other/report.json")).unwrap(),
        "theirs",
        "a live run's staging folder was removed"
    );
    assert!(out.join("report.json").exists());
    // Once its owner is gone, the folder is abandoned and the next run removes it.
    let _ = holder.kill();
    let _ = holder.wait();
    // The namespace's own processes die just after `unshare` itself: wait for the lock to free.
    let freed = within_10_s(|| lock_is_free(&lock));
    assert!(freed, "the holder's lock outlived it");
    expect_status(&compare(&g, &base, &base, &out, &[]), 0);
    no_leftovers(&out);
}

#[test]
fn row19_junit_and_convert_outputs_that_are_not_regular_files_are_refused() {
    use std::os::unix::fs::FileTypeExt;
    let d = tmp("row19");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let fifo = d.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let target = d.join("target.xml");
    write(&target, "keep");
    let link = d.join("link.xml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut specials = vec![(fifo.clone(), "a FIFO"), (link.clone(), "a symlink")];
    // A device node of our own (as root): `--junit /dev/null` must not replace /dev/null.
    let device = d.join("null");
    if Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success())
    {
        specials.push((device.clone(), "a device"));
    } else {
        eprintln!("device case skipped: mknod needs root");
    }
    for (path, kind) in &specials {
        let out = d.join(format!(
            "out-{}",
            path.file_name().unwrap().to_string_lossy()
        ));
        let t0 = std::time::Instant::now();
        let o = compare(&g, &base, &base, &out, &["--junit", p(path)]);
        expect_status(&o, 2);
        assert!(t0.elapsed().as_secs() < 20);
        let err = stderr(&o);
        assert!(err.contains(kind) && err.contains(p(path)), "{err}");
        assert!(!out.exists(), "refused before any work");
        let o = capped(&[
            "convert",
            "--format",
            "gold-ndjson",
            "--path",
            p(&g),
            "--out",
            p(path),
        ]);
        expect_status(&o, 2);
        assert!(stderr(&o).contains(kind), "{}", stderr(&o));
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    if device.exists() {
        assert!(std::fs::symlink_metadata(&device)
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // A regular file is replaced as before.
    let junit = d.join("junit.xml");
    write(&junit, "<?xml version=\"1.0\"?><testsuites/>");
    expect_status(
        &compare(&g, &base, &base, &d.join("ok"), &["--junit", p(&junit)]),
        0,
    );
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuite"));
}

#[test]
fn row20_the_out_folder_keeps_its_inode_mode_group_symlink_and_other_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let d = tmp("row20");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let half = preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    let out = d.join("shared-out");
    std::fs::create_dir_all(&out).unwrap();
    let root = nix_is_root();
    if root {
        // nogroup, as a shared volume's group would be.
        std::os::unix::fs::chown(&out, None, Some(65534)).unwrap();
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o2775)).unwrap();
    write(&out.join("notes.txt"), "a teammate's notes\n");
    let before = std::fs::metadata(&out).unwrap();
    let notes_inode = std::fs::metadata(out.join("notes.txt")).unwrap().ino();
    expect_status(&compare(&g, &base, &base, &out, &[]), 0);
    // Another process appends to its own file in --out between runs; the next run keeps it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(out.join("notes.txt"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"more\n"))
        .unwrap();
    expect_status(&compare(&g, &base, &half, &out, &[]), 0);
    let after = std::fs::metadata(&out).unwrap();
    assert_eq!(after.ino(), before.ino(), "the folder itself was replaced");
    assert_eq!(after.mode() & 0o7777, 0o2775);
    assert_eq!(after.gid(), before.gid());
    if root {
        assert_eq!(after.gid(), 65534);
        // setgid: the reports take the folder's group.
        assert_eq!(
            std::fs::metadata(out.join("report.json")).unwrap().gid(),
            65534
        );
    }
    assert_eq!(
        std::fs::metadata(out.join("notes.txt")).unwrap().ino(),
        notes_inode
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "a teammate's notes\nmore\n"
    );
    assert!(manifest_matches(&out));
    // A symlinked --out: the link stays a link and its target holds the reports.
    let link = d.join("link-out");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    expect_status(&compare(&g, &base, &base, &link, &[]), 0);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(manifest_matches(&out));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(v["comparisons"][0]["arm"], "cand");
    assert_eq!(
        names_in(&d)
            .iter()
            .filter(|n| n.contains("maskgate"))
            .count(),
        0
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn row21_a_writable_out_under_a_read_only_parent_works_and_a_read_only_out_fails_first() {
    if !can_unshare_mounts() {
        return;
    }
    let d = tmp("row21");
    let g = gold(&d);
    preds(&d, "base.jsonl", RLE_2X2_FULL);
    std::fs::create_dir_all(d.join("p")).unwrap();
    let script = format!(
        r#"d="$1"; p="$d/p"; out="$p/out"
mount -t tmpfs tmpfs "$p" && mkdir "$out" && mount --bind "$out" "$out" && mount -o remount,bind,ro "$p" || exit 90
run() {{ "$0" compare --gold {g} --pred "base=$d/base.jsonl" --pred "cand=$d/base.jsonl" --baseline base --bootstrap 50 --out "$1"; }}
run "$out"; echo $? > "$d/rc-ok"; ls "$out" > "$d/ls-ok"
mount -o remount,bind,ro "$out" || exit 91
run "$out" 2> "$d/err-ro"; echo $? > "$d/rc-ro"
"#,
        g = p(&g)
    );
    let o = in_mount_namespace(&d, &script);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |name: &str| std::fs::read_to_string(d.join(name)).unwrap();
    assert_eq!(read("rc-ok").trim(), "0");
    assert!(read("ls-ok").contains("report.json"), "{}", read("ls-ok"));
    assert_eq!(read("rc-ro").trim(), "2", "{}", read("err-ro"));
    assert!(
        read("err-ro").contains("not writable"),
        "{}",
        read("err-ro")
    );
}

#[test]
fn row22_names_of_any_length_get_gallery_files() {
    let d = tmp("row22");
    let class = "c".repeat(250);
    let gold_file = d.join("gold.ndjson");
    let line = |id: &str, counts: &str| {
        format!(
            r#"{{"id": "{id}", "size": [2, 2], "masks": {{"{class}": {{"size": [2, 2], "counts": {counts}}}}}}}"#
        )
    };
    write(
        &gold_file,
        &format!("{}\n{}\n", line("a", "[0, 4]"), line("b", "[0, 4]")),
    );
    let base = d.join("base.jsonl");
    write(
        &base,
        &format!("{}\n{}\n", line("a", "[0, 4]"), line("b", "[0, 4]")),
    );
    let cand = d.join("cand.jsonl");
    write(
        &cand,
        &format!("{}\n{}\n", line("a", "[2, 2]"), line("b", "[0, 4]")),
    );
    let (long_base, long_cand) = ("b".repeat(300), "a".repeat(300));
    let o = capped(&[
        "compare",
        "--gold",
        p(&gold_file),
        "--pred",
        &format!("{long_base}={}", p(&base)),
        "--pred",
        &format!("{long_cand}={}", p(&cand)),
        "--baseline",
        &long_base,
        "--corpus",
        &"k".repeat(300),
        "--gallery",
        "1",
        "--bootstrap",
        "50",
        "--out",
        p(&d.join("out")),
    ]);
    expect_status(&o, 0);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let gallery = v["gallery"].as_array().unwrap();
    assert!(!gallery.is_empty(), "the regression on `a` is pictured");
    for e in gallery {
        for key in ["baseline_png", "arm_png", "strip_png"] {
            let rel = e[key].as_str().unwrap();
            let name = Path::new(rel).file_name().unwrap().to_string_lossy().len();
            assert!(name <= 255, "{rel}");
            assert!(d.join("out").join(rel).is_file(), "{rel}");
        }
    }
}

#[test]
fn row23_mask_too_large_is_the_reason_reported_over_its_consequences() {
    let d = tmp("row23");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    // `b`'s only class claims a 9500² canvas (over the 89.5 Mpx limit): not decoded, so the class is also missing and
    // its size unknown; the cause is what the sample reports.
    let big = preds(
        &d,
        "big.jsonl",
        r#"{"size": [9500, 9500], "counts": [0, 90250000]}"#,
    );
    let o = compare(&g, &base, &big, &d.join("out"), &[]);
    expect_status(&o, 0);
    let rows = samples(&d.join("out"));
    assert_eq!(sample(&rows, "cand", "a")["fail_reason"], Value::Null);
    let b = sample(&rows, "cand", "b");
    assert_eq!(b["fail_reason"], "MASK_TOO_LARGE", "{b}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let cand = report["summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["arm"] == "cand" && s["group_by"] == "all")
        .unwrap();
    assert_eq!(cand["fail_rates"]["MASK_TOO_LARGE"], 1.0 / 3.0, "{cand}");
    assert_eq!(cand["fail_rates"]["PRED_CLASSES_MISSING"], 0.0);
}

#[test]
fn row24_an_out_that_is_a_file_says_so() {
    let d = tmp("row24");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    write(&d.join("a-file"), "x");
    let o = compare(&g, &base, &base, &d.join("a-file"), &[]);
    expect_status(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("is not a folder") && !err.contains("os error 17"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(d.join("a-file")).unwrap(), "x");
}

#[test]
fn row25_a_commit_that_fails_midway_is_rolled_back_whole() {
    if !can_unshare_mounts() {
        return;
    }
    let d = tmp("row25");
    let g = gold(&d);
    preds(&d, "base.jsonl", RLE_2X2_FULL);
    preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    write(&d.join("pin"), "pinned\n");
    // A file of the set that cannot be replaced (a bind mount over it: rename gives EBUSY),
    // reached after others were already moved in, as a flaky network file system might.
    let script = format!(
        r#"d="$1"; out="$d/out"
run() {{ "$0" compare --gold {g} --pred "base=$d/base.jsonl" --pred "cand=$d/$1" --baseline base --bootstrap 50 --gallery 1 --out "$out"; }}
run base.jsonl || exit 90
cp -a "$out" "$d/before"
mount --bind "$d/pin" "$out/samples.jsonl" || exit 91
run half.jsonl 2> "$d/err"; echo $? > "$d/rc"
umount "$out/samples.jsonl"
"#,
        g = p(&g)
    );
    let o = in_mount_namespace(&d, &script);
    assert!(o.status.success(), "{}", stderr(&o));
    let rc = std::fs::read_to_string(d.join("rc")).unwrap();
    assert_ne!(rc.trim(), "0", "the commit cannot have succeeded");
    let err = std::fs::read_to_string(d.join("err")).unwrap();
    assert!(err.contains("samples.jsonl"), "{err}");
    // Every file as it was before the failed run, the old manifest vouching for them.
    let diff = Command::new("diff")
        .args(["-r"])
        .arg(d.join("before"))
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    assert!(manifest_matches(&d.join("out")));
}

#[test]
fn row26_junit_never_overwrites_an_input_or_a_report_of_the_set() {
    let d = tmp("row26");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let out = d.join("out");
    expect_status(&compare(&g, &base, &base, &out, &[]), 0);
    let gold_before = std::fs::read(&g).unwrap();
    // An input given as --junit by mistake: refused before any work.
    let o = compare(&g, &base, &base, &out, &["--junit", p(&g)]);
    expect_status(&o, 2);
    assert!(
        stderr(&o).contains("not a JUnit XML report"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&g).unwrap(), gold_before);
    for name in ["metrics.csv", "report-set.json"] {
        let o = compare(&g, &base, &base, &out, &["--junit", p(&out.join(name))]);
        expect_status(&o, 2);
        assert!(manifest_matches(&out), "--junit {name} broke the set");
    }
    // Into a fresh folder, where the file does not exist yet when the run starts, and into the
    // gallery: refused before any work.
    let fresh = d.join("fresh");
    for inside in ["report.json", "gallery/k/x.png", "report-set.json", "."] {
        let o = compare(
            &g,
            &base,
            &base,
            &fresh,
            &["--junit", p(&fresh.join(inside))],
        );
        expect_status(&o, 2);
        assert!(
            stderr(&o).contains("inside the report set"),
            "{}",
            stderr(&o)
        );
        assert!(
            !fresh.join("report-set.json").exists(),
            "{inside}: work was done"
        );
    }
    // A file of the user's own beside the reports is fine.
    expect_status(
        &compare(
            &g,
            &base,
            &base,
            &fresh,
            &["--junit", p(&fresh.join("junit.xml"))],
        ),
        0,
    );
    assert!(manifest_matches(&fresh));
    // A JUnit file of an earlier run is replaced as before.
    let junit = d.join("junit.xml");
    expect_status(&compare(&g, &base, &base, &out, &["--junit", p(&junit)]), 0);
    expect_status(&compare(&g, &base, &base, &out, &["--junit", p(&junit)]), 0);
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuite"));
}

#[test]
fn row27_out_paths_resolve_as_the_kernel_does_and_leave_nothing_behind() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp("row27");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let half = preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    // `la/../x` with `la` a link to `deep/a` is `deep/x`, as `mkdir -p` has it.
    std::fs::create_dir_all(d.join("deep/a")).unwrap();
    std::os::unix::fs::symlink(d.join("deep/a"), d.join("la")).unwrap();
    let via = format!("{}/la/../x", p(&d));
    expect_status(
        &compare(&g, &base, &half, Path::new(&via), &["--gallery", "1"]),
        0,
    );
    assert!(d.join("deep/x/report.json").is_file());
    assert!(!d.join("x").exists());
    // A group-shared folder: the folders a run creates are group-writable, so another member
    // of the group can replace them.
    let shared = d.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o2775)).unwrap();
    expect_status(&compare(&g, &base, &half, &shared, &["--gallery", "1"]), 0);
    let mode = std::fs::metadata(shared.join("gallery"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o070, 0o070, "{mode:o}");
    // A probe file left by a run killed at the wrong moment is cleared by the next run, however
    // new (a probe holds nothing).
    let stale = shared.join(".maskgate-probe-stale");
    write(&stale, "");
    expect_status(&compare(&g, &base, &base, &shared, &[]), 0);
    no_leftovers(&shared);
}

#[test]
fn row28_exit_statuses_are_the_documented_ones() {
    let d = tmp("row28");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    // Every command's help ends with the same table the README has.
    for cmd in [
        &["--help"][..],
        &["compare", "--help"],
        &["run", "--help"],
        &["merge", "--help"],
    ] {
        let o = capped(cmd);
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        for line in [
            "0  go, or a run without criteria, or a shard committed (and every arm scored a sample)",
            "2  an arm scored no sample",
            "3  an error a retry may cure",
        ] {
            assert!(help.contains(line), "{cmd:?}: {help}");
        }
        assert!(
            !help.contains("3 error worth retrying (I/O"),
            "{cmd:?}: a hand-written line"
        );
    }
    // /proc/self/mem fails the same way every time: 2 whatever option names it.
    for opt in ["--criteria", "--notes"] {
        let o = compare(&g, &base, &base, &d.join("o"), &[opt, "/proc/self/mem"]);
        expect_status(&o, 2);
    }
    let o = compare(Path::new("/proc/self/mem"), &base, &base, &d.join("o"), &[]);
    expect_status(&o, 2);
    // A folder out of inodes (storage full) is worth a retry: 3.
    if can_unshare_mounts() {
        std::fs::create_dir_all(d.join("t")).unwrap();
        let script = format!(
            r#"d="$1"; mount -t tmpfs -o nr_inodes=3 tmpfs "$d/t" || exit 90
"$0" compare --gold {g} --pred "base={b}" --pred "cand={b}" --baseline base --bootstrap 50 --out "$d/t/out" 2> "$d/full-err"; echo $? > "$d/full-rc"
"#,
            g = p(&g),
            b = p(&base)
        );
        let o = in_mount_namespace(&d, &script);
        assert!(o.status.success(), "{}", stderr(&o));
        let rc = std::fs::read_to_string(d.join("full-rc")).unwrap();
        let err = std::fs::read_to_string(d.join("full-err")).unwrap();
        assert_eq!(rc.trim(), "3", "{err}");
    }
}

#[test]
fn row29_a_rename_failing_at_any_step_leaves_the_old_set_or_the_new_one() {
    if !Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: strace is not installed (scripts/test.sh installs it)");
        return;
    }
    let d = tmp("row29");
    let g = gold(&d);
    let base = preds(&d, "base.jsonl", RLE_2X2_FULL);
    let half = preds(&d, "half.jsonl", r#"{"size": [2, 2], "counts": [2, 2]}"#);
    let out = d.join("out");
    expect_status(&compare(&g, &base, &base, &out, &["--gallery", "1"]), 0);
    let before = d.join("before");
    assert!(Command::new("cp")
        .arg("-a")
        .arg(&out)
        .arg(&before)
        .status()
        .unwrap()
        .success());
    let (mut failed, mut committed) = (0, 0);
    // Every rename the run makes, failed in turn (staging files, the lock, every commit step).
    for n in 1..=24 {
        let inject = format!("inject=rename,renameat,renameat2:error=EIO:when={n}");
        let o = Command::new("strace")
            .args([
                "-f",
                "-o",
                "/dev/null",
                "-e",
                "trace=rename,renameat,renameat2",
                "-e",
            ])
            .arg(&inject)
            .arg(env!("CARGO_BIN_EXE_maskgate"))
            .args(["compare", "--gold", p(&g)])
            .arg(format!("--pred=base={}", p(&base)))
            .arg(format!("--pred=cand={}", p(&half)))
            .args([
                "--baseline",
                "base",
                "--bootstrap",
                "50",
                "--gallery",
                "1",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let status = o.status.code();
        assert!(
            matches!(status, Some(0..=3)),
            "{n}: {status:?} {}",
            stderr(&o)
        );
        if status == Some(0) {
            committed += 1;
            assert!(
                manifest_matches(&out),
                "{n}: committed set and manifest differ"
            );
            // Back to the old set for the next step.
            expect_status(&compare(&g, &base, &base, &out, &["--gallery", "1"]), 0);
            continue;
        }
        failed += 1;
        let diff = Command::new("diff")
            .arg("-r")
            .arg(&before)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            diff.status.success(),
            "{n}: the old set changed: {}\n{}",
            String::from_utf8_lossy(&diff.stdout),
            stderr(&o)
        );
    }
    assert!(failed > 10, "only {failed} runs hit an injected failure");
    assert!(
        committed > 0,
        "the injection never ran out: no run committed"
    );
}
