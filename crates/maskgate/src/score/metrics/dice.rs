//! Dice (F1), 2·TP / (2·TP + FP + FN).

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "dice",
    mean_column: "dice_mean",
    label: "Dice",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| c.ratios().dice),
    summary: None,
};
