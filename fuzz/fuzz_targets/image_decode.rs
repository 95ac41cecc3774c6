#![no_main]
// Photo decoding within limits, libjpeg-turbo included (built with ASan when CC=clang and
// CFLAGS=-fsanitize=address, as fuzz/run.sh does for this target): any bytes, under every
// tool's policy, never a panic, a memory error or an allocation past the limit.
use libfuzzer_sys::fuzz_target;
use maskgate::photo::{decode, upright_size, DecodePolicy};

fuzz_target!(|data: &[u8]| {
    let limits = maskgate::limits::Limits {
        max_image_pixels: 1 << 20,
        ..Default::default()
    };
    let _ = upright_size(data);
    if let Ok(decoded) = decode(data, &limits) {
        for policy in DecodePolicy::ALL {
            if let Ok(img) = decoded.rgb(policy) {
                assert!((img.w * img.h) as u64 <= limits.max_image_pixels);
                assert_eq!(img.data.len(), img.w * img.h * 3);
            }
        }
    }
});
