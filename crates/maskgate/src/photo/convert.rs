//! Each tool's conversion of a decoder's output to 8-bit RGB, reproduced integer for integer:
//! Pillow's `convert("RGB")` (after the PNG plugin's unpackers and the JPEG plugin's CMYK
//! inversion) and OpenCV's `IMREAD_COLOR` (libpng's 8-bit expansion, `icvCvt_CMYK2BGR`). Each
//! rule here is checked against the real packages by `tests/library/decode_vectors.rs`.

use super::png::Decoded as Png;
use super::{DecodePolicy, Pixels};
use png::ColorType;

/// The RGB bytes `policy`'s tool makes of a decoder's output, or what the tool refuses.
/// IMG.LY's package reads the channel count from the file's metadata but takes sharp's sRGB
/// output: a grey or CMYK photo fails there ("Only 4-channel images are supported") or is
/// read scrambled, so it is refused here.
pub fn to_rgb(pixels: &Pixels, policy: DecodePolicy) -> Result<Vec<u8>, &'static str> {
    let sharp = policy == DecodePolicy::Sharp;
    Ok(match pixels {
        Pixels::Rgb(rgb) => rgb.clone(),
        Pixels::Gray(_) if sharp => return Err("a greyscale JPEG"),
        Pixels::Gray(g) => g.iter().flat_map(|&v| [v, v, v]).collect(),
        Pixels::Cmyk(_) if sharp => return Err("a CMYK JPEG"),
        Pixels::Cmyk(cmyk) => {
            // Each channel depends on its own ink and K alone: one table of the 65,536 pairs.
            let channel = match policy {
                DecodePolicy::Pillow => pillow_cmyk,
                _ => opencv_cmyk,
            };
            let table: Vec<u8> = (0..=u16::MAX)
                .map(|i| channel((i >> 8) as u8, i as u8))
                .collect();
            let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
            for p in cmyk.chunks_exact(4) {
                let k = p[3] as usize;
                out.extend(p[..3].iter().map(|&c| table[(c as usize) << 8 | k]));
            }
            out
        }
        Pixels::Png(png)
            if sharp && matches!(png.color, ColorType::Grayscale | ColorType::GrayscaleAlpha) =>
        {
            return Err("a greyscale PNG")
        }
        Pixels::Png(png) => png_rgb(png, policy),
    })
}

/// One channel of Pillow's reading of a stored ink `c` and black `k`: every four-component JPEG
/// is inverted CMYK to Pillow (`"CMYK;I"`, Adobe's convention, which libjpeg's output keeps),
/// then `cmyk2rgb`: `255 − k − c·(255 − k)/255` with Pillow's rounding `MULDIV255`.
fn pillow_cmyk(stored_c: u8, stored_k: u8) -> u8 {
    let c = 255 - stored_c as i32;
    let nk = stored_k as i32;
    let t = c * nk + 128;
    (nk - (((t >> 8) + t) >> 8)).clamp(0, 255) as u8
}

/// One channel of OpenCV's reading: the stored values, `k − ((255 − c)·k >> 8)`.
fn opencv_cmyk(stored_c: u8, stored_k: u8) -> u8 {
    let k = stored_k as i32;
    (k - (((255 - stored_c as i32) * k) >> 8)) as u8
}

/// Sample `i` of a row at `depth` bits (big-endian within a byte, as PNG packs them).
fn sample(row: &[u8], depth: u8, i: usize) -> u16 {
    match depth {
        16 => u16::from_be_bytes([row[2 * i], row[2 * i + 1]]),
        8 => row[i] as u16,
        d => {
            let per_byte = 8 / d as usize;
            let shift = 8 - d as usize * (i % per_byte + 1);
            ((row[i / per_byte] >> shift) & ((1u8 << d) - 1)) as u16
        }
    }
}

/// A sample of `depth` bits as 8 bits: low depths scaled to 0..=255 (both tools: Pillow's
/// `L;2`/`L;4` unpackers, libpng's `expand_gray_1_2_4_to_8`), 16 bits cut to their high byte
/// (Pillow's `;16B` unpackers, libpng's `strip_16`).
fn to_8(v: u16, depth: u8) -> u8 {
    match depth {
        16 => (v >> 8) as u8,
        8 => v as u8,
        d => (v as u32 * 255 / ((1u32 << d) - 1)) as u8,
    }
}

fn png_rgb(png: &Png, policy: DecodePolicy) -> Vec<u8> {
    let rows = png.data.chunks_exact(png.stride);
    let channels = png.color.samples();
    let mut out = Vec::with_capacity(png.width * 3 * png.data.len() / png.stride.max(1));
    for row in rows {
        for x in 0..png.width {
            let s = |c: usize| sample(row, png.depth, x * channels + c);
            let px = match png.color {
                ColorType::Grayscale | ColorType::GrayscaleAlpha => {
                    let v = match (png.depth, policy) {
                        // Pillow opens 16-bit grey as `I;16` and converts it to 8 bits by
                        // clipping at 255, not by scaling.
                        (16, DecodePolicy::Pillow) if png.color == ColorType::Grayscale => {
                            s(0).min(255) as u8
                        }
                        _ => to_8(s(0), png.depth),
                    };
                    [v, v, v]
                }
                ColorType::Rgb | ColorType::Rgba => [
                    to_8(s(0), png.depth),
                    to_8(s(1), png.depth),
                    to_8(s(2), png.depth),
                ],
                ColorType::Indexed => {
                    let i = s(0) as usize;
                    match png.palette.get(3 * i..3 * i + 3) {
                        Some(rgb) => [rgb[0], rgb[1], rgb[2]],
                        // An index past the palette: libpng gives black; Pillow's palette
                        // starts as a grey ramp, overwritten by the file's entries.
                        None => match policy {
                            DecodePolicy::Pillow => [i as u8; 3],
                            DecodePolicy::OpenCv | DecodePolicy::Sharp => [0; 3],
                        },
                    }
                }
            };
            out.extend_from_slice(&px);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_depth_samples_unpack_big_endian_and_scale_to_full_range() {
        let row = [0b1011_0001u8];
        assert_eq!(
            (0..4).map(|i| sample(&row, 2, i)).collect::<Vec<_>>(),
            [2, 3, 0, 1]
        );
        assert_eq!(to_8(3, 2), 255);
        assert_eq!(to_8(1, 2), 85);
        assert_eq!(to_8(0xF, 4), 255);
        assert_eq!(to_8(1, 1), 255);
        assert_eq!(to_8(0xABCD, 16), 0xAB);
    }

    #[test]
    fn cmyk_white_and_black_are_white_and_black_in_both_tools() {
        // Stored inverted (Adobe): no ink is 255 everywhere.
        assert_eq!(pillow_cmyk(255, 255), 255);
        assert_eq!(opencv_cmyk(255, 255), 255);
        assert_eq!(pillow_cmyk(255, 0), 0);
        assert_eq!(opencv_cmyk(255, 0), 0);
        // Where the two tools' roundings part (the decode vectors check every file).
        assert_eq!((pillow_cmyk(100, 200), opencv_cmyk(100, 200)), (78, 79));
    }
}
