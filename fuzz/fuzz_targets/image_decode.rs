#![no_main]
// Photo decoding within limits: any bytes, never a panic or an allocation past the limit.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = maskgate::limits::Limits {
        max_image_pixels: 1 << 20,
        ..Default::default()
    };
    if let Ok(img) = maskgate::predict::image::decode_rgb_within(data, &limits) {
        assert!((img.w * img.h) as u64 <= limits.max_image_pixels);
    }
});
