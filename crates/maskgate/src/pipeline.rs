//! The flow end to end: corpora and arms in, a [`Report`] (with its verdict) out. Scoring runs in
//! parallel over samples; every later stage runs over results sorted by (arm, corpus, id), and
//! every random draw comes from a generator keyed by (seed, purpose), so the numbers never depend
//! on the thread count.

use crate::aggregate::{metrics_rows, summary_rows, Grouping};
use crate::compare::{compare, CompareSettings};
use crate::decide::criteria::CriteriaFile;
use crate::decide::decide;
use crate::decide::taxonomy::{classify, FailureClass};
use crate::predict::image::SamplePhoto;
use crate::predict::variants::Variant;
use crate::predict::Arm;
use crate::read::{Corpus, Problem};
use crate::recommend::GroupScoreSpec;
use crate::report::{
    CorpusInfo, Report, RunMeta, Settings, Tool, EMPTY_POLICY, PERCENTILE_METHOD, SCHEMA_VERSION,
};
use crate::score::{score_sample, SampleScore, ScoreSettings};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Plan<'a> {
    pub corpora: &'a [Corpus],
    pub arms: &'a [&'a dyn Arm],
    /// Post-processing variants of the arms (or of earlier variants), scored as arms.
    pub variants: &'a [Variant],
    /// How to score and recommend a group (arm or variant), if configured.
    pub group_score: Option<&'a GroupScoreSpec>,
    pub baseline: String,
    pub score: ScoreSettings,
    pub compare: CompareSettings,
    pub criteria: Option<&'a CriteriaFile>,
    pub run: RunMeta,
    pub unmatched_predictions: BTreeMap<String, Vec<String>>,
}

/// Set by the Ctrl-C handler: workers stop taking new samples; finished predictions are already
/// in the prediction cache, so a re-run resumes where this one stopped.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Progress on stderr (images/s, ETA), only when stderr is a terminal.
struct Progress {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(total: usize) -> Progress {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = (std::io::stderr().is_terminal() && total > 0).then(|| {
            let (done, stop) = (done.clone(), stop.clone());
            std::thread::spawn(move || {
                let t0 = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    let n = done.load(Ordering::Relaxed);
                    let rate = n as f64 / t0.elapsed().as_secs_f64().max(1e-9);
                    let eta = if rate > 0.0 {
                        (total - n) as f64 / rate
                    } else {
                        0.0
                    };
                    eprint!("\r{n}/{total} samples  {rate:.1} img/s  ETA {eta:.0}s   ");
                }
                eprint!("\r{:60}\r", "");
            })
        });
        Progress { done, stop, handle }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Every arm's prediction of one sample, then every variant's, derived in order from its
/// source's prediction (no second inference).
pub fn predict_sample<'a>(
    s: &crate::model::Sample,
    photo: &SamplePhoto,
    arms: &[&'a dyn Arm],
    variants: &'a [Variant],
) -> Vec<(&'a str, crate::model::Prediction)> {
    let mut preds: Vec<(&str, crate::model::Prediction)> = arms
        .iter()
        .map(|a| (a.name(), a.predict(s, photo)))
        .collect();
    if let Some(pm) = &s.predicted_modules {
        // Before the variants, so a variant can post-process the derived modules.
        preds.iter_mut().for_each(|(_, p)| pm.apply(p));
    }
    if !variants.is_empty() {
        // Decode each source mask once here, not once per variant that reads it.
        for (_, p) in preds.iter_mut() {
            for m in p.masks.values_mut() {
                if !matches!(m, crate::model::MaskData::Mask(_)) {
                    if let Ok(decoded) = m.rasterize(None) {
                        *m = crate::model::MaskData::Mask(decoded);
                    }
                }
            }
        }
    }
    for v in variants {
        let derived = match preds.iter().find(|(n, _)| *n == v.from) {
            Some((_, src)) => v.derive(src),
            None => crate::model::Prediction {
                fail: Some(crate::model::FailReason::PostprocessFailed),
                ..Default::default()
            },
        };
        preds.push((v.name.as_str(), derived));
    }
    preds
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
pub fn score_all(
    corpora: &[Corpus],
    arms: &[&dyn Arm],
    variants: &[Variant],
    settings: &ScoreSettings,
    taxonomy: &[FailureClass],
) -> Scored {
    let mut scores: Vec<SampleScore> = Vec::new();
    let mut load_problems = Vec::new();
    let progress = Progress::start(corpora.iter().map(|c| c.samples.len()).sum());
    for corpus in corpora {
        let modules = corpus.module_names();
        let per_sample: Vec<Result<Vec<SampleScore>, Problem>> = corpus
            .samples
            .par_iter()
            .map(|entry| {
                if INTERRUPTED.load(Ordering::Relaxed) {
                    return Ok(Vec::new());
                }
                let s = corpus.load(entry);
                progress.done.fetch_add(1, Ordering::Relaxed);
                let s = s?;
                let photo = SamplePhoto::new(s.image.as_deref());
                let preds = predict_sample(&s, &photo, arms, variants);
                let mut out = score_sample(
                    &corpus.name,
                    &s,
                    &corpus.classes,
                    &preds,
                    settings,
                    corpus.overlaps(),
                    &modules,
                );
                if !taxonomy.is_empty() {
                    let fc = classify(taxonomy, &s);
                    out.iter_mut()
                        .for_each(|o| o.failure_class = Some(fc.clone()));
                }
                Ok(out)
            })
            .collect();
        let mut problems = Vec::new();
        for r in per_sample {
            match r {
                Ok(v) => scores.extend(v),
                Err(p) => problems.push(p),
            }
        }
        load_problems.push(problems);
    }
    scores.sort_by(|a, b| (&a.arm, &a.corpus, &a.id).cmp(&(&b.arm, &b.corpus, &b.id)));
    Scored {
        scores,
        load_problems,
    }
}

pub fn evaluate(plan: Plan) -> Report {
    let taxonomy: &[FailureClass] = plan.criteria.map(|c| c.taxonomy.as_slice()).unwrap_or(&[]);
    let Scored {
        scores: samples,
        load_problems,
    } = score_all(
        plan.corpora,
        plan.arms,
        plan.variants,
        &plan.score,
        taxonomy,
    );
    let mut groupings = vec![Grouping::source()];
    if !taxonomy.is_empty() {
        groupings.push(Grouping::failure_class());
    }
    let tau = plan.compare.pass_iou;
    let metrics = metrics_rows(&samples, &groupings, tau);
    let summaries = summary_rows(&samples, &groupings, tau);
    let mut arms: Vec<String> = plan
        .arms
        .iter()
        .map(|a| a.name().to_string())
        .chain(plan.variants.iter().map(|v| v.name.clone()))
        .collect();
    arms.sort();
    let mut comparisons = Vec::new();
    let baseline_draws = crate::compare::BaselineDraws::default();
    for corpus in plan.corpora {
        for arm in arms.iter().filter(|a| **a != plan.baseline) {
            comparisons.push(compare(
                arm,
                &plan.baseline,
                &corpus.name,
                &metrics,
                &summaries,
                &samples,
                &groupings,
                &plan.compare,
                &baseline_draws,
            ));
        }
    }
    let arm_details = plan
        .arms
        .iter()
        .map(|a| a.describe())
        .chain(plan.variants.iter().map(|v| v.describe()))
        .collect();
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        arm_details,
        recommendation: None,
        deciding_criteria: None,
        criteria: None,
        groups: None,
        tool: Tool {
            name: "maskgate",
            version: env!("CARGO_PKG_VERSION"),
        },
        run: plan.run,
        settings: Settings {
            baseline: plan.baseline,
            pass_iou: tau,
            grid: plan.score.grid,
            top_k: plan.compare.top_k,
            bootstrap_resamples: plan.compare.resamples,
            seed: plan.compare.seed,
            criteria_file: plan.criteria.map(|c| c.path.display().to_string()),
            failure_class_rule: (!taxonomy.is_empty()).then_some(
                "first matching [[failure_class]] in file order; no match = unclassified",
            ),
            boundary_dilation_ratio: plan.score.boundary_ratio,
            grid_resampling: "nearest (source pixel centre); polygons rasterised on the grid",
            empty_policy: EMPTY_POLICY,
            percentile_method: PERCENTILE_METHOD,
            primary_metric: "mask IoU (bbox IoU is secondary, from the tight boxes)",
        },
        arms,
        corpora: plan
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
                }
            })
            .collect(),
        unmatched_predictions: plan.unmatched_predictions,
        overlaps: crate::report::overlap_rows(&samples),
        summaries,
        metrics,
        comparisons,
        gallery: Vec::new(),
        samples,
    };
    if let Some(spec) = plan.group_score {
        report.groups = Some(crate::recommend::score_groups(&report, spec));
    }
    if let Some(c) = plan.criteria {
        let verdict = decide(&report, &c.criteria);
        report.set_verdict(verdict);
    }
    report
}
