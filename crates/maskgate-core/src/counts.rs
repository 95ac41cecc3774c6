//! Pixel counts of one (ground truth, prediction) pair and the ratios derived from them.

use std::ops::AddAssign;

/// True positives, false positives and false negatives in pixels. Summable, so pooled
/// (micro) metrics come from adding counts, never from averaging ratios.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// `num / den`, undefined when `den` is 0: the empty-mask policy of every count ratio (public
/// so that metrics declared outside this crate share it).
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The ratios of one pair under the declared empty-mask policy:
/// - both empty: every ratio undefined (`None`);
/// - GT empty, prediction not: IoU 0, precision 0, leakage 1, recall/coverage undefined;
/// - GT set, prediction empty: IoU 0, recall/coverage 0, precision/leakage undefined.
///
/// The policy falls out of the definitions with `0/0 = undefined`, except IoU and Dice, which
/// are undefined only when both masks are empty.
#[derive(Clone, Copy, Default, PartialEq, Debug)]
pub struct Ratios {
    pub iou: Option<f64>,
    pub dice: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// FP / (TP + FP): the share of the prediction outside the ground truth.
    pub leakage: Option<f64>,
    /// TP / (TP + FN): the share of the ground truth the prediction covers (= recall).
    pub coverage: Option<f64>,
}

impl Counts {
    pub fn gt_pixels(&self) -> u64 {
        self.tp + self.fn_
    }
    pub fn pred_pixels(&self) -> u64 {
        self.tp + self.fp
    }
    pub fn both_empty(&self) -> bool {
        self.tp + self.fp + self.fn_ == 0
    }
    pub fn iou(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp + self.fn_)
    }
    pub fn ratios(&self) -> Ratios {
        let recall = ratio(self.tp, self.tp + self.fn_);
        Ratios {
            iou: self.iou(),
            dice: ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_),
            precision: ratio(self.tp, self.tp + self.fp),
            recall,
            leakage: ratio(self.fp, self.tp + self.fp),
            coverage: recall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy() {
        let both = Counts::default().ratios();
        assert_eq!(both, Ratios::default());
        let gt_empty = Counts {
            tp: 0,
            fp: 5,
            fn_: 0,
        }
        .ratios();
        assert_eq!(gt_empty.iou, Some(0.0));
        assert_eq!(gt_empty.precision, Some(0.0));
        assert_eq!(gt_empty.leakage, Some(1.0));
        assert_eq!(gt_empty.recall, None);
        assert_eq!(gt_empty.coverage, None);
        let pred_empty = Counts {
            tp: 0,
            fp: 0,
            fn_: 7,
        }
        .ratios();
        assert_eq!(pred_empty.iou, Some(0.0));
        assert_eq!(pred_empty.recall, Some(0.0));
        assert_eq!(pred_empty.coverage, Some(0.0));
        assert_eq!(pred_empty.precision, None);
        assert_eq!(pred_empty.leakage, None);
    }

    #[test]
    fn ratios_of_known_counts() {
        let r = Counts {
            tp: 6,
            fp: 2,
            fn_: 4,
        }
        .ratios();
        assert_eq!(r.iou, Some(0.5));
        assert_eq!(r.dice, Some(12.0 / 18.0));
        assert_eq!(r.precision, Some(0.75));
        assert_eq!(r.recall, Some(0.6));
        assert_eq!(r.leakage, Some(0.25));
    }
}
