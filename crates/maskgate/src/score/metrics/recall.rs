//! Recall, TP / (TP + FN): undefined without a ground-truth pixel.

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "recall",
    mean_column: "recall_mean",
    label: "recall",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| c.ratios().recall),
    summary: None,
};
