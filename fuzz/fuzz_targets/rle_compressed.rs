#![no_main]
// The compressed-RLE decoder: any string, any small canvas.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (h, w) = (data[0] as u32 + 1, data[1] as u32 + 1);
    if let Ok(text) = std::str::from_utf8(&data[2..]) {
        if let Ok(rle) = maskgate_core::Rle::from_compressed(h, w, text) {
            if let Ok(m) = rle.decode() {
                let again = maskgate_core::Rle::encode(&m);
                assert_eq!(again.decode().unwrap(), m);
            }
        }
    }
});
