//! OpenCV's two bilinear resamplers as MediaPipe's CPU graphs call them (OpenCV 4.x
//! `imgwarp.cpp` and `resize.cpp`), for the legacy selfie segmentation:
//! - `ImageToTensorCalculator` stretches the whole photo to the model's input with
//!   `cv::warpPerspective(.., INTER_LINEAR, BORDER_CONSTANT 0)`: source = destination × in/out
//!   (pixel corners to corners, no half-pixel shift), positions rounded to 1/32 pixel, 15-bit
//!   fixed-point weights on the 8-bit image; then `convertTo(CV_32F, 1/255)`.
//! - `TensorsToSegmentationCalculator` brings the mask back with `cv::resize(.., INTER_LINEAR)`
//!   on floats: half-pixel centres, clamped at the edges, a horizontal then a vertical pass.

/// `INTER_BITS`: sub-pixel positions are multiples of 1/32.
const INTER_BITS: u32 = 5;
const INTER_TAB_SIZE: i64 = 1 << INTER_BITS;
/// `INTER_REMAP_COEF_BITS`.
const COEF_BITS: u32 = 15;

/// `cvRound` of a double: to nearest, ties to even (`lrint`).
fn cv_round(v: f64) -> i64 {
    v.round_ties_even() as i64
}

/// `warpPerspective` of an 8-bit `w × h × c` image by the pure scale that maps its corners to
/// those of `out_w × out_h`, bilinear, outside pixels 0.
pub fn warp_scale_u8(
    src: &[u8],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    if out_w == 0 || out_h == 0 || c == 0 {
        return Vec::new();
    }
    // The channel count as a constant where photos have one, so the per-pixel loop unrolls.
    match c {
        3 => warp_scale::<3>(src, w, h, out_w, out_h),
        1 => warp_scale::<1>(src, w, h, out_w, out_h),
        4 => warp_scale::<4>(src, w, h, out_w, out_h),
        _ => warp_scale_any(src, w, h, c, out_w, out_h),
    }
}

/// The weights of a warp: per destination row and column, the first source index and the
/// weights of it and the next. The 2-D table entry for (fy, fx) is (32 − fy)(32 − fx)·32 and
/// so on, products exact in 15 bits: split into a row weight (with the ·32) and a column
/// weight, the same integer sum.
struct WarpTable {
    rows: Vec<(i64, i32, i32)>,
    cols: Vec<(i64, i32, i32)>,
}

impl WarpTable {
    fn new(w: usize, h: usize, out_w: usize, out_h: usize) -> WarpTable {
        let scale = (1i32 << COEF_BITS) / (INTER_TAB_SIZE * INTER_TAB_SIZE) as i32;
        let tab = INTER_TAB_SIZE as i32;
        WarpTable {
            rows: (warp_axis(out_h, h).into_iter())
                .map(|(y0, fy)| (y0, (tab - fy as i32) * scale, fy as i32 * scale))
                .collect(),
            cols: (warp_axis(out_w, w).into_iter())
                .map(|(x0, fx)| (x0, tab - fx as i32, fx as i32))
                .collect(),
        }
    }
}

/// The rounded, clamped value of a weighted 2×2 neighbourhood.
#[inline(always)]
fn warp_value(wy0: i32, wy1: i32, top: i32, bottom: i32) -> u8 {
    ((wy0 * top + wy1 * bottom + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8
}

fn warp_scale<const C: usize>(
    src: &[u8],
    w: usize,
    h: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    let table = WarpTable::new(w, h, out_w, out_h);
    let row_len = w * C;
    let row_of = |y: i64| -> Option<&[u8]> {
        (0..h as i64)
            .contains(&y)
            .then(|| &src[y as usize * row_len..(y as usize + 1) * row_len])
    };
    // A neighbour outside the photo reads 0.
    let at = |row: Option<&[u8]>, x: i64, ch: usize| -> i32 {
        match row {
            Some(r) if (0..w as i64).contains(&x) => r[x as usize * C + ch] as i32,
            _ => 0,
        }
    };
    let mut out = vec![0u8; out_w * out_h * C];
    for (dst, &(y0, wy0, wy1)) in out.chunks_exact_mut(out_w * C).zip(&table.rows) {
        let (r0, r1) = (row_of(y0), row_of(y0 + 1));
        for (px, &(x0, wx0, wx1)) in dst.chunks_exact_mut(C).zip(&table.cols) {
            let px: &mut [u8; C] = px.try_into().expect("chunks of C");
            match (r0, r1) {
                // Both rows and both columns inside: no bounds to test per channel.
                (Some(a), Some(b)) if x0 >= 0 && ((x0 + 1) as usize) < w => {
                    let i = x0 as usize * C;
                    let pixel = |r: &[u8], at: usize| -> [u8; C] {
                        r[at..at + C].try_into().expect("a pixel")
                    };
                    let (a0, a1, b0, b1) =
                        (pixel(a, i), pixel(a, i + C), pixel(b, i), pixel(b, i + C));
                    for ch in 0..C {
                        let top = wx0 * a0[ch] as i32 + wx1 * a1[ch] as i32;
                        let bottom = wx0 * b0[ch] as i32 + wx1 * b1[ch] as i32;
                        px[ch] = warp_value(wy0, wy1, top, bottom);
                    }
                }
                _ => {
                    for (ch, v) in px.iter_mut().enumerate() {
                        let top = wx0 * at(r0, x0, ch) + wx1 * at(r0, x0 + 1, ch);
                        let bottom = wx0 * at(r1, x0, ch) + wx1 * at(r1, x0 + 1, ch);
                        *v = warp_value(wy0, wy1, top, bottom);
                    }
                }
            }
        }
    }
    out
}

/// The warp as OpenCV's table lookup reads it, for any channel count: per pixel and channel,
/// the four neighbours (0 outside) times the 2-D table entry. The reference [`warp_scale`] is
/// property-tested against.
fn warp_scale_any(src: &[u8], w: usize, h: usize, c: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    let (xs, ys) = (warp_axis(out_w, w), warp_axis(out_h, h));
    let at = |y: i64, x: i64, ch: usize| -> i64 {
        if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) {
            src[(y as usize * w + x as usize) * c + ch] as i64
        } else {
            0
        }
    };
    let scale = (1 << COEF_BITS) / (INTER_TAB_SIZE * INTER_TAB_SIZE);
    let mut out = vec![0u8; out_w * out_h * c];
    for (oy, &(y0, fy)) in ys.iter().enumerate() {
        for (ox, &(x0, fx)) in xs.iter().enumerate() {
            let w00 = (INTER_TAB_SIZE - fy) * (INTER_TAB_SIZE - fx) * scale;
            let w01 = (INTER_TAB_SIZE - fy) * fx * scale;
            let w10 = fy * (INTER_TAB_SIZE - fx) * scale;
            let w11 = fy * fx * scale;
            for ch in 0..c {
                let sum = at(y0, x0, ch) * w00
                    + at(y0, x0 + 1, ch) * w01
                    + at(y0 + 1, x0, ch) * w10
                    + at(y0 + 1, x0 + 1, ch) * w11;
                out[(oy * out_w + ox) * c + ch] =
                    ((sum + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8;
            }
        }
    }
    out
}

/// The inverse map of one axis, destination to source (W = 1, so the factor is
/// INTER_TAB_SIZE): per destination index, the source index and its 1/32 fraction.
fn warp_axis(out: usize, inn: usize) -> Vec<(i64, i64)> {
    let m = inn as f64 / out as f64;
    (0..out)
        .map(|d| {
            let fixed = cv_round(m * d as f64 * INTER_TAB_SIZE as f64);
            (fixed >> INTER_BITS, fixed & (INTER_TAB_SIZE - 1))
        })
        .collect()
}

/// One axis of `cv::resize`'s INTER_LINEAR table: per output index, the first source index and
/// the two float weights.
fn resize_axis(inn: usize, out: usize) -> Vec<(usize, usize, f32, f32)> {
    let scale = 1.0 / (out as f64 / inn as f64);
    (0..out)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f32;
            if s < 0 {
                (s, frac) = (0, 0.0);
            }
            if s >= inn as i64 - 1 {
                (s, frac) = (inn as i64 - 1, 0.0);
            }
            let s = s as usize;
            (s, (s + 1).min(inn - 1), 1.0 - frac, frac)
        })
        .collect()
}

/// `cv::resize(src, dst, Size(out_w, out_h))` (INTER_LINEAR) of a one-channel float image.
pub fn resize_linear_f32(src: &[f32], w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<f32> {
    if w == 0 || h == 0 || out_w == 0 {
        return vec![0.0; out_w * out_h];
    }
    let (xs, ys) = (resize_axis(w, out_w), resize_axis(h, out_h));
    // The horizontal pass of every source row a destination row reads (all of them here).
    let mut rows = vec![0f32; h * out_w];
    for (dst, row) in rows.chunks_exact_mut(out_w).zip(src.chunks_exact(w)) {
        for (d, &(s0, s1, a0, a1)) in dst.iter_mut().zip(&xs) {
            *d = row[s0] * a0 + row[s1] * a1;
        }
    }
    let mut out = Vec::with_capacity(out_w * out_h);
    for &(s0, s1, b0, b1) in &ys {
        let (r0, r1) = (
            &rows[s0 * out_w..(s0 + 1) * out_w],
            &rows[s1 * out_w..(s1 + 1) * out_w],
        );
        out.extend(r0.iter().zip(r1).map(|(&p, &q)| p * b0 + q * b1));
    }
    out
}

/// `INTER_RESIZE_COEF_BITS`: the 8-bit path's weights are multiples of 1/2048.
const RESIZE_COEF_BITS: u32 = 11;
const RESIZE_ONE: f32 = (1 << RESIZE_COEF_BITS) as f32;

/// `saturate_cast<short>(w * INTER_RESIZE_COEF_SCALE)`: to nearest, ties to even.
fn fixed_weight(w: f32) -> i32 {
    (w * RESIZE_ONE).round_ties_even() as i32
}

/// `cv::resize(src, dst, Size(out_w, out_h), 0, 0, INTER_LINEAR)` of an 8-bit `w × h × c`
/// image, bit for bit (OpenCV's fixed-point path, `resize.cpp`), as Ultralytics' `LetterBox`
/// calls it:
/// - the weights are the float weights of [`resize_linear_f32`] in 11-bit fixed point;
/// - the horizontal pass sums `pixel × weight` exactly in integers, clamping columns as the
///   float path does;
/// - the vertical pass reads clamped rows but, unlike the columns, keeps the row weight of a
///   position above the first or below the last row, and combines the two rows as
///   `((b0·(r0 >> 4)) >> 16) + ((b1·(r1 >> 4)) >> 16) + 2) >> 2` (`VResizeLinear` for `uchar`);
/// - an exact halving of both axes is `INTER_AREA`'s 2×2 mean, `(a + b + c + d + 2) >> 2`,
///   which OpenCV substitutes there;
/// - the same size is a copy.
pub fn resize_linear_u8(
    src: &[u8],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    if (w, h) == (out_w, out_h) {
        return src.to_vec();
    }
    if w == 2 * out_w && h == 2 * out_h {
        let at = |y: usize, x: usize, ch: usize| src[(y * w + x) * c + ch] as u32;
        let mut out = Vec::with_capacity(out_w * out_h * c);
        for y in 0..out_h {
            for x in 0..out_w {
                for ch in 0..c {
                    let sum = at(2 * y, 2 * x, ch)
                        + at(2 * y, 2 * x + 1, ch)
                        + at(2 * y + 1, 2 * x, ch)
                        + at(2 * y + 1, 2 * x + 1, ch);
                    out.push(((sum + 2) >> 2) as u8);
                }
            }
        }
        return out;
    }
    let xs: Vec<(usize, usize, i32, i32)> = resize_axis(w, out_w)
        .into_iter()
        .map(|(s0, s1, a0, a1)| (s0, s1, fixed_weight(a0), fixed_weight(a1)))
        .collect();
    let scale_y = 1.0 / (out_h as f64 / h as f64);
    let ys: Vec<(usize, usize, i32, i32)> = (0..out_h)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale_y - 0.5) as f32;
            let s = f.floor();
            let frac = f - s;
            let row = |r: i64| r.clamp(0, h as i64 - 1) as usize;
            let s = s as i64;
            (
                row(s),
                row(s + 1),
                fixed_weight(1.0 - frac),
                fixed_weight(frac),
            )
        })
        .collect();
    // The horizontal pass of one source row, computed once for every destination row reading it.
    let stride = out_w * c;
    let mut rows: Vec<Option<Vec<i32>>> = vec![None; h];
    let horizontal = |y: usize| -> Vec<i32> {
        let row = &src[y * w * c..(y + 1) * w * c];
        let mut out = Vec::with_capacity(stride);
        for &(s0, s1, a0, a1) in &xs {
            for ch in 0..c {
                out.push(row[s0 * c + ch] as i32 * a0 + row[s1 * c + ch] as i32 * a1);
            }
        }
        out
    };
    for &(r0, r1, _, _) in &ys {
        for r in [r0, r1] {
            if rows[r].is_none() {
                rows[r] = Some(horizontal(r));
            }
        }
    }
    let mut out = Vec::with_capacity(out_h * stride);
    for &(r0, r1, b0, b1) in &ys {
        let (p, q) = (rows[r0].as_deref(), rows[r1].as_deref());
        let (Some(p), Some(q)) = (p, q) else {
            unreachable!("every row a destination row reads was computed above")
        };
        out.extend(p.iter().zip(q).map(|(&u, &v)| {
            let sum = ((b0 * (u >> 4)) >> 16) + ((b1 * (v >> 4)) >> 16) + 2;
            (sum >> 2).clamp(0, 255) as u8
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    proptest::proptest! {
        #[test]
        fn the_warp_equals_the_table_lookup(
            (w, h, c, pixels) in (1usize..40, 1usize..40, proptest::sample::select(vec![1usize, 3, 4]))
                .prop_flat_map(|(w, h, c)| (proptest::strategy::Just(w), proptest::strategy::Just(h), proptest::strategy::Just(c), proptest::collection::vec(proptest::prelude::any::<u8>(), w * h * c))),
            out_w in 1usize..60,
            out_h in 1usize..60,
        ) {
            // The channel counts with an unrolled loop; any other goes to the lookup itself.
            proptest::prop_assert_eq!(
                warp_scale_u8(&pixels, w, h, c, out_w, out_h),
                warp_scale_any(&pixels, w, h, c, out_w, out_h)
            );
        }
    }

    #[test]
    fn empty_sizes_give_empty_results() {
        assert!(warp_scale_u8(&[1, 2, 3], 1, 1, 3, 0, 5).is_empty());
        assert!(warp_scale_u8(&[], 0, 0, 0, 4, 4).is_empty());
        assert_eq!(resize_linear_f32(&[], 0, 0, 2, 1), [0.0, 0.0]);
        assert!(resize_linear_f32(&[1.0], 1, 1, 0, 3).is_empty());
    }

    #[test]
    fn identity_sizes_give_the_input_back() {
        let img: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(warp_scale_u8(&img, 5, 4, 3, 5, 4), img);
        let f: Vec<f32> = (0..20).map(|i| i as f32 / 20.0).collect();
        assert_eq!(resize_linear_f32(&f, 5, 4, 5, 4), f);
    }

    #[test]
    fn halving_the_width_reads_every_other_pixel_and_the_border_is_zero() {
        // Corners to corners: destination x reads source 2x exactly (weight on one pixel).
        let row = [10u8, 20, 30, 40];
        assert_eq!(warp_scale_u8(&row, 4, 1, 1, 2, 1), [10, 30]);
        // Doubling: x = 1 reads source 0.5 (between 10 and 20); the last reads 1.5, whose
        // right neighbour lies outside and counts as 0.
        assert_eq!(warp_scale_u8(&[10, 20], 2, 1, 1, 4, 1), [10, 15, 20, 10]);
    }

    /// Byte for byte against the real `cv2.resize(.., INTER_LINEAR)` of the OpenCV Ultralytics
    /// pins, on seeded noise and gradients: shrunk, grown, mixed, halved, one axis, identity.
    /// Regenerate with `tools/opencv_resize_vectors.py`.
    #[test]
    fn resize_linear_u8_matches_opencv() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/opencv_resize_vectors.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 10, "made by OpenCV {}", v["opencv"]);
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut failures = Vec::new();
        for case in cases {
            let n = |k: &str| case[k].as_u64().unwrap() as usize;
            let (w, h, ow, oh) = (n("w"), n("h"), n("out_w"), n("out_h"));
            let (src, want) = (
                hex(case["src"].as_str().unwrap()),
                hex(case["dst"].as_str().unwrap()),
            );
            assert_eq!((src.len(), want.len()), (w * h * 3, ow * oh * 3));
            let got = resize_linear_u8(&src, w, h, 3, ow, oh);
            let off = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            if off > 0 {
                failures.push(format!(
                    "{w}x{h} -> {ow}x{oh}: {off} of {} bytes differ",
                    want.len()
                ));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn resize_uses_half_pixel_centres_clamped_at_the_edges() {
        // 2 → 4: centres at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        assert_eq!(
            resize_linear_f32(&[0.0, 1.0], 2, 1, 4, 1),
            [0.0, 0.25, 0.75, 1.0]
        );
        assert_eq!(
            resize_linear_f32(&[0.0, 1.0], 1, 2, 1, 4),
            [0.0, 0.25, 0.75, 1.0]
        );
    }
}
