#![no_main]
// A COCO annotations file, read and every sample loaded (the photos do not exist: a problem).
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("coco");
    let file = dir.join("annotations.json");
    std::fs::write(&file, data).unwrap();
    let spec = maskgate::read::CorpusSpec {
        name: "c".into(),
        format: "coco".into(),
        path: file,
        limits: maskgate::limits::Limits {
            max_mask_pixels: 1 << 16,
            max_polygon_vertices: 1 << 12,
            ..Default::default()
        },
        ..Default::default()
    };
    common::read_all(&spec);
});
