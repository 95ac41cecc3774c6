//! The anatomy of an error (`maskgate_core::anatomy`): the wrong pixels of a class as three
//! shares of the union of truth and prediction, which sum to 1 − IoU. Boundary errors are lost
//! edge quality, extent errors a region grown or shrunk beyond the edge band, segment errors
//! whole objects missed or invented.

use super::{Compute, Metric, Pair};

pub const BOUNDARY: Metric = Metric {
    name: "boundary_error",
    mean_column: "boundary_error_mean",
    label: "boundary error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| share(p, |a| a.boundary)),
    summary: Some("boundary error mean"),
};

pub const EXTENT: Metric = Metric {
    name: "extent_error",
    mean_column: "extent_error_mean",
    label: "extent error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| share(p, |a| a.extent)),
    summary: Some("extent error mean"),
};

pub const SEGMENT: Metric = Metric {
    name: "segment_error",
    mean_column: "segment_error_mean",
    label: "segment error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| share(p, |a| a.segment)),
    summary: Some("segment error mean"),
};

/// A kind's pixels over the union; undefined when both masks are empty, as IoU is.
fn share(p: &Pair, kind: fn(&maskgate_core::anatomy::Anatomy) -> u64) -> Option<f64> {
    let union = p.counts.tp + p.counts.fp + p.counts.fn_;
    (union > 0).then(|| kind(&p.anatomy()) as f64 / union as f64)
}
