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
            let convert = match policy {
                DecodePolicy::Pillow => pillow_cmyk,
                _ => opencv_cmyk,
            };
            cmyk.chunks_exact(4).flat_map(convert).collect()
        }
        Pixels::Png(png)
            if sharp && matches!(png.color, ColorType::Grayscale | ColorType::GrayscaleAlpha) =>
        {
            return Err("a greyscale PNG")
        }
        Pixels::Png(png) => png_rgb(png, policy),
    })
}

/// Pillow reads every four-component JPEG as inverted CMYK (`"CMYK;I"`, Adobe's convention,
/// which libjpeg's output keeps), then `cmyk2rgb`: `255 − k − c·(255 − k)/255` with Pillow's
/// rounding `MULDIV255`.
fn pillow_cmyk(p: &[u8]) -> [u8; 3] {
    let (c, m, y, k) = (255 - p[0], 255 - p[1], 255 - p[2], 255 - p[3]);
    let nk = 255 - k as i32;
    let muldiv255 = |a: i32, b: i32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    let channel = |v: u8| (nk - muldiv255(v as i32, nk)).clamp(0, 255) as u8;
    [channel(c), channel(m), channel(y)]
}

/// OpenCV takes libjpeg's CMYK as stored and computes `k − ((255 − c)·k >> 8)` per channel.
fn opencv_cmyk(p: &[u8]) -> [u8; 3] {
    let k = p[3] as i32;
    let channel = |c: u8| (k - (((255 - c as i32) * k) >> 8)) as u8;
    [channel(p[0]), channel(p[1]), channel(p[2])]
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
        assert_eq!(pillow_cmyk(&[255, 255, 255, 255]), [255, 255, 255]);
        assert_eq!(opencv_cmyk(&[255, 255, 255, 255]), [255, 255, 255]);
        assert_eq!(pillow_cmyk(&[255, 255, 255, 0]), [0, 0, 0]);
        assert_eq!(opencv_cmyk(&[255, 255, 255, 0]), [0, 0, 0]);
    }
}
