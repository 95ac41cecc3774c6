//! Intersection over union, TP / (TP + FP + FN): the headline metric.

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "iou",
    mean_column: "iou_mean",
    label: "IoU",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| c.iou()),
    summary: None,
};
