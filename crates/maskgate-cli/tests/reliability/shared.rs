//! Helpers every part of the reliability suite uses.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Virtual memory cap for every run (KiB): far below what the bad inputs used to request
/// (4–48 GB), above what ONNX Runtime maps for the selfie model.
pub const MEMORY_CAP_KIB: u64 = 3_000_000;

pub const RLE_2X2_FULL: &str = r#"{"size": [2, 2], "counts": [0, 4]}"#;

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status `code`, never a panic, an abort, a timeout or a signal.
pub fn expect_status(o: &Output, code: i32) {
    let status = o.status.code();
    for (bad, what) in [(101, "panic"), (134, "abort"), (124, "timeout")] {
        assert_ne!(status, Some(bad), "{what}: {}", stderr(o));
    }
    assert!(status.is_some(), "killed by a signal: {}", stderr(o));
    assert_eq!(status, Some(code), "{}", stderr(o));
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Lines of `samples.jsonl` by (arm, id).
pub fn samples(dir: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(dir.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["arm"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
                l.to_string(),
            )
        })
        .collect()
}

pub fn sample(rows: &[(String, String, String)], arm: &str, id: &str) -> Value {
    let line = &rows
        .iter()
        .find(|(a, i, _)| a == arm && i == id)
        .unwrap_or_else(|| panic!("no line for {arm}/{id}"))
        .2;
    serde_json::from_str(line).unwrap()
}

pub fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// A gold file of three 2×2 samples (`a`, `b`, `c`), all foreground.
pub fn gold(d: &Path) -> PathBuf {
    let g = d.join("gold.ndjson");
    let lines: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|id| format!(r#"{{"id": "{id}", "size": [2, 2], "masks": {{"fg": {RLE_2X2_FULL}}}}}"#))
        .collect();
    write(&g, &(lines.join("\n") + "\n"));
    g
}

/// A 32×32 PNG photo.
pub fn png_32(path: &Path) {
    let img = image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 90]));
    img.save(path).unwrap();
}

/// Gold NDJSON at `path` for the photos `a.png` and `b.png` beside it, 32×32, all foreground.
pub fn two_photo_gold(path: &Path) {
    let full = r#"{"size": [32, 32], "counts": [0, 1024]}"#;
    write(
        path,
        &format!(
            "{{\"id\": \"a\", \"image\": \"a.png\", \"size\": [32, 32], \"masks\": {{\"fg\": {full}}}}}\n\
             {{\"id\": \"b\", \"image\": \"b.png\", \"size\": [32, 32], \"masks\": {{\"fg\": {full}}}}}\n"
        ),
    );
}
