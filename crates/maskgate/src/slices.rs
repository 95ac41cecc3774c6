//! Weak slices nobody tagged. Every sample carries cheap properties of its photo and ground
//! truth (`score::properties`); here each property is cut into quantile bins per corpus, and
//! each bin becomes a group of the grouping `slice:<property>`, so the aggregates, the paired
//! bootstrap, the paired tests and the criteria (`per = "slice:luminance"`) treat bins like
//! any other group. [`weakest`] then ranks every bin of every property by the arm's paired
//! mIoU delta against the baseline, with the bootstrap interval and Wilcoxon's p adjusted by
//! Holm across all the bins tested. Pure and deterministic: bins come from the sorted values,
//! never from the order samples were scored in.

use crate::aggregate::Grouping;
use crate::compare::Comparison;
use crate::score::properties::{self, PROPERTIES};
use crate::score::SampleScore;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SliceSettings {
    /// Quantile bins per property (0 or 1: no slices).
    pub bins: usize,
    /// How many of the weakest bins the report lists per (arm, corpus).
    pub worst: usize,
}

pub const DEFAULT_BINS: usize = 4;
pub const DEFAULT_WORST: usize = 5;
/// The most bins a property may be cut into.
pub const MAX_BINS: usize = 20;

impl Default for SliceSettings {
    fn default() -> Self {
        SliceSettings {
            bins: DEFAULT_BINS,
            worst: DEFAULT_WORST,
        }
    }
}

/// The group of samples whose property could not be measured (a photo that did not decode).
pub const UNKNOWN: &str = "unknown";

/// One bin: its group name (`q1`, `q2`, … in increasing order), the values it holds and how
/// many samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bin {
    pub group: String,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

/// One property's bins in one corpus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceBins {
    pub corpus: String,
    pub property: &'static str,
    /// The grouping its bins form, `slice:<property>`.
    pub group_by: &'static str,
    pub bins: Vec<Bin>,
}

impl SliceBins {
    /// The bin of `v`, one of the values the bins were cut from: the first whose largest value
    /// it does not exceed.
    fn group_of(&self, v: f64) -> &str {
        let i = self.bins.partition_point(|b| b.max < v);
        &self.bins[i.min(self.bins.len() - 1)].group
    }
}

/// Every property's bins in every corpus, from the first arm's scores (every arm scores the same
/// samples, with the same properties). A property with a single bin in every corpus is left
/// out; where it has more elsewhere, a corpus's single bin is kept, so its samples are `q1`
/// rather than [`UNKNOWN`].
pub fn bins(samples: &[SampleScore], settings: &SliceSettings) -> Vec<SliceBins> {
    if settings.bins < 2 || samples.is_empty() {
        return Vec::new();
    }
    let first = &samples[0].arm;
    let mut corpora: Vec<&str> = Vec::new();
    for s in samples.iter().take_while(|s| s.arm == *first) {
        if corpora.last() != Some(&&*s.corpus) {
            corpora.push(&s.corpus);
        }
    }
    let mut out: Vec<SliceBins> = Vec::new();
    // Bin names sort as numbers do: q01…q12 when there are ten bins or more.
    let width = settings.bins.to_string().len();
    for corpus in corpora {
        for (p, property) in PROPERTIES.iter().enumerate() {
            let mut values: Vec<f64> = (samples.iter())
                .take_while(|s| s.arm == *first)
                .filter(|s| *s.corpus == *corpus)
                .filter_map(|s| s.properties.as_ref().and_then(|x| x.0[p]))
                .collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let max = values[values.len() - 1];
            let mut cuts: Vec<f64> = (1..settings.bins)
                .map(|k| {
                    maskgate_core::quantile::percentile_sorted(
                        &values,
                        k as f64 / settings.bins as f64,
                    )
                })
                .filter(|c| *c < max)
                .collect();
            cuts.dedup();
            // Bins between two cuts that no value falls in are dropped with their cut.
            let mut bins = Vec::new();
            let mut start = 0;
            for upper in cuts.iter().copied().map(Some).chain([None]) {
                let end = match upper {
                    Some(u) => values.partition_point(|v| *v <= u),
                    None => values.len(),
                };
                if end > start {
                    bins.push(Bin {
                        group: format!("q{:0width$}", bins.len() + 1),
                        min: values[start],
                        max: values[end - 1],
                        n: end - start,
                    });
                    start = end;
                }
            }
            out.push(SliceBins {
                corpus: corpus.to_string(),
                property: property.name,
                group_by: property.grouping,
                bins,
            });
        }
    }
    let sliced: Vec<&str> = (out.iter())
        .filter(|b| b.bins.len() > 1)
        .map(|b| b.property)
        .collect();
    out.retain(|b| sliced.contains(&b.property));
    out
}

/// A grouping per property that has bins: a sample's group is its bin in its corpus, or
/// [`UNKNOWN`].
pub fn groupings(bins: &[SliceBins]) -> Vec<Grouping<'_>> {
    PROPERTIES
        .iter()
        .enumerate()
        .filter(|(_, p)| bins.iter().any(|b| b.property == p.name))
        .map(|(i, p)| {
            let of_property: Vec<&SliceBins> =
                bins.iter().filter(|b| b.property == p.name).collect();
            Grouping {
                name: p.grouping,
                key: Box::new(move |s: &SampleScore| {
                    let value = s.properties.as_ref().and_then(|x| x.0[i]);
                    let sliced = of_property.iter().find(|b| *b.corpus == *s.corpus);
                    match (value, sliced) {
                        (Some(v), Some(b)) => b.group_of(v).to_string(),
                        _ => UNKNOWN.to_string(),
                    }
                }),
            }
        })
        .collect()
}

/// One bin of a weak slice, as the report lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeakSlice {
    pub arm: String,
    pub baseline: String,
    pub corpus: String,
    pub property: &'static str,
    pub group_by: &'static str,
    pub group: String,
    /// The bin's range of values.
    pub min: f64,
    pub max: f64,
    /// Samples where both arms have a defined mIoU.
    pub n: usize,
    /// The paired mean mIoU delta, arm − baseline, and its bootstrap 95% interval.
    pub delta: f64,
    pub ci95: Option<[f64; 2]>,
    /// Wilcoxon's two-sided p on the bin's paired deltas (1 when every delta is 0), and the
    /// same adjusted by Holm's step-down across every bin of every property tested for this
    /// arm and corpus.
    pub p: f64,
    pub p_holm: f64,
    /// How many bins Holm's adjustment counted (every bin with a delta, of every property with
    /// two bins or more in this corpus).
    pub tested: usize,
}

/// The `worst` bins with the lowest paired mIoU delta of each comparison, lowest first (ties by
/// property and bin), every bin of the comparison counted in Holm's adjustment.
pub fn weakest(
    comparisons: &[Comparison],
    bins: &[SliceBins],
    settings: &SliceSettings,
) -> Vec<WeakSlice> {
    let mut out = Vec::new();
    for c in comparisons {
        let mut tested: Vec<WeakSlice> = Vec::new();
        for b in bins
            .iter()
            .filter(|b| b.corpus == c.corpus && b.bins.len() > 1)
        {
            for bin in &b.bins {
                let Some(d) = (c.summary_deltas.iter())
                    .find(|d| d.group_by == b.group_by && d.group == bin.group)
                else {
                    continue;
                };
                let Some(delta) = d.deltas.get("miou_mean").copied().flatten() else {
                    continue;
                };
                let test = (c.paired_tests.iter())
                    .find(|t| t.group_by == b.group_by && t.group == bin.group);
                tested.push(WeakSlice {
                    arm: c.arm.clone(),
                    baseline: c.baseline.clone(),
                    corpus: c.corpus.clone(),
                    property: b.property,
                    group_by: b.group_by,
                    group: bin.group.clone(),
                    min: bin.min,
                    max: bin.max,
                    n: test.map_or(0, |t| t.n),
                    delta,
                    ci95: d.ci95.get("miou_mean").copied().flatten(),
                    p: test.and_then(|t| t.wilcoxon_p).unwrap_or(1.0),
                    p_holm: 1.0,
                    tested: 0,
                });
            }
        }
        holm(&mut tested);
        let m = tested.len();
        tested.iter_mut().for_each(|w| w.tested = m);
        tested.sort_by(|a, b| {
            (a.delta.total_cmp(&b.delta))
                .then_with(|| property_order(a.property).cmp(&property_order(b.property)))
                .then_with(|| a.group.cmp(&b.group))
        });
        out.extend(tested.into_iter().take(settings.worst));
    }
    out
}

fn property_order(name: &str) -> usize {
    PROPERTIES
        .iter()
        .position(|p| p.name == name)
        .unwrap_or(usize::MAX)
}

/// Holm's step-down adjustment in place: the i-th smallest of m p-values becomes
/// max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎) (ties in p keep the slices' order).
fn holm(slices: &mut [WeakSlice]) {
    let m = slices.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| slices[a].p.total_cmp(&slices[b].p).then(a.cmp(&b)));
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * slices[i].p).min(1.0));
        slices[i].p_holm = running;
    }
}

/// `slice:<property>` names a property: what a criterion's `per` and `group_by` accept.
pub fn is_grouping(name: &str) -> bool {
    properties::by_grouping(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::properties::Properties;
    use crate::score::ClassScores;
    use std::sync::Arc;

    fn sample(arm: &str, id: usize, luminance: Option<f64>) -> SampleScore {
        let mut p = Properties::default();
        p.0[0] = luminance;
        SampleScore {
            instance_eval: None,
            arm: Arc::from(arm),
            corpus: Arc::from("c"),
            id: format!("{id:03}"),
            hash: String::new(),
            source: None,
            notes: None,
            failure_class: None,
            fail_reason: None,
            fail_detail: None,
            instances: None,
            classes: ClassScores::default(),
            overlaps: Default::default(),
            noise: None,
            agreement: None,
            suspect: false,
            properties: Some(Arc::new(p)),
        }
    }

    #[test]
    fn quartiles_split_the_values_and_ties_stay_together() {
        let samples: Vec<SampleScore> = (0..8).map(|i| sample("a", i, Some(i as f64))).collect();
        let b = bins(&samples, &SliceSettings::default());
        assert_eq!(b.len(), 1, "one property has values");
        let ns: Vec<usize> = b[0].bins.iter().map(|x| x.n).collect();
        assert_eq!(ns, vec![2, 2, 2, 2]);
        assert_eq!(b[0].bins[0].group, "q1");
        assert_eq!((b[0].bins[3].min, b[0].bins[3].max), (6.0, 7.0));
        let g = groupings(&b);
        assert_eq!((g[0].key)(&samples[0]), "q1");
        assert_eq!((g[0].key)(&samples[7]), "q4");
        assert_eq!((g[0].key)(&sample("a", 9, None)), UNKNOWN);
        // Mostly one value: the ties form one bin, the rest another.
        let tied: Vec<SampleScore> = (0..8)
            .map(|i| sample("a", i, Some(if i < 7 { 1.0 } else { 5.0 })))
            .collect();
        let b = bins(&tied, &SliceSettings::default());
        let ns: Vec<usize> = b[0].bins.iter().map(|x| x.n).collect();
        assert_eq!(ns, vec![7, 1]);
        let g = groupings(&b);
        assert_eq!((g[0].key)(&tied[7]), "q2");
        // All equal: no slicing.
        let flat: Vec<SampleScore> = (0..8).map(|i| sample("a", i, Some(3.0))).collect();
        assert!(bins(&flat, &SliceSettings::default()).is_empty());
        // Sliced in one corpus, flat in another: the flat corpus keeps its one bin.
        let mut both = samples.clone();
        both.extend((0..8).map(|i| {
            let mut s = sample("a", i, Some(3.0));
            s.corpus = Arc::from("d");
            s
        }));
        let b = bins(&both, &SliceSettings::default());
        assert_eq!(b.len(), 2);
        let g = groupings(&b);
        assert_eq!((g[0].key)(&both[8]), "q1");
        // Ten bins or more: names sort as numbers.
        let many: Vec<SampleScore> = (0..40).map(|i| sample("a", i, Some(i as f64))).collect();
        let b = bins(&many, &SliceSettings { bins: 12, worst: 5 });
        let names: Vec<&str> = b[0].bins.iter().map(|x| x.group.as_str()).collect();
        assert_eq!(names.first(), Some(&"q01"));
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }

    #[test]
    fn holm_matches_its_definition() {
        let mut s: Vec<WeakSlice> = [0.01, 0.04, 0.03, 0.5]
            .iter()
            .map(|&p| WeakSlice {
                arm: String::new(),
                baseline: String::new(),
                corpus: String::new(),
                property: "luminance",
                group_by: "slice:luminance",
                group: String::new(),
                min: 0.0,
                max: 0.0,
                n: 1,
                delta: 0.0,
                ci95: None,
                p,
                p_holm: 0.0,
                tested: 4,
            })
            .collect();
        holm(&mut s);
        // statsmodels' multipletests(method="holm"): [0.04, 0.09, 0.09, 0.5].
        for (x, want) in s.iter().zip([0.04, 0.09, 0.09, 0.5]) {
            assert!((x.p_holm - want).abs() < 1e-15, "{} vs {want}", x.p_holm);
        }
    }
}
