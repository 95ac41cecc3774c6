#![no_main]
// The polygon rasteriser: arbitrary coordinates (huge, negative, NaN) on a small canvas.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (h, w) = (data[0] as u32 % 64 + 1, data[1] as u32 % 64 + 1);
    let coords: Vec<f64> = data[2..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    if let Ok(rle) = maskgate_core::polygon::rasterize_polygons(&[coords], h, w) {
        let m = rle.decode().unwrap();
        assert_eq!((m.height(), m.width()), (h, w));
    }
});
