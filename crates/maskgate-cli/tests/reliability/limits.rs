//! The reliability suite, second pass (limits): every named file is read once, bounded and only
//! if it is a regular file; FIFOs never hang; folder walks do not follow folder links; every
//! reader applies every limit; shards, limits and threads have ceilings; messages stay short.
//! Each run goes under a memory cap (`ulimit -v`) and a wall-clock `timeout`, so a regression
//! fails instead of hanging; each case asserts the exit status (never a panic, an abort or a
//! timeout), the error text or the sample's fail reason, and, where one sample is bad, that the
//! others were scored.

use crate::shared::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Wall-clock limit of one run (s): a FIFO that blocks or a walk without end becomes exit 124.
const TIMEOUT_S: u64 = 120;

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reliability-limits-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `maskgate ARGS` under the memory cap and the timeout, with pinned run metadata and `env`.
fn capped_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_CAP_KIB}; exec timeout -s KILL {TIMEOUT_S} \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_maskgate"))
        .args(args)
        .env("MASKGATE_RUN_ID", "r")
        .env("MASKGATE_GENERATED_AT", "2026-01-01T00:00:00Z")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn capped(args: &[&str]) -> Output {
    capped_env(args, &[])
}

/// Exit 2 with `text` in the message.
fn expect_error(o: &Output, text: &str) {
    expect_status(o, 2);
    assert!(stderr(o).contains(text), "{text:?} not in: {}", stderr(o));
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(p(path)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {path:?}"
    );
}

/// `id` was scored by `arm`: a line with no fail reason and an IoU for `class`.
fn scored(rows: &[(String, String, String)], arm: &str, id: &str, class: &str) {
    let s = sample(rows, arm, id);
    assert_eq!(s["fail_reason"], Value::Null, "{s}");
    assert!(s["classes"][class]["iou"].is_number(), "{s}");
}

/// The (sample, kind) of every problem of the first corpus.
fn problems(dir: &Path) -> Vec<(String, String)> {
    report(dir)["corpora"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sample"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Predictions of class `class` for `ids`, each an `h × w` mask with its first half set.
fn preds_for(d: &Path, name: &str, class: &str, ids: &[&str], (h, w): (u32, u32)) -> PathBuf {
    let f = d.join(name);
    let n = h * w;
    let lines: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"id": "{id}", "masks": {{"{class}": {{"size": [{h}, {w}], "counts": [0, {}, {}]}}}}}}"#,
                n / 2,
                n - n / 2
            )
        })
        .collect();
    write(&f, &(lines.join("\n") + "\n"));
    f
}

fn preds(d: &Path, name: &str) -> PathBuf {
    preds_for(d, name, "fg", &["a", "b", "c"], (2, 2))
}

fn compare_args<'a>(gold: &'a str, base: &'a str, cand: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "compare",
        "--gold",
        gold,
        "--pred",
        base,
        "--pred",
        cand,
        "--baseline",
        "base",
        "--out",
        out,
        "--bootstrap",
        "50",
    ]
}

/// `compare` of the default gold and two prediction files, with `extra` arguments.
fn compare(d: &Path, out: &str, extra: &[&str]) -> Output {
    let g = gold(d);
    let (base, cand) = (preds(d, "base.jsonl"), preds(d, "cand.jsonl"));
    let (b, c) = (format!("base={}", p(&base)), format!("cand={}", p(&cand)));
    let out = d.join(out);
    let mut args = compare_args(p(&g), &b, &c, p(&out));
    args.extend_from_slice(extra);
    capped(&args)
}

fn selfie_model() -> PathBuf {
    crate::common::shared()
        .join("models/mediapipe_selfie_segmentation_256.onnx")
        .canonicalize()
        .expect("shared models")
}

/// Two selfie arms (`selfie`, `other`) of class `class`.
fn selfie_arms(class: &str) -> String {
    format!(
        "[[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"{class}\"\n\
         [[arm]]\nname = \"other\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{m}\"\nclass = \"{class}\"\nthreshold = 0.3\n",
        m = p(&selfie_model())
    )
}

fn run_config(cfg: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", p(cfg), "--out", p(out)];
    args.extend_from_slice(extra);
    capped(&args)
}

/// Defect 1: every named input is read only if it is a regular file, within a bound.
#[test]
fn limits01_devices_and_fifos_as_named_inputs_are_refused_at_once() {
    let d = tmp("01");
    let g = gold(&d);
    let (base, cand) = (preds(&d, "base.jsonl"), preds(&d, "cand.jsonl"));
    let (b, c) = (format!("base={}", p(&base)), format!("cand={}", p(&cand)));
    let out = d.join("out");
    let fifo = d.join("fifo");
    mkfifo(&fifo);
    let t0 = Instant::now();
    // --gold /dev/zero and --pred x=/dev/zero used to end in "out of memory" or an abort.
    let o = capped(&compare_args("/dev/zero", &b, &c, p(&out)));
    expect_error(&o, "not a regular file (a device)");
    let o = capped(&compare_args(p(&g), &b, "cand=/dev/zero", p(&out)));
    expect_error(&o, "not a regular file (a device)");
    // A FIFO as gold, predictions, criteria, notes, variants or run config: refused, not read.
    let fifo_pred = format!("cand={}", p(&fifo));
    let o = capped(&compare_args(p(&fifo), &b, &c, p(&out)));
    expect_error(&o, "not a regular file (a FIFO)");
    let o = capped(&compare_args(p(&g), &b, &fifo_pred, p(&out)));
    expect_error(&o, "not a regular file (a FIFO)");
    for option in ["--criteria", "--notes", "--variants"] {
        let mut args = compare_args(p(&g), &b, &c, p(&out));
        args.extend_from_slice(&[option, p(&fifo)]);
        expect_error(&capped(&args), "not a regular file (a FIFO)");
    }
    expect_error(&run_config(&fifo, &out, &[]), "not a regular file (a FIFO)");
    expect_error(
        &run_config(Path::new("/dev/zero"), &out, &[]),
        "not a regular file (a device)",
    );
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    // Nothing was written by the refused runs; a clean compare still works.
    assert!(!out.join("report.json").exists());
    let o = capped(&compare_args(p(&g), &b, &c, p(&out)));
    expect_status(&o, 0);
    let rows = samples(&out);
    for id in ["a", "b", "c"] {
        scored(&rows, "cand", id, "fg");
    }
}

/// Defect 1, the prediction cache: an entry that is (or links to) /dev/zero is a miss.
#[test]
fn limits01_cache_entries_linked_to_dev_zero_are_misses_not_oom() {
    let d = tmp("01-cache");
    for id in ["a", "b"] {
        png_32(&d.join(format!("{id}.png")));
    }
    let g = d.join("gold.ndjson");
    two_photo_gold(&g);
    let cfg = d.join("run.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 50\ngallery = 0\ncache = \"cache\"\n\
             [[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"{}\"\n{}",
            p(&g),
            selfie_arms("fg")
        ),
    );
    expect_status(&run_config(&cfg, &d.join("first"), &[]), 0);
    // Every entry of the cache becomes a link to /dev/zero.
    let mut linked = 0;
    for sub in std::fs::read_dir(d.join("cache")).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() || sub.file_name().unwrap() == "models" {
            continue;
        }
        for entry in std::fs::read_dir(&sub).unwrap() {
            let entry = entry.unwrap().path();
            if entry.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(&entry).unwrap();
                std::os::unix::fs::symlink("/dev/zero", &entry).unwrap();
                linked += 1;
            }
        }
    }
    assert!(linked >= 2, "{linked} cache entries");
    let t0 = Instant::now();
    let o = run_config(&cfg, &d.join("second"), &[]);
    expect_status(&o, 0);
    assert!(t0.elapsed() < Duration::from_secs(60));
    // Recomputed: the same lines as the first run.
    assert_eq!(samples(&d.join("first")), samples(&d.join("second")));
    scored(&samples(&d.join("second")), "selfie", "b", "fg");
}

/// A FASSEG layout of `1.bmp`, `10.bmp` (real) and `99.bmp`, whose photo is a FIFO.
fn fasseg_with_fifo(d: &Path) -> PathBuf {
    let src = crate::common::shared().join("data/fasseg/V2");
    let root = d.join("fasseg");
    std::fs::create_dir_all(root.join("Train_RGB")).unwrap();
    std::fs::create_dir_all(root.join("Train_Labels")).unwrap();
    for id in ["1", "10"] {
        for dir in ["Train_RGB", "Train_Labels"] {
            std::fs::copy(
                src.join(dir).join(format!("{id}.bmp")),
                root.join(dir).join(format!("{id}.bmp")),
            )
            .unwrap();
        }
    }
    std::fs::copy(
        src.join("Train_Labels/1.bmp"),
        root.join("Train_Labels/99.bmp"),
    )
    .unwrap();
    mkfifo(&root.join("Train_RGB/99.bmp"));
    root
}

/// Defect 2: a FIFO photo in a FASSEG folder is that sample's IMAGE_UNREADABLE; run, inspect and
/// convert finish.
#[test]
fn limits02_fifo_photo_in_fasseg_is_image_unreadable_and_nothing_hangs() {
    let d = tmp("02-fasseg");
    let root = fasseg_with_fifo(&d);
    let cfg = d.join("run.toml");
    write(
        &cfg,
        &format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 50\ngallery = 0\n\
             [[corpus]]\nname = \"f\"\nformat = \"fasseg\"\npath = \"{}\"\n\
             classes = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\n{}",
            p(&root),
            selfie_arms("foreground")
        ),
    );
    let t0 = Instant::now();
    let out = d.join("out");
    expect_status(&run_config(&cfg, &out, &["--no-cache"]), 0);
    let rows = samples(&out);
    let bad = sample(&rows, "selfie", "Train/99");
    assert_eq!(bad["fail_reason"], "IMAGE_UNREADABLE", "{bad}");
    assert!(
        bad["fail_detail"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{bad}"
    );
    for id in ["Train/1", "Train/10"] {
        scored(&rows, "selfie", id, "foreground");
        scored(&rows, "other", id, "foreground");
    }
    let o = capped(&["inspect", p(&cfg)]);
    expect_status(&o, 0);
    let o = capped(&[
        "convert",
        "--format",
        "fasseg",
        "--path",
        p(&root),
        "--out",
        p(&d.join("gold.ndjson")),
    ]);
    expect_status(&o, 0);
    let converted = std::fs::read_to_string(d.join("gold.ndjson")).unwrap();
    assert_eq!(converted.lines().count(), 3, "{converted}");
    assert!(
        t0.elapsed() < Duration::from_secs(100),
        "{:?}",
        t0.elapsed()
    );
}

/// Defect 2, SQL: a FIFO photo in the `images` folder is that sample's IMAGE_UNREADABLE; a FIFO
/// named as the SQLite database is refused at once, a folder says it is not a database file.
#[test]
fn limits02_fifo_in_sql_images_and_fifo_or_folder_as_the_sqlite_database() {
    let d = tmp("02-sql");
    let media = d.join("media");
    std::fs::create_dir_all(&media).unwrap();
    png_32(&media.join("a.png"));
    png_32(&media.join("c.png"));
    mkfifo(&media.join("b.png"));
    // An empty file is an empty SQLite database: the query needs no table.
    write(&d.join("app.db"), "");
    mkfifo(&d.join("fifo.db"));
    let mask = r#"{"size": [32, 32], "counts": [0, 1024]}"#;
    let query = ["a", "b", "c"]
        .iter()
        .map(|id| format!("SELECT '{id}' AS id, '{id}.png' AS image, '{mask}' AS mask"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let config = |db: &str| {
        let cfg = d.join("run.toml");
        write(
            &cfg,
            &format!(
                "[run]\nbaseline = \"selfie\"\nbootstrap = 50\ngallery = 0\n\
                 [[corpus]]\nname = \"s\"\nformat = \"sql\"\nurl = \"sqlite:{db}\"\nimages = \"media\"\nquery = '''{query}'''\n{}",
                selfie_arms("foreground")
            ),
        );
        cfg
    };
    let t0 = Instant::now();
    let out = d.join("out");
    expect_status(&run_config(&config("app.db"), &out, &["--no-cache"]), 0);
    let rows = samples(&out);
    let bad = sample(&rows, "selfie", "b");
    assert_eq!(bad["fail_reason"], "IMAGE_UNREADABLE", "{bad}");
    assert!(
        bad["fail_detail"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{bad}"
    );
    for id in ["a", "c"] {
        scored(&rows, "selfie", id, "foreground");
    }
    expect_error(
        &run_config(&config("fifo.db"), &d.join("out2"), &["--no-cache"]),
        "not a regular file (a FIFO)",
    );
    expect_error(
        &run_config(&config("media"), &d.join("out3"), &["--no-cache"]),
        "is a folder, not a SQLite database file",
    );
    // A FIFO as the `query_file`: refused, not read.
    mkfifo(&d.join("fifo.sql"));
    let cfg = config("app.db");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &format!("query = '''{query}'''"),
        "query_file = \"fifo.sql\"",
    );
    write(&cfg, &text);
    expect_error(
        &run_config(&cfg, &d.join("out4"), &["--no-cache"]),
        "not a regular file (a FIFO)",
    );
    assert!(
        t0.elapsed() < Duration::from_secs(100),
        "{:?}",
        t0.elapsed()
    );
}

/// Defect 3: `trend` over a folder with self-symlinks finishes at once and lists each report
/// once.
#[test]
fn limits03_trend_does_not_follow_folder_links() {
    let d = tmp("03");
    let archive = d.join("archive");
    let g = gold(&d);
    let (base, cand) = (preds(&d, "base.jsonl"), preds(&d, "cand.jsonl"));
    let (b, c) = (format!("base={}", p(&base)), format!("cand={}", p(&cand)));
    for run in ["r1", "r2"] {
        let out = archive.join(run);
        let args = compare_args(p(&g), &b, &c, p(&out));
        expect_status(&capped_env(&args, &[("MASKGATE_RUN_ID", run)]), 0);
    }
    // Loops at two levels: the archive inside itself twice (2^40 paths before the kernel's
    // 40-link limit stops a walk that follows links), and a run folder inside itself.
    std::os::unix::fs::symlink(&archive, archive.join("loop")).unwrap();
    std::os::unix::fs::symlink(&archive, archive.join("loop2")).unwrap();
    std::os::unix::fs::symlink(archive.join("r1"), archive.join("r1/self")).unwrap();
    let t0 = Instant::now();
    let walked = d.join("walked");
    let o = capped(&["trend", p(&archive), "--out", p(&walked)]);
    expect_status(&o, 0);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let named = d.join("named");
    let r1 = archive.join("r1/report.json");
    let r2 = archive.join("r2/report.json");
    expect_status(&capped(&["trend", p(&r1), p(&r2), "--out", p(&named)]), 0);
    let csv = |dir: &Path| std::fs::read_to_string(dir.join("trend.csv")).unwrap();
    assert_eq!(csv(&walked), csv(&named));
    let md = std::fs::read_to_string(walked.join("trend.md")).unwrap();
    assert!(!md.contains("loop"), "{md}");
    // A report named that is a FIFO is refused, not read.
    let fifo = d.join("report.json");
    mkfifo(&fifo);
    let o = capped(&["trend", p(&fifo), "--out", p(&d.join("fifo"))]);
    expect_error(&o, "not a regular file (a FIFO)");
}

/// A YOLO dataset of three 32×32 photos (`a`, `b`, `c`); `b`'s label is `b_label`.
fn yolo(d: &Path, b_label: &str) -> PathBuf {
    std::fs::create_dir_all(d.join("images/val")).unwrap();
    std::fs::create_dir_all(d.join("labels/val")).unwrap();
    for id in ["a", "b", "c"] {
        png_32(&d.join(format!("images/val/{id}.png")));
        let label = if id == "b" {
            b_label.to_string()
        } else {
            "0 0.1 0.1 0.9 0.1 0.9 0.9\n".to_string()
        };
        write(&d.join(format!("labels/val/{id}.txt")), &label);
    }
    let yaml = d.join("data.yaml");
    write(&yaml, "path: .\nval: images/val\nnames: [fg]\n");
    yaml
}

/// A config of one corpus (for `compare --config`).
fn corpus_config(d: &Path, format: &str, path: &Path) -> PathBuf {
    let cfg = d.join("corpus.toml");
    write(
        &cfg,
        &format!(
            "[[corpus]]\nname = \"k\"\nformat = \"{format}\"\npath = \"{}\"\n",
            p(path)
        ),
    );
    cfg
}

/// `compare --config` with predictions of `size` for `ids`.
fn compare_config(d: &Path, cfg: &Path, ids: &[&str], size: (u32, u32), out: &Path) -> Output {
    let base = preds_for(d, "base.jsonl", "fg", ids, size);
    let cand = preds_for(d, "cand.jsonl", "fg", ids, size);
    let (b, c) = (format!("base={}", p(&base)), format!("cand={}", p(&cand)));
    capped(&[
        "compare",
        "--config",
        p(cfg),
        "--pred",
        &b,
        "--pred",
        &c,
        "--baseline",
        "base",
        "--out",
        p(out),
        "--bootstrap",
        "50",
    ])
}

/// Defect 4, YOLO: a label of 1,000,001 points is that sample's `mask_too_large`
/// (`max_polygon_vertices`), found before anything is rasterised.
#[test]
fn limits04_yolo_label_past_max_polygon_vertices_is_a_sample_problem() {
    let d = tmp("04-yolo");
    let mut label = String::from("0");
    for i in 0..1_000_001u32 {
        let t = (i % 1000) as f64 / 1000.0;
        label += &format!(" {t:.3} {:.3}", 1.0 - t);
    }
    label.push('\n');
    let yaml = yolo(&d, &label);
    let cfg = corpus_config(&d, "yolo", &yaml);
    let t0 = Instant::now();
    let out = d.join("out");
    let ids = ["images/val/a", "images/val/b", "images/val/c"];
    expect_status(&compare_config(&d, &cfg, &ids, (32, 32), &out), 0);
    assert!(t0.elapsed() < Duration::from_secs(60));
    assert_eq!(
        problems(&out),
        [("images/val/b".to_string(), "mask_too_large".to_string())]
    );
    let message = report(&out)["corpora"][0]["problems"][0]["message"].to_string();
    assert!(message.contains("max_polygon_vertices"), "{message}");
    let rows = samples(&out);
    for id in ["images/val/a", "images/val/c"] {
        scored(&rows, "cand", id, "fg");
    }
    assert!(!rows.iter().any(|(_, id, _)| id == "images/val/b"));
}

/// Defect 4, COCO: 300,000 annotations on one 512×512 image (a 32 KB canvas each, 10 GB in
/// all when rasterised) is that sample's `too_many_annotations` (`max_annotations_per_image`);
/// the other images are scored.
#[test]
fn limits04_coco_image_past_max_annotations_per_image_is_a_sample_problem() {
    let d = tmp("04-coco");
    let tri = "[[1, 1, 30, 1, 30, 30]]";
    let mut annotations = Vec::with_capacity(300_002);
    for (image, count) in [(1, 1), (2, 300_000), (3, 1)] {
        for _ in 0..count {
            let id = annotations.len();
            annotations.push(format!(
                r#"{{"id": {id}, "image_id": {image}, "category_id": 1, "iscrowd": 0, "segmentation": {tri}}}"#
            ));
        }
    }
    let images: Vec<String> = [(1, "a"), (2, "b"), (3, "c")]
        .iter()
        .map(|(id, name)| {
            format!(r#"{{"id": {id}, "file_name": "{name}.png", "height": 512, "width": 512}}"#)
        })
        .collect();
    let json = d.join("annotations.json");
    write(
        &json,
        &format!(
            r#"{{"images": [{}], "categories": [{{"id": 1, "name": "fg"}}], "annotations": [{}]}}"#,
            images.join(", "),
            annotations.join(", ")
        ),
    );
    let cfg = corpus_config(&d, "coco", &json);
    let t0 = Instant::now();
    let out = d.join("out");
    expect_status(
        &compare_config(&d, &cfg, &["a", "b", "c"], (512, 512), &out),
        0,
    );
    assert!(t0.elapsed() < Duration::from_secs(60));
    assert_eq!(
        problems(&out),
        [("b".to_string(), "too_many_annotations".to_string())]
    );
    let message = report(&out)["corpora"][0]["problems"][0]["message"].to_string();
    assert!(
        message.contains("300000 annotations") && message.contains("max_annotations_per_image"),
        "{message}"
    );
    let rows = samples(&out);
    for id in ["a", "c"] {
        scored(&rows, "cand", id, "fg");
    }
}

/// Defect 5: a shard marker claiming 10^12 rows is refused against its data before anything
/// is allocated, and `--shard I/N` has a ceiling.
#[test]
fn limits05_shard_markers_are_checked_against_their_data_and_n_has_a_ceiling() {
    let d = tmp("05");
    let out = d.join("out");
    for i in 0..2 {
        let shard = format!("{i}/2");
        let o = compare(&d, "out", &["--shard", &shard]);
        expect_status(&o, 0);
    }
    // The second marker now claims 10^12 rows.
    let mut markers = Vec::new();
    let mut pending = vec![out.join("shards")];
    while let Some(dir) = pending.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(".commit.json") {
                markers.push(path);
            }
        }
    }
    markers.sort();
    assert_eq!(markers.len(), 2, "{markers:?}");
    let mut marker: Value =
        serde_json::from_str(&std::fs::read_to_string(&markers[1]).unwrap()).unwrap();
    let real_rows = marker["rows"].as_u64().unwrap();
    marker["rows"] = serde_json::json!(1_000_000_000_000u64);
    std::fs::remove_file(&markers[1]).unwrap();
    write(&markers[1], &marker.to_string());
    let t0 = Instant::now();
    let o = capped(&["merge", p(&out)]);
    expect_error(&o, &format!("{real_rows} rows in its data"));
    assert!(
        stderr(&o).contains("the marker says 1000000000000"),
        "{}",
        stderr(&o)
    );
    assert!(t0.elapsed() < Duration::from_secs(30));
    // The marker restored, its data swapped for a link to /dev/zero: refused, never read.
    marker["rows"] = serde_json::json!(real_rows);
    std::fs::remove_file(&markers[1]).unwrap();
    write(&markers[1], &marker.to_string());
    let data = markers[1].parent().unwrap().join(
        marker["data"]
            .as_str()
            .unwrap()
            .split('/')
            .skip(1)
            .collect::<Vec<_>>()
            .join("/"),
    );
    assert!(data.is_file(), "{}", data.display());
    std::fs::remove_file(&data).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &data).unwrap();
    let t0 = Instant::now();
    let o = capped(&["merge", p(&out)]);
    expect_error(&o, "not a regular file (a device)");
    assert!(t0.elapsed() < Duration::from_secs(30));
    // A billion shards: refused on the command line, nothing committed.
    let o = compare(&d, "many", &["--shard", "0/1000000000"]);
    expect_error(&o, "above the ceiling of 100000 shards");
    assert!(!d.join("many/shards").exists());
    let o = compare(&d, "many", &["--shard", "auto/1000000000"]);
    expect_error(&o, "above the ceiling of 100000 shards");
}

/// Defect 6: a `[limits]` value past what memory can hold is refused, naming its ceiling.
#[test]
fn limits06_limits_above_their_ceilings_are_refused_before_work() {
    let d = tmp("06");
    let g = gold(&d);
    let (base, cand) = (preds(&d, "base.jsonl"), preds(&d, "cand.jsonl"));
    // A valid two-arm config but for its `[limits]` line.
    let config = |limit: &str| {
        let cfg = d.join("run.toml");
        write(
            &cfg,
            &format!(
                "[run]\nbaseline = \"base\"\nbootstrap = 50\n\
                 [[corpus]]\nname = \"k\"\nformat = \"gold-ndjson\"\npath = \"{}\"\n\
                 [[arm]]\nname = \"base\"\npredictions = \"{}\"\n\
                 [[arm]]\nname = \"cand\"\npredictions = \"{}\"\n[limits]\n{limit}\n",
                p(&g),
                p(&base),
                p(&cand)
            ),
        );
        cfg
    };
    for (key, value, ceiling) in [
        ("max_image_pixels", "1099511627776", "4294967295"),
        ("max_mask_pixels", "8589934592", "4294967295"),
        ("max_polygon_vertices", "1000000000000", "100000000"),
        ("max_bootstrap_resamples", "1000000000", "1000000"),
        ("max_grid", "1000000", "65536"),
        ("max_file_bytes", "1099511627776", "17179869184"),
        ("max_annotations_per_image", "1000000000000", "10000000"),
    ] {
        let cfg = config(&format!("{key} = {value}"));
        let t0 = Instant::now();
        let o = run_config(&cfg, &d.join("out"), &[]);
        expect_error(
            &o,
            &format!("[limits] {key} = {value} is above its ceiling of {ceiling}"),
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
    assert!(!d.join("out/report.json").exists());
    // At the ceiling is allowed, and the run scores every sample.
    let cfg = config("max_file_bytes = 17179869184");
    expect_status(&run_config(&cfg, &d.join("out"), &[]), 0);
    let rows = samples(&d.join("out"));
    for id in ["a", "b", "c"] {
        scored(&rows, "cand", id, "fg");
    }
}

/// Defect 7: `--threads 100000` (or MASKGATE_THREADS) is refused before any thread starts.
#[test]
fn limits07_threads_past_the_machine_ceiling_fail_fast() {
    let d = tmp("07");
    let t0 = Instant::now();
    let o = compare(&d, "out", &["--threads", "100000"]);
    expect_error(
        &o,
        "--threads / MASKGATE_THREADS = 100000 is above the ceiling",
    );
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    let g = gold(&d);
    let (base, cand) = (preds(&d, "base.jsonl"), preds(&d, "cand.jsonl"));
    let (b, c) = (format!("base={}", p(&base)), format!("cand={}", p(&cand)));
    let out = d.join("out");
    let t0 = Instant::now();
    let o = capped_env(
        &compare_args(p(&g), &b, &c, p(&out)),
        &[("MASKGATE_THREADS", "100000")],
    );
    expect_error(&o, "is above the ceiling");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    // A sane count still runs.
    expect_status(&compare(&d, "out", &["--threads", "2"]), 0);
}

/// Defect 8: a 100 KB path is echoed clipped, not whole.
#[test]
fn limits08_huge_paths_are_clipped_in_messages() {
    let d = tmp("08-path");
    let huge = d.join(format!("{}.toml", "n".repeat(100_000)));
    let o = capped(&["run", p(&huge), "--out", p(&d.join("out"))]);
    expect_status(&o, 2);
    let text = stderr(&o);
    assert!(text.len() < 2_000, "{} bytes: {}", text.len(), &text[..300]);
    assert!(text.contains('…') && text.contains("characters)"), "{text}");
    assert!(text.contains("File name too long"), "{text}");
    let o = compare(&d, "out", &["--criteria", p(&huge)]);
    expect_status(&o, 2);
    let text = stderr(&o);
    assert!(text.len() < 2_000, "{} bytes", text.len());
    assert!(text.contains("criteria") && text.contains('…'), "{text}");
}

/// Defect 8: a merge after one input changed names that input only.
#[test]
fn limits08_merge_names_only_the_inputs_that_changed() {
    let d = tmp("08-merge");
    for i in 0..2 {
        let shard = format!("{i}/2");
        expect_status(&compare(&d, "out", &["--shard", &shard]), 0);
    }
    // `cand` changes after the shards ran; `base` and the gold file do not.
    let cand = d.join("cand.jsonl");
    let mut text = std::fs::read_to_string(&cand).unwrap();
    text.push('\n');
    write(&cand, &text);
    let o = capped(&["merge", p(&d.join("out"))]);
    expect_error(&o, "the plan's inputs changed since the shards ran");
    let msg = stderr(&o);
    assert!(msg.contains("predictions cand"), "{msg}");
    assert!(msg.contains("changed"), "{msg}");
    assert!(!msg.contains("predictions base"), "{msg}");
    assert!(!msg.contains("gold.ndjson"), "{msg}");
}
