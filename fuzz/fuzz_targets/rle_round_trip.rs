#![no_main]
// The compressed-RLE codec (its SSSE3 block kernels and their scalar fallbacks): any counts,
// written and parsed back, are the same counts.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Two bytes a count, scaled by a shift from the first byte so that small steps (one or two
    // characters) and huge counts (near 2^31 and 2^32) are both common.
    let Some((&shift, rest)) = data.split_first() else {
        return;
    };
    let counts: Vec<u32> = rest
        .chunks_exact(2)
        .enumerate()
        .map(|(i, b)| {
            let v = u16::from_le_bytes([b[0], b[1]]) as u32;
            if (shift >> (i % 8)) & 1 == 1 {
                v.rotate_left(17)
            } else {
                v % 700
            }
        })
        .collect();
    let sum: u64 = counts.iter().map(|&c| c as u64).sum();
    let Ok(w) = u32::try_from(sum) else {
        return;
    };
    let rle = maskgate_core::Rle { h: 1, w, counts };
    let text = rle.to_compressed();
    let back = maskgate_core::Rle::from_compressed(1, w, &text).expect("a written string parses");
    assert_eq!(back, rle);
});
