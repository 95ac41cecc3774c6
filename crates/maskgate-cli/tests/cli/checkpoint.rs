//! `.pt` checkpoint arms: `model = "…/best.pt"` runs as the ONNX Ultralytics' exporter makes of
//! it, in a subprocess of the Python `[run] python` or `MASKGATE_PYTHON` names; the export is
//! cached by the checkpoint's sha256, the export settings and the Ultralytics version; the
//! report names both files and the exporter; a Python without Ultralytics is an error saying
//! what to install.
//!
//! PyTorch and Ultralytics are 6 GB, too heavy for every CI run, so these tests give the arm a
//! stand-in Python that answers the two calls maskgate makes (the version, and the export,
//! which copies the committed `best.onnx`, the real exporter's output for the committed
//! `best.pt`): they prove maskgate's side of the exchange. The real exporter is
//! `the_real_ultralytics_exports_the_committed_checkpoint_to_the_committed_model`, ignored
//! unless `tools/yolo/setup.sh` has installed it (`cargo test -- --ignored checkpoint`).

use crate::common::{
    bin, checkpoint_config as config, crop_model as model, fresh_dir, sample_rows as rows,
    stand_in_export_sha256, stand_in_python,
};
use serde_json::Value;
use std::path::Path;

/// The checkpoint arm's samples equal the ONNX arm's, each scored with at least one instance.
fn same_as_onnx(out: &Path) {
    let rows = rows(out);
    let of = |arm: &str| -> Vec<&Value> { rows.iter().filter(|r| r["arm"] == arm).collect() };
    let (onnx, pt) = (of("onnx"), of("pt"));
    assert_eq!((onnx.len(), pt.len()), (3, 3));
    for (a, b) in onnx.iter().zip(&pt) {
        assert_eq!(a["fail_reason"], Value::Null, "{a}");
        assert!(a["instances"].as_u64().unwrap() >= 1, "{a}");
        assert_eq!(a["classes"], b["classes"], "{}", a["id"]);
        assert_eq!(a["instances"], b["instances"]);
    }
}

fn arm(out: &Path, name: &str) -> Value {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    report["arm_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
        .clone()
}

#[test]
fn a_checkpoint_arm_is_exported_once_cached_and_named_with_both_hashes() {
    let d = fresh_dir("checkpoint", "local");
    // The checkpoint in a folder of its own, as a mounted Modal Volume holds it: the export
    // must write nothing there.
    let volume = d.join("volume/run-7/weights");
    std::fs::create_dir_all(&volume).unwrap();
    std::fs::copy(model("best.pt"), volume.join("best.pt")).unwrap();
    let python = stand_in_python(&d);
    let cfg = config(&d, "volume/run-7/weights/best.pt", Some(&python));
    for round in 0..2 {
        let err = run_ok(&cfg);
        // The export is other bytes than the ONNX arm's model: its masks were inferred on the
        // first round, not served from the other arm's cache entries.
        let inferred = if round == 0 { 3 } else { 0 };
        assert!(
            err.contains(&format!("arm pt: {inferred} inferences")),
            "round {round}: {err}"
        );
        same_as_onnx(&d.join("out"));
    }
    let log = std::fs::read_to_string(d.join("exports.log")).unwrap();
    assert_eq!(
        log.lines().count(),
        1,
        "exported once, then read from the cache: {log}"
    );
    let listed: Vec<_> = std::fs::read_dir(&volume).unwrap().collect();
    assert_eq!(listed.len(), 1, "the export wrote beside the checkpoint");
    let exports: Vec<_> = std::fs::read_dir(d.join("cache/exports"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(exports[0].ends_with(".onnx"));
    let pt = arm(&d.join("out"), "pt");
    let sha = |p: &Path| maskgate::sha256_file(p).unwrap();
    assert_eq!(pt["model"], "volume/run-7/weights/best.pt");
    assert_eq!(pt["model_sha256"], sha(&model("best.pt")));
    assert_eq!(pt["exported_onnx_sha256"], stand_in_export_sha256(&d));
    assert_eq!(pt["exporter"], "ultralytics 8.4.190");
    assert!(pt["export"].as_str().unwrap().contains("format=onnx"));
    // The reports a reviewer reads name both files too.
    let md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("- arm `pt`"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(line.contains("ultralytics 8.4.190 exported"), "{line}");
    assert!(line.contains(&stand_in_export_sha256(&d)[..16]), "{line}");
    assert!(line.contains(&sha(&model("best.pt"))[..16]), "{line}");
    // Another checkpoint (one byte more) is another export.
    let mut bytes = std::fs::read(volume.join("best.pt")).unwrap();
    bytes.push(0);
    std::fs::write(volume.join("best.pt"), bytes).unwrap();
    run_ok(&cfg);
    let log = std::fs::read_to_string(d.join("exports.log")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}

/// `maskgate run CONFIG`, which must succeed: its stderr.
fn run_ok(cfg: &Path) -> String {
    let out = bin().arg("run").arg(cfg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

#[test]
fn a_checkpoint_arm_without_ultralytics_says_what_to_install() {
    let d = fresh_dir("checkpoint", "no-ultralytics");
    std::fs::copy(model("best.pt"), d.join("best.pt")).unwrap();
    // A Python that cannot see any installed package (`-I -S`: no site-packages, whatever this
    // machine has); a missing program is named as well.
    let bare = d.join("bare-python");
    std::fs::write(&bare, "#!/bin/sh\nexec python3 -I -S \"$@\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bare, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (python, env) in [
        (Some(bare.as_path()), None),
        (None, Some("/no/such/python")),
    ] {
        let cfg = config(&d, "best.pt", python);
        let mut cmd = bin();
        cmd.arg("run").arg(&cfg);
        if let Some(v) = env {
            cmd.env("MASKGATE_PYTHON", v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("pip install ultralytics==8.4.190"), "{err}");
        assert!(err.contains("MASKGATE_PYTHON"), "{err}");
        assert!(err.contains("arm \"pt\""), "{err}");
        if let Some(v) = env {
            assert!(err.contains(v), "{err}");
        } else {
            assert!(err.contains("has no Ultralytics"), "{err}");
        }
        assert!(
            !d.join("out/report.json").exists(),
            "no report from a run that could not start"
        );
    }
}

/// The real exporter (vendor/yolo, from tools/yolo/setup.sh): the committed checkpoint gives
/// masks identical to the committed ONNX's.
#[test]
#[ignore = "needs PyTorch and Ultralytics in vendor/yolo (6 GB): bash tools/yolo/setup.sh"]
fn the_real_ultralytics_exports_the_committed_checkpoint_to_the_committed_model() {
    // Not canonicalised: the venv's python is a link, and only its own path finds the venv.
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/yolo/bin/python");
    assert!(python.is_file(), "run `bash tools/yolo/setup.sh` first");
    let d = fresh_dir("checkpoint", "real");
    std::fs::copy(model("best.pt"), d.join("best.pt")).unwrap();
    let cfg = config(&d, "best.pt", Some(&python));
    run_ok(&cfg);
    same_as_onnx(&d.join("out"));
    assert_eq!(arm(&d.join("out"), "pt")["exporter"], "ultralytics 8.4.190");
}
