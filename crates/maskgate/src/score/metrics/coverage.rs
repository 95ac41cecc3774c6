//! Coverage, TP / (TP + FN): the share of the ground truth the prediction covers (= recall).

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "coverage",
    mean_column: "coverage_mean",
    label: "coverage",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| c.ratios().coverage),
    summary: Some("coverage mean"),
};
