//! IoU of the two tight boxes (secondary): undefined when both masks are empty, 0 when one is.

use super::{Compute, Metric, Pair};

pub const METRIC: Metric = Metric {
    name: "bbox_iou",
    mean_column: "bbox_iou_mean",
    label: "bbox IoU",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Masks(bbox_iou),
    summary: None,
};

fn bbox_iou(p: &Pair) -> Option<f64> {
    match (p.gt_bbox, p.pred_bbox) {
        (None, None) => None,
        (Some(a), Some(b)) => Some(a.iou(&b)),
        _ => Some(0.0),
    }
}
