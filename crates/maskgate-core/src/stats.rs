//! Paired statistics: a seeded generator with per-draw streams, the bootstrap's draws and
//! percentile interval, the exact sign test.

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
        mix(self.0)
    }

    /// The `index`-th independent stream of this generator: its start is hashed, so streams
    /// land at unrelated points of SplitMix64's cycle instead of overlapping shifted copies.
    pub fn stream(&self, index: u64) -> Rng {
        Rng(mix(self.0 ^ mix(index.wrapping_add(0x9e3779b97f4a7c15))))
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

/// SplitMix64's output function, a bijection with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// Draw `draw` of a bootstrap keyed by `rng`: `n` indices drawn with replacement from the draw's
/// own stream, written as multiplicities into `counts` (resized to `n`). Each draw has its own
/// stream, so draws can be computed in any order, on any number of threads, with the same result.
pub fn resample_counts(rng: &Rng, draw: usize, n: usize, counts: &mut Vec<u32>) {
    counts.clear();
    counts.resize(n, 0);
    for_each_drawn(rng, draw, n, |i| counts[i] += 1);
}

/// The `n` indices of draw `draw` of a bootstrap keyed by `rng`, in the order drawn: what
/// [`resample_counts`] counts, for callers that lay the counts out their own way.
pub fn for_each_drawn(rng: &Rng, draw: usize, n: usize, mut hit: impl FnMut(usize)) {
    if n == 0 {
        return;
    }
    let mut stream = rng.stream(draw as u64);
    for _ in 0..n {
        hit(stream.below(n));
    }
}

/// The central `level` interval of `values` (numpy-linear percentiles), `None` when empty.
pub fn percentile_interval(mut values: Vec<f64>, level: f64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some((
        percentile_sorted(&values, tail),
        percentile_sorted(&values, 1.0 - tail),
    ))
}

/// The percentile level that makes a bootstrap percentile interval of a mean over `n` samples
/// cover at `level` (Hesterberg's expanded percentile interval, 2015): the plain percentile
/// interval is too narrow for small n (its spread divides by n, and it uses z where the mean's
/// sampling distribution has Student's t): 93% coverage at n = 60 for a nominal 95%, far less
/// at n = 5. The expanded level is 1 − 2·Φ(−√(n/(n−1))·t₍₁₋α/2, n−1₎). `level` itself for n < 2.
pub fn expanded_level(level: f64, n: usize) -> f64 {
    if n < 2 {
        return level;
    }
    let df = (n - 1) as f64;
    let t = student_t_quantile(1.0 - (1.0 - level) / 2.0, df);
    let z = (n as f64 / df).sqrt() * t;
    1.0 - libm::erfc(z / std::f64::consts::SQRT_2)
}

/// The `p` quantile (p > ½) of Student's t with `df` degrees of freedom, by bisection on its
/// distribution function.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1e3f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        // Converged (`lo` and `hi` adjacent floats): every later step would leave them as they
        // are, so stopping here gives the same bits in a third of the steps.
        if mid == lo || mid == hi {
            break;
        }
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom: 1 − ½·I(df/(df+t²); df/2, ½) for
/// t ≥ 0, by symmetry below.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz), on
/// the side where it converges fast.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    // One Lentz step with the continued fraction's next coefficient; its factor on h.
    let mut step = |aa: f64| {
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        d * c
    };
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let last = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= last;
        if (last - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
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
    fn t_quantiles_and_the_expanded_level() {
        // Textbook quantiles of Student's t (scipy.stats.t.ppf(0.975, df)).
        for (df, q) in [
            (1.0, 12.706204736174694),
            (4.0, 2.7764451051977934),
            (29.0, 2.045229642132703),
            (59.0, 2.000995378088267),
        ] {
            let got = student_t_quantile(0.975, df);
            assert!((got - q).abs() < 1e-12, "df {df}: {got} vs {q}");
        }
        // Large n: the expansion vanishes; small n: it is large; never below the level.
        assert!((expanded_level(0.95, 100_000) - 0.95).abs() < 1e-4);
        assert!(expanded_level(0.95, 60) > 0.955 && expanded_level(0.95, 60) < 0.96);
        assert!(expanded_level(0.95, 5) > 0.995);
        assert_eq!(expanded_level(0.95, 1), 0.95);
    }

    /// Stopping the bisection once converged gives the bits all 200 steps give.
    #[test]
    fn the_early_stop_gives_the_same_quantile_bits() {
        let full = |p: f64, df: f64| {
            let (mut lo, mut hi) = (0.0f64, 1e3f64);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if student_t_cdf(mid, df) < p {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        for df in (1..400).map(f64::from) {
            for p in [0.8, 0.95, 0.975, 0.995, 0.9995] {
                assert_eq!(
                    student_t_quantile(p, df).to_bits(),
                    full(p, df).to_bits(),
                    "p {p}, df {df}"
                );
            }
        }
    }

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

    /// A draw depends only on (generator, draw number): computing draws out of order gives the
    /// same multiplicities, which always add up to `n`, and different draws differ.
    #[test]
    fn resample_counts_are_per_draw_streams() {
        let rng = Rng::keyed(7, "scope");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let n = 1000;
        let forward: Vec<Vec<u32>> = (0..50)
            .map(|r| {
                resample_counts(&rng, r, n, &mut a);
                a.clone()
            })
            .collect();
        for r in (0..50).rev() {
            resample_counts(&rng, r, n, &mut b);
            assert_eq!(b, forward[r], "draw {r}");
            assert_eq!(b.iter().map(|&c| c as usize).sum::<usize>(), n);
        }
        assert_ne!(forward[0], forward[1]);
        // About 1 − 1/e of the samples appear in a draw.
        let distinct = forward[0].iter().filter(|&&c| c > 0).count();
        assert!((580..680).contains(&distinct), "{distinct}");
        resample_counts(&rng, 3, 0, &mut a);
        assert!(a.is_empty());
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
        let weighted = |x: &[f64], counts: &[u32]| -> f64 {
            x.iter()
                .zip(counts)
                .map(|(v, &c)| v * c as f64)
                .sum::<f64>()
                / n as f64
        };
        let rng = Rng::keyed(42, "t");
        let mut counts = Vec::new();
        let draws: Vec<f64> = (0..2000)
            .map(|r| {
                resample_counts(&rng, r, n, &mut counts);
                weighted(&a, &counts) - weighted(&b, &counts)
            })
            .collect();
        let ci = percentile_interval(draws, 0.95).unwrap();
        let mut means = Vec::new();
        for r in 0..2000 {
            let mut stream = rng.stream(r);
            let draw: Vec<usize> = (0..n).map(|_| stream.below(n)).collect();
            let diffs: Vec<f64> = draw.iter().map(|&i| a[i] - b[i]).collect();
            means.push(diffs.iter().sum::<f64>() / n as f64);
        }
        means.sort_by(f64::total_cmp);
        let lo = means[(0.025 * 1999.0) as usize]
            + (means[(0.025 * 1999.0) as usize + 1] - means[(0.025 * 1999.0) as usize])
                * (0.025 * 1999.0 - (0.025f64 * 1999.0).floor());
        // The textbook sums in draw order, the bootstrap by multiplicity: equal up to rounding.
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
