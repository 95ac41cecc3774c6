//! Paired statistics: a seeded generator, the paired percentile bootstrap, the exact sign test.

use crate::quantile::percentile_sorted;

/// SplitMix64: tiny, fast, and the same stream on every platform. Seeded per purpose so that
/// adding a new use of randomness never shifts the numbers of an existing one.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator keyed by (run seed, purpose), e.g. `("bootstrap", arm, corpus, group)`.
    pub fn keyed(seed: u64, purpose: &str) -> Rng {
        // FNV-1a over the purpose, mixed with the seed.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in purpose.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        let mut r = Rng(seed ^ h.rotate_left(17));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift with rejection, so no modulo bias).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }
}

/// Paired percentile bootstrap. Each of `resamples` rounds draws `n` indices with replacement
/// (whole samples, the same draw for both arms) and calls `deltas(indices, out)`, which writes
/// `k` statistics (`None` when undefined on that draw). Returns, per statistic, the central
/// `level` interval of its defined draws, or `None` if it was never defined.
pub fn paired_bootstrap(
    n: usize,
    k: usize,
    resamples: usize,
    rng: &mut Rng,
    level: f64,
    mut deltas: impl FnMut(usize, &[usize], &mut [Option<f64>]),
) -> Vec<Option<(f64, f64)>> {
    if n == 0 || resamples == 0 {
        return vec![None; k];
    }
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); k];
    let mut out = vec![None; k];
    for_each_draw(n, resamples, rng, |r, idx| {
        out.iter_mut().for_each(|o| *o = None);
        deltas(r, idx, &mut out);
        for (d, o) in draws.iter_mut().zip(&out) {
            if let Some(v) = o {
                d.push(*v);
            }
        }
    });
    let tail = (1.0 - level) / 2.0;
    draws
        .into_iter()
        .map(|mut d| {
            if d.is_empty() {
                return None;
            }
            d.sort_by(f64::total_cmp);
            Some((
                percentile_sorted(&d, tail),
                percentile_sorted(&d, 1.0 - tail),
            ))
        })
        .collect()
}

/// The draws of [`paired_bootstrap`] on their own: `f(draw number, indices)` for each of
/// `resamples` draws of `n` indices with replacement. The same generator state gives the same
/// draws, so statistics of one arm can be computed once and paired with many others.
pub fn for_each_draw(
    n: usize,
    resamples: usize,
    rng: &mut Rng,
    mut f: impl FnMut(usize, &[usize]),
) {
    if n == 0 {
        return;
    }
    let mut idx = vec![0usize; n];
    for r in 0..resamples {
        idx.iter_mut().for_each(|i| *i = rng.below(n));
        f(r, &idx);
    }
}

/// Exact two-sided sign test: the probability, under "no difference", of a split at least as
/// uneven as `positive` vs `negative` (ties are dropped before calling).
pub fn sign_test(positive: usize, negative: usize) -> f64 {
    let n = positive + negative;
    if n == 0 {
        return 1.0;
    }
    let k = positive.min(negative);
    // Sum of binomial(n, i) / 2^n for i ≤ k, in log space to survive large n.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_c = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_c + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_uniform_enough_and_keyed() {
        let mut r = Rng::keyed(1, "a");
        let mut hist = [0usize; 10];
        for _ in 0..100_000 {
            hist[r.below(10)] += 1;
        }
        assert!(
            hist.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{hist:?}"
        );
        assert_ne!(Rng::keyed(1, "a").next_u64(), Rng::keyed(1, "b").next_u64());
        assert_ne!(Rng::keyed(1, "a").next_u64(), Rng::keyed(2, "a").next_u64());
    }

    #[test]
    fn sign_test_matches_binomial() {
        // 9 of 10 positive: P = 2 * (1 + 10) / 1024.
        assert!((sign_test(9, 1) - 22.0 / 1024.0).abs() < 1e-12);
        assert_eq!(sign_test(5, 5), 1.0);
        assert_eq!(sign_test(0, 0), 1.0);
        assert!(sign_test(0, 2000) < 1e-300 || sign_test(0, 2000) == 0.0);
    }

    /// An independent reference: the same draws, computed the textbook way (materialise each
    /// resample, average, sort all means, take numpy-linear percentiles).
    #[test]
    fn bootstrap_matches_textbook_and_normal_theory() {
        let a: Vec<f64> = (0..200).map(|i| ((i * 37 % 101) as f64) / 100.0).collect();
        let b: Vec<f64> = a
            .iter()
            .enumerate()
            .map(|(i, x)| x - 0.05 + ((i * 13 % 7) as f64 - 3.0) / 100.0)
            .collect();
        let n = a.len();
        let ci = paired_bootstrap(n, 1, 2000, &mut Rng::keyed(42, "t"), 0.95, |_, idx, out| {
            let da: f64 = idx.iter().map(|&i| a[i]).sum::<f64>() / n as f64;
            let db: f64 = idx.iter().map(|&i| b[i]).sum::<f64>() / n as f64;
            out[0] = Some(da - db);
        })[0]
            .unwrap();
        let mut rng = Rng::keyed(42, "t");
        let mut means = Vec::new();
        for _ in 0..2000 {
            let draw: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let diffs: Vec<f64> = draw.iter().map(|&i| a[i] - b[i]).collect();
            means.push(diffs.iter().sum::<f64>() / n as f64);
        }
        means.sort_by(f64::total_cmp);
        let lo = means[(0.025 * 1999.0) as usize]
            + (means[(0.025 * 1999.0) as usize + 1] - means[(0.025 * 1999.0) as usize])
                * (0.025 * 1999.0 - (0.025f64 * 1999.0).floor());
        assert!((ci.0 - lo).abs() < 1e-12, "{} vs {lo}", ci.0);
        // Normal theory: mean ± 1.96 sd/√n of the paired differences.
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let m = d.iter().sum::<f64>() / n as f64;
        let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let half = 1.96 * sd / (n as f64).sqrt();
        assert!(
            (ci.0 - (m - half)).abs() < 0.25 * half,
            "lo {} vs {}",
            ci.0,
            m - half
        );
        assert!(
            (ci.1 - (m + half)).abs() < 0.25 * half,
            "hi {} vs {}",
            ci.1,
            m + half
        );
    }
}
