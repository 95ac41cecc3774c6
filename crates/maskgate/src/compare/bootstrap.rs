//! The paired bootstrap of a comparison's scopes. A scope's draws are shared by all of its rows
//! (the summary and each class) and by every arm compared with the same baseline; each draw has
//! its own random stream, so draws are evaluated in chunks, in parallel, in any order.
//!
//! The kernel evaluates [`CHUNK_DRAWS`] draws in one pass over a row's per-sample columns: the
//! draws' multiplicities of a sample sit side by side, so one read of a sample serves them all
//! and the columns stream from memory once per chunk instead of once per draw. Columns are kept
//! in IoU rank order, so the same pass also reads off each draw's IoU quantiles.

use super::{sub, SUMMARY_STATS};
use crate::aggregate::ROW_STATS;
use crate::score::metrics::{MetricValues, COUNT, IOU, SUMMARY_METRICS};
use crate::score::{ClassScore, SampleScore};
use maskgate_core::quantile::{lerp, position};
use maskgate_core::stats::{expanded_level, for_each_drawn, Rng};
use maskgate_core::Counts;
use rayon::prelude::*;
use std::sync::Arc;

/// Draws evaluated in one pass over the columns.
const CHUNK_DRAWS: usize = 32;

/// How much memory a comparison's bootstrap spends on per-sample columns at once (arm and
/// baseline), shared by the scopes it runs side by side.
const COLUMN_BYTES: usize = 96 << 20;

/// Per-sample values of one arm on one row of a scope, in the scope's sample order, with the
/// samples that have an IoU listed again in IoU rank order.
pub(super) struct ArmColumns {
    /// [sample][metric], NaN where undefined: for a class row the class's values, for the
    /// summary row the per-sample means.
    rows: Vec<[f64; COUNT]>,
    /// The class's pixel counts by sample (empty for the summary row).
    counts: Vec<Counts>,
    /// The samples with a defined IoU, by ascending IoU (ties in sample order).
    by_iou: Vec<u32>,
    /// Metrics defined on every sample: their defined count in a draw is the draw's size.
    complete: [bool; COUNT],
    /// Every pixel count fits in 32 bits, so the micro sums can multiply narrow.
    narrow_counts: bool,
    /// The metrics the kernel sums: every one for a class row, only those its statistics read
    /// for the summary row.
    summed: [bool; COUNT],
}

impl ArmColumns {
    pub(super) fn new(rows: Vec<[f64; COUNT]>, counts: Vec<Counts>) -> ArmColumns {
        let mut by_iou: Vec<u32> = (0..rows.len() as u32)
            .filter(|&i| !rows[i as usize][IOU].is_nan())
            .collect();
        // Stable: ties keep sample order.
        by_iou.sort_by(|&a, &b| rows[a as usize][IOU].total_cmp(&rows[b as usize][IOU]));
        let narrow = |v: u64| v <= u32::MAX as u64;
        ArmColumns {
            complete: std::array::from_fn(|m| rows.iter().all(|r| !r[m].is_nan())),
            narrow_counts: counts
                .iter()
                .all(|k| narrow(k.tp) && narrow(k.fp) && narrow(k.fn_)),
            rows,
            counts,
            by_iou,
            summed: [true; COUNT],
        }
    }
}

fn row_of(values: MetricValues) -> [f64; COUNT] {
    values.map(|v| v.unwrap_or(f64::NAN))
}

pub(super) fn class_columns(scores: &[&SampleScore], class: &str) -> ArmColumns {
    let cs: Vec<Option<&ClassScore>> = scores.iter().map(|s| s.classes.get(class)).collect();
    ArmColumns::new(
        cs.iter()
            .map(|c| row_of(c.map(|c| c.values).unwrap_or([None; COUNT])))
            .collect(),
        cs.iter()
            .map(|c| c.map(|c| c.counts()).unwrap_or_default())
            .collect(),
    )
}

pub(super) fn summary_columns(scores: &[&SampleScore]) -> ArmColumns {
    // A summary row reads IoU's per-sample means (the mIoU statistics) and the summarised
    // metrics' ([`summary_row`]): the others stay undefined and unsummed.
    let read: [bool; COUNT] = std::array::from_fn(|m| m == IOU || SUMMARY_METRICS.contains(&m));
    let mut columns = ArmColumns::new(
        scores
            .iter()
            .map(|s| {
                let means = s.metric_means();
                row_of(std::array::from_fn(|m| means[m].filter(|_| read[m])))
            })
            .collect(),
        Vec::new(),
    );
    columns.summed = read;
    columns
}

/// One draw's raw statistics of a row: [mean IoU, median, p10, p90, pass rate], the mean of
/// every metric, and the micro counts.
pub(super) type DrawStats = ([Option<f64>; 5], MetricValues, Counts);

/// Statistics of a class row in [`ROW_STATS`] order (without the trailing `n`).
pub(super) fn class_row((f, m, micro): DrawStats) -> Vec<Option<f64>> {
    f.into_iter()
        .chain([micro.iou()])
        .chain((0..COUNT).filter(|&i| i != IOU).map(|i| m[i]))
        .collect()
}

/// Statistics of a summary row in [`SUMMARY_STATS`] order.
pub(super) fn summary_row((f, m, _): DrawStats) -> Vec<Option<f64>> {
    f.into_iter().chain(SUMMARY_METRICS.map(|i| m[i])).collect()
}

/// Builds one draw's statistics from its sums: `sums[m]` and `ns[m]` over the defined values of
/// metric `m`, `quantile_at(k)` the `k`-th order statistic of the drawn IoUs.
fn finish_draw(
    sums: [f64; COUNT],
    ns: [u64; COUNT],
    passed: u64,
    micro: Counts,
    quantile_at: [f64; 6],
) -> DrawStats {
    let means: MetricValues = std::array::from_fn(|m| (ns[m] > 0).then(|| sums[m] / ns[m] as f64));
    let n = ns[IOU] as usize;
    if n == 0 {
        return ([None; 5], means, micro);
    }
    let v = quantile_at;
    let ((_, f10), (_, fm), (_, f90)) = (position(n, 0.1), position(n, 0.5), position(n, 0.9));
    (
        [
            means[IOU],
            Some(lerp(v[2], v[3], fm)),
            Some(lerp(v[0], v[1], f10)),
            Some(lerp(v[4], v[5], f90)),
            Some(passed as f64 / n as f64),
        ],
        means,
        micro,
    )
}

/// The order-statistic positions a draw of `n` defined IoUs needs, as [`finish_draw`] reads
/// them: p10 and the next, the median and the next, p90 and the next.
fn quantile_positions(n: u64) -> [u64; 6] {
    if n == 0 {
        return [u64::MAX; 6];
    }
    let n = n as usize;
    let next = |l: usize| (l + 1).min(n - 1) as u64;
    let ((l10, _), (lm, _), (l90, _)) = (position(n, 0.1), position(n, 0.5), position(n, 0.9));
    [
        l10 as u64,
        next(l10),
        lm as u64,
        next(lm),
        l90 as u64,
        next(l90),
    ]
}

/// The statistics of `c` on the draws of a chunk: `weights[i * CHUNK_DRAWS + d]` is how often
/// sample `i` is in draw `d` (every draw has `n` samples); returns the first `draws` draws'.
/// One pass in sample order gives the sums (so a value the arm and the baseline share adds up
/// to the same bits on both sides, and its delta is exactly 0), a second walk in IoU rank order
/// the quantiles. Neither depends on the other draws of the chunk.
fn chunk_stats(
    c: &ArmColumns,
    weights: &[u32],
    draws: usize,
    n: usize,
    tau: f64,
) -> Vec<DrawStats> {
    const D: usize = CHUNK_DRAWS;
    let weights_of =
        |i: usize| -> [u32; D] { weights[i * D..(i + 1) * D].try_into().unwrap_or([0; D]) };
    let (mut sums, mut ns) = ([[0.0f64; D]; COUNT], [[0u64; D]; COUNT]);
    let mut passed = [0u64; D];
    let mut micro = [[0u64; D]; 3];
    // Counted per sample only where some sample lacks the metric: otherwise its count in a
    // draw is the draw's size, and the counts are a third of the pass's work.
    let summed: Vec<usize> = (0..COUNT).filter(|&m| c.summed[m]).collect();
    let counted: Vec<usize> = summed.iter().copied().filter(|&m| !c.complete[m]).collect();
    for (i, row) in c.rows.iter().enumerate() {
        let w = weights_of(i);
        let wf: [f64; D] = w.map(|k| k as f64);
        for &m in &summed {
            let x = row[m];
            if !x.is_nan() {
                (0..D).for_each(|d| sums[m][d] += wf[d] * x);
            }
        }
        for &m in &counted {
            if !row[m].is_nan() {
                (0..D).for_each(|d| ns[m][d] += w[d] as u64);
            }
        }
        if row[IOU] >= tau {
            (0..D).for_each(|d| passed[d] += w[d] as u64);
        }
        if let Some(k) = c.counts.get(i) {
            if c.narrow_counts {
                // 32 × 32 → 64-bit products, which vector units do in one instruction.
                let (tp, fp, fn_) = (k.tp as u32 as u64, k.fp as u32 as u64, k.fn_ as u32 as u64);
                (0..D).for_each(|d| {
                    micro[0][d] += tp * w[d] as u64;
                    micro[1][d] += fp * w[d] as u64;
                    micro[2][d] += fn_ * w[d] as u64;
                });
            } else {
                (0..D).for_each(|d| {
                    micro[0][d] += k.tp * w[d] as u64;
                    micro[1][d] += k.fp * w[d] as u64;
                    micro[2][d] += k.fn_ * w[d] as u64;
                });
            }
        }
    }
    for m in (0..COUNT).filter(|&m| c.complete[m]) {
        ns[m] = [n as u64; D];
    }
    let quantile_at = draw_quantiles(c, weights, draws, &ns[IOU]);
    (0..draws.min(D))
        .map(|d| {
            finish_draw(
                std::array::from_fn(|m| sums[m][d]),
                std::array::from_fn(|m| ns[m][d]),
                passed[d],
                Counts {
                    tp: micro[0][d],
                    fp: micro[1][d],
                    fn_: micro[2][d],
                },
                quantile_at[d],
            )
        })
        .collect()
}

/// Each draw's order statistics of its IoUs at [`quantile_positions`], from one walk over the
/// samples in IoU rank order that stops once every draw has all six; `defined[d]` is how many
/// drawn samples of draw `d` have an IoU.
fn draw_quantiles(
    c: &ArmColumns,
    weights: &[u32],
    draws: usize,
    defined: &[u64; CHUNK_DRAWS],
) -> [[f64; 6]; CHUNK_DRAWS] {
    const D: usize = CHUNK_DRAWS;
    let positions: [[u64; 6]; D] = std::array::from_fn(|d| quantile_positions(defined[d]));
    // Positions in ascending order, with the slot each fills.
    let slots: [[usize; 6]; D] = std::array::from_fn(|d| {
        let mut s: [usize; 6] = std::array::from_fn(|k| k);
        s.sort_by_key(|&k| positions[d][k]);
        s
    });
    let next_position = |d: usize, next: usize| match slots[d].get(next) {
        Some(&k) => positions[d][k],
        None => u64::MAX,
    };
    let (mut seen, mut next) = ([0u64; D], [0usize; D]);
    let mut next_at: [u64; D] = std::array::from_fn(|d| next_position(d, 0));
    // The walk may stop once the chunk's real draws (the first `draws`) have all six.
    let mut unfinished = (0..draws.min(D))
        .filter(|&d| next_at[d] != u64::MAX)
        .count();
    let mut quantile_at = [[f64::NAN; 6]; D];
    for &i in &c.by_iou {
        if unfinished == 0 {
            break;
        }
        let i = i as usize;
        let w: &[u32] = weights.get(i * D..(i + 1) * D).unwrap_or(&[]);
        let mut crossed = false;
        for (d, &k) in w.iter().enumerate() {
            seen[d] += k as u64;
            crossed |= seen[d] > next_at[d];
        }
        // Six crossings per draw in the whole walk: the common sample takes no branch per draw.
        if crossed {
            for d in 0..D {
                while seen[d] > next_at[d] {
                    quantile_at[d][slots[d][next[d]]] = c.rows[i][IOU];
                    next[d] += 1;
                    next_at[d] = next_position(d, next[d]);
                    unfinished -= (d < draws && next_at[d] == u64::MAX) as usize;
                }
            }
        }
    }
    quantile_at
}

/// Per draw, the statistics of one arm on one row of a scope.
pub(super) type SharedDraws = Arc<Vec<Vec<Option<f64>>>>;

/// The baseline's statistics on every bootstrap draw of a scope, computed once per run and
/// paired with every arm: the draws depend only on (seed, corpus, group) and the scope's samples,
/// never on the arm, so every comparison of a scope sees the same resamples.
#[derive(Default)]
pub struct BaselineDraws(std::sync::Mutex<std::collections::HashMap<String, SharedDraws>>);

impl BaselineDraws {
    fn get(&self, key: &str) -> Option<SharedDraws> {
        self.0.lock().ok().and_then(|m| m.get(key).cloned())
    }

    fn insert(&self, key: String, draws: SharedDraws) {
        if let Ok(mut m) = self.0.lock() {
            m.entry(key).or_insert(draws);
        }
    }
}

/// Which delta row a bootstrap target's intervals belong to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Slot {
    Summary(usize),
    Class(usize),
}

/// One row of a scope whose intervals the scope's bootstrap computes: the arm's and the
/// baseline's columns on the scope's paired samples.
pub(super) struct BootTarget {
    pub slot: Slot,
    pub arm: ArmColumns,
    pub base: ArmColumns,
    /// The baseline draws' cache key: the scope, its exact samples and the row.
    pub cache_key: String,
}

impl Slot {
    /// How many statistics the row has intervals for.
    pub(super) fn width(self) -> usize {
        match self {
            Slot::Summary(_) => SUMMARY_STATS.len(),
            Slot::Class(_) => ROW_STATS.len() - 1,
        }
    }
}

impl BootTarget {
    fn width(&self) -> usize {
        self.slot.width()
    }

    fn row(&self, stats: DrawStats) -> Vec<Option<f64>> {
        match self.slot {
            Slot::Summary(_) => summary_row(stats),
            Slot::Class(_) => class_row(stats),
        }
    }
}

/// How many rows of a scope of `n` samples get their columns built at once.
pub(super) fn rows_per_batch(n: usize) -> usize {
    let per_row = 2 * n * std::mem::size_of::<([f64; COUNT], Counts, u32)>();
    (COLUMN_BYTES / per_row.max(1)).max(1)
}

/// The paired bootstrap of one scope (`n` paired samples) for `targets`: `resamples` draws from
/// `rng`'s streams, the arm's statistics minus the baseline's on each, and the central 95%
/// interval of each statistic's defined deltas. The result depends on neither the thread count
/// nor how the targets are batched.
/// One statistic's bootstrap draws, each sorted: `arm − baseline`, and the arm's own value;
/// and the samples they resample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatDraws {
    pub delta: Vec<f64>,
    pub arm: Vec<f64>,
    pub n: usize,
}

impl StatDraws {
    /// The `level` interval of the delta: the expanded percentile interval (the draws'
    /// numpy-linear percentiles at [`expanded_level`]), which covers at `level` where the
    /// plain percentile interval falls short for small n.
    pub fn delta_interval(&self, level: f64) -> Option<[f64; 2]> {
        central(&self.delta, expanded_level(level, self.n))
    }

    /// The `level` interval of the arm's own statistic, expanded alike.
    pub fn arm_interval(&self, level: f64) -> Option<[f64; 2]> {
        central(&self.arm, expanded_level(level, self.n))
    }
}

fn central(sorted: &[f64], level: f64) -> Option<[f64; 2]> {
    if sorted.is_empty() {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    Some([
        maskgate_core::quantile::percentile_sorted(sorted, tail),
        maskgate_core::quantile::percentile_sorted(sorted, 1.0 - tail),
    ])
}

pub(super) fn bootstrap_scope(
    targets: &[BootTarget],
    n: usize,
    rng: &Rng,
    resamples: usize,
    tau: f64,
    baseline_draws: &BaselineDraws,
) -> Vec<Vec<StatDraws>> {
    if n == 0 || resamples == 0 {
        return targets
            .iter()
            .map(|t| vec![StatDraws::default(); t.width()])
            .collect();
    }
    let cached: Vec<Option<SharedDraws>> = targets
        .iter()
        .map(|t| baseline_draws.get(&t.cache_key))
        .collect();
    let missing: Vec<usize> = (0..targets.len())
        .filter(|&j| cached[j].is_none())
        .collect();
    // The arm's columns of every target, then the baseline's of the uncached ones.
    let columns: Vec<(&BootTarget, &ArmColumns)> = targets
        .iter()
        .map(|t| (t, &t.arm))
        .chain(missing.iter().map(|&j| (&targets[j], &targets[j].base)))
        .collect();
    let chunks: Vec<std::ops::Range<usize>> = (0..resamples)
        .step_by(CHUNK_DRAWS)
        .map(|start| start..(start + CHUNK_DRAWS).min(resamples))
        .collect();
    // [chunk][column][draw in chunk]
    let per_chunk: Vec<Vec<Vec<Vec<Option<f64>>>>> = chunks
        .into_par_iter()
        .map_init(Vec::new, |weights: &mut Vec<u32>, draws| {
            weights.clear();
            weights.resize(n * CHUNK_DRAWS, 0);
            for (d, draw) in draws.clone().enumerate() {
                for_each_drawn(rng, draw, n, |i| weights[i * CHUNK_DRAWS + d] += 1);
            }
            columns
                .iter()
                .map(|(t, cols)| {
                    chunk_stats(cols, weights, draws.len(), n, tau)
                        .into_iter()
                        .map(|s| t.row(s))
                        .collect()
                })
                .collect()
        })
        .collect();
    let column_draws = |column: usize| -> Vec<Vec<Option<f64>>> {
        per_chunk
            .iter()
            .flat_map(|chunk| chunk[column].iter().cloned())
            .collect()
    };
    let baseline: Vec<SharedDraws> = targets
        .iter()
        .enumerate()
        .map(|(j, t)| match &cached[j] {
            Some(d) => d.clone(),
            None => {
                let column = targets.len() + missing.iter().position(|&m| m == j).unwrap_or(0);
                let d: SharedDraws = Arc::new(column_draws(column));
                baseline_draws.insert(t.cache_key.clone(), d.clone());
                d
            }
        })
        .collect();
    // Each statistic's draws sorted side by side: with the chunks above, this is most of a
    // scope's work.
    targets
        .par_iter()
        .enumerate()
        .map(|(j, t)| {
            let arm = column_draws(j);
            (0..t.width())
                .into_par_iter()
                .map(|k| {
                    let mut delta: Vec<f64> = arm
                        .iter()
                        .zip(baseline[j].iter())
                        .filter_map(|(x, y)| sub(x[k], y[k]))
                        .collect();
                    let mut own: Vec<f64> = arm.iter().filter_map(|x| x[k]).collect();
                    delta.sort_by(f64::total_cmp);
                    own.sort_by(f64::total_cmp);
                    StatDraws { delta, arm: own, n }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::CompareSettings;
    use maskgate_core::quantile::{mean, percentile_sorted};
    use maskgate_core::stats::percentile_interval;
    use maskgate_core::stats::resample_counts;

    fn rand_state(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The chunk kernel against the plain computation on each draw's materialised samples:
    /// quantiles of the sorted defined IoUs, the pass rate and the micro counts to the bit, means
    /// up to rounding (the kernel sums in rank order, the reference in draw order). Draws are
    /// evaluated with a chunk's worth of other draws beside them and alone, with equal bits.
    #[test]
    fn chunk_statistics_equal_the_plain_computation() {
        let mut rand = rand_state(0x2545_f491_4f6c_dd1d);
        for n in [1usize, 2, 3, 7, 40, 301] {
            let rows: Vec<[f64; COUNT]> = (0..n)
                .map(|_| {
                    std::array::from_fn(|_| match rand() % 5 {
                        0 => f64::NAN,
                        1 => 0.5, // ties
                        _ => (rand() % 1000) as f64 / 999.0,
                    })
                })
                .collect();
            let counts: Vec<Counts> = (0..n)
                .map(|_| Counts {
                    // n = 7 takes the wide multiply: counts past 32 bits.
                    tp: rand() % 50 + if n == 7 { 1 << 40 } else { 0 },
                    fp: rand() % 9,
                    fn_: rand() % 9,
                })
                .collect();
            let cols = ArmColumns::new(rows.clone(), counts.clone());
            let draws: Vec<Vec<usize>> = (0..CHUNK_DRAWS - 3)
                .map(|_| (0..n).map(|_| (rand() % n as u64) as usize).collect())
                .collect();
            let mut weights = vec![0u32; n * CHUNK_DRAWS];
            for (d, idx) in draws.iter().enumerate() {
                idx.iter().for_each(|&i| weights[i * CHUNK_DRAWS + d] += 1);
            }
            let together = chunk_stats(&cols, &weights, draws.len(), n, 0.5);
            assert_eq!(together.len(), draws.len());
            for (d, idx) in draws.iter().enumerate() {
                let mut alone = vec![0u32; n * CHUNK_DRAWS];
                idx.iter().for_each(|&i| alone[i * CHUNK_DRAWS] += 1);
                let (five, means, micro) = together[d];
                let bits =
                    |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
                let single = chunk_stats(&cols, &alone, 1, n, 0.5)[0];
                assert_eq!(bits(&five), bits(&single.0));
                assert_eq!(bits(&means), bits(&single.1));

                let drawn: Vec<f64> = idx
                    .iter()
                    .map(|&i| rows[i][IOU])
                    .filter(|v| !v.is_nan())
                    .collect();
                let mut sorted = drawn.clone();
                sorted.sort_by(f64::total_cmp);
                let q = |p| (!sorted.is_empty()).then(|| percentile_sorted(&sorted, p));
                assert_eq!(bits(&five[1..4]), bits(&[q(0.5), q(0.1), q(0.9)]));
                let pass = (!drawn.is_empty()).then(|| {
                    drawn.iter().filter(|&&v| v >= 0.5).count() as f64 / drawn.len() as f64
                });
                assert_eq!(bits(&five[4..]), bits(&[pass]));
                let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-12,
                    (a, b) => a.is_none() && b.is_none(),
                };
                assert!(close(five[0], mean(&drawn)));
                for m in 0..COUNT {
                    let vals: Vec<f64> = idx
                        .iter()
                        .map(|&i| rows[i][m])
                        .filter(|v| !v.is_nan())
                        .collect();
                    assert!(close(means[m], mean(&vals)), "metric {m}");
                }
                let mut expected = Counts::default();
                idx.iter().for_each(|&i| expected += counts[i]);
                assert_eq!(micro, expected);
            }
        }
    }

    /// A metric whose per-sample values the arm and the baseline share sums to the same bits on
    /// both sides in every draw, however their IoUs order the samples: its delta is exactly 0.
    #[test]
    fn shared_values_give_exactly_equal_means() {
        let mut rand = rand_state(0x9e37_79b9_7f4a_7c15);
        let n = 200;
        let base: Vec<[f64; COUNT]> = (0..n)
            .map(|_| std::array::from_fn(|_| (rand() % 1000) as f64 / 997.0))
            .collect();
        // Only the IoU differs, in an order unrelated to the baseline's.
        let arm: Vec<[f64; COUNT]> = base
            .iter()
            .map(|r| {
                let mut r = *r;
                r[IOU] = (rand() % 1000) as f64 / 991.0;
                r
            })
            .collect();
        let (ca, cb) = (
            ArmColumns::new(arm, Vec::new()),
            ArmColumns::new(base, Vec::new()),
        );
        let rng = Rng::keyed(3, "shared");
        let mut weights = vec![0u32; n * CHUNK_DRAWS];
        for d in 0..CHUNK_DRAWS {
            for_each_drawn(&rng, d, n, |i| weights[i * CHUNK_DRAWS + d] += 1);
        }
        let (sa, sb) = (
            chunk_stats(&ca, &weights, CHUNK_DRAWS, n, 0.5),
            chunk_stats(&cb, &weights, CHUNK_DRAWS, n, 0.5),
        );
        for (a, b) in sa.iter().zip(&sb) {
            for m in (0..COUNT).filter(|&m| m != IOU) {
                assert_eq!(
                    a.1[m].map(f64::to_bits),
                    b.1[m].map(f64::to_bits),
                    "metric {m}"
                );
            }
        }
        assert_ne!(sa[0].1[IOU], sb[0].1[IOU]);
    }

    fn score(id: &str, tp: u64, fp: u64, fn_: u64) -> SampleScore {
        let c = ClassScore::from_counts(Counts { tp, fp, fn_ });
        SampleScore {
            instance_eval: None,
            overlaps: Default::default(),
            noise: None,
            agreement: None,
            suspect: false,
            properties: None,
            arm: "a".into(),
            corpus: "k".into(),
            id: id.into(),
            hash: String::new(),
            source: None,
            notes: None,
            failure_class: None,
            fail_reason: None,
            fail_detail: None,
            instances: None,
            classes: [("c".to_string(), c)].into_iter().collect(),
        }
    }

    fn targets(sa: &[&SampleScore], sb: &[&SampleScore]) -> Vec<BootTarget> {
        vec![
            BootTarget {
                slot: Slot::Summary(0),
                arm: summary_columns(sa),
                base: summary_columns(sb),
                cache_key: "*".into(),
            },
            BootTarget {
                slot: Slot::Class(0),
                arm: class_columns(sa, "c"),
                base: class_columns(sb, "c"),
                cache_key: "c".into(),
            },
        ]
    }

    /// A scope's intervals do not depend on how its rows are batched, on whether the baseline's
    /// draws came from the cache, or on the thread count; and they equal the textbook paired
    /// bootstrap: the same draws, each statistic computed on the materialised resample.
    #[test]
    fn scope_intervals_ignore_batching_cache_and_threads() {
        let n = 60u64;
        let arm: Vec<SampleScore> = (0..n)
            .map(|i| score(&format!("{i}"), 10 + i % 7, i % 5, (i * 3) % 4))
            .collect();
        let base: Vec<SampleScore> = (0..n)
            .map(|i| score(&format!("{i}"), 10 + i % 6, (i * 7) % 5, i % 3))
            .collect();
        let (sa, sb): (Vec<&SampleScore>, Vec<&SampleScore>) =
            (arm.iter().collect(), base.iter().collect());
        let settings = CompareSettings {
            top_k: 0,
            pass_iou: 0.7,
            resamples: 300,
            seed: 9,
            keep_draws: true,
        };
        let (resamples, tau) = (settings.resamples, settings.pass_iou);
        let rng = Rng::keyed(settings.seed, "scope");
        let with_threads = |threads: usize, f: &(dyn Fn() -> Vec<Vec<StatDraws>> + Sync)| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(f)
        };
        let cache = BaselineDraws::default();
        let scope = |ts: &[BootTarget], cache: &BaselineDraws| {
            bootstrap_scope(ts, n as usize, &rng, resamples, tau, cache)
        };
        let together = with_threads(1, &|| scope(&targets(&sa, &sb), &cache));
        let cached = with_threads(4, &|| scope(&targets(&sa, &sb), &cache));
        let one_by_one: Vec<_> = with_threads(3, &|| {
            let fresh = BaselineDraws::default();
            targets(&sa, &sb)
                .into_iter()
                .flat_map(|t| scope(&[t], &fresh))
                .collect()
        });
        assert_eq!(together, cached);
        assert_eq!(together, one_by_one);

        // The textbook: materialise each draw, compute the class IoU's mean and median on it.
        let iou = |s: &SampleScore| s.classes.get("c").and_then(|c| c.values[IOU]);
        let mut mean_deltas = Vec::new();
        let mut median_deltas = Vec::new();
        let mut counts = Vec::new();
        for r in 0..resamples {
            resample_counts(&rng, r, n as usize, &mut counts);
            let drawn: Vec<usize> = (0..n as usize)
                .flat_map(|i| std::iter::repeat_n(i, counts[i] as usize))
                .collect();
            let stat = |s: &[SampleScore]| {
                let mut v: Vec<f64> = drawn.iter().filter_map(|&i| iou(&s[i])).collect();
                let m = mean(&v).expect("defined");
                v.sort_by(f64::total_cmp);
                (m, percentile_sorted(&v, 0.5))
            };
            let ((ma, qa), (mb, qb)) = (stat(&arm), stat(&base));
            mean_deltas.push(ma - mb);
            median_deltas.push(qa - qb);
        }
        let [lo, hi] = together[1][0]
            .delta_interval(0.95)
            .expect("iou_mean interval");
        let level = expanded_level(0.95, n as usize);
        let (tlo, thi) = percentile_interval(mean_deltas, level).expect("textbook");
        assert!(
            (lo - tlo).abs() < 1e-12 && (hi - thi).abs() < 1e-12,
            "{lo} {hi} vs {tlo} {thi}"
        );
        assert!(
            lo < hi,
            "the mean IoU moved, so its interval has width: {lo} {hi}"
        );
        assert_eq!(
            together[1][1].delta_interval(0.95).map(|[a, b]| (a, b)),
            percentile_interval(median_deltas, level)
        );
    }

    /// The shortcut `compare` takes for untouched rows gives exactly what resampling identical
    /// scores gives: `[0, 0]` where a statistic is defined, nothing elsewhere.
    #[test]
    fn zero_intervals_equal_the_bootstrap_of_identical_scores() {
        use crate::compare::{ci_map, zero_intervals};
        let scores = [
            score("1", 5, 1, 0),
            score("2", 0, 0, 0),
            score("3", 2, 0, 3),
            score("4", 0, 4, 0),
        ];
        let refs: Vec<&SampleScore> = scores.iter().collect();
        let mut cis = bootstrap_scope(
            &targets(&refs, &refs),
            refs.len(),
            &Rng::keyed(1, "t"),
            500,
            0.5,
            &BaselineDraws::default(),
        );
        let names = &ROW_STATS[..ROW_STATS.len() - 1];
        let all = vec![1u32; refs.len() * CHUNK_DRAWS];
        let stats = class_row(chunk_stats(&class_columns(&refs, "c"), &all, 1, refs.len(), 0.5)[0]);
        let deltas: std::collections::BTreeMap<&'static str, Option<f64>> = names
            .iter()
            .zip(stats)
            .map(|(n, v)| (*n, sub(v, v)))
            .collect();
        let class = ci_map(names, &cis.remove(1));
        assert_eq!(zero_intervals(names, &deltas), class);
        // bbox IoU is undefined everywhere here: no interval either way.
        assert_eq!(class["bbox_iou_mean"], None);
        assert_eq!(class["iou_mean"], Some([0.0, 0.0]));
    }
}
