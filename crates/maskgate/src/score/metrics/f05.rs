//! F-measure at β = 0.5, (1 + β²)·TP / ((1 + β²)·TP + β²·FN + FP): weighs precision above
//! recall, for when a leak costs more than a miss. Scaled by 4 to stay in exact integers:
//! 5·TP / (5·TP + FN + 4·FP). Undefined only when both masks are empty, like Dice.

use super::{Compute, Metric};
use maskgate_core::counts::ratio;

pub const METRIC: Metric = Metric {
    name: "f05",
    mean_column: "f05_mean",
    label: "F0.5",
    lower_is_better: false,
    decimals: 3,
    compute: Compute::Counts(|c| ratio(5 * c.tp, 5 * c.tp + c.fn_ + 4 * c.fp)),
    summary: None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use maskgate_core::Counts;
    use proptest::prelude::*;

    proptest! {
        /// Against the textbook form from precision and recall, where both are defined.
        #[test]
        fn matches_the_precision_recall_form(tp in 0u64..1000, fp in 0u64..1000, fn_ in 0u64..1000) {
            let c = Counts { tp, fp, fn_ };
            let got = METRIC.of_counts(c);
            let r = c.ratios();
            match (r.precision, r.recall) {
                (Some(p), Some(rc)) if p + rc > 0.0 => {
                    let want = 1.25 * p * rc / (0.25 * p + rc);
                    prop_assert!((got.unwrap() - want).abs() < 1e-12, "{got:?} vs {want}");
                }
                // No true positive but some error: the measure is 0, as Dice is.
                _ if !c.both_empty() => prop_assert_eq!(got, Some(0.0)),
                _ => prop_assert_eq!(got, None),
            }
        }
    }
}
