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
    // The inverse map: destination to source, per axis (W = 1, so the factor is INTER_TAB_SIZE).
    let axis = |out: usize, inn: usize| -> Vec<(i64, i64)> {
        let m = inn as f64 / out as f64;
        (0..out)
            .map(|d| {
                let fixed = cv_round(m * d as f64 * INTER_TAB_SIZE as f64);
                (fixed >> INTER_BITS, fixed & (INTER_TAB_SIZE - 1))
            })
            .collect()
    };
    let (xs, ys) = (axis(out_w, w), axis(out_h, h));
    let at = |y: i64, x: i64, ch: usize| -> i64 {
        if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) {
            src[(y as usize * w + x as usize) * c + ch] as i64
        } else {
            0
        }
    };
    let mut out = vec![0u8; out_w * out_h * c];
    for (oy, &(y0, fy)) in ys.iter().enumerate() {
        for (ox, &(x0, fx)) in xs.iter().enumerate() {
            // The 2-D table entry for (fy, fx): products of 1 - i/32 and i/32, exact in 15 bits.
            let scale = (1 << COEF_BITS) / (INTER_TAB_SIZE * INTER_TAB_SIZE);
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
    let (xs, ys) = (resize_axis(w, out_w), resize_axis(h, out_h));
    // The horizontal pass of every source row a destination row reads (all of them here).
    let rows: Vec<f32> = (0..h)
        .flat_map(|y| {
            let row = &src[y * w..(y + 1) * w];
            xs.iter()
                .map(move |&(s0, s1, a0, a1)| row[s0] * a0 + row[s1] * a1)
        })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
