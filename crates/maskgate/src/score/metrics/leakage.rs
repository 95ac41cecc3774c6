//! Leakage, FP / (TP + FP): the share of the prediction outside the ground truth.

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "leakage",
    mean_column: "leakage_mean",
    label: "leakage",
    lower_is_better: true,
    decimals: 3,
    compute: Compute::Counts(|c| c.ratios().leakage),
    summary: Some("leakage mean"),
};
