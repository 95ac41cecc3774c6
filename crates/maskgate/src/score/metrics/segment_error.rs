//! Segment error: the wrong pixels whole components with no overlap: objects missed or invented, as a share of the union of truth and
//! prediction (`maskgate_core::anatomy`; with the other two kinds it sums to 1 − IoU).

use super::{Compute, Metric};

pub const METRIC: Metric = Metric {
    name: "segment_error",
    mean_column: "segment_error_mean",
    label: "segment error",
    lower_is_better: true,
    decimals: 4,
    compute: Compute::Masks(|p| p.anatomy_share(|a| a.segment)),
    summary: Some("segment error mean"),
};
