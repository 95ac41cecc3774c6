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
    let (mut sum, mut sum_sq) = (0i128, 0i128);
    for &g in &grey {
        sum += g as i128;
        sum_sq += (g as i128) * (g as i128);
    }
    let (luminance, var) = mean_var(n as u64, sum, sum_sq);
    // BORDER_REFLECT_101: the neighbour past an edge is the pixel one inside it (a single row or
    // column reflects onto itself).
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
        let up = reflect(y as isize - 1, h) * w;
        let down = reflect(y as isize + 1, h) * w;
        let row = y * w;
        for x in 0..w {
            let left = reflect(x as isize - 1, w);
            let right = reflect(x as isize + 1, w);
            let l = grey[up + x] as i32
                + grey[down + x] as i32
                + grey[row + left] as i32
                + grey[row + right] as i32
                - 4 * grey[row + x] as i32;
            lsum += l as i128;
            lsum_sq += (l as i128) * (l as i128);
        }
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
