//! Stage 3, **score**: per sample × class counts and metrics for every arm. Pure given the
//! decoded masks; the GT of a sample is decoded once and shared by all arms.

use crate::model::{FailReason, Prediction, Sample};
use maskgate_core::boundary::dilation_px;
use maskgate_core::{Counts, Mask};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug)]
pub struct ScoreSettings {
    /// Rasterise/resample every mask to `grid × grid` before scoring.
    pub grid: Option<u32>,
    /// Boundary IoU width as a share of the image diagonal (0.02 in the paper).
    pub boundary_ratio: f64,
}

impl Default for ScoreSettings {
    fn default() -> Self {
        ScoreSettings {
            grid: None,
            boundary_ratio: 0.02,
        }
    }
}

pub mod instances;
pub mod metrics;
pub mod properties;

pub use metrics::{MetricValues, REGISTRY};

/// Values as flat fields named by `names`, in order (values past the last name are left out):
/// how a class score and the aggregate rows write their arrays, flattened into their fields.
pub struct Named<'a, V>(pub &'a [&'static str], pub &'a [V]);

impl<V: Serialize> Serialize for Named<'_, V> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_map(self.0.iter().zip(self.1))
    }
}

/// One class of one sample for one arm: counts and every registered metric (`None` = undefined
/// under the empty-mask policy). Serialised as `tp`, `fp`, `fn`, then each metric by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScore {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// In [`REGISTRY`] order.
    #[serde(flatten, serialize_with = "by_metric_name")]
    pub values: MetricValues,
}

fn by_metric_name<S: serde::Serializer>(values: &MetricValues, ser: S) -> Result<S::Ok, S::Error> {
    Named(&metrics::NAMES, values).serialize(ser)
}

impl ClassScore {
    /// Every count-derived metric from `counts`; the mask metrics are undefined (tests' scores).
    #[cfg(test)]
    pub fn from_counts(counts: Counts) -> ClassScore {
        ClassScore::from_metric_values(
            counts,
            std::array::from_fn(|i| REGISTRY[i].of_counts(counts)),
        )
    }

    pub fn counts(&self) -> Counts {
        Counts {
            tp: self.tp,
            fp: self.fp,
            fn_: self.fn_,
        }
    }

    pub fn both_empty(&self) -> bool {
        self.counts().both_empty()
    }

    /// A score from its counts and metric values in [`REGISTRY`] order (a shard's stored row).
    pub fn from_metric_values(counts: Counts, values: MetricValues) -> ClassScore {
        ClassScore {
            tp: counts.tp,
            fp: counts.fp,
            fn_: counts.fn_,
            values,
        }
    }

    /// The value of the metric called `name` (`None` also when no metric has that name).
    pub fn metric(&self, name: &str) -> Option<f64> {
        metrics::find(name).and_then(|(i, _)| self.values[i])
    }

    pub fn iou(&self) -> Option<f64> {
        self.values[metrics::IOU]
    }
}

/// Class → score of one sample, sorted by class, serialised as a map. A sorted vector rather
/// than a `BTreeMap`: a map's first node reserves room for 11 entries (about 1.9 KB with these
/// scores), and a run keeps one of these per (arm, sample).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassScores(Vec<(String, ClassScore)>);

impl ClassScores {
    /// Room for `n` classes: a run keeps one of these per (arm, sample), so no spare capacity.
    pub fn with_capacity(n: usize) -> ClassScores {
        ClassScores(Vec::with_capacity(n))
    }
    pub fn get(&self, class: &str) -> Option<&ClassScore> {
        self.0
            .binary_search_by(|(c, _)| c.as_str().cmp(class))
            .ok()
            .map(|i| &self.0[i].1)
    }
    /// Inserts or replaces `class`'s score, keeping the order.
    pub fn insert(&mut self, class: String, score: ClassScore) -> Option<ClassScore> {
        match self.0.binary_search_by(|(c, _)| c.cmp(&class)) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, score)),
            Err(i) => {
                self.0.insert(i, (class, score));
                None
            }
        }
    }
    pub fn contains_key(&self, class: &str) -> bool {
        self.get(class).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ClassScore)> {
        self.0.iter().map(|(c, s)| (c, s))
    }
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(c, _)| c)
    }
    pub fn values(&self) -> impl Iterator<Item = &ClassScore> {
        self.0.iter().map(|(_, s)| s)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a ClassScores {
    type Item = (&'a String, &'a ClassScore);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, ClassScore)>,
        fn(&'a (String, ClassScore)) -> (&'a String, &'a ClassScore),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(c, s)| (c, s))
    }
}

impl FromIterator<(String, ClassScore)> for ClassScores {
    fn from_iter<I: IntoIterator<Item = (String, ClassScore)>>(iter: I) -> Self {
        let mut out = ClassScores::default();
        for (c, s) in iter {
            out.insert(c, s);
        }
        out
    }
}

impl Serialize for ClassScores {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (c, s) in &self.0 {
            m.serialize_entry(c, s)?;
        }
        m.end()
    }
}

/// One line of `samples.jsonl`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SampleScore {
    /// Shared, not copied: a run keeps one score per (arm, sample).
    pub arm: Arc<str>,
    pub corpus: Arc<str>,
    pub id: String,
    pub hash: String,
    pub source: Option<String>,
    /// The reporter's notes on the sample, as the corpus gives them (shared by its arms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Arc<str>>,
    /// The failure class the taxonomy assigned, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<Arc<str>>,
    pub fail_reason: Option<FailReason>,
    /// What failed, when the arm or the scorer knows (the class and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_detail: Option<String>,
    /// An instance model's kept instances on this sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// COCOeval's records of this sample's instances, where both the ground truth and the arm
    /// have instances (`samples.jsonl` leaves them out; shards carry them).
    #[serde(skip)]
    pub instance_eval: Option<Arc<instances::InstanceEval>>,
    pub classes: ClassScores,
    /// Region × class overlap measures (face modules), when the corpus defines them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub overlaps: BTreeMap<String, Option<f64>>,
    /// The inference-noise check, for a model arm's scored prediction: how many pixels lie
    /// within ε of a decision, and the scores with them set against the truth and with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<Box<NoiseScores>>,
    /// The lowest mask IoU between this arm's prediction and another arm's on this sample,
    /// pooled over the classes (1 when both are empty); absent with one arm, or when this
    /// prediction or every other failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    /// Every arm agrees with every other while all disagree with the ground truth: a label to
    /// review (`crate::suspects`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suspect: bool,
    /// The sample's properties for weak slices, shared by its arms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Arc<properties::Properties>>,
}

/// A sample's scores with its near-decision pixels flipped (see [`SampleScore::noise`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseScores {
    /// Pixels within ε of a decision, over every class, on the scoring canvas.
    pub pixels: u64,
    /// Every near pixel set against the truth: what a candidate is judged on.
    pub against: ClassScores,
    /// Every near pixel set to the truth: what the baseline is judged on.
    pub toward: ClassScores,
}

impl serde::Serialize for NoiseScores {
    /// `samples.jsonl` keeps the count and the sample's mIoU both ways, not every class twice.
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let miou = |c: &ClassScores| {
            let ious: Vec<f64> = c.values().filter_map(|s| s.values[metrics::IOU]).collect();
            (!ious.is_empty()).then(|| ious.iter().fold(-0.0, |a, b| a + b) / ious.len() as f64)
        };
        let mut m = ser.serialize_map(Some(3))?;
        use serde::ser::SerializeMap;
        m.serialize_entry("pixels", &self.pixels)?;
        m.serialize_entry("miou_against", &miou(&self.against))?;
        m.serialize_entry("miou_toward", &miou(&self.toward))?;
        m.end()
    }
}

impl SampleScore {
    /// Mean of the sample's defined class values of metric `i` (index into [`REGISTRY`]).
    pub fn metric_mean(&self, i: usize) -> Option<f64> {
        // Summed from -0.0 in class order, as `quantile::mean`'s `Sum` does: the same bits,
        // without collecting the values.
        let (sum, n) = self
            .classes
            .values()
            .filter_map(|c| c.values[i])
            .fold((-0.0, 0usize), |(s, n), v| (s + v, n + 1));
        (n > 0).then(|| sum / n as f64)
    }
    /// [`SampleScore::metric_mean`] of every metric, in one pass over the classes.
    pub fn metric_means(&self) -> MetricValues {
        let (mut sums, mut ns) = ([-0.0f64; metrics::COUNT], [0usize; metrics::COUNT]);
        for c in self.classes.values() {
            for ((sum, n), v) in sums.iter_mut().zip(&mut ns).zip(c.values) {
                if let Some(v) = v {
                    *sum += v;
                    *n += 1;
                }
            }
        }
        std::array::from_fn(|m| (ns[m] > 0).then(|| sums[m] / ns[m] as f64))
    }
    /// Per-sample mIoU: the mean of the sample's defined class IoUs.
    pub fn miou(&self) -> Option<f64> {
        self.metric_mean(metrics::IOU)
    }
    pub fn gt_pixels(&self) -> u64 {
        self.classes.values().map(|c| c.tp + c.fn_).sum()
    }
    pub fn pred_pixels(&self) -> u64 {
        self.classes.values().map(|c| c.tp + c.fp).sum()
    }
}

/// A ground-truth mask with what every arm's score of it needs, computed once per sample.
struct GtClass {
    mask: Mask,
    boundary: Mask,
    bbox: Option<maskgate_core::PixelBox>,
}

impl GtClass {
    fn new(mask: Mask, d: u32) -> GtClass {
        let bbox = mask.bbox();
        GtClass {
            boundary: mask.inner_boundary_in(d, bbox),
            mask,
            bbox,
        }
    }
}

fn score_pair(gt: &GtClass, pred: &Mask, d: u32) -> ClassScore {
    let pair = metrics::Pair {
        counts: gt.mask.counts_against(pred),
        gt: &gt.mask,
        gt_bbox: gt.bbox,
        gt_boundary: &gt.boundary,
        pred,
        pred_bbox: pred.bbox(),
        dilation: d,
        pred_boundary: Default::default(),
        anatomy: Default::default(),
    };
    ClassScore::from_metric_values(
        pair.counts,
        std::array::from_fn(|i| REGISTRY[i].of_pair(&pair)),
    )
}

/// Scores one prediction against one ground truth of `size` (height, width), class by class,
/// with the command line's metrics and empty-mask policy: `classes` are scored (a class missing
/// on a side is empty there) and `void` pixels count for neither side. What the Python
/// `maskgate.score` returns.
pub fn score_masks(
    size: (u32, u32),
    classes: &[String],
    gt: crate::model::ClassMasks,
    pred: crate::model::ClassMasks,
    void: Option<Mask>,
    settings: &ScoreSettings,
) -> SampleScore {
    let sample = Sample {
        id: String::new(),
        hash: String::new(),
        source: None,
        image: None,
        size,
        gt,
        void: void.map(crate::model::MaskData::Mask),
        fit_predictions: false,
        predicted_modules: None,
        notes: None,
        meta: Default::default(),
        instances: None,
    };
    let prediction = Prediction {
        masks: pred,
        size: Some(size),
        ..Default::default()
    };
    let name: Arc<str> = Arc::from("pred");
    let mut scores = score_sample(
        &Arc::from(""),
        &sample,
        classes,
        &[(name, prediction)],
        settings,
        &[],
        &[],
        SampleContext::default(),
    );
    scores.swap_remove(0)
}

/// What the scorer knows of a sample beyond its masks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SampleContext {
    /// The statistics of its photo, when it was decoded.
    pub photo: Option<maskgate_core::photo_stats::PhotoStats>,
    /// How many of the predictions, from the first, come from independent arms (models or
    /// prediction files); the rest are variants of them, left out of the arms' agreement (a
    /// post-processed copy agrees with its source by construction).
    pub independent: usize,
}

/// Scores one sample for every arm. `classes` are the corpus classes (a class a sample lacks is
/// an empty GT). Returns one [`SampleScore`] per arm, in the order of `preds`, each with the
/// sample's properties and (for an independent arm) its agreement with the other ones.
#[allow(clippy::too_many_arguments)]
pub fn score_sample(
    corpus: &Arc<str>,
    sample: &Sample,
    classes: &[String],
    preds: &[(Arc<str>, Prediction)],
    settings: &ScoreSettings,
    overlaps: &[crate::read::modules::Overlap],
    modules: &[String],
    context: SampleContext,
) -> Vec<SampleScore> {
    let (h, w) = match settings.grid {
        Some(n) => (n, n),
        None => sample.size,
    };
    let d = dilation_px(h, w, settings.boundary_ratio);
    let mut gt_fail = None;
    // Void pixels count for neither side: GT and predictions are both cut to the rest.
    let keep = sample.kept_region(settings.grid).unwrap_or_else(|_| {
        gt_fail = Some(FailReason::GtMaskInvalid);
        None
    });
    let cut = |m: Mask| match &keep {
        Some(k) if k.same_size(&m) => m.intersection(k),
        _ => m,
    };
    let gts: Vec<GtClass> = classes
        .iter()
        .map(|c| {
            let m = match sample.gt.get(c).map(|m| m.rasterize(settings.grid)) {
                Some(Ok(m)) => cut(m),
                Some(Err(_)) => {
                    gt_fail = Some(FailReason::GtMaskInvalid);
                    Mask::new(h, w)
                }
                None => Mask::new(h, w),
            };
            GtClass::new(m, d)
        })
        .collect();

    let mut any_gt = Mask::new(h, w);
    gts.iter().for_each(|g| any_gt.union_in_place(&g.mask));
    // Size and aspect are the sample's own, not the scoring grid's; the ground truth's share is
    // of the pixels that count (void left out), and unknown when the ground truth failed.
    let properties = Arc::new(properties::Properties::of(
        sample.size,
        (gt_fail.is_none()).then_some((
            &any_gt,
            keep.as_ref().map_or(h as u64 * w as u64, Mask::area),
        )),
        context.photo,
    ));
    let notes: Option<Arc<str>> = sample.notes.as_deref().map(Arc::from);
    // "background" for overlap measures: on no GT class, and not void.
    let background = (!overlaps.is_empty()).then(|| cut(any_gt.complement()));
    // Each usable arm's class masks, for the arms' agreement with each other.
    let mut arm_masks: Vec<Option<Vec<Mask>>> = Vec::with_capacity(preds.len());
    let in_overlap: Vec<bool> = classes
        .iter()
        .map(|c| overlaps.iter().any(|o| o.pred.contains(c)))
        .collect();
    let mut scored: Vec<Vec<(Mask, ClassScore)>> = vec![Vec::new(); classes.len()];
    let gt_instances = (sample.instances.as_ref()).map(|i| instances::GtSide::new(i, classes));
    let mut out: Vec<SampleScore> = preds
        .iter()
        .map(|(arm, pred)| {
            let mut fails: Vec<FailReason> = gt_fail.into_iter().chain(pred.fail).collect();
            let mut details: Vec<String> = pred.fail_detail.iter().cloned().collect();
            let fits = |s: (u32, u32)| {
                s == sample.size
                    || (sample.fit_predictions
                        && s.0 as u64 * sample.size.1 as u64 == s.1 as u64 * sample.size.0 as u64)
            };
            let size_ok = settings.grid.is_some()
                || (pred.size.is_none_or(fits) && pred.masks.values().all(|m| fits(m.size())));
            if !size_ok {
                fails.push(FailReason::SizeMismatch);
            }
            let usable = size_ok && !pred.fail.is_some_and(FailReason::voids_prediction);
            // The instances are scored on the sample's own canvas (never the grid's). A sample
            // the arm gave no usable instances for still counts its ground truth: as misses,
            // when the arm is an instance arm at all (`crate::aggregate::instance_rows`).
            let instance_eval = gt_instances.as_ref().map(|gt| {
                let given = pred.instances.as_deref().filter(|_| usable);
                let e = instances::evaluate(gt, given, classes, sample.size).unwrap_or_else(|m| {
                    fails.push(FailReason::PredMaskInvalid);
                    details.push(m);
                    instances::missed(gt, classes, sample.size)
                });
                Arc::new(e)
            });
            let mut class_scores = ClassScores::with_capacity(classes.len());
            let mut noise = pred.near.as_ref().filter(|_| usable).map(|_| NoiseScores {
                pixels: 0,
                against: ClassScores::with_capacity(classes.len()),
                toward: ClassScores::with_capacity(classes.len()),
            });
            let mut overlap_preds: BTreeMap<&str, Mask> = BTreeMap::new();
            let mut masks = Vec::with_capacity(classes.len());
            for (ci, (c, gt)) in classes.iter().zip(&gts).enumerate() {
                let pm = if usable {
                    match pred.masks.get(c) {
                        Some(m) => m
                            .rasterize(settings.grid)
                            .map(|m| match (m.height(), m.width()) == (h, w) {
                                true => cut(m),
                                false => cut(m.resize_nearest(h, w)),
                            })
                            .unwrap_or_else(|e| {
                                fails.push(FailReason::PredMaskInvalid);
                                details.push(format!("class {c:?}: {e}"));
                                Mask::new(h, w)
                            }),
                        None if pred.classes_complete => Mask::new(h, w),
                        None => {
                            fails.push(if modules.contains(c) {
                                FailReason::PredModulesMissing
                            } else {
                                FailReason::PredClassesMissing
                            });
                            Mask::new(h, w)
                        }
                    }
                } else {
                    Mask::new(h, w)
                };
                if in_overlap[ci] {
                    overlap_preds.insert(c.as_str(), pm.clone());
                }
                // The noise check: this class's near pixels set against the truth, and to it.
                let near = match (&noise, &pred.near) {
                    (Some(_), Some(near)) => near
                        .get(c)
                        .map(|m| match (m.height(), m.width()) == (h, w) {
                            true => cut(m.clone()),
                            false => cut(m.resize_nearest(h, w)),
                        })
                        .filter(|m| !m.is_empty()),
                    _ => None,
                };
                let flipped = near.map(|near| {
                    if let Some(noise) = &mut noise {
                        noise.pixels += near.area();
                    }
                    let wrong = cut(gt.mask.complement());
                    (
                        score_pair(gt, &pm.overlay(&near, &wrong), d),
                        score_pair(gt, &pm.overlay(&near, &gt.mask), d),
                    )
                });
                // Variants often leave most classes untouched: an identical mask was already
                // scored for this sample, so reuse that score instead of computing it again.
                let score = match scored[ci].iter().find(|(m, _)| *m == pm) {
                    Some((_, s)) => s.clone(),
                    None => {
                        let s = score_pair(gt, &pm, d);
                        scored[ci].push((pm.clone(), s.clone()));
                        s
                    }
                };
                if let Some(noise) = &mut noise {
                    let (against, toward) = match flipped {
                        Some(both) => both,
                        None => (score.clone(), score.clone()),
                    };
                    noise.against.insert(c.clone(), against);
                    noise.toward.insert(c.clone(), toward);
                }
                class_scores.insert(c.clone(), score);
                masks.push(pm);
            }
            let independent = arm_masks.len() < context.independent;
            arm_masks.push((independent && usable && fails.is_empty()).then_some(masks));
            SampleScore {
                arm: arm.clone(),
                corpus: corpus.clone(),
                id: sample.id.clone(),
                hash: sample.hash.clone(),
                source: sample.source.clone(),
                notes: notes.clone(),
                failure_class: None,
                fail_reason: FailReason::first(fails),
                fail_detail: (!details.is_empty()).then(|| details.join("; ")),
                instances: pred.instances.as_ref().map(|i| i.len() as u32),
                instance_eval,
                classes: class_scores,
                noise: noise.map(Box::new),
                agreement: None,
                suspect: false,
                properties: Some(properties.clone()),
                overlaps: overlaps
                    .iter()
                    .map(|o| {
                        let mut pred = Mask::new(h, w);
                        for c in &o.pred {
                            if let Some(m) = overlap_preds.get(c.as_str()) {
                                pred.union_in_place(m);
                            }
                        }
                        let on = match o.gt.as_str() {
                            "background" => background.as_ref(),
                            g => classes.iter().position(|c| c == g).map(|i| &gts[i].mask),
                        };
                        let share = match (pred.area(), on) {
                            (0, _) => None,
                            (n, Some(g)) => Some(pred.intersection_count(g) as f64 / n as f64),
                            (_, None) => Some(0.0),
                        };
                        (o.name.clone(), share)
                    })
                    .collect(),
            }
        })
        .collect();
    // Each pair of independent arms once; an arm's agreement is its lowest with any other.
    let n = context.independent.min(out.len());
    let mut lowest: Vec<Option<f64>> = vec![None; n];
    for i in 0..n {
        for j in i + 1..n {
            let (Some(a), Some(b)) = (&arm_masks[i], &arm_masks[j]) else {
                continue;
            };
            let iou = pooled_iou(a, b);
            for k in [i, j] {
                lowest[k] = Some(lowest[k].map_or(iou, |l: f64| l.min(iou)));
            }
        }
    }
    for (score, agreement) in out.iter_mut().zip(lowest) {
        score.agreement = agreement;
    }
    out
}

/// IoU of two arms' predictions pooled over the classes: summed intersections over summed
/// unions. Two predictions empty everywhere agree on nothing: 0, not evidence against a label.
fn pooled_iou(a: &[Mask], b: &[Mask]) -> f64 {
    let (mut inter, mut union) = (0u64, 0u64);
    for (x, y) in a.iter().zip(b) {
        let c = x.counts_against(y);
        inter += c.tp;
        union += c.tp + c.fp + c.fn_;
    }
    match union {
        0 => 0.0,
        u => inter as f64 / u as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MaskData;
    use proptest::prelude::*;

    fn sample(gt: Vec<(&str, Mask)>) -> Sample {
        let size = (gt[0].1.height(), gt[0].1.width());
        Sample {
            instances: None,
            id: "s".into(),
            hash: "h".into(),
            source: None,
            image: None,
            size,
            gt: gt
                .into_iter()
                .map(|(c, m)| (c.to_string(), MaskData::Mask(m)))
                .collect(),
            void: None,
            fit_predictions: false,
            predicted_modules: None,
            notes: None,
            meta: Default::default(),
        }
    }

    fn pred(masks: Vec<(&str, Mask)>) -> Prediction {
        Prediction {
            masks: masks
                .into_iter()
                .map(|(c, m)| (c.to_string(), MaskData::Mask(m)))
                .collect(),
            ..Default::default()
        }
    }

    /// Pixel-by-pixel reference of the original metrics, by name, with the counts. A metric
    /// registered later carries its own reference test in its file.
    fn naive(gt: &Mask, pr: &Mask, d: u32) -> (Counts, BTreeMap<&'static str, Option<f64>>) {
        let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
        let (mut gb, mut pb): (Option<[u32; 4]>, Option<[u32; 4]>) = (None, None);
        let grow = |b: &mut Option<[u32; 4]>, x: u32, y: u32| {
            *b = Some(match *b {
                None => [x, y, x, y],
                Some([a, bb, c, dd]) => [a.min(x), bb.min(y), c.max(x), dd.max(y)],
            })
        };
        for y in 0..gt.height() {
            for x in 0..gt.width() {
                let (g, p) = (gt.get(y, x), pr.get(y, x));
                tp += (g && p) as u64;
                fp += (!g && p) as u64;
                fn_ += (g && !p) as u64;
                if g {
                    grow(&mut gb, x, y)
                }
                if p {
                    grow(&mut pb, x, y)
                }
            }
        }
        let div = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let bbox_iou = match (gb, pb) {
            (None, None) => None,
            (Some(a), Some(b)) => {
                let iw = (a[2].min(b[2]) as i64 - a[0].max(b[0]) as i64 + 1).max(0);
                let ih = (a[3].min(b[3]) as i64 - a[1].max(b[1]) as i64 + 1).max(0);
                let area = |r: [u32; 4]| ((r[2] - r[0] + 1) * (r[3] - r[1] + 1)) as i64;
                let i = iw * ih;
                Some(i as f64 / (area(a) + area(b) - i) as f64)
            }
            _ => Some(0.0),
        };
        let boundary_iou = if tp + fp + fn_ == 0 {
            None
        } else {
            let (bg, bp) = (naive_band(gt, d), naive_band(pr, d));
            let inter = bg.iter().zip(&bp).filter(|(a, b)| **a && **b).count();
            let union = bg.iter().zip(&bp).filter(|(a, b)| **a || **b).count();
            Some(if union == 0 {
                0.0
            } else {
                inter as f64 / union as f64
            })
        };
        let values = BTreeMap::from([
            ("iou", div(tp, tp + fp + fn_)),
            ("dice", div(2 * tp, 2 * tp + fp + fn_)),
            ("precision", div(tp, tp + fp)),
            ("recall", div(tp, tp + fn_)),
            ("leakage", div(fp, tp + fp)),
            ("coverage", div(tp, tp + fn_)),
            ("bbox_iou", bbox_iou),
            ("boundary_iou", boundary_iou),
        ]);
        (Counts { tp, fp, fn_ }, values)
    }

    /// Cheng et al.'s boundary band by definition: the mask's pixels with a non-mask pixel (or
    /// the outside of the image) within Chebyshev distance `d`, by explicit loops.
    fn naive_band(m: &Mask, d: u32) -> Vec<bool> {
        let (h, w, d) = (m.height() as i64, m.width() as i64, d as i64);
        let mut out = Vec::with_capacity((h * w) as usize);
        for y in 0..h {
            for x in 0..w {
                let near_outside = (-d..=d).any(|dy| {
                    (-d..=d).any(|dx| {
                        let (yy, xx) = (y + dy, x + dx);
                        yy < 0 || xx < 0 || yy >= h || xx >= w || !m.get(yy as u32, xx as u32)
                    })
                });
                out.push(m.get(y as u32, x as u32) && near_outside);
            }
        }
        out
    }

    fn arb_pair() -> impl Strategy<Value = (Mask, Mask)> {
        (1u32..70, 1u32..70, any::<u64>(), 0u64..5, 0u64..5).prop_map(|(h, w, seed, dg, dp)| {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let g = Mask::from_fn(h, w, |_, _| next() % 5 < dg);
            let p = Mask::from_fn(h, w, |_, _| next() % 5 < dp);
            (g, p)
        })
    }

    proptest! {
        #[test]
        fn metrics_match_naive_reference((g, p) in arb_pair()) {
            let d = dilation_px(g.height(), g.width(), 0.02);
            let s = score_sample(&"c".into(), &sample(vec![("a", g.clone())]), &["a".into()], &[("x".into(), pred(vec![("a", p.clone())]))], &ScoreSettings::default(), &[], &[], SampleContext::default());
            let got = s[0].classes.get("a").unwrap();
            let (counts, want) = naive(&g, &p, d);
            prop_assert_eq!(got.counts(), counts);
            for (name, v) in want {
                prop_assert_eq!(got.metric(name), v, "{}", name);
            }
        }

        /// The noise check's flipped scores are the naive reference's on masks flipped pixel by
        /// pixel: against the truth never better than measured, toward it never worse.
        #[test]
        fn near_pixels_flip_against_and_toward_the_truth((g, p) in arb_pair(), seed in any::<u64>()) {
            let (h, w) = (g.height(), g.width());
            let mut s = seed | 1;
            let near = Mask::from_fn(h, w, |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s % 4 == 0
            });
            let d = dilation_px(h, w, 0.02);
            let mut prediction = pred(vec![("a", p.clone())]);
            prediction.near = Some(BTreeMap::from([("a".to_string(), near.clone())]));
            let out = score_sample(&"c".into(), &sample(vec![("a", g.clone())]), &["a".into()], &[("x".into(), prediction)], &ScoreSettings::default(), &[], &[], SampleContext::default());
            let noise = out[0].noise.as_ref().expect("near pixels were given");
            prop_assert_eq!(noise.pixels, near.area());
            let flip = |toward: bool| Mask::from_fn(h, w, |y, x| match near.get(y, x) {
                true => g.get(y, x) == toward,
                false => p.get(y, x),
            });
            let measured = out[0].classes.get("a").unwrap();
            for (toward, got) in [(false, &noise.against), (true, &noise.toward)] {
                let got = got.get("a").unwrap();
                let (counts, want) = naive(&g, &flip(toward), d);
                prop_assert_eq!(got.counts(), counts);
                for (name, v) in want {
                    prop_assert_eq!(got.metric(name), v, "{}", name);
                }
            }
            let iou = |c: &ClassScore| c.metric("iou").unwrap_or(1.0);
            prop_assert!(iou(noise.against.get("a").unwrap()) <= iou(measured));
            prop_assert!(iou(measured) <= iou(noise.toward.get("a").unwrap()));
        }
    }

    #[test]
    fn without_near_pixels_there_is_no_noise_record() {
        let g = Mask::from_fn(4, 4, |y, _| y < 2);
        let out = score_sample(
            &"c".into(),
            &sample(vec![("a", g.clone())]),
            &["a".into()],
            &[("x".into(), pred(vec![("a", g)]))],
            &ScoreSettings::default(),
            &[],
            &[],
            SampleContext::default(),
        );
        assert!(out[0].noise.is_none());
        assert!(!serde_json::to_string(&out[0]).unwrap().contains("noise"));
    }

    #[test]
    fn fail_reasons() {
        let g = Mask::from_fn(4, 4, |y, _| y < 2);
        let s = sample(vec![("a", g.clone()), ("b", g.clone())]);
        let classes = ["a".to_string(), "b".to_string()];
        let st = ScoreSettings::default();
        let missing = Prediction {
            fail: Some(FailReason::PredMissing),
            ..Default::default()
        };
        let partial = pred(vec![("a", g.clone())]);
        let wrong = pred(vec![("a", Mask::new(5, 4)), ("b", g.clone())]);
        let out = score_sample(
            &"c".into(),
            &s,
            &classes,
            &[
                ("m".into(), missing),
                ("p".into(), partial),
                ("w".into(), wrong),
            ],
            &st,
            &[],
            &[],
            SampleContext::default(),
        );
        assert_eq!(out[0].fail_reason, Some(FailReason::PredMissing));
        assert_eq!(out[0].classes.get("a").unwrap().iou(), Some(0.0));
        assert_eq!(out[0].classes.get("a").unwrap().metric("recall"), Some(0.0));
        assert_eq!(out[0].classes.get("a").unwrap().metric("precision"), None);
        assert_eq!(out[1].fail_reason, Some(FailReason::PredClassesMissing));
        assert_eq!(out[1].classes.get("a").unwrap().iou(), Some(1.0));
        assert_eq!(out[1].classes.get("b").unwrap().iou(), Some(0.0));
        assert_eq!(out[1].miou(), Some(0.5));
        assert_eq!(out[2].fail_reason, Some(FailReason::SizeMismatch));
        assert_eq!(out[2].classes.get("b").unwrap().iou(), Some(0.0));
        // With a grid the sizes no longer need to agree.
        let grid = ScoreSettings {
            grid: Some(8),
            ..st
        };
        let wrong = pred(vec![
            ("a", Mask::from_fn(5, 4, |y, _| y < 2)),
            ("b", g.clone()),
        ]);
        let out = score_sample(
            &"c".into(),
            &s,
            &classes,
            &[("w".into(), wrong)],
            &grid,
            &[],
            &[],
            SampleContext::default(),
        );
        assert_eq!(out[0].fail_reason, None);
        assert_eq!(out[0].classes.get("b").unwrap().iou(), Some(1.0));
        assert_eq!(out[0].classes.get("b").unwrap().tp, 32);
    }

    #[test]
    fn both_empty_is_undefined_and_excluded_from_miou() {
        let g = Mask::from_fn(4, 4, |y, _| y < 2);
        let s = sample(vec![("a", g.clone()), ("b", Mask::new(4, 4))]);
        let out = score_sample(
            &"c".into(),
            &s,
            &["a".into(), "b".into()],
            &[("x".into(), pred(vec![("a", g), ("b", Mask::new(4, 4))]))],
            &ScoreSettings::default(),
            &[],
            &[],
            SampleContext::default(),
        );
        let b = &out[0].classes.get("b").unwrap();
        assert!(b.values.iter().all(|v| v.is_none()));
        assert_eq!(out[0].miou(), Some(1.0));
    }

    #[test]
    fn overlap_shares_of_predicted_regions() {
        use crate::read::modules::Overlap;
        // 1×10 canvas: GT hair x 0..4, GT skin x 4..8, void x 9; background x 8 only.
        let row = |r: std::ops::Range<u32>| Mask::from_fn(1, 10, |_, x| r.contains(&x));
        let mut s = sample(vec![("hair", row(0..4)), ("skin", row(4..8))]);
        s.void = Some(MaskData::Mask(row(9..10)));
        let o = |name: &str, pred: &[&str], gt: &str| Overlap {
            name: name.into(),
            pred: pred.iter().map(|c| c.to_string()).collect(),
            gt: gt.into(),
        };
        let overlaps = [
            o("on_hair", &["skin"], "hair"),
            o("on_bg", &["skin"], "background"),
            o("of_nothing", &["hair"], "hair"),
        ];
        // Predicted skin x 2..10: 8 pixels minus the void one = 7; 2 on hair, 1 on background.
        let p = pred(vec![("skin", row(2..10))]);
        let out = score_sample(
            &"c".into(),
            &s,
            &["hair".into(), "skin".into()],
            &[("x".into(), p)],
            &ScoreSettings::default(),
            &overlaps,
            &[],
            SampleContext::default(),
        );
        let got = &out[0].overlaps;
        assert_eq!(got["on_hair"], Some(2.0 / 7.0));
        assert_eq!(got["on_bg"], Some(1.0 / 7.0));
        assert_eq!(
            got["of_nothing"], None,
            "no predicted hair: undefined, not 0"
        );
    }

    #[test]
    fn missing_modules_have_their_own_fail_reason() {
        let g = Mask::from_fn(4, 4, |y, _| y < 2);
        let s = sample(vec![("a", g.clone()), ("forehead", g.clone())]);
        let classes = ["a".to_string(), "forehead".to_string()];
        let modules = ["forehead".to_string()];
        let only_a = pred(vec![("a", g.clone())]);
        let nothing = pred(vec![]);
        let out = score_sample(
            &"c".into(),
            &s,
            &classes,
            &[("m".into(), only_a), ("n".into(), nothing)],
            &ScoreSettings::default(),
            &[],
            &modules,
            SampleContext::default(),
        );
        assert_eq!(out[0].fail_reason, Some(FailReason::PredModulesMissing));
        // A missing ordinary class comes first in the fail-reason order.
        assert_eq!(out[1].fail_reason, Some(FailReason::PredClassesMissing));
    }
}
