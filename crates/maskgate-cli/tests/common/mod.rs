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
