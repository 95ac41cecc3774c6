//! Extent error: the wrong pixels beyond the band, in components that overlap the other mask: a region grown or shrunk, as a share of the union of truth and
//! prediction (`maskgate_core::anatomy`; with the other two kinds it sums to 1 − IoU).

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "extent_error",
    mean_column: "extent_error_mean",
    label: "extent error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| p.anatomy_share(|a| a.extent)),
    summary: Some("extent error mean"),
};
