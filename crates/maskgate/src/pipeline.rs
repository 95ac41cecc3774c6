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
use crate::predict::Arm;
use crate::read::Corpus;
use crate::report::{
    CorpusInfo, Report, RunMeta, Settings, Tool, EMPTY_POLICY, PERCENTILE_METHOD, SCHEMA_VERSION,
};
use crate::score::{score_sample, SampleScore, ScoreSettings};
use rayon::prelude::*;
use std::collections::BTreeMap;

pub struct Plan<'a> {
    pub corpora: &'a [Corpus],
    pub arms: &'a [&'a dyn Arm],
    pub baseline: String,
    pub score: ScoreSettings,
    pub compare: CompareSettings,
    pub criteria: Option<&'a CriteriaFile>,
    pub run: RunMeta,
    pub unmatched_predictions: BTreeMap<String, Vec<String>>,
}

/// Scores every sample of every corpus for every arm, sorted by (arm, corpus, id).
pub fn score_all(
    corpora: &[Corpus],
    arms: &[&dyn Arm],
    settings: &ScoreSettings,
    taxonomy: &[FailureClass],
) -> Vec<SampleScore> {
    let mut scores: Vec<SampleScore> = Vec::new();
    for corpus in corpora {
        let per_sample: Vec<Vec<SampleScore>> = corpus
            .samples
            .par_iter()
            .map(|s| {
                let photo = SamplePhoto::new(s.image.as_deref());
                let preds: Vec<_> = arms
                    .iter()
                    .map(|a| (a.name(), a.predict(s, &photo)))
                    .collect();
                let mut out = score_sample(&corpus.name, s, &corpus.classes, &preds, settings);
                if !taxonomy.is_empty() {
                    let fc = classify(taxonomy, s);
                    out.iter_mut()
                        .for_each(|o| o.failure_class = Some(fc.clone()));
                }
                out
            })
            .collect();
        scores.extend(per_sample.into_iter().flatten());
    }
    scores.sort_by(|a, b| (&a.arm, &a.corpus, &a.id).cmp(&(&b.arm, &b.corpus, &b.id)));
    scores
}

pub fn evaluate(plan: Plan) -> Report {
    let taxonomy: &[FailureClass] = plan.criteria.map(|c| c.taxonomy.as_slice()).unwrap_or(&[]);
    let samples = score_all(plan.corpora, plan.arms, &plan.score, taxonomy);
    let mut groupings = vec![Grouping::source()];
    if !taxonomy.is_empty() {
        groupings.push(Grouping::failure_class());
    }
    let tau = plan.compare.pass_iou;
    let metrics = metrics_rows(&samples, &groupings, tau);
    let summaries = summary_rows(&samples, &groupings, tau);
    let mut arms: Vec<String> = plan.arms.iter().map(|a| a.name().to_string()).collect();
    arms.sort();
    let mut comparisons = Vec::new();
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
            ));
        }
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        recommendation: None,
        deciding_criteria: None,
        criteria: None,
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
            .map(|c| CorpusInfo {
                name: c.name.clone(),
                format: c.format.to_string(),
                classes: c.classes.clone(),
                samples: c.samples.len(),
                problems: c.problems.clone(),
            })
            .collect(),
        unmatched_predictions: plan.unmatched_predictions,
        summaries,
        metrics,
        comparisons,
        samples,
    };
    if let Some(c) = plan.criteria {
        let verdict = decide(&report, &c.criteria);
        report.set_verdict(verdict);
    }
    report
}
