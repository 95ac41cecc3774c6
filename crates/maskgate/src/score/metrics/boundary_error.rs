//! Boundary error: the wrong pixels within the Boundary-IoU band of either mask's edge: lost edge quality, as a share of the union of truth and
//! prediction (`maskgate_core::anatomy`; with the other two kinds it sums to 1 − IoU).

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "boundary_error",
    mean_column: "boundary_error_mean",
    label: "boundary error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| p.anatomy_share(|a| a.boundary)),
    summary: Some("boundary error mean"),
};
