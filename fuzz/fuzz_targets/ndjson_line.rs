#![no_main]
// One gold / prediction NDJSON line, then every mask it holds rasterised within the limits.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(line) = maskgate::read::ndjson::parse_line(text, 1) else {
        return;
    };
    let limits = maskgate::limits::Limits {
        max_mask_pixels: 1 << 16,
        max_polygon_vertices: 1 << 12,
        ..Default::default()
    };
    for m in line.masks.values().flatten() {
        let (h, w) = m.size();
        if limits.check_mask(h, w).is_ok() && m.vertex_count() <= limits.max_polygon_vertices {
            let _ = m.rasterize(None);
            let _ = m.rasterize(Some(16));
        }
    }
});
