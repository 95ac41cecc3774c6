//! Helpers the end-to-end test files share: the binary, a fresh folder, the shared reference
//! folder and files of the checkout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maskgate"))
}

/// A fresh folder `<group>-<name>` under cargo's test temporary folder.
pub fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{group}-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The shared reference folder: `$MASKGATE_SHARED`, default `../shared` beside the repository
/// (a relative value is taken from the repository root).
pub fn shared() -> PathBuf {
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(v)
        .canonicalize()
        .expect("shared folder")
}

/// A file of the checkout, which must exist (`vendor/…` comes from `bash scripts/setup.sh`).
pub fn repo(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    assert!(
        p.exists(),
        "{} missing: run `bash scripts/setup.sh`",
        p.display()
    );
    p.canonicalize().unwrap()
}

/// FASSEG V2's first `n` samples as `maskgate convert` writes them into `d`: each sample's id,
/// photo and skin mask.
pub fn fasseg_skin(d: &Path, n: usize) -> Vec<(String, PathBuf, maskgate_core::Mask)> {
    let gold = d.join("fasseg.ndjson");
    let out = bin()
        .args([
            "convert", "--format", "fasseg", "--corpus", "fasseg", "--path",
        ])
        .arg(shared().join("data/fasseg/V2"))
        .arg("--out")
        .arg(&gold)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&gold)
        .unwrap()
        .lines()
        // The converter's header line (the photos' folder) is not a sample.
        .filter(|l| !l.contains("\"maskgate\":"))
        .take(n)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                d.join(v["image"].as_str().unwrap()),
                mask_of(&v["masks"]["skin"]),
            )
        })
        .collect()
}

/// A COCO RLE mask (`{"size": [h, w], "counts": "…"}`) decoded.
pub fn mask_of(rle: &serde_json::Value) -> maskgate_core::Mask {
    let size = rle["size"].as_array().unwrap();
    maskgate_core::Rle::from_compressed(
        size[0].as_u64().unwrap() as u32,
        size[1].as_u64().unwrap() as u32,
        rle["counts"].as_str().unwrap(),
    )
    .unwrap()
    .decode()
    .unwrap()
}

/// A file of the crop gate's committed YOLO-seg checkpoint (`models/crop-yolo`).
pub fn crop_model(file: &str) -> PathBuf {
    let p = repo("models/crop-yolo").join(file);
    assert!(p.is_file(), "{} missing", p.display());
    p
}

/// What the stand-in exporter appends to the committed ONNX: one metadata entry (`k` = `v`,
/// protobuf field 14), so its export is the same model in other bytes, with a cache key of its
/// own (its masks are then inferred, not served from the ONNX arm's entries).
pub const STAND_IN_SUFFIX: &[u8] = b"\x72\x06\x0a\x01k\x12\x01v";

/// A Python that answers maskgate's two calls as Ultralytics 8.4.190 would, logging exports.
pub fn stand_in_python(dir: &Path) -> PathBuf {
    let script = dir.join("python");
    let text = format!(
        "#!/usr/bin/env python3\n\
         import json, sys\n\
         STAND_IN_SUFFIX = b'\\x72\\x06\\x0a\\x01k\\x12\\x01v'\n\
         code = sys.argv[2]\n\
         if 'importlib.metadata' in code:\n\
         \x20   print('8.4.190')\n\
         \x20   sys.exit(0)\n\
         pt = sys.argv[3]\n\
         out = pt[:-3] + '.onnx'\n\
         open(out, 'wb').write(open({onnx:?}, 'rb').read() + STAND_IN_SUFFIX)\n\
         open({log:?}, 'a').write(pt + '\\n')\n\
         print(json.dumps({{'onnx': out, 'ultralytics': '8.4.190', 'imgsz': 320}}))\n",
        onnx = crop_model("best.onnx").display().to_string(),
        log = dir.join("exports.log").display().to_string(),
    );
    std::fs::write(&script, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// A config comparing the committed ONNX with the checkpoint at `pt`, on 3 held-out photos.
pub fn checkpoint_config(d: &Path, pt: &str, python: Option<&Path>) -> PathBuf {
    let python = python.map_or(String::new(), |p| {
        format!("python = {:?}\n", p.display().to_string())
    });
    let text = format!(
        "[run]\nout = \"out\"\nbaseline = \"onnx\"\ncache = \"cache\"\n{python}\n\
         [[corpus]]\nname = \"test\"\nformat = \"fasseg\"\npath = {:?}\nsplit = \"test\"\n\
         classes = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\nlimit = 3\n\n\
         [[arm]]\nname = \"onnx\"\nadapter = \"yolov8-seg\"\nmodel = {:?}\nlabels = [\"foreground\"]\n\n\
         [[arm]]\nname = \"pt\"\nadapter = \"yolov8-seg\"\nmodel = {pt:?}\nlabels = [\"foreground\"]\n",
        shared().join("data/fasseg/V2").display().to_string(),
        crop_model("best.onnx").display().to_string(),
    );
    let path = d.join("maskgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The sha256 of the stand-in exporter's ONNX (the committed one plus [`STAND_IN_SUFFIX`]).
pub fn stand_in_export_sha256(scratch: &Path) -> String {
    let mut bytes = std::fs::read(crop_model("best.onnx")).unwrap();
    bytes.extend_from_slice(STAND_IN_SUFFIX);
    let p = scratch.join("stand-in-export.onnx");
    std::fs::write(&p, bytes).unwrap();
    maskgate::sha256_file(&p).unwrap()
}

/// The rows of `samples.jsonl` in the report folder `out`.
pub fn sample_rows(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
