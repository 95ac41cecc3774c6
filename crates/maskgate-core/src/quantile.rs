//! Summary statistics with the conventions the reports declare.

/// Percentile by linear interpolation between closest ranks (numpy's default `linear` method):
/// position `q · (n − 1)` in the sorted values. `sorted` must be ascending and non-empty.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    lerp(sorted[lo], sorted[hi], frac)
}

/// The same percentile as [`percentile_sorted`] on unsorted values, by selection (O(n)); the
/// slice is reordered. Bit-identical to sorting first: it picks the same two order statistics.
pub fn percentile_select(values: &mut [f64], q: f64) -> f64 {
    debug_assert!(!values.is_empty());
    let (lo, frac) = position(values.len(), q);
    select_lerp(values, lo, frac)
}

/// The floor of position `q · (n − 1)` and its fraction.
pub fn position(n: usize, q: f64) -> (usize, f64) {
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    (lo, pos - lo as f64)
}

/// Interpolates between the `lo`-th and next order statistics of `values` (reordered).
fn select_lerp(values: &mut [f64], lo: usize, frac: f64) -> f64 {
    let n = values.len();
    let (_, a, right) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    let b = if lo + 1 < n {
        right.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        a
    };
    lerp(a, b, frac)
}

/// numpy's interpolation between two neighbouring order statistics `a ≤ b` at `frac` (its lerp
/// form, so results match numpy to the last bit on typical data).
pub fn lerp(a: f64, b: f64, frac: f64) -> f64 {
    if frac >= 0.5 {
        b - (b - a) * (1.0 - frac)
    } else {
        a + (b - a) * frac
    }
}

/// Arithmetic mean summed in the given order (callers fix the order for determinism).
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Mean, median, p10 and p90 of a sample of values, `None` when there are none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
}

pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mean = mean(values)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(Summary {
        mean,
        median: percentile_sorted(&sorted, 0.5),
        p10: percentile_sorted(&sorted, 0.1),
        p90: percentile_sorted(&sorted, 0.9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [10, 50, 90]) == [1.3, 2.5, 3.7]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile_sorted(&v, 0.1) - 1.3).abs() < 1e-12);
        assert_eq!(percentile_sorted(&v, 0.5), 2.5);
        assert!((percentile_sorted(&v, 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(percentile_sorted(&[7.0], 0.9), 7.0);
        let s = summarize(&[0.0, 1.0, 0.5]).unwrap();
        assert_eq!((s.mean, s.median), (0.5, 0.5));
        assert!(summarize(&[]).is_none());
        let mut v = vec![0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.2];
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
            assert_eq!(percentile_select(&mut v, q), percentile_sorted(&sorted, q));
        }
    }
}
