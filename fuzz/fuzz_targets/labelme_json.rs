#![no_main]
// One labelme JSON file in a folder, read as a corpus and loaded.
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("labelme");
    std::fs::write(dir.join("a.json"), data).unwrap();
    let spec = maskgate::read::CorpusSpec {
        name: "l".into(),
        format: "labelme".into(),
        path: dir,
        limits: maskgate::limits::Limits {
            max_mask_pixels: 1 << 16,
            max_polygon_vertices: 1 << 12,
            ..Default::default()
        },
        ..Default::default()
    };
    common::read_all(&spec);
});
