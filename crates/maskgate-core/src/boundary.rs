//! Boundary IoU (Cheng et al., CVPR 2021), as `boundary-iou-api`'s `mask_to_boundary`.

use crate::mask::Mask;

/// Boundary width in pixels: `max(1, round_half_even(ratio · diagonal))`.
pub fn dilation_px(h: u32, w: u32, ratio: f64) -> u32 {
    let diag = ((h as f64).powi(2) + (w as f64).powi(2)).sqrt();
    let d = (ratio * diag).round_ties_even();
    if d < 1.0 {
        1
    } else {
        d as u32
    }
}

/// `|B_G ∩ B_P| / |B_G ∪ B_P|`, `None` when both boundaries are empty (both masks empty).
/// A border-touching mask keeps a boundary along the image edge, as the reference's zero pad does.
pub fn boundary_iou(gt: &Mask, pred: &Mask, d: u32) -> Option<f64> {
    let bg = gt.inner_boundary(d);
    let bp = pred.inner_boundary(d);
    let c = bg.counts_against(&bp);
    let union = c.tp + c.fp + c.fn_;
    (union > 0).then(|| c.tp as f64 / union as f64)
}
