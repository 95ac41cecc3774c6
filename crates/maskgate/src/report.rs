//! The [`Report`]: everything the exporters need, schema-versioned. Exporters never compute.

use crate::aggregate::{MetricsRow, OverlapRow, SummaryRow};
use crate::compare::{CompareSettings, Comparison};
use crate::decide::{CriterionResult, Recommendation, Verdict};
use crate::evaluation::{CorpusInfo, Evaluation};
use crate::gallery::GalleryEntry;
use crate::recommend::GroupScores;
use crate::score::{SampleScore, ScoreSettings};
use serde::Serialize;
use std::collections::BTreeMap;

/// Bumped whenever a field of `report.json` changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

pub const EMPTY_POLICY: &str =
    "both empty: every ratio null (excluded from means, counted in n_empty); \
GT empty, prediction not: IoU 0, precision 0, leakage 1, recall/coverage null; \
GT not empty, prediction empty: IoU 0, recall/coverage 0, precision/leakage null";

pub const PERCENTILE_METHOD: &str = "linear interpolation between closest ranks (numpy default)";

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct InputFile {
    pub role: String,
    /// Relative to the run's paths base (`RunMeta::paths_relative_to`), or a URL.
    pub path: String,
    /// The same file from the working folder, as the attestation names it for `verify`.
    #[serde(skip)]
    pub named: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunMeta {
    pub run_id: String,
    pub generated_at: String,
    /// What every path of the report is relative to ("the folder of the config maskgate.toml").
    pub paths_relative_to: String,
    pub inputs: Vec<InputFile>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub baseline: String,
    pub pass_iou: f64,
    pub grid: Option<u32>,
    pub top_k: usize,
    pub bootstrap_resamples: usize,
    pub seed: u64,
    /// Where the criteria (and τ) came from, if a criteria file was given.
    pub criteria_file: Option<String>,
    /// The criteria file's pre-registered sha256 and what pinned it, when it was pinned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria_pin: Option<crate::decide::criteria::CriteriaPin>,
    pub failure_class_rule: Option<&'static str>,
    /// Each failure class with its rule, in the order they are tried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failure_classes: Vec<crate::taxonomy::ClassRule>,
    pub boundary_dilation_ratio: f64,
    pub grid_resampling: &'static str,
    pub empty_policy: &'static str,
    pub percentile_method: &'static str,
    pub primary_metric: &'static str,
    /// What makes a suspect label, and whether suspects were left out of the verdict.
    pub suspects: crate::suspects::SuspectSettings,
    /// How sample properties were cut into slices.
    pub slices: crate::slices::SliceSettings,
}

impl Settings {
    /// The settings with the criteria's pre-registration (see `[run] criteria_sha256`).
    pub fn pinned(self, pin: Option<crate::decide::criteria::CriteriaPin>) -> Settings {
        Settings {
            criteria_pin: pin,
            ..self
        }
    }

    /// The verdict's last sentence: whether the criteria were fixed before the run.
    pub fn registration_sentence(&self) -> String {
        match &self.criteria_pin {
            Some(p) => format!(
                "Criteria pre-registered: sha256 {} pinned by {}.",
                crate::fmt::hash_prefix(&p.sha256),
                p.source
            ),
            None => "Criteria not pinned: set [run] criteria_sha256 (or add a criteria.lock beside the config) to pre-register them.".to_string(),
        }
    }

    /// The settings a report records, from the plan's score and compare settings.
    pub fn new(
        baseline: &str,
        score: &ScoreSettings,
        compare: &CompareSettings,
        criteria_file: Option<String>,
        taxonomy: &[crate::taxonomy::FailureClass],
    ) -> Settings {
        Settings {
            baseline: baseline.to_string(),
            pass_iou: compare.pass_iou,
            grid: score.grid,
            top_k: compare.top_k,
            bootstrap_resamples: compare.resamples,
            seed: compare.seed,
            criteria_file,
            criteria_pin: None,
            failure_class_rule: (!taxonomy.is_empty()).then_some(
                "first matching [[failure_class]] in file order; no match = unclassified",
            ),
            failure_classes: taxonomy.iter().map(|c| c.rule()).collect(),
            boundary_dilation_ratio: score.boundary_ratio,
            grid_resampling: "nearest (source pixel centre); polygons rasterised on the grid",
            empty_policy: EMPTY_POLICY,
            percentile_method: PERCENTILE_METHOD,
            primary_metric: "mask IoU (bbox IoU is secondary, from the tight boxes)",
            suspects: Default::default(),
            slices: Default::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `go` / `no-go` / `inconclusive` when criteria were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// Failed criteria (the first decides), or the undecided ones for an inconclusive run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deciding_criteria: Option<Vec<String>>,
    /// On a go, the passing check nearest its bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closest_criterion: Option<crate::decide::Closest>,
    /// The verdict in one sentence, with the criteria that decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_summary: Option<String>,
    /// Every criterion with its checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<CriterionResult>>,
    /// The inference-noise check: the checks near pixels could flip, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_check: Option<crate::decide::NoiseVerdict>,
    /// Composite scores per group (arm or variant) and the recommended group, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupScores>,
    pub tool: Tool,
    pub run: RunMeta,
    pub settings: Settings,
    pub arms: Vec<String>,
    /// How each arm produced its masks: adapter, parameters (threshold included), model sha256,
    /// or the predictions file.
    pub arm_details: Vec<serde_json::Value>,
    pub corpora: Vec<CorpusInfo>,
    /// Per arm, prediction ids that no gold sample has (reported, not scored).
    pub unmatched_predictions: BTreeMap<String, Vec<String>>,
    pub summaries: Vec<SummaryRow>,
    pub metrics: Vec<MetricsRow>,
    pub comparisons: Vec<Comparison>,
    /// Region × class overlap means (face modules: forehead on hair, under-eye leaks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overlaps: Vec<OverlapRow>,
    /// COCOeval's mask AP/AR (the 12 numbers) per (arm, corpus, group) and class, where both
    /// the ground truth and the arm have instances.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<crate::aggregate::InstanceRow>,
    /// Samples whose label every arm disputes: every pair of arms agrees (mask IoU ≥
    /// `settings.suspects.agreement`) while each arm's mIoU is ≤ `settings.suspects.truth_iou`.
    pub suspects: Vec<crate::suspects::Suspect>,
    /// The suspects were left out of the aggregates, comparisons and verdict.
    pub suspects_excluded: bool,
    /// Each sample property's quantile bins per corpus: the groups of `slice:<property>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<crate::slices::SliceBins>,
    /// Per (arm, corpus), the slice bins with the lowest paired mIoU delta.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weak_slices: Vec<crate::slices::WeakSlice>,
    /// Photos two corpora share, or the training manifest lists, and what the run did.
    #[serde(skip_serializing_if = "crate::read::shared::SharedPhotos::unchecked")]
    pub shared_photos: crate::read::shared::SharedPhotos,
    /// Overlay pictures of the top regressions and improvements (files under `gallery/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gallery: Vec<GalleryEntry>,
    /// One entry per (arm, sample); written to `samples.jsonl`, not to `report.json`.
    #[serde(skip)]
    pub samples: Vec<SampleScore>,
    /// The report files of this run (for the Markdown's artifact list).
    #[serde(skip)]
    pub artifacts: Vec<String>,
    /// What the model arms cost, when measured: `cost.json` and the Cost section, never
    /// `report.json` (a measurement differs run to run).
    #[serde(skip)]
    pub cost: Option<crate::cost::CostReport>,
}

impl Report {
    /// The report of an evaluation, with what the later stages decided about it. Nothing is
    /// computed here: every number comes from the evaluation, the verdict or the gallery.
    pub fn assemble(evaluation: Evaluation, parts: ReportParts) -> Report {
        // A reviewer weighs shared photos with the verdict, so the warning stands in it.
        let held_out: Vec<&str> = (evaluation.corpora.iter())
            .filter(|c| c.held_out)
            .map(|c| c.name.as_str())
            .collect();
        let warning = parts
            .shared_photos
            .verdict_warning(&held_out)
            .map(|w| format!("{w} "))
            .unwrap_or_default();
        let summary = parts.verdict.as_ref().map(|v| {
            format!(
                "{} {warning}{}",
                v.summary(),
                parts.settings.registration_sentence()
            )
        });
        let (recommendation, deciding_criteria, closest_criterion, criteria, noise_check) =
            match parts.verdict {
                Some(v) => (
                    Some(v.recommendation),
                    Some(v.deciding_criteria),
                    v.closest,
                    Some(v.criteria),
                    v.noise,
                ),
                None => (None, None, None, None, None),
            };
        Report {
            schema_version: SCHEMA_VERSION,
            recommendation,
            deciding_criteria,
            closest_criterion,
            verdict_summary: summary,
            criteria,
            noise_check,
            groups: parts.groups,
            tool: Tool {
                name: "maskgate",
                version: env!("CARGO_PKG_VERSION"),
            },
            run: parts.run,
            settings: parts.settings,
            arms: evaluation.arms,
            arm_details: parts.arm_details,
            corpora: evaluation.corpora,
            unmatched_predictions: parts.unmatched_predictions,
            summaries: evaluation.summaries,
            metrics: evaluation.metrics,
            comparisons: evaluation.comparisons,
            overlaps: evaluation.overlaps,
            instances: evaluation.instances,
            suspects: evaluation.suspects,
            suspects_excluded: evaluation.suspects_excluded,
            slices: evaluation.slices,
            weak_slices: evaluation.weak_slices,
            gallery: parts.gallery,
            shared_photos: parts.shared_photos,
            samples: evaluation.samples,
            artifacts: parts.artifacts,
            cost: parts.cost,
        }
    }

    /// The other samples of `corpus` whose photo is byte-identical to `id`'s, if any.
    pub fn same_photo(&self, corpus: &str, id: &str) -> Option<Vec<&str>> {
        let c = self.corpora.iter().find(|c| c.name == corpus)?;
        let group = c
            .duplicate_photos
            .iter()
            .find(|g| g.iter().any(|x| x == id))?;
        Some(
            group
                .iter()
                .filter(|x| *x != id)
                .map(String::as_str)
                .collect(),
        )
    }

    /// The verdict recorded in the report, when criteria were given.
    pub fn verdict(&self) -> Option<Verdict> {
        Some(Verdict {
            recommendation: self.recommendation?,
            deciding_criteria: self.deciding_criteria.clone().unwrap_or_default(),
            closest: self.closest_criterion.clone(),
            criteria: self.criteria.clone()?,
            noise: self.noise_check.clone(),
        })
    }

    /// The evaluation this report holds (to decide it again under other criteria).
    pub fn evaluation(&self) -> Evaluation {
        Evaluation {
            baseline: self.settings.baseline.clone(),
            pass_iou: self.settings.pass_iou,
            arms: self.arms.clone(),
            corpora: self.corpora.clone(),
            summaries: self.summaries.clone(),
            metrics: self.metrics.clone(),
            comparisons: self.comparisons.clone(),
            overlaps: self.overlaps.clone(),
            instances: self.instances.clone(),
            samples: self.samples.clone(),
            // The flipped scores are not kept in the report: deciding it again has no noise
            // check to repeat.
            adverse: None,
            suspects: self.suspects.clone(),
            suspects_excluded: self.suspects_excluded,
            slices: self.slices.clone(),
            weak_slices: self.weak_slices.clone(),
        }
    }
}

/// What the stages after the evaluation add to the report.
pub struct ReportParts {
    pub run: RunMeta,
    pub settings: Settings,
    /// How each arm produced its masks (adapter, parameters, model hash, or the file).
    pub arm_details: Vec<serde_json::Value>,
    pub unmatched_predictions: BTreeMap<String, Vec<String>>,
    pub verdict: Option<Verdict>,
    pub groups: Option<GroupScores>,
    pub gallery: Vec<GalleryEntry>,
    /// The report files this run writes.
    pub artifacts: Vec<String>,
    pub cost: Option<crate::cost::CostReport>,
    /// Photos shared between corpora or with the training set.
    pub shared_photos: crate::read::shared::SharedPhotos,
}
