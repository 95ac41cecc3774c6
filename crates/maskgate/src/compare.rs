//! Stage 5, **compare**: each arm against the baseline — deltas of every aggregate with a paired
//! bootstrap 95% CI, the paired per-sample mIoU delta with a sign test and pass/fail flips, and
//! ranked regressions / improvements (ties broken by id).

pub use crate::aggregate::SUMMARY_STATS;
use crate::aggregate::{group_keys_of, Grouping, MetricsRow, SummaryRow, ROW_STATS};
use crate::model::FailReason;
use crate::score::{ClassScore, SampleScore, METRICS};
use maskgate_core::stats::{for_each_draw, paired_bootstrap, sign_test, Rng};
use maskgate_core::Counts;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub struct CompareSettings {
    pub top_k: usize,
    pub pass_iou: f64,
    /// Paired bootstrap resamples (0 disables the CIs).
    pub resamples: usize,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RowDelta {
    pub group_by: String,
    pub group: String,
    pub class: String,
    /// `arm − baseline` of each statistic, `None` where either side is undefined.
    pub deltas: BTreeMap<&'static str, Option<f64>>,
    /// Paired bootstrap 95% interval of each delta.
    pub ci95: BTreeMap<&'static str, Option<[f64; 2]>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Paired {
    /// Samples where both arms have a defined mIoU.
    pub n: usize,
    pub mean_delta: Option<f64>,
    pub n_improved: usize,
    pub n_regressed: usize,
    pub n_unchanged: usize,
    /// Exact two-sided sign test on the per-sample mIoU deltas (ties dropped).
    pub sign_test_p: f64,
    /// Samples whose mIoU is ≥ τ in the baseline and < τ in the arm.
    pub pass_to_fail: usize,
    /// Samples whose mIoU is < τ in the baseline and ≥ τ in the arm.
    pub fail_to_pass: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct RankedSample {
    pub rank: usize,
    pub id: String,
    pub hash: String,
    pub source: Option<String>,
    pub fail_reason_baseline: Option<FailReason>,
    pub fail_reason_arm: Option<FailReason>,
    pub gt_pixels: u64,
    pub pred_pixels_baseline: u64,
    pub pred_pixels_arm: u64,
    pub miou_baseline: f64,
    pub miou_arm: f64,
    /// `arm − baseline` of the per-sample mean of each metric.
    pub deltas: BTreeMap<&'static str, Option<f64>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub arm: String,
    pub baseline: String,
    pub corpus: String,
    pub summary_deltas: Vec<RowDelta>,
    pub class_deltas: Vec<RowDelta>,
    pub paired: Paired,
    pub regressions: Vec<RankedSample>,
    pub improvements: Vec<RankedSample>,
}

impl Comparison {
    pub fn delta(&self, group_by: &str, group: &str, class: Option<&str>) -> Option<&RowDelta> {
        let list = if class.is_some() {
            &self.class_deltas
        } else {
            &self.summary_deltas
        };
        list.iter().find(|d| {
            d.group_by == group_by && d.group == group && class.is_none_or(|c| c == d.class)
        })
    }
}

fn sub(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

pub fn summary_stats(s: &SummaryRow) -> [Option<f64>; 8] {
    [
        s.miou_mean,
        s.miou_median,
        s.miou_p10,
        s.miou_p90,
        s.pass_rate,
        s.leakage_mean,
        s.coverage_mean,
        s.boundary_iou_mean,
    ]
}

/// Per-sample values of one arm in one scope, in the paired sample order.
struct ArmColumns {
    /// [sample][metric], NaN where undefined: for the class scope the class's values, for the
    /// summary scope the per-sample means. One row per sample, so a bootstrap draw reads each
    /// drawn sample once for every statistic.
    rows: Vec<[f64; 8]>,
    counts: Vec<Counts>,
    /// The defined IoUs sorted, and each sample's position among them (`u32::MAX`: undefined):
    /// a draw's quantiles are then read off its rank counts instead of selected.
    iou_sorted: Vec<f64>,
    iou_rank: Vec<u32>,
}

impl ArmColumns {
    fn new(rows: Vec<[f64; 8]>, counts: Vec<Counts>) -> ArmColumns {
        let mut order: Vec<usize> = (0..rows.len())
            .filter(|&i| !rows[i][IOU].is_nan())
            .collect();
        order.sort_by(|&a, &b| rows[a][IOU].total_cmp(&rows[b][IOU]));
        let mut iou_rank = vec![u32::MAX; rows.len()];
        for (r, &i) in order.iter().enumerate() {
            iou_rank[i] = r as u32;
        }
        ArmColumns {
            iou_sorted: order.iter().map(|&i| rows[i][IOU]).collect(),
            iou_rank,
            rows,
            counts,
        }
    }
}

fn row_of(values: [Option<f64>; 8]) -> [f64; 8] {
    values.map(|v| v.unwrap_or(f64::NAN))
}

fn class_columns(scores: &[&SampleScore], class: &str) -> ArmColumns {
    let cs: Vec<Option<&ClassScore>> = scores.iter().map(|s| s.classes.get(class)).collect();
    ArmColumns::new(
        cs.iter()
            .map(|c| row_of(c.map(|c| c.metric_values()).unwrap_or([None; 8])))
            .collect(),
        cs.iter()
            .map(|c| c.map(|c| c.counts()).unwrap_or_default())
            .collect(),
    )
}

fn summary_columns(scores: &[&SampleScore]) -> ArmColumns {
    ArmColumns::new(
        scores
            .iter()
            .map(|s| row_of(std::array::from_fn(|m| s.metric_mean(m))))
            .collect(),
        Vec::new(),
    )
}

const IOU: usize = 0;

/// The order statistics at positions `at` (any order) of a draw whose rank counts are `counts`
/// over `sorted`, in one walk.
fn order_stats<const K: usize>(counts: &[u32], sorted: &[f64], at: [usize; K]) -> [f64; K] {
    let mut slots: [usize; K] = std::array::from_fn(|k| k);
    slots.sort_by_key(|&k| at[k]);
    let mut out = [0.0; K];
    let (mut next, mut seen) = (0usize, 0usize);
    for (r, &c) in counts.iter().enumerate() {
        seen += c as usize;
        while next < K && at[slots[next]] < seen {
            out[slots[next]] = sorted[r];
            next += 1;
        }
        if next == K {
            break;
        }
    }
    out
}

/// One pass over the drawn samples: every metric's mean (summed in draw order, as
/// `quantile::mean`), the micro counts, the pass rate and the IoU quantiles (from rank counts
/// in `scratch`; the same order statistics and interpolation as `quantile::percentile_sorted`).
/// Returns ([mean, median, p10, p90, pass], metric means, micro).
fn scope_stats(
    c: &ArmColumns,
    idx: &[usize],
    tau: f64,
    scratch: &mut Vec<u32>,
) -> ([Option<f64>; 5], [Option<f64>; 8], Counts) {
    scratch.clear();
    scratch.resize(c.iou_sorted.len(), 0);
    let (mut sums, mut ns) = ([0.0f64; 8], [0usize; 8]);
    let mut micro = Counts::default();
    let mut passed = 0usize;
    let with_counts = !c.counts.is_empty();
    for &i in idx {
        let row = &c.rows[i];
        for m in 0..8 {
            // Adding +0.0 leaves a sum of non-negative values unchanged to the bit, so the
            // undefined values need no branch.
            let defined = !row[m].is_nan();
            sums[m] += if defined { row[m] } else { 0.0 };
            ns[m] += defined as usize;
        }
        passed += (row[IOU] >= tau) as usize;
        if let Some(r) = scratch.get_mut(c.iou_rank[i] as usize) {
            *r += 1;
        }
        if with_counts {
            micro += c.counts[i];
        }
    }
    let means: [Option<f64>; 8] =
        std::array::from_fn(|m| (ns[m] > 0).then(|| sums[m] / ns[m] as f64));
    let n = ns[IOU];
    if n == 0 {
        return ([None; 5], means, micro);
    }
    use maskgate_core::quantile::{lerp, position};
    let (l10, f10) = position(n, 0.1);
    let (lm, fm) = position(n, 0.5);
    let (l90, f90) = position(n, 0.9);
    let next = |l: usize| (l + 1).min(n - 1);
    let v = order_stats(
        scratch,
        &c.iou_sorted,
        [l10, next(l10), lm, next(lm), l90, next(l90)],
    );
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

/// Statistics of a class scope in [`ROW_STATS`] order (without the trailing `n`).
fn class_stats(
    c: &ArmColumns,
    idx: &[usize],
    tau: f64,
    scratch: &mut Vec<u32>,
) -> [Option<f64>; 13] {
    let (f, m, micro) = scope_stats(c, idx, tau, scratch);
    [
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        micro.iou(),
        m[1],
        m[2],
        m[3],
        m[4],
        m[5],
        m[6],
        m[7],
    ]
}

/// Statistics of a summary scope in [`SUMMARY_STATS`] order.
fn sum_stats(c: &ArmColumns, idx: &[usize], tau: f64, scratch: &mut Vec<u32>) -> [Option<f64>; 8] {
    let (f, m, _) = scope_stats(c, idx, tau, scratch);
    let pos = |name| METRICS.iter().position(|m| *m == name).unwrap_or(0);
    [
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        m[pos("leakage")],
        m[pos("coverage")],
        m[pos("boundary_iou")],
    ]
}

/// The cache key of a baseline's draws: the scope's purpose and its exact samples.
fn draws_key(purpose: &str, scope: &[&SampleScore]) -> String {
    let mut k = purpose.to_string();
    for s in scope {
        k.push('\0');
        k.push_str(&s.id);
    }
    k
}

/// The intervals a bootstrap of identical scores would give, without drawing: `[0, 0]` where the
/// delta is defined (it is then defined in some draw, and 0 in every draw), `None` elsewhere.
fn zero_intervals(
    names: &[&'static str],
    deltas: &BTreeMap<&'static str, Option<f64>>,
) -> BTreeMap<&'static str, Option<[f64; 2]>> {
    names
        .iter()
        .map(|n| (*n, deltas.get(n).copied().flatten().map(|_| [0.0, 0.0])))
        .collect()
}

fn ci_map(
    names: &[&'static str],
    cis: Vec<Option<(f64, f64)>>,
) -> BTreeMap<&'static str, Option<[f64; 2]>> {
    names
        .iter()
        .zip(cis)
        .map(|(n, c)| (*n, c.map(|(a, b)| [a, b])))
        .collect()
}

/// Per draw, the statistics of one arm on one scope.
type SharedDraws = std::sync::Arc<Vec<Vec<Option<f64>>>>;

/// The baseline's statistics on every bootstrap draw of a scope, computed once per run and
/// paired with every arm: the draws depend only on (seed, corpus, group, class), never on the
/// arm, so every comparison of a scope sees the same resamples.
#[derive(Default)]
pub struct BaselineDraws(std::sync::Mutex<std::collections::HashMap<String, SharedDraws>>);

impl BaselineDraws {
    fn get_or(
        &self,
        key: String,
        compute: impl FnOnce() -> Vec<Vec<Option<f64>>>,
    ) -> std::sync::Arc<Vec<Vec<Option<f64>>>> {
        if let Some(v) = self.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return v;
        }
        let v = std::sync::Arc::new(compute());
        if let Ok(mut m) = self.0.lock() {
            m.entry(key).or_insert_with(|| v.clone());
        }
        v
    }
}

/// The arm's and the baseline's scores of the same samples, in id order.
type PairedScope<'a> = (Vec<&'a SampleScore>, Vec<&'a SampleScore>);

/// Compares `arm` with `baseline` on `corpus`. `scores` are sorted by (arm, corpus, id).
#[allow(clippy::too_many_arguments)]
pub fn compare(
    arm: &str,
    baseline: &str,
    corpus: &str,
    rows: &[MetricsRow],
    summaries: &[SummaryRow],
    scores: &[SampleScore],
    groupings: &[Grouping],
    settings: &CompareSettings,
    baseline_draws: &BaselineDraws,
) -> Comparison {
    let of = |name: &str| -> BTreeMap<&str, &SampleScore> {
        scores
            .iter()
            .filter(|s| *s.arm == *name && *s.corpus == *corpus)
            .map(|s| (s.id.as_str(), s))
            .collect()
    };
    let (base, this) = (of(baseline), of(arm));
    // Paired samples per (group_by, group), in id order.
    let mut scopes: BTreeMap<(String, String), PairedScope> = BTreeMap::new();
    for (id, a) in &this {
        let Some(b) = base.get(id) else { continue };
        for (gb, g) in group_keys_of(a, groupings) {
            let e = scopes.entry((gb, g)).or_default();
            e.0.push(a);
            e.1.push(b);
        }
    }
    // A group holding exactly the samples of `all` (e.g. a corpus with one source) gets the
    // same intervals as `all` instead of a second, differently seeded bootstrap.
    let all_key = ("all".to_string(), "all".to_string());
    let ids = |k: &(String, String)| {
        scopes
            .get(k)
            .map(|(a, _)| a.iter().map(|s| s.id.as_str()).collect::<Vec<_>>())
    };
    let all_ids = ids(&all_key);
    let canonical: BTreeMap<(String, String), (String, String)> = scopes
        .keys()
        .map(|k| {
            (
                k.clone(),
                if ids(k) == all_ids {
                    all_key.clone()
                } else {
                    k.clone()
                },
            )
        })
        .collect();
    let is_alias = |gb: &String, g: &String| {
        canonical
            .get(&(gb.clone(), g.clone()))
            .is_some_and(|c| *c != (gb.clone(), g.clone()))
    };
    let tau = settings.pass_iou;
    // The draws depend on the scope (corpus, group), not on the class: every statistic of a
    // scope is read off the same resampled samples, so a quantity shown twice (a one-class
    // corpus's mIoU and its class IoU) has one interval.
    let purpose = |gb: &str, g: &str| format!("bootstrap\0{baseline}\0{corpus}\0{gb}\0{g}");

    let base_sums: BTreeMap<_, &SummaryRow> = summaries
        .iter()
        .filter(|s| s.arm == baseline && s.corpus == corpus)
        .map(|s| ((s.group_by.clone(), s.group.clone()), s))
        .collect();
    let summary_deltas: Vec<RowDelta> = summaries
        .iter()
        .filter(|s| s.arm == arm && s.corpus == corpus)
        .collect::<Vec<_>>()
        .par_iter()
        .filter_map(|s| {
            let b = base_sums.get(&(s.group_by.clone(), s.group.clone()))?;
            let mut deltas: BTreeMap<&'static str, Option<f64>> = SUMMARY_STATS
                .iter()
                .zip(summary_stats(s).iter().zip(summary_stats(b).iter()))
                .map(|(n, (a, b))| (*n, sub(*a, *b)))
                .collect();
            for (code, rate) in &s.fail_rates {
                deltas.insert(code, sub(Some(*rate), b.fail_rates.get(code).copied()));
            }
            let scope = scopes
                .get(&(s.group_by.clone(), s.group.clone()))
                .filter(|_| !is_alias(&s.group_by, &s.group));
            let unchanged = scope
                .is_some_and(|(sa, sb)| sa.iter().zip(sb).all(|(a, b)| a.classes == b.classes));
            let ci95 = match scope {
                // Identical scores on every sample: every resampled delta is exactly 0.
                Some(_) if unchanged => zero_intervals(&SUMMARY_STATS, &deltas),
                Some((sa, sb)) => {
                    let (ca, cb) = (summary_columns(sa), summary_columns(sb));
                    let key = purpose(&s.group_by, &s.group);
                    let ys = baseline_draws.get_or(draws_key(&format!("{key}\0*"), sb), || {
                        let mut scratch = Vec::new();
                        let mut ys = Vec::with_capacity(settings.resamples);
                        for_each_draw(
                            sb.len(),
                            settings.resamples,
                            &mut Rng::keyed(settings.seed, &key),
                            |_, idx| {
                                ys.push(sum_stats(&cb, idx, tau, &mut scratch).to_vec());
                            },
                        );
                        ys
                    });
                    let mut rng = Rng::keyed(settings.seed, &key);
                    let mut scratch = Vec::new();
                    let cis = paired_bootstrap(
                        sa.len(),
                        SUMMARY_STATS.len(),
                        settings.resamples,
                        &mut rng,
                        0.95,
                        |r, idx, out| {
                            let x = sum_stats(&ca, idx, tau, &mut scratch);
                            for k in 0..out.len() {
                                out[k] = sub(x[k], ys[r][k]);
                            }
                        },
                    );
                    ci_map(&SUMMARY_STATS, cis)
                }
                None => BTreeMap::new(),
            };
            Some(RowDelta {
                group_by: s.group_by.clone(),
                group: s.group.clone(),
                class: "*".into(),
                deltas,
                ci95,
            })
        })
        .collect();

    let key = |r: &MetricsRow| (r.group_by.clone(), r.group.clone(), r.class.clone());
    let base_rows: BTreeMap<_, &MetricsRow> = rows
        .iter()
        .filter(|r| r.arm == baseline && r.corpus == corpus)
        .map(|r| (key(r), r))
        .collect();
    let stat_names = &ROW_STATS[..ROW_STATS.len() - 1];
    let class_deltas: Vec<RowDelta> = rows
        .iter()
        .filter(|r| r.arm == arm && r.corpus == corpus)
        .collect::<Vec<_>>()
        .par_iter()
        .filter_map(|r| {
            let b = base_rows.get(&key(r))?;
            let (sa, sb) = (r.stats(), b.stats());
            let deltas = ROW_STATS
                .iter()
                .zip(sa.iter().zip(sb.iter()))
                .map(|(n, (a, b))| (*n, sub(*a, *b)))
                .collect();
            let scope = scopes
                .get(&(r.group_by.clone(), r.group.clone()))
                .filter(|_| !is_alias(&r.group_by, &r.group));
            let unchanged = scope.is_some_and(|(xa, xb)| {
                xa.iter()
                    .zip(xb)
                    .all(|(a, b)| a.classes.get(&r.class) == b.classes.get(&r.class))
            });
            let ci95 = match scope {
                // A variant that leaves this class alone: every resampled delta is exactly 0.
                Some(_) if unchanged => zero_intervals(stat_names, &deltas),
                Some((xa, xb)) => {
                    let (ca, cb) = (class_columns(xa, &r.class), class_columns(xb, &r.class));
                    let key = purpose(&r.group_by, &r.group);
                    let cache_key = format!("{key}\0{}", r.class);
                    let ys = baseline_draws.get_or(draws_key(&cache_key, xb), || {
                        let mut scratch = Vec::new();
                        let mut ys = Vec::with_capacity(settings.resamples);
                        for_each_draw(
                            xb.len(),
                            settings.resamples,
                            &mut Rng::keyed(settings.seed, &key),
                            |_, idx| {
                                ys.push(class_stats(&cb, idx, tau, &mut scratch).to_vec());
                            },
                        );
                        ys
                    });
                    let mut rng = Rng::keyed(settings.seed, &key);
                    let mut scratch = Vec::new();
                    let cis = paired_bootstrap(
                        xa.len(),
                        stat_names.len(),
                        settings.resamples,
                        &mut rng,
                        0.95,
                        |r, idx, out| {
                            let x = class_stats(&ca, idx, tau, &mut scratch);
                            for k in 0..out.len() {
                                out[k] = sub(x[k], ys[r][k]);
                            }
                        },
                    );
                    ci_map(stat_names, cis)
                }
                None => BTreeMap::new(),
            };
            Some(RowDelta {
                group_by: r.group_by.clone(),
                group: r.group.clone(),
                class: r.class.clone(),
                deltas,
                ci95,
            })
        })
        .collect();

    let fill_aliases = |list: &mut Vec<RowDelta>| {
        let source: BTreeMap<String, BTreeMap<&'static str, Option<[f64; 2]>>> = list
            .iter()
            .filter(|d| d.group_by == "all")
            .map(|d| (d.class.clone(), d.ci95.clone()))
            .collect();
        for d in list.iter_mut().filter(|d| is_alias(&d.group_by, &d.group)) {
            d.ci95 = source.get(&d.class).cloned().unwrap_or_default();
        }
    };
    let (mut summary_deltas, mut class_deltas) = (summary_deltas, class_deltas);
    fill_aliases(&mut summary_deltas);
    fill_aliases(&mut class_deltas);

    // (arm's mIoU, baseline's mIoU, arm, baseline) per paired sample; only the top k become
    // report rows.
    let mut pairs: Vec<(f64, f64, &SampleScore, &SampleScore)> = Vec::new();
    let (mut pass_to_fail, mut fail_to_pass) = (0, 0);
    for (id, a) in &this {
        let Some(b) = base.get(id) else { continue };
        let (Some(ma), Some(mb)) = (a.miou(), b.miou()) else {
            continue;
        };
        pass_to_fail += (mb >= tau && ma < tau) as usize;
        fail_to_pass += (mb < tau && ma >= tau) as usize;
        pairs.push((ma, mb, a, b));
    }
    let n = pairs.len();
    let delta = |p: &(f64, f64, &SampleScore, &SampleScore)| p.0 - p.1;
    let n_improved = pairs.iter().filter(|p| delta(p) > 0.0).count();
    let n_regressed = pairs.iter().filter(|p| delta(p) < 0.0).count();
    let paired = Paired {
        n,
        mean_delta: (n > 0).then(|| pairs.iter().map(delta).sum::<f64>() / n as f64),
        n_improved,
        n_regressed,
        n_unchanged: n - n_improved - n_regressed,
        sign_test_p: sign_test(n_improved, n_regressed),
        pass_to_fail,
        fail_to_pass,
    };
    let row =
        |rank: usize, &(ma, mb, a, b): &(f64, f64, &SampleScore, &SampleScore)| RankedSample {
            rank,
            id: a.id.clone(),
            hash: a.hash.clone(),
            source: a.source.clone(),
            fail_reason_baseline: b.fail_reason,
            fail_reason_arm: a.fail_reason,
            gt_pixels: a.gt_pixels(),
            pred_pixels_baseline: b.pred_pixels(),
            pred_pixels_arm: a.pred_pixels(),
            miou_baseline: mb,
            miou_arm: ma,
            deltas: METRICS
                .iter()
                .enumerate()
                .map(|(i, m)| (*m, sub(a.metric_mean(i), b.metric_mean(i))))
                .collect(),
        };
    let rank = |mut v: Vec<&(f64, f64, &SampleScore, &SampleScore)>, worst_first: bool| {
        v.sort_by(|x, y| {
            let o = delta(x).total_cmp(&delta(y));
            (if worst_first { o } else { o.reverse() }).then_with(|| x.2.id.cmp(&y.2.id))
        });
        v.into_iter()
            .take(settings.top_k)
            .enumerate()
            .map(|(i, p)| row(i + 1, p))
            .collect::<Vec<_>>()
    };
    let regressions = rank(pairs.iter().filter(|p| delta(p) < 0.0).collect(), true);
    let improvements = rank(pairs.iter().filter(|p| delta(p) > 0.0).collect(), false);
    Comparison {
        arm: arm.into(),
        baseline: baseline.into(),
        corpus: corpus.into(),
        summary_deltas,
        class_deltas,
        paired,
        regressions,
        improvements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::ClassScore;

    fn score(id: &str, tp: u64, fp: u64, fn_: u64) -> SampleScore {
        let c = ClassScore::from_counts(Counts { tp, fp, fn_ }, None, None);
        SampleScore {
            overlaps: Default::default(),
            arm: "a".into(),
            corpus: "k".into(),
            id: id.into(),
            hash: String::new(),
            source: None,
            failure_class: None,
            fail_reason: None,
            fail_detail: None,
            classes: [("c".to_string(), c)].into_iter().collect(),
        }
    }

    /// A draw's statistics from rank counts equal the plain computation on the drawn values:
    /// quantiles of the sorted defined IoUs, means summed in draw order, the pass rate.
    #[test]
    fn draw_statistics_equal_the_plain_computation() {
        use maskgate_core::quantile::{mean, percentile_sorted};
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [1usize, 2, 3, 7, 40, 301] {
            let rows: Vec<[f64; 8]> = (0..n)
                .map(|_| {
                    std::array::from_fn(|_| match rand() % 5 {
                        0 => f64::NAN,
                        1 => 0.5, // ties
                        _ => (rand() % 1000) as f64 / 999.0,
                    })
                })
                .collect();
            let cols = ArmColumns::new(rows.clone(), Vec::new());
            let mut scratch = Vec::new();
            for _ in 0..20 {
                let idx: Vec<usize> = (0..n).map(|_| (rand() % n as u64) as usize).collect();
                let (five, means, _) = scope_stats(&cols, &idx, 0.5, &mut scratch);
                let drawn: Vec<f64> = idx
                    .iter()
                    .map(|&i| rows[i][IOU])
                    .filter(|v| !v.is_nan())
                    .collect();
                let mut sorted = drawn.clone();
                sorted.sort_by(f64::total_cmp);
                let bits = |v: Option<f64>| v.map(f64::to_bits);
                let q = |p| (!sorted.is_empty()).then(|| percentile_sorted(&sorted, p));
                assert_eq!(bits(five[0]), bits(mean(&drawn)));
                assert_eq!(bits(five[1]), bits(q(0.5)));
                assert_eq!(bits(five[2]), bits(q(0.1)));
                assert_eq!(bits(five[3]), bits(q(0.9)));
                let pass = (!drawn.is_empty()).then(|| {
                    drawn.iter().filter(|&&v| v >= 0.5).count() as f64 / drawn.len() as f64
                });
                assert_eq!(bits(five[4]), bits(pass));
                for m in 0..8 {
                    let vals: Vec<f64> = idx
                        .iter()
                        .map(|&i| rows[i][m])
                        .filter(|v| !v.is_nan())
                        .collect();
                    assert_eq!(bits(means[m]), bits(mean(&vals)), "metric {m}");
                }
            }
        }
    }

    /// The shortcut for untouched classes gives exactly what resampling identical scores gives.
    #[test]
    fn zero_intervals_equal_the_bootstrap_of_identical_scores() {
        let scores = [
            score("1", 5, 1, 0),
            score("2", 0, 0, 0),
            score("3", 2, 0, 3),
            score("4", 0, 4, 0),
        ];
        let refs: Vec<&SampleScore> = scores.iter().collect();
        let (ca, cb) = (class_columns(&refs, "c"), class_columns(&refs, "c"));
        let names = &ROW_STATS[..ROW_STATS.len() - 1];
        let mut scratch = Vec::new();
        let boot = paired_bootstrap(
            refs.len(),
            names.len(),
            500,
            &mut Rng::keyed(1, "t"),
            0.95,
            |_, idx, out| {
                let (x, y) = (
                    class_stats(&ca, idx, 0.5, &mut scratch),
                    class_stats(&cb, idx, 0.5, &mut scratch),
                );
                for k in 0..out.len() {
                    out[k] = sub(x[k], y[k]);
                }
            },
        );
        let full: Vec<usize> = (0..refs.len()).collect();
        let stats = class_stats(&ca, &full, 0.5, &mut scratch);
        let deltas: BTreeMap<&'static str, Option<f64>> = names
            .iter()
            .zip(stats)
            .map(|(n, v)| (*n, sub(v, v)))
            .collect();
        assert_eq!(zero_intervals(names, &deltas), ci_map(names, boot));
        // bbox IoU is undefined everywhere here: no interval either way.
        assert_eq!(zero_intervals(names, &deltas)["bbox_iou_mean"], None);
        assert_eq!(zero_intervals(names, &deltas)["iou_mean"], Some([0.0, 0.0]));
    }
}
