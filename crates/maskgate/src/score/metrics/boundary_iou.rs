//! Boundary IoU (Cheng et al. 2021): IoU of the two masks' inner boundary bands.

use super::{Compute, Metric, Pair};

pub const METRIC: Metric = Metric {
    name: "boundary_iou",
    mean_column: "boundary_iou_mean",
    label: "boundary IoU",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Masks(boundary_iou),
    summary: Some("boundary IoU mean"),
};

fn boundary_iou(p: &Pair) -> Option<f64> {
    if p.counts.both_empty() {
        return None;
    }
    let c = p.gt_boundary.counts_against(p.pred_boundary());
    // Both bands empty while a mask is not cannot happen; 0 rather than undefined if it does.
    Some(c.iou().unwrap_or(0.0))
}
