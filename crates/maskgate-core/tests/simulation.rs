//! The gate's statistics validated by simulation: synthetic gates with a known true Δ, each
//! decided as maskgate decides (a paired percentile bootstrap of the mean per-sample
//! difference, drawn with the same `for_each_drawn` streams the comparison uses, whose
//! equality to the textbook bootstrap is tested in `compare/bootstrap.rs`).
//!
//! - The 95% intervals (expanded percentile, as the comparison computes them) cover the truth
//!   95% ± 2% of the time; the plain percentile interval's shortfall is printed beside.
//! - At the bound (true drop = max_drop), `basis = "ci"` passes falsely ≤ 5% of the time, and a
//!   family of groups corrected by Holm ≤ 5% in all; `basis = "point"` is the coin flip.
//! - One bound beyond, both rarely pass; with no true drop, the interval basis still passes.
//!
//! `MASKGATE_SIM_GATES` sets the gates per truth (default 1,000; `bench/simulation.sh` runs more).

use maskgate_core::quantile::percentile_sorted;
use maskgate_core::stats::{expanded_level, for_each_drawn, Rng};

const N: usize = 60;
const RESAMPLES: usize = 1000;
const SD: f64 = 0.05;
const BOUND: f64 = 0.02;

/// A standard normal draw (Box–Muller) from the generator.
fn normal(rng: &mut Rng) -> f64 {
    let u = |r: &mut Rng| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (a, b) = (u(rng), u(rng));
    (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
}

/// One gate: `N` paired differences around `truth`; returns the mean and the sorted bootstrap
/// means.
fn gate(seed: u64, index: usize, truth: f64) -> (f64, Vec<f64>) {
    let mut data_rng = Rng::keyed(seed, &format!("data\0{index}"));
    let d: Vec<f64> = (0..N).map(|_| truth + SD * normal(&mut data_rng)).collect();
    let mean = d.iter().sum::<f64>() / N as f64;
    let boot = Rng::keyed(seed, &format!("bootstrap\0{index}"));
    let mut means: Vec<f64> = (0..RESAMPLES)
        .map(|r| {
            let mut sum = 0.0;
            for_each_drawn(&boot, r, N, |i| sum += d[i]);
            sum / N as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    (mean, means)
}

/// The `level` interval as the comparison computes it: the expanded percentile interval.
fn interval(sorted: &[f64], level: f64) -> (f64, f64) {
    plain(sorted, expanded_level(level, N))
}

/// The plain percentile interval, for the record.
fn plain(sorted: &[f64], level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    (
        percentile_sorted(sorted, tail),
        percentile_sorted(sorted, 1.0 - tail),
    )
}

struct Rates {
    coverage: f64,
    plain_coverage: f64,
    point_go: f64,
    ci_go: f64,
}

/// Over `gates` gates with true Δ `truth`: how often the 95% interval holds the truth, and how
/// often max_drop `BOUND` passes on the point and on the interval.
fn rates(gates: usize, truth: f64, seed: u64) -> Rates {
    let (mut covered, mut plain_covered, mut point, mut ci) = (0, 0, 0, 0);
    for g in 0..gates {
        let (mean, means) = gate(seed, g, truth);
        let (lo, hi) = interval(&means, 0.95);
        covered += usize::from(lo <= truth && truth <= hi);
        let (plo, phi) = plain(&means, 0.95);
        plain_covered += usize::from(plo <= truth && truth <= phi);
        point += usize::from(mean >= -BOUND);
        ci += usize::from(lo >= -BOUND);
    }
    let share = |k: usize| k as f64 / gates as f64;
    Rates {
        coverage: share(covered),
        plain_coverage: share(plain_covered),
        point_go: share(point),
        ci_go: share(ci),
    }
}

/// Families of `m` groups, every one at the bound: how often any group passes, on the interval
/// with Holm's step-down and uncorrected.
fn family_false_go(gates: usize, m: usize, seed: u64) -> (f64, f64) {
    let (mut holm_any, mut raw_any) = (0, 0);
    for g in 0..gates {
        let groups: Vec<Vec<f64>> = (0..m).map(|k| gate(seed, g * m + k, -BOUND).1).collect();
        raw_any += usize::from(groups.iter().any(|s| interval(s, 0.95).0 >= -BOUND));
        // Holm: by p = twice the share of draws past the bound, the k-th at 1 − α/(m − k + 1).
        let mut order: Vec<(f64, usize)> = groups
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let past = s.iter().filter(|v| **v < -BOUND).count();
                ((2.0 * past as f64 / s.len() as f64).min(1.0), k)
            })
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut any = false;
        for (rank, (_, k)) in order.iter().enumerate() {
            let level = 1.0 - 0.05 / (m - rank) as f64;
            if interval(&groups[*k], level).0 >= -BOUND {
                any = true;
            } else {
                break;
            }
        }
        holm_any += usize::from(any);
    }
    (
        holm_any as f64 / gates as f64,
        raw_any as f64 / gates as f64,
    )
}

#[test]
fn intervals_cover_and_the_interval_basis_holds_its_error_rate() {
    let gates: usize = std::env::var("MASKGATE_SIM_GATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let none = rates(gates, 0.0, 1);
    let at = rates(gates, -BOUND, 2);
    let beyond = rates(gates, -2.0 * BOUND, 3);
    let (holm, raw) = family_false_go(gates, 3, 4);
    eprintln!(
        "{gates} gates a truth, n = {N}, {RESAMPLES} resamples, sd {SD}, max_drop {BOUND}:\n\
         coverage of the 95% CI: Δ 0 {:.3}, at the bound {:.3}, beyond {:.3} \
         (plain percentile interval: {:.3}, {:.3}, {:.3})\n\
         go rate, point basis: Δ 0 {:.3}, at the bound {:.3}, beyond {:.3}\n\
         go rate, ci basis:    Δ 0 {:.3}, at the bound {:.3}, beyond {:.3}\n\
         3 groups at the bound, any passes: Holm {holm:.3}, uncorrected {raw:.3}",
        none.coverage,
        at.coverage,
        beyond.coverage,
        none.plain_coverage,
        at.plain_coverage,
        beyond.plain_coverage,
        none.point_go,
        at.point_go,
        beyond.point_go,
        none.ci_go,
        at.ci_go,
        beyond.ci_go,
    );
    for r in [&none, &at, &beyond] {
        assert!((r.coverage - 0.95).abs() <= 0.02, "coverage {}", r.coverage);
    }
    // At the bound: the interval basis errs ≤ 5% (≈ 2.5%, one tail), the point basis is a coin.
    assert!(at.ci_go <= 0.05, "false go on the interval {}", at.ci_go);
    assert!(
        (at.point_go - 0.5).abs() <= 0.06,
        "point basis {}",
        at.point_go
    );
    // One bound beyond, both rarely pass; with no drop at all, the interval basis still does.
    assert!(beyond.ci_go <= 0.01 && beyond.point_go <= 0.05);
    // Its power there: SE = 0.05/√60 ≈ 0.0065, the bound 3.1 SE away, the interval's half
    // width ≈ 2 SE: P(pass) ≈ Φ(1.1) ≈ 0.86.
    assert!(
        (none.ci_go - 0.86).abs() <= 0.05,
        "power with no drop {}",
        none.ci_go
    );
    // A family of three, all at the bound: Holm keeps any false go ≤ 5%; uncorrected it grows.
    assert!(holm <= 0.05, "Holm family false go {holm}");
    assert!(raw >= holm);
}
