//! Stages 3–5 together: score every sample for every arm, aggregate, compare with the baseline.
//! The result, an [`Evaluation`], is what `decide`, `recommend` and the gallery read; the
//! report is assembled after them. Scoring runs in parallel over samples; every later stage runs
//! over results sorted by (arm, corpus, id), and every random draw comes from a generator keyed
//! by (seed, purpose), so the numbers never depend on the thread count.

use crate::aggregate::{
    find_row, find_summary, metrics_rows, overlap_rows, summary_rows, Grouping, MetricsRow,
    OverlapRow, SummaryRow,
};
use crate::compare::{compare, CompareSettings, Comparison};
use crate::model::Prediction;
use crate::observe::Observer;
use crate::predict::image::SamplePhoto;
use crate::predict::saved::SavedPredictions;
use crate::predict::variants::Variant;
use crate::predict::{predict_sample, Arm};
use crate::read::{Corpus, Problem};
use crate::score::{score_sample, SampleContext, SampleScore, ScoreSettings};
use crate::slices::{SliceBins, SliceSettings, WeakSlice};
use crate::suspects::{Suspect, SuspectSettings};
use crate::taxonomy::{classify, FailureClass};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// What to evaluate and how.
pub struct EvalInput<'a> {
    pub corpora: &'a [Corpus],
    pub arms: &'a [&'a dyn Arm],
    /// Post-processing variants of the arms (or of earlier variants), scored as arms.
    pub variants: &'a [Variant],
    pub baseline: &'a str,
    pub score: ScoreSettings,
    pub compare: CompareSettings,
    /// Failure classes (from the criteria file); empty: no failure-class grouping.
    pub taxonomy: &'a [FailureClass],
    /// Where model arms' predictions are kept for `save_predictions` (none: not kept).
    pub saved: Option<&'a SavedPredictions>,
    pub suspects: SuspectSettings,
    pub slices: SliceSettings,
}

#[derive(Clone, Debug, Serialize)]
pub struct CorpusInfo {
    pub name: String,
    pub format: String,
    pub classes: Vec<String>,
    pub samples: usize,
    pub problems: Vec<Problem>,
    /// A database corpus's version: URL without password, query, row count and fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<crate::read::DatasetVersion>,
    /// Groups of sample ids whose photos are byte-identical (each photo counted once per id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicate_photos: Vec<Vec<String>>,
    /// A held-out split (`held_out = true` in its `[[corpus]]`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub held_out: bool,
    /// What the samples' metadata (a database's `meta`) says, key by key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub meta_values: Vec<crate::read::MetaValues>,
}

/// Per-sample scores, aggregates and comparisons of one run: read-only once built.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub baseline: String,
    pub pass_iou: f64,
    /// Every arm and variant, sorted.
    pub arms: Vec<String>,
    pub corpora: Vec<CorpusInfo>,
    pub summaries: Vec<SummaryRow>,
    pub metrics: Vec<MetricsRow>,
    pub comparisons: Vec<Comparison>,
    pub overlaps: Vec<OverlapRow>,
    /// COCOeval's mask AP/AR per (arm, corpus, group) and class, where instances were scored.
    pub instances: Vec<crate::aggregate::InstanceRow>,
    /// One entry per (arm, sample), sorted by (arm, corpus, id).
    pub samples: Vec<SampleScore>,
    /// The inference-noise check's measurements, when a model arm made any.
    pub adverse: Option<Box<Adverse>>,
    /// Samples whose label every arm disputes, in (corpus, id) order.
    pub suspects: Vec<Suspect>,
    /// The suspects were left out of the aggregates, comparisons and verdict.
    pub suspects_excluded: bool,
    /// Each property's quantile bins per corpus (the `slice:<property>` groups).
    pub slices: Vec<SliceBins>,
    /// Per comparison, the bins with the lowest paired mIoU delta.
    pub weak_slices: Vec<WeakSlice>,
}

/// The run as inference noise could have made it: each model arm's pixels within ε of a
/// decision set against the truth for every arm but the baseline, and toward it for the
/// baseline (the worst case for a candidate).
#[derive(Clone, Debug)]
pub struct Adverse {
    /// Near pixels per measured arm, over every scored sample.
    pub pixels: std::collections::BTreeMap<String, u64>,
    /// Arms nothing measured (prediction files, variants).
    pub unmeasured: Vec<String>,
    /// The evaluation of the flipped scores; `None` when no pixel was near (it would be the
    /// measured one).
    pub evaluation: Option<Evaluation>,
}

impl Evaluation {
    pub fn summary(
        &self,
        arm: &str,
        corpus: &str,
        group_by: &str,
        group: &str,
    ) -> Option<&SummaryRow> {
        find_summary(&self.summaries, arm, corpus, group_by, group)
    }

    pub fn row(
        &self,
        arm: &str,
        corpus: &str,
        group_by: &str,
        group: &str,
        class: &str,
    ) -> Option<&MetricsRow> {
        find_row(&self.metrics, arm, corpus, group_by, group, class)
    }

    /// The score of `arm` on sample `id` of `corpus`.
    pub fn sample(&self, arm: &str, corpus: &str, id: &str) -> Option<&SampleScore> {
        find_sample(&self.samples, arm, corpus, id)
    }
}

/// The score of (`arm`, `corpus`, `id`) among `samples` sorted by (arm, corpus, id), as an
/// evaluation and a report keep them.
pub fn find_sample<'a>(
    samples: &'a [SampleScore],
    arm: &str,
    corpus: &str,
    id: &str,
) -> Option<&'a SampleScore> {
    let key = (arm, corpus, id);
    samples
        .binary_search_by(|s| (&*s.arm, &*s.corpus, s.id.as_str()).cmp(&key))
        .ok()
        .map(|i| &samples[i])
}

/// What scoring produced: scores sorted by (arm, corpus, id), and per corpus the samples whose
/// ground truth could not be loaded (sorted by id; the rest of the corpus is scored).
pub struct Scored {
    pub scores: Vec<SampleScore>,
    pub load_problems: Vec<Vec<Problem>>,
}

/// Scores every sample of every corpus for every arm. Workers load a sample's ground truth and
/// decode its photo once for all arms, then drop both: memory holds the samples in flight, not
/// the corpus. A model arm's inference is serialised per model while other workers decode and
/// pre-process the next photos.
/// Samples scored between two merges into the run's score list.
const SCORING_WINDOW: usize = 1024;

pub fn score_all(input: &EvalInput, observer: &dyn Observer) -> Scored {
    // One score per (arm, sample), kept for the whole run: reserved once, no spare capacity.
    let arms = input.arms.len() + input.variants.len();
    let mut scores: Vec<SampleScore> =
        Vec::with_capacity(input.corpora.iter().map(|c| c.samples.len() * arms).sum());
    let mut load_problems = Vec::new();
    observer.started(input.corpora.iter().map(|c| c.samples.len() as u64).sum());
    // Names every score repeats, allocated once and shared.
    let names: Vec<Arc<str>> = (input.arms.iter().map(|a| a.name()))
        .chain(input.variants.iter().map(|v| v.name.as_str()))
        .chain(input.taxonomy.iter().map(|c| c.name.as_str()))
        .chain([crate::taxonomy::UNCLASSIFIED])
        .chain(input.corpora.iter().map(|c| c.name.as_str()))
        .map(Arc::from)
        .collect();
    let shared = |name: &str| -> Arc<str> {
        names
            .iter()
            .find(|n| ***n == *name)
            .cloned()
            .unwrap_or_else(|| name.into())
    };
    for corpus in input.corpora {
        let modules = corpus.module_names();
        let corpus_name = shared(&corpus.name);
        let mut problems = Vec::new();
        let score_one = |entry: &crate::read::Entry| -> Result<Vec<SampleScore>, Problem> {
            if observer.cancelled() {
                return Ok(Vec::new());
            }
            let s = corpus.load(entry);
            observer.advanced();
            let s = s?;
            // A listing that dropped the photo says why; that is the failure the arms report.
            let photo = SamplePhoto::of(s.image.as_deref(), corpus).missing_because(
                s.image
                    .is_none()
                    .then_some(entry.image_dropped.as_deref())
                    .flatten(),
            );
            let preds: Vec<(Arc<str>, Prediction)> =
                predict_sample(&s, &photo, input.arms, input.variants, observer)
                    .into_iter()
                    .map(|(arm, p)| (shared(arm), p))
                    .collect();
            // The photo's properties for weak slices, from the pixels a person sees; a model
            // arm has decoded the file already.
            let stats = (input.slices.bins >= 2)
                .then(|| photo.shown().ok())
                .flatten()
                .and_then(|p| maskgate_core::photo_stats::photo_stats(&p.data, p.w, p.h));
            if let Some(saved) = input.saved {
                for (arm, p) in &preds {
                    saved.record(&corpus.name, arm, &s.id, p);
                }
            }
            let mut out = score_sample(
                &corpus_name,
                &s,
                &corpus.classes,
                &preds,
                &input.score,
                corpus.overlaps(),
                &modules,
                SampleContext {
                    photo: stats,
                    independent: input.arms.len(),
                },
            );
            if !input.taxonomy.is_empty() {
                let fc = shared(&classify(input.taxonomy, &s));
                out.iter_mut()
                    .for_each(|o| o.failure_class = Some(fc.clone()));
            }
            Ok(out)
        };
        // Unless every model is loaded and light, the run's first two samples go alone, one
        // after the other: the first loads the models a cache miss needs, which tells whether
        // one of them occupies every core; the second is a heavy-by-size model's first warm
        // inference, which may turn it light (`engine::QUICK_INFERENCE_CPU_NS`) before the
        // rest are scored side by side.
        let settled = (input.arms.iter()).all(|a| a.layout_known() && !a.occupies_every_core());
        let alone = if settled { 0 } else { 1 };
        let (first, rest) = corpus.samples.split_at(corpus.samples.len().min(alone));
        let (second, rest) = rest.split_at(rest.len().min(alone));
        let mut pending: Vec<&[crate::read::Entry]> = vec![first, second];
        pending.extend(rest.chunks(SCORING_WINDOW));
        // A window at a time, so the per-sample results in flight stay bounded while `scores`
        // holds the kept ones; results keep the listing order.
        for window in pending {
            let per_sample: Vec<Result<Vec<SampleScore>, Problem>> =
                if input.arms.iter().any(|a| a.occupies_every_core()) {
                    window.iter().map(score_one).collect()
                } else {
                    window.par_iter().map(score_one).collect()
                };
            for r in per_sample {
                match r {
                    Ok(v) => scores.extend(v),
                    Err(p) => problems.push(p),
                }
            }
        }
        load_problems.push(problems);
    }
    observer.finished();
    scores.sort_by(|a, b| (&a.arm, &a.corpus, &a.id).cmp(&(&b.arm, &b.corpus, &b.id)));
    Scored {
        scores,
        load_problems,
    }
}

/// Scores, aggregates and compares: the evaluation every later stage reads.
pub fn evaluate(input: &EvalInput, observer: &dyn Observer) -> Evaluation {
    evaluate_scored(input, score_all(input, observer))
}

/// Aggregates and compares scores already made: by [`score_all`] here, or gathered from the
/// shards of a run (`crate::shard`), which must be the same table in the same order.
pub fn evaluate_scored(input: &EvalInput, scored: Scored) -> Evaluation {
    let Scored {
        scores: samples,
        load_problems,
    } = scored;
    let corpora = input
        .corpora
        .iter()
        .zip(&load_problems)
        .map(|(c, failed)| {
            let mut problems: Vec<Problem> = c.problems.iter().chain(failed).cloned().collect();
            problems.sort_by(|a, b| a.sample.cmp(&b.sample));
            CorpusInfo {
                name: c.name.clone(),
                format: c.format.to_string(),
                classes: c.classes.clone(),
                samples: c.samples.len() - failed.len(),
                problems,
                dataset: c.version.clone(),
                duplicate_photos: c.duplicates.clone(),
                held_out: c.held_out,
                meta_values: crate::read::meta_values(&c.samples),
            }
        })
        .collect();
    let mut evaluation = assess(input, samples, corpora, None);
    evaluation.adverse = adverse(input, &evaluation).map(Box::new);
    evaluation
}

/// The suspects and slice bins of a measured evaluation, which the noise check's evaluation of
/// the same samples keeps: a flipped pixel must change a check through the scores alone, not by
/// moving a sample out of the verdict or into another bin.
struct Findings<'a> {
    suspects: &'a [Suspect],
    slices: &'a [SliceBins],
}

/// Aggregates and comparisons of `samples`, suspects marked (and left out of the aggregates when
/// the settings say so), weak slices found; with `fixed`, those findings are taken as given.
fn assess(
    input: &EvalInput,
    mut samples: Vec<SampleScore>,
    corpora: Vec<CorpusInfo>,
    fixed: Option<Findings>,
) -> Evaluation {
    // Variants are post-processed copies of an arm: only the arms themselves are independent.
    let independent: Vec<&str> = input.arms.iter().map(|a| a.name()).collect();
    let suspects = match &fixed {
        Some(f) => f.suspects.to_vec(),
        None => crate::suspects::find(&samples, &independent, &input.suspects),
    };
    if !suspects.is_empty() {
        let keys: std::collections::BTreeSet<(&str, &str)> = (suspects.iter())
            .map(|x| (x.corpus.as_str(), x.id.as_str()))
            .collect();
        for s in &mut samples {
            s.suspect = keys.contains(&(&*s.corpus, s.id.as_str()));
        }
    }
    let suspects_excluded = input.suspects.exclude && !suspects.is_empty();
    let kept_copy: Vec<SampleScore>;
    let kept: &[SampleScore] = if suspects_excluded {
        kept_copy = samples.iter().filter(|s| !s.suspect).cloned().collect();
        &kept_copy
    } else {
        &samples
    };
    let slices = match &fixed {
        Some(f) => f.slices.to_vec(),
        None => crate::slices::bins(kept, &input.slices),
    };
    let mut groupings = vec![Grouping::source()];
    if !input.taxonomy.is_empty() {
        groupings.push(Grouping::failure_class());
    }
    let tau = input.compare.pass_iou;
    // Slice bins are judged on the per-sample summaries only: per class, 7 properties × 4 bins
    // would multiply a many-class comparison's rows and bootstrap several times over.
    let metrics = metrics_rows(kept, &groupings, tau);
    let instances = crate::aggregate::instance_rows(kept, &groupings);
    groupings.extend(crate::slices::groupings(&slices));
    let summaries = summary_rows(kept, &groupings, tau);
    let mut arms: Vec<String> = input
        .arms
        .iter()
        .map(|a| a.name().to_string())
        .chain(input.variants.iter().map(|v| v.name.clone()))
        .collect();
    arms.sort();
    let mut comparisons = Vec::new();
    let baseline_draws = crate::compare::BaselineDraws::default();
    for corpus in input.corpora {
        for arm in arms.iter().filter(|a| *a != input.baseline) {
            comparisons.push(compare(
                arm,
                input.baseline,
                &corpus.name,
                &metrics,
                &summaries,
                &instances,
                kept,
                &groupings,
                &input.compare,
                &baseline_draws,
            ));
        }
    }
    let weak_slices = crate::slices::weakest(&comparisons, &slices, &input.slices);
    drop(groupings);
    Evaluation {
        baseline: input.baseline.to_string(),
        pass_iou: tau,
        arms,
        corpora,
        overlaps: overlap_rows(kept),
        instances,
        summaries,
        metrics,
        comparisons,
        samples,
        adverse: None,
        suspects,
        suspects_excluded,
        slices,
        weak_slices,
    }
}

/// The noise check's evaluation (see [`Adverse`]), when any sample carries its near pixels.
fn adverse(input: &EvalInput, measured: &Evaluation) -> Option<Adverse> {
    let mut pixels = std::collections::BTreeMap::new();
    for s in &measured.samples {
        if let Some(n) = &s.noise {
            *pixels.entry(s.arm.to_string()).or_insert(0u64) += n.pixels;
        }
    }
    if pixels.is_empty() {
        return None;
    }
    let unmeasured = (measured.arms.iter())
        .filter(|a| !pixels.contains_key(*a))
        .cloned()
        .collect();
    let evaluation = pixels.values().any(|&n| n > 0).then(|| {
        let flipped = (measured.samples.iter())
            .map(|s| {
                let mut s = s.clone();
                if let Some(n) = s.noise.take() {
                    s.classes = match *s.arm == *input.baseline {
                        true => n.toward,
                        false => n.against,
                    };
                }
                s
            })
            .collect();
        assess(
            input,
            flipped,
            measured.corpora.clone(),
            Some(Findings {
                suspects: &measured.suspects,
                slices: &measured.slices,
            }),
        )
    });
    Some(Adverse {
        pixels,
        unmeasured,
        evaluation,
    })
}
