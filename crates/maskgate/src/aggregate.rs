//! Stage 4, **aggregate**: per (arm, corpus, group, class) statistics of the sample scores,
//! and per (arm, corpus, group) summaries of the per-sample means. Sequential over samples in
//! id order, so sums never depend on thread count.

use crate::model::FailReason;
use crate::score::metrics::{self, COUNT, IOU, REGISTRY, SUMMARY_COUNT, SUMMARY_METRICS};
use crate::score::{Named, SampleScore};
use maskgate_core::quantile::{mean, summarize};
use maskgate_core::Counts;
use serde::Serialize;
use std::collections::BTreeMap;

/// How samples are grouped besides `all`: a name (`source`, `failure_class`, ...) and the group
/// each sample falls in.
pub struct Grouping<'a> {
    pub name: &'static str,
    pub key: Box<dyn Fn(&SampleScore) -> String + Sync + 'a>,
}

impl<'a> Grouping<'a> {
    pub fn source() -> Grouping<'a> {
        Grouping {
            name: "source",
            key: Box::new(|s| s.source.clone().unwrap_or_else(|| "unspecified".into())),
        }
    }

    /// By the failure class the taxonomy assigned (see `crate::taxonomy`).
    pub fn failure_class() -> Grouping<'a> {
        Grouping {
            name: "failure_class",
            key: Box::new(|s| {
                s.failure_class
                    .as_deref()
                    .unwrap_or("unclassified")
                    .to_string()
            }),
        }
    }
}

/// One row of `metrics.csv`; serialised with the statistics as flat fields named by
/// [`ROW_STATS`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricsRow {
    pub arm: String,
    pub corpus: String,
    pub group_by: String,
    pub group: String,
    pub class: String,
    /// Samples in scope.
    pub n: usize,
    /// Samples where both GT and prediction are empty (every ratio undefined).
    pub n_empty: usize,
    /// The statistics in [`ROW_STATS`] order without the trailing `n`: the IoU's mean, median,
    /// p10, p90, pass rate (share of defined IoUs ≥ τ) and pooled IoU from summed counts, then
    /// every other registered metric's mean.
    #[serde(flatten, serialize_with = "row_stats")]
    pub values: [Option<f64>; ROW_VALUES],
}

fn row_stats<S: serde::Serializer>(
    v: &[Option<f64>; ROW_VALUES],
    ser: S,
) -> Result<S::Ok, S::Error> {
    Named(&ROW_STATS, v).serialize(ser)
}

/// One statistic column, declared once: aggregate and compare compute it under `name`, decide
/// orients it by `lower_is_better`, CSV writes `name`, Markdown writes `label` with `decimals`.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub label: &'static str,
    pub lower_is_better: bool,
    pub decimals: usize,
}

const fn col(name: &'static str, label: &'static str) -> Column {
    Column {
        name,
        label,
        lower_is_better: false,
        decimals: 3,
    }
}

const fn names<const N: usize>(cols: &[Column; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = cols[i].name;
        i += 1;
    }
    out
}

/// The IoU statistics that open a class row, before the other metrics' means.
const IOU_ROW_COLUMNS: [Column; 6] = [
    col("iou_mean", "IoU"),
    col("iou_median", "IoU median"),
    col("iou_p10", "IoU p10"),
    col("iou_p90", "IoU p90"),
    col("pass_rate", "pass rate (IoU ≥ τ)"),
    col("iou_micro", "pooled IoU"),
];

/// The statistics of a class row besides `n`: IoU's, then one mean per other metric.
pub const ROW_VALUES: usize = IOU_ROW_COLUMNS.len() + COUNT - 1;

const fn mean_column(m: &metrics::Metric) -> Column {
    Column {
        name: m.mean_column,
        label: m.label,
        lower_is_better: m.lower_is_better,
        decimals: m.decimals,
    }
}

/// The statistic columns of [`MetricsRow`], in CSV order (after `n`, `n_empty`); `n` last.
pub const ROW_COLUMNS: [Column; ROW_VALUES + 1] = {
    let mut out = [col("n", "samples"); ROW_VALUES + 1];
    let mut i = 0;
    while i < IOU_ROW_COLUMNS.len() {
        out[i] = IOU_ROW_COLUMNS[i];
        i += 1;
    }
    let mut m = 0;
    while m < COUNT {
        if m != IOU {
            out[i] = mean_column(&REGISTRY[m]);
            i += 1;
        }
        m += 1;
    }
    out[i] = Column {
        decimals: 0,
        ..col("n", "samples")
    };
    out
};
pub const ROW_STATS: [&str; ROW_VALUES + 1] = names(&ROW_COLUMNS);

/// The per-sample mIoU statistics that open a summary row.
const MIOU_SUMMARY_COLUMNS: [Column; 5] = [
    col("miou_mean", "mIoU mean (per sample)"),
    col("miou_median", "mIoU median"),
    col("miou_p10", "mIoU p10"),
    col("miou_p90", "mIoU p90"),
    col("pass_rate", "pass rate (mIoU ≥ τ)"),
];

pub const SUMMARY_LEN: usize = MIOU_SUMMARY_COLUMNS.len() + SUMMARY_COUNT;

/// The statistic columns of [`SummaryRow`] that get deltas, in report order: the mIoU
/// statistics, then each metric with a summary column.
pub const SUMMARY_COLUMNS: [Column; SUMMARY_LEN] = {
    let mut out = [MIOU_SUMMARY_COLUMNS[0]; SUMMARY_LEN];
    let mut i = 0;
    while i < MIOU_SUMMARY_COLUMNS.len() {
        out[i] = MIOU_SUMMARY_COLUMNS[i];
        i += 1;
    }
    let mut k = 0;
    while k < SUMMARY_COUNT {
        let m = &REGISTRY[SUMMARY_METRICS[k]];
        out[i] = Column {
            label: match m.summary {
                Some(label) => label,
                None => m.label,
            },
            ..mean_column(m)
        };
        i += 1;
        k += 1;
    }
    out
};
pub const SUMMARY_STATS: [&str; SUMMARY_LEN] = names(&SUMMARY_COLUMNS);

/// The declared column called `name` (row columns first).
pub fn column(name: &str) -> Option<&'static Column> {
    ROW_COLUMNS
        .iter()
        .chain(SUMMARY_COLUMNS.iter())
        .find(|c| c.name == name)
}

impl MetricsRow {
    /// The statistics in [`ROW_STATS`] order (`n` last, as a number).
    pub fn stats(&self) -> [Option<f64>; ROW_VALUES + 1] {
        let mut out = [Some(self.n as f64); ROW_VALUES + 1];
        out[..ROW_VALUES].copy_from_slice(&self.values);
        out
    }

    pub fn stat(&self, name: &str) -> Option<Option<f64>> {
        ROW_STATS
            .iter()
            .position(|s| *s == name)
            .map(|i| self.stats()[i])
    }
}

/// Per (arm, corpus, group): statistics of the per-sample means and fail-reason rates.
/// Serialised with the statistics as flat fields named by [`SUMMARY_STATS`] (the mIoU
/// statistics' field names are their columns' names: `serialised_fields_are_the_declared_columns`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryRow {
    pub arm: String,
    pub corpus: String,
    pub group_by: String,
    pub group: String,
    pub n: usize,
    /// Samples with at least one defined class IoU.
    pub n_scored: usize,
    pub miou_mean: Option<f64>,
    pub miou_median: Option<f64>,
    pub miou_p10: Option<f64>,
    pub miou_p90: Option<f64>,
    /// Share of scored samples whose mIoU ≥ τ.
    pub pass_rate: Option<f64>,
    /// The mean per-sample class mean of each metric with a summary column, in
    /// [`SUMMARY_METRICS`] order.
    #[serde(flatten, serialize_with = "summary_means")]
    pub metric_means: [Option<f64>; SUMMARY_COUNT],
    /// Share of samples with each fail reason (every reason listed, 0 included).
    pub fail_rates: BTreeMap<&'static str, f64>,
}

impl SummaryRow {
    /// The statistics in [`SUMMARY_STATS`] order.
    pub fn stats(&self) -> [Option<f64>; SUMMARY_LEN] {
        let mut out = [None; SUMMARY_LEN];
        let miou = MIOU_SUMMARY_COLUMNS.len();
        out[..miou].copy_from_slice(&[
            self.miou_mean,
            self.miou_median,
            self.miou_p10,
            self.miou_p90,
            self.pass_rate,
        ]);
        out[miou..].copy_from_slice(&self.metric_means);
        out
    }
}

fn summary_means<S: serde::Serializer>(
    v: &[Option<f64>; SUMMARY_COUNT],
    ser: S,
) -> Result<S::Ok, S::Error> {
    Named(&SUMMARY_STATS[MIOU_SUMMARY_COLUMNS.len()..], v).serialize(ser)
}

#[derive(Default)]
struct ClassAcc {
    n: usize,
    n_empty: usize,
    values: [Vec<f64>; COUNT],
    counts: Counts,
}

fn pass_rate(values: &[f64], tau: f64) -> Option<f64> {
    (!values.is_empty())
        .then(|| values.iter().filter(|&&v| v >= tau).count() as f64 / values.len() as f64)
}

type GroupKey = (String, String, String, String); // arm, corpus, group_by, group

/// The (group_by, group) pairs a sample belongs to: `("all", "all")` first, then one per grouping.
pub fn group_keys_of(s: &SampleScore, groupings: &[Grouping]) -> Vec<(String, String)> {
    let mut keys = vec![("all".to_string(), "all".to_string())];
    keys.extend(groupings.iter().map(|g| (g.name.to_string(), (g.key)(s))));
    keys
}

fn group_keys(s: &SampleScore, groupings: &[Grouping]) -> Vec<GroupKey> {
    group_keys_of(s, groupings)
        .into_iter()
        .map(|(gb, g)| (s.arm.to_string(), s.corpus.to_string(), gb, g))
        .collect()
}

/// Aggregates `scores` (sorted by arm, corpus, id) into metrics rows sorted by
/// (arm, corpus, group_by, group, class). `group_by = "all"` rows come first per corpus.
pub fn metrics_rows(scores: &[SampleScore], groupings: &[Grouping], tau: f64) -> Vec<MetricsRow> {
    let mut acc: BTreeMap<(GroupKey, String), ClassAcc> = BTreeMap::new();
    for s in scores {
        for key in group_keys(s, groupings) {
            for (class, c) in &s.classes {
                let a = acc.entry((key.clone(), class.clone())).or_default();
                a.n += 1;
                a.n_empty += c.both_empty() as usize;
                a.counts += c.counts();
                for (i, v) in c.values.into_iter().enumerate() {
                    if let Some(v) = v {
                        a.values[i].push(v);
                    }
                }
            }
        }
    }
    let mut rows: Vec<MetricsRow> = acc
        .into_iter()
        .map(|((k, class), a)| {
            let iou = summarize(&a.values[IOU]);
            let mut values = [None; ROW_VALUES];
            let iou_columns = IOU_ROW_COLUMNS.len();
            values[..iou_columns].copy_from_slice(&[
                iou.map(|s| s.mean),
                iou.map(|s| s.median),
                iou.map(|s| s.p10),
                iou.map(|s| s.p90),
                pass_rate(&a.values[IOU], tau),
                a.counts.iou(),
            ]);
            let means = (0..COUNT).filter(|&m| m != IOU).map(|m| mean(&a.values[m]));
            for (slot, v) in values[iou_columns..].iter_mut().zip(means) {
                *slot = v;
            }
            MetricsRow {
                arm: k.0,
                corpus: k.1,
                group_by: k.2,
                group: k.3,
                class,
                n: a.n,
                n_empty: a.n_empty,
                values,
            }
        })
        .collect();
    rows.sort_by(|a, b| row_order(a).cmp(&row_order(b)));
    rows
}

/// The order of every table's groups: by arm and corpus, `all` first, then by grouping and group.
type GroupOrder<'a> = (&'a str, &'a str, bool, &'a str, &'a str);

fn group_order<'a>(
    arm: &'a str,
    corpus: &'a str,
    group_by: &'a str,
    group: &'a str,
) -> GroupOrder<'a> {
    (arm, corpus, group_by != "all", group_by, group)
}

fn row_order(r: &MetricsRow) -> (GroupOrder<'_>, &str) {
    (
        group_order(&r.arm, &r.corpus, &r.group_by, &r.group),
        &r.class,
    )
}

/// COCOeval's 12 numbers of one (arm, corpus, group) over its samples with instances: for
/// every class (`class = "all"`, COCO's mAP/mAR: the mean over the classes with a ground truth)
/// and for each class alone. A number COCOeval leaves at −1 (no ground truth counted) is `None`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceRow {
    pub arm: String,
    pub corpus: String,
    pub group_by: String,
    pub group: String,
    pub class: String,
    /// Samples (COCO's images) evaluated.
    pub images: usize,
    /// Ground-truth instances that count (crowds left out) and detections (at most 100 an
    /// image and class, as COCOeval keeps).
    pub gts: u64,
    pub dts: u64,
    #[serde(flatten, serialize_with = "instance_stats")]
    pub stats: [Option<f64>; 12],
}

fn instance_stats<S: serde::Serializer>(v: &[Option<f64>; 12], ser: S) -> Result<S::Ok, S::Error> {
    Named(&INSTANCE_STATS, v).serialize(ser)
}

/// The 12 statistics' names, in `COCOeval.stats` order (`map`, `map50`, …, `mar_large`).
pub const INSTANCE_STATS: [&str; 12] = maskgate_core::cocoeval::STAT_NAMES;

/// How tables head the 12 statistics (COCO's own names).
pub const INSTANCE_LABELS: [&str; 12] = [
    "AP",
    "AP50",
    "AP75",
    "AP small",
    "AP medium",
    "AP large",
    "AR1",
    "AR10",
    "AR100",
    "AR small",
    "AR medium",
    "AR large",
];

/// The class name of an [`InstanceRow`] over every class.
pub const ALL_CLASSES: &str = "all";

impl InstanceRow {
    pub fn stat(&self, name: &str) -> Option<Option<f64>> {
        INSTANCE_STATS
            .iter()
            .position(|s| *s == name)
            .map(|i| self.stats[i])
    }
}

/// The instance statistics of `samples` (one arm, one corpus, in sample order): the row over
/// every class first, then one per class. Empty when no sample has instance records.
pub fn instance_stats_of(samples: &[&SampleScore]) -> Option<Vec<ClassStats>> {
    use maskgate_core::cocoeval::{accumulate, CategoryEval, Params};
    let mut evals: Vec<&crate::score::instances::InstanceEval> = samples
        .iter()
        .filter_map(|s| s.instance_eval.as_deref())
        .collect();
    // COCOeval's image order: a COCO corpus's image ids, else the samples' (stable).
    evals.sort_by_key(|e| e.image_id);
    if evals.is_empty() {
        return None;
    }
    let classes = instance_classes(samples);
    let index = class_index(&classes);
    let images: Vec<Vec<(usize, &CategoryEval)>> =
        evals.iter().map(|e| e.by_index(&index)).collect();
    let params = Params::default();
    let e = accumulate(&images, classes.len(), &params);
    let defined = |v: [f64; 12]| v.map(|x| (x > -1.0).then_some(x));
    let mut per_class = vec![
        InstanceCounts {
            images: evals.len(),
            ..Default::default()
        };
        classes.len()
    ];
    for image in &images {
        for &(k, ev) in image {
            per_class[k].gts += ev.areas[0].counted_gts as u64;
            per_class[k].dts += ev.dt_scores.len() as u64;
        }
    }
    let all = InstanceCounts {
        images: evals.len(),
        gts: per_class.iter().map(|c| c.gts).sum(),
        dts: per_class.iter().map(|c| c.dts).sum(),
    };
    let mut out = vec![(ALL_CLASSES.to_string(), all, defined(e.stats(None)))];
    for (k, c) in classes.iter().enumerate() {
        out.push((c.to_string(), per_class[k], defined(e.stats(Some(k)))));
    }
    Some(out)
}

/// The categories of samples' instance records, in COCOeval's order: the corpus's category
/// order where it has one (a COCO file's ids: the order of the mean over categories, to its last
/// bits), the rest by name. Every class of the samples is one, so a class without ground truth
/// or detections still has its row (undefined, as COCOeval leaves it).
pub fn instance_classes<'a>(samples: &[&'a SampleScore]) -> Vec<&'a str> {
    let with: Vec<&'a SampleScore> = samples
        .iter()
        .copied()
        .filter(|s| s.instance_eval.is_some())
        .collect();
    let mut names: Vec<&'a str> = with
        .iter()
        .flat_map(|s| {
            let e = s.instance_eval.as_deref().into_iter();
            e.flat_map(|e| e.classes.iter().map(|(c, _)| c.as_str()))
                .chain(s.classes.keys().map(String::as_str))
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let order = with
        .iter()
        .find_map(|s| s.instance_eval.as_deref()?.class_order.as_deref());
    if let Some(order) = order {
        let rank = |c: &str| order.iter().position(|o| o == c).unwrap_or(usize::MAX);
        names.sort_by_key(|c| rank(c));
    }
    names
}

/// Each category's index in `classes`.
pub fn class_index<'a>(classes: &[&'a str]) -> BTreeMap<&'a str, usize> {
    classes.iter().enumerate().map(|(k, c)| (*c, k)).collect()
}

/// A class's (name, counts, 12 numbers) in [`instance_stats_of`].
pub type ClassStats = (String, InstanceCounts, [Option<f64>; 12]);

/// What an instance row counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstanceCounts {
    pub images: usize,
    pub gts: u64,
    pub dts: u64,
}

/// COCOeval's numbers per (arm, corpus, group_by, group) and class, for the samples with
/// instance records (`scores` sorted by arm, corpus, id: the images' order).
pub fn instance_rows(scores: &[SampleScore], groupings: &[Grouping]) -> Vec<InstanceRow> {
    // An instance arm (one that gave instances for some sample of the corpus) is judged on
    // every sample with ground-truth instances: where it gave none, they are missed.
    let instance_arms: std::collections::BTreeSet<(&str, &str)> = (scores.iter())
        .filter(|s| s.instance_eval.as_ref().is_some_and(|e| e.detections))
        .map(|s| (&*s.arm, &*s.corpus))
        .collect();
    let mut groups: BTreeMap<GroupKey, Vec<&SampleScore>> = BTreeMap::new();
    for s in scores
        .iter()
        .filter(|s| s.instance_eval.is_some() && instance_arms.contains(&(&*s.arm, &*s.corpus)))
    {
        for key in group_keys(s, groupings) {
            groups.entry(key).or_default().push(s);
        }
    }
    let mut rows = Vec::new();
    for ((arm, corpus, group_by, group), samples) in groups {
        for (class, counts, stats) in instance_stats_of(&samples).unwrap_or_default() {
            rows.push(InstanceRow {
                arm: arm.clone(),
                corpus: corpus.clone(),
                group_by: group_by.clone(),
                group: group.clone(),
                class,
                images: counts.images,
                gts: counts.gts,
                dts: counts.dts,
                stats,
            });
        }
    }
    // A group's row over every class before its classes'.
    fn order(r: &InstanceRow) -> (GroupOrder<'_>, bool, &str) {
        let group = group_order(&r.arm, &r.corpus, &r.group_by, &r.group);
        (group, r.class != ALL_CLASSES, &r.class)
    }
    rows.sort_by(|a, b| order(a).cmp(&order(b)));
    rows
}

#[derive(Default)]
struct SummaryAcc {
    n: usize,
    miou: Vec<f64>,
    /// Per-sample means of each metric with a summary column, in [`SUMMARY_METRICS`] order.
    means: [Vec<f64>; SUMMARY_COUNT],
    fails: BTreeMap<FailReason, usize>,
}

pub fn summary_rows(scores: &[SampleScore], groupings: &[Grouping], tau: f64) -> Vec<SummaryRow> {
    let mut acc: BTreeMap<GroupKey, SummaryAcc> = BTreeMap::new();
    for s in scores {
        let all = s.metric_means();
        let miou = all[IOU];
        let means = SUMMARY_METRICS.map(|m| all[m]);
        for key in group_keys(s, groupings) {
            let a = acc.entry(key).or_default();
            a.n += 1;
            a.miou.extend(miou);
            for (acc, v) in a.means.iter_mut().zip(means) {
                acc.extend(v);
            }
            if let Some(f) = s.fail_reason {
                *a.fails.entry(f).or_default() += 1;
            }
        }
    }
    let mut rows: Vec<SummaryRow> = acc
        .into_iter()
        .map(|(k, a)| {
            let st = summarize(&a.miou);
            SummaryRow {
                arm: k.0,
                corpus: k.1,
                group_by: k.2,
                group: k.3,
                n: a.n,
                n_scored: a.miou.len(),
                miou_mean: st.map(|s| s.mean),
                miou_median: st.map(|s| s.median),
                miou_p10: st.map(|s| s.p10),
                miou_p90: st.map(|s| s.p90),
                pass_rate: pass_rate(&a.miou, tau),
                metric_means: a.means.each_ref().map(|v| mean(v)),
                fail_rates: FailReason::ALL
                    .iter()
                    .map(|f| (f.code(), *a.fails.get(f).unwrap_or(&0) as f64 / a.n as f64))
                    .collect(),
            }
        })
        .collect();
    fn order(r: &SummaryRow) -> GroupOrder<'_> {
        group_order(&r.arm, &r.corpus, &r.group_by, &r.group)
    }
    rows.sort_by(|a, b| order(a).cmp(&order(b)));
    rows
}

/// The mean of one region × class overlap measure (face modules) for one arm on one corpus,
/// over the samples where the arm predicted the region.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OverlapRow {
    pub arm: String,
    pub corpus: String,
    pub measure: String,
    pub n: usize,
    pub mean: Option<f64>,
}

/// Means of every overlap measure per (arm, corpus, measure), sorted by those keys.
pub fn overlap_rows(samples: &[SampleScore]) -> Vec<OverlapRow> {
    let mut acc: BTreeMap<(&str, &str, &str), (usize, f64)> = BTreeMap::new();
    for s in samples {
        for (m, v) in &s.overlaps {
            let e = acc.entry((&s.arm, &s.corpus, m)).or_default();
            if let Some(v) = v {
                e.0 += 1;
                e.1 += v;
            }
        }
    }
    acc.into_iter()
        .map(|((arm, corpus, measure), (n, sum))| OverlapRow {
            arm: arm.into(),
            corpus: corpus.into(),
            measure: measure.into(),
            n,
            mean: (n > 0).then(|| sum / n as f64),
        })
        .collect()
}

/// The summary row of (arm, corpus, group_by, group).
pub fn find_summary<'a>(
    rows: &'a [SummaryRow],
    arm: &str,
    corpus: &str,
    group_by: &str,
    group: &str,
) -> Option<&'a SummaryRow> {
    rows.iter()
        .find(|s| s.arm == arm && s.corpus == corpus && s.group_by == group_by && s.group == group)
}

/// A table row's place: (arm, corpus, group_by, group, class).
pub trait RowKey {
    fn key(&self) -> [&str; 5];
}

macro_rules! row_key {
    ($($row:ty),*) => {$(
        impl RowKey for $row {
            fn key(&self) -> [&str; 5] {
                [&self.arm, &self.corpus, &self.group_by, &self.group, &self.class]
            }
        }
    )*};
}
row_key!(MetricsRow, InstanceRow);

/// The row of `rows` at (arm, corpus, group_by, group, class): a metrics or an instance row.
pub fn find_row<'a, R: RowKey>(
    rows: &'a [R],
    arm: &str,
    corpus: &str,
    group_by: &str,
    group: &str,
    class: &str,
) -> Option<&'a R> {
    rows.iter()
        .find(|r| r.key() == [arm, corpus, group_by, group, class])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::ClassScore;

    fn score(id: &str, source: &str, iou_tp: &[(u64, u64, u64)]) -> SampleScore {
        let classes = iou_tp
            .iter()
            .enumerate()
            .map(|(i, &(tp, fp, fn_))| {
                (
                    format!("c{i}"),
                    ClassScore::from_counts(Counts { tp, fp, fn_ }),
                )
            })
            .collect();
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
            source: Some(source.into()),
            notes: None,
            failure_class: None,
            fail_reason: None,
            fail_detail: None,
            instances: None,
            classes,
        }
    }

    /// The keys both rows serialise to, in order: their fixed fields, then the declared
    /// statistic columns (the summary's mIoU statistics are named by their struct fields).
    #[test]
    fn serialised_fields_are_the_declared_columns() {
        let scores = vec![score("1", "x", &[(1, 1, 0)])];
        let keys = |v: serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let row = serde_json::to_value(&metrics_rows(&scores, &[], 0.5)[0]).unwrap();
        let fixed = [
            "arm", "corpus", "group_by", "group", "class", "n", "n_empty",
        ];
        let want: Vec<&str> = fixed
            .into_iter()
            .chain(ROW_STATS[..ROW_VALUES].iter().copied())
            .collect();
        assert_eq!(keys(row), want);
        let sum = serde_json::to_value(&summary_rows(&scores, &[], 0.5)[0]).unwrap();
        let fixed = ["arm", "corpus", "group_by", "group", "n", "n_scored"];
        let want: Vec<&str> = fixed
            .into_iter()
            .chain(SUMMARY_STATS)
            .chain(["fail_rates"])
            .collect();
        assert_eq!(keys(sum), want);
    }

    #[test]
    fn rows_have_counts_quantiles_and_micro() {
        let scores = vec![
            score("1", "x", &[(1, 1, 0), (0, 0, 0)]), // c0 IoU 0.5; c1 both empty
            score("2", "x", &[(3, 0, 1), (0, 2, 0)]), // c0 0.75; c1 GT empty → IoU 0
            score("3", "y", &[(0, 0, 4), (0, 0, 0)]), // c0 0; c1 both empty
        ];
        let rows = metrics_rows(&scores, &[Grouping::source()], 0.5);
        let all_c0 = rows
            .iter()
            .find(|r| r.group == "all" && r.class == "c0")
            .unwrap();
        assert_eq!((all_c0.n, all_c0.n_empty), (3, 0));
        assert_eq!(all_c0.stat("iou_mean"), Some(Some(1.25 / 3.0)));
        assert_eq!(all_c0.stat("iou_median"), Some(Some(0.5)));
        assert_eq!(all_c0.stat("pass_rate"), Some(Some(2.0 / 3.0)));
        assert_eq!(all_c0.stat("iou_micro"), Some(Some(4.0 / 10.0)));
        let all_c1 = rows
            .iter()
            .find(|r| r.group == "all" && r.class == "c1")
            .unwrap();
        assert_eq!((all_c1.n, all_c1.n_empty), (3, 2));
        assert_eq!(all_c1.stat("iou_mean"), Some(Some(0.0)));
        assert_eq!(all_c1.stat("recall_mean"), Some(None));
        let y = rows
            .iter()
            .find(|r| r.group == "y" && r.class == "c1")
            .unwrap();
        assert_eq!(y.stat("iou_mean"), Some(None));
        assert_eq!(rows[0].group_by, "all");
        let sums = summary_rows(&scores, &[Grouping::source()], 0.5);
        assert_eq!(sums[0].n, 3);
        assert_eq!(sums[0].miou_mean, Some((0.5 + 0.375 + 0.0) / 3.0));
    }
}
