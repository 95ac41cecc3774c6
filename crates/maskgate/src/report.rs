//! The [`Report`]: everything the exporters need, schema-versioned. Exporters never compute.

use crate::aggregate::{MetricsRow, SummaryRow};
use crate::compare::Comparison;
use crate::read::Problem;
use crate::score::SampleScore;
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
    pub path: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunMeta {
    pub run_id: String,
    pub generated_at: String,
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
    pub failure_class_rule: Option<&'static str>,
    pub boundary_dilation_ratio: f64,
    pub grid_resampling: &'static str,
    pub empty_policy: &'static str,
    pub percentile_method: &'static str,
    pub primary_metric: &'static str,
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
pub fn overlap_rows(samples: &[crate::score::SampleScore]) -> Vec<OverlapRow> {
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

#[derive(Clone, Debug, Serialize)]
pub struct CorpusInfo {
    pub name: String,
    pub format: String,
    pub classes: Vec<String>,
    pub samples: usize,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `go` / `no-go` / `inconclusive` when criteria were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<crate::decide::Recommendation>,
    /// Failed criteria (the first decides), or the undecided ones for an inconclusive run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deciding_criteria: Option<Vec<String>>,
    /// Every criterion with its checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<crate::decide::CriterionResult>>,
    /// Composite scores per group (arm or variant) and the recommended group, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<crate::recommend::GroupScores>,
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
    /// Overlay pictures of the top regressions and improvements (files under `gallery/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gallery: Vec<crate::gallery::GalleryEntry>,
    /// One entry per (arm, sample); written to `samples.jsonl`, not to `report.json`.
    #[serde(skip)]
    pub samples: Vec<SampleScore>,
}

impl Report {
    /// Records the verdict in the report's top-level fields.
    pub fn set_verdict(&mut self, v: crate::decide::Verdict) {
        self.recommendation = Some(v.recommendation);
        self.deciding_criteria = Some(v.deciding_criteria);
        self.criteria = Some(v.criteria);
    }

    pub fn summary(
        &self,
        arm: &str,
        corpus: &str,
        group_by: &str,
        group: &str,
    ) -> Option<&SummaryRow> {
        self.summaries.iter().find(|s| {
            s.arm == arm && s.corpus == corpus && s.group_by == group_by && s.group == group
        })
    }

    pub fn row(
        &self,
        arm: &str,
        corpus: &str,
        group_by: &str,
        group: &str,
        class: &str,
    ) -> Option<&MetricsRow> {
        self.metrics.iter().find(|r| {
            r.arm == arm
                && r.corpus == corpus
                && r.group_by == group_by
                && r.group == group
                && r.class == class
        })
    }
}
