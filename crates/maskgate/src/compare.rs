//! Stage 5, **compare**: each arm against the baseline — deltas of every aggregate with a paired
//! bootstrap 95% CI, the paired per-sample mIoU delta with a sign test and pass/fail flips, and
//! ranked regressions / improvements (ties broken by id).

pub use crate::aggregate::SUMMARY_STATS;
use crate::aggregate::{group_keys_of, Grouping, MetricsRow, SummaryRow, ROW_STATS};
use crate::model::FailReason;
use crate::score::{SampleScore, REGISTRY};
use maskgate_core::stats::{sign_test, Rng};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

mod bootstrap;
mod instances;
use bootstrap::{
    bootstrap_scope, class_columns, rows_per_batch, summary_columns, BootTarget, Slot,
};
pub use bootstrap::{BaselineDraws, StatDraws};

#[derive(Clone, Copy, Debug)]
pub struct CompareSettings {
    pub top_k: usize,
    pub pass_iou: f64,
    /// Paired bootstrap resamples (0 disables the CIs).
    pub resamples: usize,
    pub seed: u64,
    /// Keep each interval's draws in memory for criteria decided on `basis = "ci"` (at their
    /// own level): a resamples-long list per statistic and row, so only when one asks.
    pub keep_draws: bool,
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
    /// The bootstrap's draws behind each interval (the delta's and the arm's own, sorted): what
    /// a criterion on `basis = "ci"` reads at its own level. Not written to any report.
    #[serde(skip)]
    pub draws: BTreeMap<&'static str, std::sync::Arc<StatDraws>>,
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

/// Paired tests of one scope (group) of a comparison, on the per-sample mIoU differences
/// `arm − baseline` of the samples where both are defined. Each p-value is scipy's: Wilcoxon's
/// is `scipy.stats.wilcoxon(d)`, McNemar's `scipy.stats.binomtest(pass→fail, flips)`.
#[derive(Clone, Debug, Serialize)]
pub struct PairedTests {
    pub group_by: String,
    pub group: String,
    pub n: usize,
    /// Wilcoxon signed-rank: min(W+, W−), its two-sided p and how it was computed (`exact`,
    /// `permutation`, `normal`); absent when every difference is zero.
    pub wilcoxon_statistic: Option<f64>,
    pub wilcoxon_p: Option<f64>,
    pub wilcoxon_method: Option<&'static str>,
    /// Hodges–Lehmann shift (median of the Walsh averages) with its 95% interval.
    pub hodges_lehmann: Option<f64>,
    pub hodges_lehmann_ci95: Option<[f64; 2]>,
    /// Samples passing τ in the baseline and failing in the arm, and the reverse.
    pub pass_to_fail: usize,
    pub fail_to_pass: usize,
    /// Exact McNemar test on those flips (two-sided binomial at ½).
    pub mcnemar_p: f64,
}

impl PairedTests {
    /// The tests of one scope from its (arm, baseline) mIoU pairs.
    pub fn of(group_by: &str, group: &str, pairs: &[(f64, f64)], tau: f64) -> PairedTests {
        let d: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
        let w = maskgate_core::wilcoxon::wilcoxon(&d);
        let hl = maskgate_core::wilcoxon::hodges_lehmann(&d, 0.95);
        let pass_to_fail = pairs.iter().filter(|(a, b)| *b >= tau && *a < tau).count();
        let fail_to_pass = pairs.iter().filter(|(a, b)| *b < tau && *a >= tau).count();
        PairedTests {
            group_by: group_by.to_string(),
            group: group.to_string(),
            n: d.len(),
            wilcoxon_statistic: w.map(|w| w.statistic),
            wilcoxon_p: w.map(|w| w.p),
            wilcoxon_method: w.map(|w| w.method.as_str()),
            hodges_lehmann: hl.map(|h| h.0),
            hodges_lehmann_ci95: hl.map(|h| h.1),
            pass_to_fail,
            fail_to_pass,
            mcnemar_p: sign_test(pass_to_fail, fail_to_pass),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RankedSample {
    pub rank: usize,
    pub id: String,
    pub hash: String,
    pub source: Option<String>,
    /// The reporter's notes, whole (the tables shorten them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<String>,
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
    /// Wilcoxon, Hodges–Lehmann and McNemar per scope (`all` first, then each group).
    pub paired_tests: Vec<PairedTests>,
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

/// The draws behind [`zero_intervals`]: every resampled delta is exactly 0. (The arm's own
/// statistic still varies; it is not resampled here, so a min/max check on the interval of an
/// arm identical to the baseline has none.)
fn zero_draws(
    deltas: &BTreeMap<&'static str, Option<f64>>,
) -> BTreeMap<&'static str, std::sync::Arc<StatDraws>> {
    deltas
        .iter()
        .filter(|(_, d)| d.is_some())
        .map(|(n, _)| {
            (
                *n,
                std::sync::Arc::new(StatDraws {
                    delta: vec![0.0],
                    ..Default::default()
                }),
            )
        })
        .collect()
}

fn ci_map(names: &[&'static str], draws: &[StatDraws]) -> BTreeMap<&'static str, Option<[f64; 2]>> {
    names
        .par_iter()
        .zip(draws)
        .map(|(n, d)| (*n, d.delta_interval(0.95)))
        .collect()
}

fn draws_map(
    names: &[&'static str],
    draws: Vec<StatDraws>,
) -> BTreeMap<&'static str, std::sync::Arc<StatDraws>> {
    names
        .iter()
        .zip(draws)
        .filter(|(_, d)| !d.delta.is_empty())
        .map(|(n, d)| (*n, std::sync::Arc::new(d)))
        .collect()
}

/// A delta row's intervals, and its draws when they are kept.
type Intervals = (
    BTreeMap<&'static str, Option<[f64; 2]>>,
    Option<BTreeMap<&'static str, std::sync::Arc<StatDraws>>>,
);

/// A bootstrap target's intervals from its draws (which it keeps only when asked).
fn intervals(slot: Slot, draws: Vec<StatDraws>, keep_draws: bool) -> Intervals {
    let names: &[&'static str] = match slot {
        Slot::Summary(_) => &SUMMARY_STATS,
        Slot::Class(_) => &ROW_STATS[..ROW_STATS.len() - 1],
    };
    let ci95 = ci_map(names, &draws);
    (ci95, keep_draws.then(|| draws_map(names, draws)))
}

/// The arm's and the baseline's scores of the same samples, in id order.
type PairedScope<'a> = (Vec<&'a SampleScore>, Vec<&'a SampleScore>);

/// One scope's bootstrap: its draws, its paired samples, and its rows that need intervals
/// (with the key of the baseline's cached draws).
struct ScopeJob<'a> {
    rng: Rng,
    pairs: (&'a [&'a SampleScore], &'a [&'a SampleScore]),
    targets: Vec<(Slot, String)>,
}

/// Scopes bootstrapped side by side at most; each builds its columns within its share of the
/// bootstrap's column budget.
const SCOPES_IN_FLIGHT: usize = 8;

/// Compares `arm` with `baseline` on `corpus`. `scores` are sorted by (arm, corpus, id).
#[allow(clippy::too_many_arguments)]
pub fn compare(
    arm: &str,
    baseline: &str,
    corpus: &str,
    rows: &[MetricsRow],
    summaries: &[SummaryRow],
    instance_rows: &[crate::aggregate::InstanceRow],
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
    // Point deltas first; their intervals come from one bootstrap per scope below.
    let mut summary_deltas: Vec<RowDelta> = summaries
        .iter()
        .filter(|s| s.arm == arm && s.corpus == corpus)
        .filter_map(|s| {
            let b = base_sums.get(&(s.group_by.clone(), s.group.clone()))?;
            let mut deltas: BTreeMap<&'static str, Option<f64>> = SUMMARY_STATS
                .iter()
                .zip(s.stats().iter().zip(b.stats().iter()))
                .map(|(n, (a, b))| (*n, sub(*a, *b)))
                .collect();
            for (code, rate) in &s.fail_rates {
                deltas.insert(code, sub(Some(*rate), b.fail_rates.get(code).copied()));
            }
            Some(RowDelta {
                group_by: s.group_by.clone(),
                group: s.group.clone(),
                class: "*".into(),
                deltas,
                ci95: BTreeMap::new(),
                draws: BTreeMap::new(),
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
    let mut class_deltas: Vec<RowDelta> = rows
        .iter()
        .filter(|r| r.arm == arm && r.corpus == corpus)
        .filter_map(|r| {
            let b = base_rows.get(&key(r))?;
            let (sa, sb) = (r.stats(), b.stats());
            Some(RowDelta {
                group_by: r.group_by.clone(),
                group: r.group.clone(),
                class: r.class.clone(),
                deltas: ROW_STATS
                    .iter()
                    .zip(sa.iter().zip(sb.iter()))
                    .map(|(n, (a, b))| (*n, sub(*a, *b)))
                    .collect(),
                ci95: BTreeMap::new(),
                draws: BTreeMap::new(),
            })
        })
        .collect();

    // Which rows of each scope need a bootstrap (a row whose scores are identical on every
    // sample gets its exact [0, 0] here), then the scopes' bootstraps side by side: a scope
    // of a few dozen samples (a slice bin) is too small to fill the cores on its own.
    let mut jobs: Vec<ScopeJob> = Vec::new();
    for ((gb, g), (sa, sb)) in &scopes {
        if is_alias(gb, g) {
            continue;
        }
        let key = purpose(gb, g);
        // The baseline's cached draws, keyed by row kind before class: a class may be named
        // anything, `*` or `summary` included.
        let scope_key = draws_key(&key, sb);
        let in_scope = |d: &RowDelta| d.group_by == *gb && d.group == *g;
        let mut targets = Vec::new();
        for (i, d) in summary_deltas.iter_mut().enumerate() {
            if !in_scope(d) {
                continue;
            }
            if sa.iter().zip(sb).all(|(a, b)| a.classes == b.classes) {
                // Identical scores on every sample: every resampled delta is exactly 0.
                d.ci95 = zero_intervals(&SUMMARY_STATS, &d.deltas);
                if settings.keep_draws {
                    d.draws = zero_draws(&d.deltas);
                }
            } else {
                targets.push((Slot::Summary(i), format!("{scope_key}\0summary")));
            }
        }
        for (i, d) in class_deltas.iter_mut().enumerate() {
            if !in_scope(d) {
                continue;
            }
            let class = d.class.as_str();
            if sa
                .iter()
                .zip(sb)
                .all(|(a, b)| a.classes.get(class) == b.classes.get(class))
            {
                // A variant that leaves this class alone: every resampled delta is exactly 0.
                d.ci95 = zero_intervals(stat_names, &d.deltas);
                if settings.keep_draws {
                    d.draws = zero_draws(&d.deltas);
                }
            } else {
                targets.push((Slot::Class(i), format!("{scope_key}\0class\0{class}")));
            }
        }
        jobs.push(ScopeJob {
            rng: Rng::keyed(settings.seed, &key),
            pairs: (sa, sb),
            targets,
        });
    }
    let in_flight = SCOPES_IN_FLIGHT.min(jobs.len()).max(1);
    // A scope's rows' intervals (and draws, when kept): its draws are dropped as soon as its
    // intervals are read off them.
    let run_job = |job: &ScopeJob| -> Vec<(Slot, Intervals)> {
        let (sa, sb) = job.pairs;
        if settings.resamples == 0 {
            // No intervals asked for: no columns to build.
            return (job.targets.iter())
                .map(|(slot, _)| {
                    let none = vec![StatDraws::default(); slot.width()];
                    (*slot, intervals(*slot, none, false))
                })
                .collect();
        }
        let mut out = Vec::new();
        // Columns are built a batch of rows at a time, so a scope of many classes never holds
        // them all (the budget shared by the scopes in flight); the draws are the same in every
        // batch.
        let rows = (rows_per_batch(sa.len()) / in_flight).max(1);
        for chunk in job.targets.chunks(rows) {
            let built: Vec<BootTarget> = chunk
                .iter()
                .map(|(slot, cache_key)| {
                    let (arm, base) = match *slot {
                        Slot::Summary(_) => (summary_columns(sa), summary_columns(sb)),
                        Slot::Class(i) => {
                            let class = &class_deltas[i].class;
                            (class_columns(sa, class), class_columns(sb, class))
                        }
                    };
                    BootTarget {
                        slot: *slot,
                        arm,
                        base,
                        cache_key: cache_key.clone(),
                    }
                })
                .collect();
            let cis = bootstrap_scope(
                &built,
                sa.len(),
                &job.rng,
                settings.resamples,
                settings.pass_iou,
                baseline_draws,
            );
            out.extend(
                (built.iter().zip(cis))
                    .map(|(t, ci)| (t.slot, intervals(t.slot, ci, settings.keep_draws))),
            );
        }
        out
    };
    let done: Vec<(Slot, Intervals)> = (jobs.chunks(SCOPES_IN_FLIGHT))
        .flat_map(|batch| batch.par_iter().map(run_job).collect::<Vec<_>>())
        .flatten()
        .collect();
    for (slot, (ci95, draws)) in done {
        let row = match slot {
            Slot::Summary(i) => &mut summary_deltas[i],
            Slot::Class(i) => &mut class_deltas[i],
        };
        row.ci95 = ci95;
        if let Some(draws) = draws {
            row.draws = draws;
        }
    }

    // COCOeval's numbers, where both arms have instances: deltas, and intervals on the scope's
    // own draws (an alias scope copies `all`'s below).
    if !instance_rows.is_empty() {
        for ((gb, g), (sa, sb)) in &scopes {
            let rng = Rng::keyed(settings.seed, &purpose(gb, g));
            instances::add_scope(
                arm,
                baseline,
                corpus,
                (gb, g),
                instance_rows,
                (sa, sb),
                (!is_alias(gb, g)).then_some((&rng, settings.resamples, settings.keep_draws)),
                (&mut summary_deltas, &mut class_deltas),
            );
        }
    }

    let fill_aliases = |list: &mut Vec<RowDelta>| {
        type Copied = (
            BTreeMap<&'static str, Option<[f64; 2]>>,
            BTreeMap<&'static str, std::sync::Arc<StatDraws>>,
        );
        let source: BTreeMap<String, Copied> = list
            .iter()
            .filter(|d| d.group_by == "all")
            .map(|d| (d.class.clone(), (d.ci95.clone(), d.draws.clone())))
            .collect();
        for d in list.iter_mut().filter(|d| is_alias(&d.group_by, &d.group)) {
            (d.ci95, d.draws) = source.get(&d.class).cloned().unwrap_or_default();
        }
    };
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
            notes: a.notes.as_deref().map(str::to_string),
            failure_class: a.failure_class.as_deref().map(str::to_string),
            fail_reason_baseline: b.fail_reason,
            fail_reason_arm: a.fail_reason,
            gt_pixels: a.gt_pixels(),
            pred_pixels_baseline: b.pred_pixels(),
            pred_pixels_arm: a.pred_pixels(),
            miou_baseline: mb,
            miou_arm: ma,
            deltas: {
                let (ma, mb) = (a.metric_means(), b.metric_means());
                REGISTRY
                    .iter()
                    .zip(ma.into_iter().zip(mb))
                    .map(|(m, (va, vb))| (m.name, sub(va, vb)))
                    .collect()
            },
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
    let paired_tests = scopes
        .iter()
        .map(|((gb, g), (a, b))| {
            let pairs: Vec<(f64, f64)> = a
                .iter()
                .zip(b)
                .filter_map(|(a, b)| Some((a.miou()?, b.miou()?)))
                .collect();
            PairedTests::of(gb, g, &pairs, tau)
        })
        .collect::<Vec<_>>();
    // `all` first, as every other list of a comparison.
    let (mut paired_tests, rest): (Vec<_>, Vec<_>) =
        paired_tests.into_iter().partition(|t| t.group_by == "all");
    paired_tests.extend(rest);
    let regressions = rank(pairs.iter().filter(|p| delta(p) < 0.0).collect(), true);
    let improvements = rank(pairs.iter().filter(|p| delta(p) > 0.0).collect(), false);
    Comparison {
        arm: arm.into(),
        baseline: baseline.into(),
        corpus: corpus.into(),
        summary_deltas,
        class_deltas,
        paired,
        paired_tests,
        regressions,
        improvements,
    }
}
