//! `pil_draw` against Pillow itself: 140 polygons and rectangles filled by Pillow 13.0.0's
//! ImageDraw (tools/pil_polygon_vectors.py), pixel for pixel.

use maskgate_core::pil_draw::{fill_polygon, fill_rectangle};
use serde_json::Value;

#[test]
fn fills_match_pillow_pixel_for_pixel() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pil_draw_vectors.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 140);
    let mut failed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let (h, w) = (
            c["h"].as_u64().unwrap() as u32,
            c["w"].as_u64().unwrap() as u32,
        );
        let pts: Vec<[f64; 2]> = serde_json::from_value(c["points"].clone()).unwrap();
        let m = match c["kind"].as_str().unwrap() {
            "polygon" => fill_polygon(&pts, h, w),
            _ => fill_rectangle(pts[0], pts[1], h, w),
        };
        let mut got = Vec::new();
        for y in 0..h {
            for x in 0..w {
                if m.get(y, x) {
                    got.push((y * w + x) as u64);
                }
            }
        }
        let want: Vec<u64> = serde_json::from_value(c["on"].clone()).unwrap();
        if got != want {
            failed.push((i, got.len(), want.len()));
        }
    }
    assert!(
        failed.is_empty(),
        "cases (index, ours, Pillow's): {failed:?}"
    );
}
