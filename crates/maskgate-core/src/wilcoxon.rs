//! The Wilcoxon signed-rank test and the Hodges–Lehmann shift on paired differences.
//!
//! The test follows `scipy.stats.wilcoxon(d)` with its defaults (zero_method "wilcox",
//! no continuity correction, two-sided, method "auto"), so its p-values equal scipy's:
//! - zeros are dropped; the absolute non-zero differences are ranked, ties averaged;
//! - n ≤ 50 (counting zeros) with no ties and no zeros: the exact null distribution of W+;
//! - n ≤ 13 with ties or zeros: the exact permutation distribution over all 2^n sign flips;
//! - otherwise the normal approximation with the tie correction in its variance.
//!
//! The Hodges–Lehmann shift is the median of the n(n+1)/2 Walsh averages (dᵢ + dⱼ)/2, i ≤ j,
//! found without materialising them. Its interval is the textbook one (Hollander & Wolfe):
//! [W₍c₎, W₍M+1−c₎] with c the largest integer such that P(W+ ≤ c − 1) ≤ (1 − level)/2 under
//! the exact null distribution (n ≤ [`EXACT_HL_MAX_N`]), else its normal approximation
//! c = ⌊M/2 − z·σ⌋. With too few differences for any c ≥ 1, the interval is the whole range.

/// Above this n (zeros included) the test uses the normal approximation, as scipy's "auto".
pub const EXACT_MAX_N: usize = 50;
/// Up to this n, ties or zeros make the test a full permutation test (2^13 = 8192 ≤ scipy's
/// 9999 resamples, where its permutation test enumerates every sign pattern).
pub const PERMUTATION_MAX_N: usize = 13;
/// Up to this n the Hodges–Lehmann interval uses the exact null distribution.
pub const EXACT_HL_MAX_N: usize = 400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Exact,
    Permutation,
    Asymptotic,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Permutation => "permutation",
            Method::Asymptotic => "normal",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wilcoxon {
    /// min(W+, W−), as scipy reports it for the two-sided test.
    pub statistic: f64,
    pub p: f64,
    pub method: Method,
    /// Non-zero differences ranked.
    pub n_ranked: usize,
}

/// Average ranks of `values` (1-based), ties sharing the mean of their ranks, and the sizes of
/// the tie groups.
fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut groups = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j, averaged.
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        groups.push(j - i);
        i = j;
    }
    (ranks, groups)
}

/// P(W+ = k) for k = 0 ..= n(n+1)/2 under the null (signs fair and independent), by the
/// subset-sum recursion on probabilities (each rank in or out with probability ½).
pub fn null_pmf(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut pmf = vec![0.0; max + 1];
    pmf[0] = 1.0;
    let mut top = 0;
    for r in 1..=n {
        top += r;
        for k in (0..=top).rev() {
            let with = if k >= r { pmf[k - r] } else { 0.0 };
            pmf[k] = 0.5 * (pmf[k] + with);
        }
    }
    pmf
}

/// Two-sided normal tail: 2·Φ(−|z|) = erfc(|z|/√2).
fn normal_two_sided(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// The Wilcoxon signed-rank test of `d` (arm − baseline per sample); `None` when no
/// difference is non-zero (scipy returns NaN there).
pub fn wilcoxon(d: &[f64]) -> Option<Wilcoxon> {
    let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    let count = nonzero.len();
    if count == 0 || d.iter().any(|v| v.is_nan()) {
        return None;
    }
    let n_zero = d.len() - count;
    let abs: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks, groups) = average_ranks(&abs);
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, r)| r)
        .sum();
    let r_minus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v < 0.0)
        .map(|(_, r)| r)
        .sum();
    let has_ties = groups.iter().any(|&g| g > 1);
    let method = if d.len() > EXACT_MAX_N {
        Method::Asymptotic
    } else if !has_ties && n_zero == 0 {
        Method::Exact
    } else if d.len() <= PERMUTATION_MAX_N {
        Method::Permutation
    } else {
        Method::Asymptotic
    };
    let p = match method {
        Method::Exact => {
            let pmf = null_pmf(count);
            // W+ is an integer here; scipy rounds up for the lower tail, down for the upper.
            let lower: f64 = pmf[..=(r_plus.ceil() as usize).min(pmf.len() - 1)]
                .iter()
                .sum();
            let upper: f64 = pmf[(r_plus.floor() as usize).min(pmf.len())..].iter().sum();
            (2.0 * lower.min(upper)).clamp(0.0, 1.0)
        }
        Method::Permutation => {
            // Every sign pattern of the n differences (a zero's sign changes nothing, as in
            // scipy, which flips all n): W+ is the sum of the ranks made positive.
            let signed: Vec<(f64, f64)> = d
                .iter()
                .filter(|v| **v != 0.0)
                .zip(&ranks)
                .map(|(v, r)| (*v, *r))
                .collect();
            let total = 1u64 << d.len();
            let zero_multiplicity = 1u64 << n_zero;
            let (mut le, mut ge) = (0u64, 0u64);
            for pattern in 0..(1u64 << count) {
                let w: f64 = signed
                    .iter()
                    .enumerate()
                    .filter(|(i, (v, _))| (*v > 0.0) != ((pattern >> i) & 1 == 1))
                    .map(|(_, (_, r))| r)
                    .sum();
                // Ranks are multiples of ½, so these sums and comparisons are exact.
                le += u64::from(w <= r_plus) * zero_multiplicity;
                ge += u64::from(w >= r_plus) * zero_multiplicity;
            }
            (2.0 * (le.min(ge) as f64) / total as f64).clamp(0.0, 1.0)
        }
        Method::Asymptotic => {
            let n = count as f64;
            let mean = n * (n + 1.0) * 0.25;
            let ties: f64 = groups
                .iter()
                .map(|&t| {
                    let t = t as f64;
                    t * t * t - t
                })
                .sum();
            let se = ((n * (n + 1.0) * (2.0 * n + 1.0) - ties / 2.0) / 24.0).sqrt();
            normal_two_sided((r_plus - mean) / se)
        }
    };
    Some(Wilcoxon {
        statistic: r_plus.min(r_minus),
        p,
        method,
        n_ranked: count,
    })
}

/// The `k`-th smallest (1-based) Walsh sum dᵢ + dⱼ (i ≤ j) of ascending `sorted`, by bisection
/// on the order of f64 values: the smallest value whose count of sums at or below it reaches
/// `k` is itself a sum. O(64·n), no n² list.
fn kth_walsh_sum(sorted: &[f64], k: usize) -> f64 {
    // Sums at or below x, counted with two pointers (dᵢ + dⱼ is monotone in j, rounding too).
    let count_le = |x: f64| -> usize {
        let n = sorted.len();
        let mut total = 0usize;
        let mut j = n;
        for i in 0..n {
            // Largest j ≥ i with sorted[i] + sorted[j] ≤ x: j only moves down as i grows.
            while j > i && sorted[i] + sorted[j - 1] > x {
                j -= 1;
            }
            if j <= i {
                break;
            }
            total += j - i;
        }
        total
    };
    // f64 values in total order as integers.
    let key = |v: f64| -> i64 {
        let b = v.to_bits() as i64;
        if b < 0 {
            i64::MIN - b - 1
        } else {
            b
        }
    };
    let from_key = |k: i64| -> f64 {
        let b = if k < 0 { i64::MIN - k - 1 } else { k };
        f64::from_bits(b as u64)
    };
    let n = sorted.len();
    let (mut lo, mut hi) = (
        key(sorted[0] + sorted[0]),
        key(sorted[n - 1] + sorted[n - 1]),
    );
    while lo < hi {
        // In i128: the keys of a negative and a positive sum are far apart.
        let mid = (i128::from(lo) + i128::from(hi)).div_euclid(2) as i64;
        if count_le(from_key(mid)) >= k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    from_key(lo)
}

/// The Hodges–Lehmann shift of `d` with its `level` interval (see the module's text); `None`
/// for an empty or non-finite `d`.
pub fn hodges_lehmann(d: &[f64], level: f64) -> Option<(f64, [f64; 2])> {
    if d.is_empty() || d.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut sorted = d.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let m = n * (n + 1) / 2;
    let walsh = |k: usize| kth_walsh_sum(&sorted, k) / 2.0;
    let shift = if m % 2 == 1 {
        walsh(m.div_ceil(2))
    } else {
        (walsh(m / 2) + walsh(m / 2 + 1)) / 2.0
    };
    let tail = (1.0 - level) / 2.0;
    let c = if n <= EXACT_HL_MAX_N {
        let pmf = null_pmf(n);
        // Largest c with P(W+ ≤ c − 1) ≤ tail.
        let mut cdf = 0.0;
        let mut c = 0;
        for (k, p) in pmf.iter().enumerate() {
            cdf += p;
            if cdf <= tail {
                c = k + 1;
            } else {
                break;
            }
        }
        c
    } else {
        let nf = n as f64;
        let sigma = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        let c = (m as f64 / 2.0 - inverse_normal_upper(tail) * sigma).floor();
        c.max(0.0) as usize
    };
    let interval = if c == 0 {
        [walsh(1), walsh(m)]
    } else {
        [walsh(c), walsh(m + 1 - c)]
    };
    Some((shift, interval))
}

/// z with P(Z > z) = `tail`, by bisection on erfc (exact to the last bits, and only called
/// for large-n intervals).
fn inverse_normal_upper(tail: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if 0.5 * libm::erfc(mid / std::f64::consts::SQRT_2) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every Walsh average, listed and sorted: the naive reference.
    fn walsh_naive(d: &[f64]) -> Vec<f64> {
        let mut w = Vec::new();
        for i in 0..d.len() {
            for j in i..d.len() {
                w.push((d[i] + d[j]) / 2.0);
            }
        }
        w.sort_by(f64::total_cmp);
        w
    }

    fn median(sorted: &[f64]) -> f64 {
        let m = sorted.len();
        if m % 2 == 1 {
            sorted[m / 2]
        } else {
            (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0
        }
    }

    #[test]
    fn the_null_distribution_is_the_subset_sum_count() {
        // n = 4: subsets of {1,2,3,4} by sum: 1,1,1,2,2,2,2,2,1,1,1 (over 16).
        let pmf = null_pmf(4);
        let counts: Vec<f64> = pmf.iter().map(|p| p * 16.0).collect();
        assert_eq!(
            counts,
            [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
        );
        assert!((null_pmf(30).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn textbook_values() {
        // No ties, no zeros, n = 10: W+ = 3 gives the exact two-sided p 2·P(W+ ≤ 3) = 10/1024.
        let d = [-1.0, 2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0];
        let w = wilcoxon(&d).unwrap();
        assert_eq!(w.method, Method::Exact);
        assert_eq!(w.statistic, 2.0);
        assert!((w.p - 2.0 * 3.0 / 1024.0).abs() < 1e-15, "{w:?}");
        // All zeros: no test.
        assert_eq!(wilcoxon(&[0.0, 0.0]), None);
        // A zero with n ≤ 13: the permutation test over 2^n patterns.
        let w = wilcoxon(&[0.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(w.method, Method::Permutation);
        assert!((w.p - 0.25).abs() < 1e-15, "{w:?}");
        // More than 50: normal.
        let d: Vec<f64> = (1..=60)
            .map(|i| i as f64 * if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        assert_eq!(wilcoxon(&d).unwrap().method, Method::Asymptotic);
    }

    proptest! {
        #[test]
        fn walsh_order_statistics_equal_the_sorted_list(
            d in proptest::collection::vec(-5i32..5, 1..40),
            scale in prop::sample::select(vec![1.0, 0.1, 1e-3, 0.37]),
        ) {
            let d: Vec<f64> = d.into_iter().map(|v| v as f64 * scale).collect();
            let naive = walsh_naive(&d);
            let mut sorted = d.clone();
            sorted.sort_by(f64::total_cmp);
            for k in [1, naive.len() / 3 + 1, naive.len() / 2 + 1, naive.len()] {
                prop_assert_eq!(kth_walsh_sum(&sorted, k) / 2.0, naive[k - 1]);
            }
            let (shift, [lo, hi]) = hodges_lehmann(&d, 0.95).unwrap();
            prop_assert_eq!(shift, median(&naive));
            prop_assert!(lo <= shift && shift <= hi);
        }

        #[test]
        fn the_permutation_p_equals_a_naive_enumeration(
            d in proptest::collection::vec(-3i32..4, 1..10),
        ) {
            let d: Vec<f64> = d.into_iter().map(f64::from).collect();
            let Some(w) = wilcoxon(&d) else { return Ok(()); };
            if w.method != Method::Permutation { return Ok(()); }
            // Naive: rank |d| of the non-zero values, enumerate sign flips of all n values.
            let nz: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
            let rank_of = |v: f64| -> f64 {
                let below = nz.iter().filter(|x| x.abs() < v.abs()).count() as f64;
                let equal = nz.iter().filter(|x| x.abs() == v.abs()).count() as f64;
                below + (equal + 1.0) / 2.0
            };
            let observed: f64 = nz.iter().filter(|v| **v > 0.0).map(|v| rank_of(*v)).sum();
            let (mut le, mut ge) = (0usize, 0usize);
            for pattern in 0..(1usize << d.len()) {
                let w: f64 = d.iter().enumerate()
                    .map(|(i, v)| if (pattern >> i) & 1 == 1 { -v } else { *v })
                    .filter(|v| *v > 0.0)
                    .map(rank_of)
                    .sum();
                le += usize::from(w <= observed);
                ge += usize::from(w >= observed);
            }
            let p = (2.0 * le.min(ge) as f64 / (1usize << d.len()) as f64).min(1.0);
            prop_assert_eq!(w.p, p);
        }
    }
}
