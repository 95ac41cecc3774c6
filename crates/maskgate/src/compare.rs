//! Stage 5, **compare**: each arm against the baseline — deltas of every aggregate, the paired
//! per-sample mIoU delta, and ranked regressions / improvements (ties broken by id).

use crate::aggregate::{MetricsRow, SummaryRow, ROW_STATS};
use crate::model::FailReason;
use crate::score::{SampleScore, METRICS};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct RowDelta {
    pub group_by: String,
    pub group: String,
    pub class: String,
    /// `arm − baseline` of each statistic, `None` where either side is undefined.
    pub deltas: BTreeMap<&'static str, Option<f64>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Paired {
    /// Samples where both arms have a defined mIoU.
    pub n: usize,
    pub mean_delta: Option<f64>,
    pub n_improved: usize,
    pub n_regressed: usize,
    pub n_unchanged: usize,
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

fn sub(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

fn summary_stats(s: &SummaryRow) -> [(&'static str, Option<f64>); 7] {
    [
        ("miou_mean", s.miou_mean),
        ("miou_median", s.miou_median),
        ("miou_p10", s.miou_p10),
        ("miou_p90", s.miou_p90),
        ("pass_rate", s.pass_rate),
        ("leakage_mean", s.leakage_mean),
        ("coverage_mean", s.coverage_mean),
    ]
}

/// Compares `arm` with `baseline` on `corpus`. `scores` are sorted by (arm, corpus, id).
pub fn compare(
    arm: &str,
    baseline: &str,
    corpus: &str,
    rows: &[MetricsRow],
    summaries: &[SummaryRow],
    scores: &[SampleScore],
    top_k: usize,
) -> Comparison {
    let key = |r: &MetricsRow| (r.group_by.clone(), r.group.clone(), r.class.clone());
    let base_rows: BTreeMap<_, &MetricsRow> = rows
        .iter()
        .filter(|r| r.arm == baseline && r.corpus == corpus)
        .map(|r| (key(r), r))
        .collect();
    let class_deltas = rows
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
            })
        })
        .collect();
    let base_sums: BTreeMap<_, &SummaryRow> = summaries
        .iter()
        .filter(|s| s.arm == baseline && s.corpus == corpus)
        .map(|s| ((s.group_by.clone(), s.group.clone()), s))
        .collect();
    let summary_deltas = summaries
        .iter()
        .filter(|s| s.arm == arm && s.corpus == corpus)
        .filter_map(|s| {
            let b = base_sums.get(&(s.group_by.clone(), s.group.clone()))?;
            let mut deltas: BTreeMap<&'static str, Option<f64>> = summary_stats(s)
                .iter()
                .zip(summary_stats(b).iter())
                .map(|((n, a), (_, b))| (*n, sub(*a, *b)))
                .collect();
            for (code, rate) in &s.fail_rates {
                deltas.insert(code, sub(Some(*rate), b.fail_rates.get(code).copied()));
            }
            Some(RowDelta {
                group_by: s.group_by.clone(),
                group: s.group.clone(),
                class: "*".into(),
                deltas,
            })
        })
        .collect();

    let of = |name: &str| -> BTreeMap<&str, &SampleScore> {
        scores
            .iter()
            .filter(|s| s.arm == name && s.corpus == corpus)
            .map(|s| (s.id.as_str(), s))
            .collect()
    };
    let (base, this) = (of(baseline), of(arm));
    let mut pairs: Vec<(f64, RankedSample)> = Vec::new();
    for (id, a) in &this {
        let Some(b) = base.get(id) else { continue };
        let (Some(ma), Some(mb)) = (a.miou(), b.miou()) else {
            continue;
        };
        let deltas = METRICS
            .iter()
            .enumerate()
            .map(|(i, m)| (*m, sub(a.metric_mean(i), b.metric_mean(i))))
            .collect();
        pairs.push((
            ma - mb,
            RankedSample {
                rank: 0,
                id: id.to_string(),
                hash: a.hash.clone(),
                source: a.source.clone(),
                fail_reason_baseline: b.fail_reason,
                fail_reason_arm: a.fail_reason,
                gt_pixels: a.gt_pixels(),
                pred_pixels_baseline: b.pred_pixels(),
                pred_pixels_arm: a.pred_pixels(),
                miou_baseline: mb,
                miou_arm: ma,
                deltas,
            },
        ));
    }
    let n = pairs.len();
    let mean_delta = (n > 0).then(|| pairs.iter().map(|p| p.0).sum::<f64>() / n as f64);
    let paired = Paired {
        n,
        mean_delta,
        n_improved: pairs.iter().filter(|p| p.0 > 0.0).count(),
        n_regressed: pairs.iter().filter(|p| p.0 < 0.0).count(),
        n_unchanged: pairs.iter().filter(|p| p.0 == 0.0).count(),
    };
    let rank = |mut v: Vec<(f64, RankedSample)>, worst_first: bool| -> Vec<RankedSample> {
        v.sort_by(|x, y| {
            let o = x.0.total_cmp(&y.0);
            (if worst_first { o } else { o.reverse() }).then_with(|| x.1.id.cmp(&y.1.id))
        });
        v.into_iter()
            .take(top_k)
            .enumerate()
            .map(|(i, (_, mut r))| {
                r.rank = i + 1;
                r
            })
            .collect()
    };
    let regressions = rank(pairs.iter().filter(|p| p.0 < 0.0).cloned().collect(), true);
    let improvements = rank(pairs.into_iter().filter(|p| p.0 > 0.0).collect(), false);
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
