//! Precision, TP / (TP + FP): undefined without a predicted pixel.

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "precision",
    mean_column: "precision_mean",
    label: "precision",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| c.ratios().precision),
    summary: None,
};
