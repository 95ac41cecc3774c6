//! Cheap properties of a photo for finding weak slices: its mean luminance, contrast and
//! sharpness, defined as OpenCV computes them, so a team can reproduce a slice's bounds:
//! luminance is the mean of `cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)` (8-bit, fixed point), contrast the
//! standard deviation of that grey image, and sharpness the variance of
//! `cv2.Laplacian(grey, cv2.CV_64F)` (the 3×3 four-neighbour kernel, `BORDER_REFLECT_101`).
//! The sums are integers, so the values do not depend on the order pixels are visited in.

/// The properties of one photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhotoStats {
    /// Mean grey level, 0–255.
    pub luminance: f64,
    /// Standard deviation of the grey levels.
    pub contrast: f64,
    /// Variance of the Laplacian of the grey image.
    pub sharpness: f64,
}

/// OpenCV's `RGB2GRAY` for 8-bit pixels: BT.601 weights in 15-bit fixed point, rounded
/// (`RY15`, `GY15`, `BY15` and `gray_shift` in OpenCV's `color_rgb.simd.hpp`).
pub fn grey(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 9798 + g as u32 * 19235 + b as u32 * 3735 + (1 << 14)) >> 15) as u8
}

/// Mean and population variance from exact integer sums.
fn mean_var(n: u64, sum: i128, sum_sq: i128) -> (f64, f64) {
    let n = n as i128;
    let mean = sum as f64 / n as f64;
    // n·Σx² − (Σx)² is exact in i128; one rounding at the end.
    let var = (n * sum_sq - sum * sum) as f64 / (n * n) as f64;
    (mean, var)
}

/// The properties of an RGB photo (`w × h`, 3 bytes a pixel, row-major); `None` when it has no
/// pixels or `rgb` is not that long.
pub fn photo_stats(rgb: &[u8], w: usize, h: usize) -> Option<PhotoStats> {
    let n = w.checked_mul(h)?;
    if n == 0 || rgb.len() != n.checked_mul(3)? {
        return None;
    }
    let grey: Vec<u8> = rgb
        .chunks_exact(3)
        .map(|p| grey(p[0], p[1], p[2]))
        .collect();
    // Sums per row in i64 (a row's squares stay far below its range), totals in i128: the
    // same integers as summing every pixel in i128, without 128-bit arithmetic per pixel.
    let (mut sum, mut sum_sq) = (0i128, 0i128);
    for row in grey.chunks_exact(w) {
        let (s, q) = row.iter().fold((0i64, 0i64), |(s, q), &g| {
            (s + g as i64, q + g as i64 * g as i64)
        });
        sum += s as i128;
        sum_sq += q as i128;
    }
    let (luminance, var) = mean_var(n as u64, sum, sum_sq);
    let reflect = |i: isize, len: usize| -> usize {
        if len == 1 {
            0
        } else if i < 0 {
            (-i) as usize
        } else if i as usize >= len {
            2 * (len - 1) - i as usize
        } else {
            i as usize
        }
    };
    let (mut lsum, mut lsum_sq) = (0i128, 0i128);
    for y in 0..h {
        let up = &grey[reflect(y as isize - 1, h) * w..][..w];
        let down = &grey[reflect(y as isize + 1, h) * w..][..w];
        let row = &grey[y * w..][..w];
        let laplacian = |x: usize, left: usize, right: usize| -> i64 {
            up[x] as i64 + down[x] as i64 + row[left] as i64 + row[right] as i64 - 4 * row[x] as i64
        };
        let (mut s, mut q) = (0i64, 0i64);
        let mut add = |l: i64| {
            s += l;
            q += l * l;
        };
        // The edge columns reflect; the inner ones read both neighbours directly.
        add(laplacian(0, reflect(-1, w), reflect(1, w)));
        for x in 1..w.saturating_sub(1) {
            add(laplacian(x, x - 1, x + 1));
        }
        if w > 1 {
            add(laplacian(
                w - 1,
                reflect(w as isize - 2, w),
                reflect(w as isize, w),
            ));
        }
        lsum += s as i128;
        lsum_sq += q as i128;
    }
    let (_, sharpness) = mean_var(n as u64, lsum, lsum_sq);
    Some(PhotoStats {
        luminance,
        contrast: var.max(0.0).sqrt(),
        sharpness: sharpness.max(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every pixel summed in i128, the Laplacian read through the reflection at each pixel:
    /// the reference the row sums are held to.
    fn naive(rgb: &[u8], w: usize, h: usize) -> PhotoStats {
        let grey: Vec<u8> = rgb
            .chunks_exact(3)
            .map(|p| grey(p[0], p[1], p[2]))
            .collect();
        let (mut sum, mut sum_sq) = (0i128, 0i128);
        for &g in &grey {
            sum += g as i128;
            sum_sq += (g as i128) * (g as i128);
        }
        let (luminance, var) = mean_var((w * h) as u64, sum, sum_sq);
        let reflect = |i: isize, len: usize| -> usize {
            match (len, i) {
                (1, _) => 0,
                (_, i) if i < 0 => (-i) as usize,
                (_, i) if i as usize >= len => 2 * (len - 1) - i as usize,
                (_, i) => i as usize,
            }
        };
        let (mut lsum, mut lsum_sq) = (0i128, 0i128);
        for y in 0..h as isize {
            for x in 0..w as isize {
                let at = |yy: isize, xx: isize| grey[reflect(yy, h) * w + reflect(xx, w)] as i32;
                let l = at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1) - 4 * at(y, x);
                lsum += l as i128;
                lsum_sq += (l as i128) * (l as i128);
            }
        }
        let (_, sharpness) = mean_var((w * h) as u64, lsum, lsum_sq);
        PhotoStats {
            luminance,
            contrast: var.max(0.0).sqrt(),
            sharpness: sharpness.max(0.0),
        }
    }

    proptest! {
        #[test]
        fn stats_equal_the_pixel_by_pixel_sums(
            (w, h, rgb) in (1usize..40, 1usize..40).prop_flat_map(|(w, h)| {
                (Just(w), Just(h), proptest::collection::vec(any::<u8>(), w * h * 3))
            })
        ) {
            prop_assert_eq!(photo_stats(&rgb, w, h), Some(naive(&rgb, w, h)));
        }
    }

    #[test]
    fn flat_photo_has_no_contrast_or_sharpness() {
        let s = photo_stats(&[200, 100, 50].repeat(12), 4, 3).unwrap();
        assert_eq!(s.luminance, grey(200, 100, 50) as f64);
        assert_eq!((s.contrast, s.sharpness), (0.0, 0.0));
        assert_eq!(photo_stats(&[], 0, 0), None);
        assert_eq!(photo_stats(&[1, 2], 1, 1), None);
    }

    #[test]
    fn a_checkerboard_is_sharper_than_its_blur() {
        let board: Vec<u8> = (0..64usize)
            .flat_map(|i| [((i / 8 + i % 8) % 2 * 255) as u8; 3])
            .collect();
        let half: Vec<u8> = board.iter().map(|v| v / 4 + 96).collect();
        let (a, b) = (
            photo_stats(&board, 8, 8).unwrap(),
            photo_stats(&half, 8, 8).unwrap(),
        );
        assert!(a.sharpness > b.sharpness && a.contrast > b.contrast);
        // Every pixel of a checkerboard is ±4·255 from its four opposite neighbours, except at
        // the reflected border, which keeps the sign pattern: |L| = 1020 everywhere.
        assert_eq!(a.sharpness, 1020.0 * 1020.0);
    }
}
