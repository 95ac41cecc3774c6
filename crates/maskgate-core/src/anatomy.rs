//! The anatomy of an error: a prediction's wrong pixels (FP ∪ FN) split into three kinds, so a
//! reviewer can tell lost edge quality from a missed or invented object.
//!
//! - **segment**: every pixel of a component (8-connected) of either mask that does not
//!   overlap the other mask at all: an object the prediction missed, or one it invented;
//! - **boundary**: of the rest, the wrong pixels within the Boundary-IoU band of either mask's
//!   edge (a missed pixel in the truth's inner band, an extra one in the prediction's);
//! - **extent**: the remaining wrong pixels, in components that do overlap the other mask but
//!   farther from its edge than the band.
//!
//! Each wrong pixel is in exactly one kind, so the three sum to FP + FN, and as shares of the
//! union to 1 − IoU.

use crate::mask::Mask;
use crate::morphology::reach;

/// Wrong pixels of one (truth, prediction) pair by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anatomy {
    pub boundary: u64,
    pub extent: u64,
    pub segment: u64,
}

impl Anatomy {
    pub fn total(&self) -> u64 {
        self.boundary + self.extent + self.segment
    }
}

/// The anatomy of `pred` against `gt`, given each mask's inner boundary band
/// ([`Mask::inner_boundary`] at the Boundary-IoU width).
pub fn anatomy(gt: &Mask, pred: &Mask, gt_band: &Mask, pred_band: &Mask) -> Anatomy {
    let overlap = gt.intersection(pred);
    // Components that touch the other mask: everything else of a mask is a whole missed or
    // invented object.
    let gt_kept = reach(&overlap, gt);
    let pred_kept = reach(&overlap, pred);
    let segment = (gt.area() - gt_kept.area()) + (pred.area() - pred_kept.area());
    // Wrong pixels outside those whole objects: a missed one lies in the truth and only the
    // truth's band can hold it; an extra one lies in the prediction and only its band can.
    let missed = gt_kept.difference(pred);
    let extra = pred_kept.difference(gt);
    let boundary = missed.intersection_count(gt_band) + extra.intersection_count(pred_band);
    Anatomy {
        boundary,
        extent: missed.area() + extra.area() - boundary,
        segment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::morphology::components;
    use proptest::prelude::*;

    /// Pixel by pixel from a full labelling of both masks.
    fn naive(gt: &Mask, pred: &Mask, d: u32) -> Anatomy {
        let (gt_band, pred_band) = (gt.inner_boundary(d), pred.inner_boundary(d));
        let w = gt.width() as usize;
        let touches = |m: &Mask, other: &Mask| {
            let (labels, areas) = components(m);
            let mut hit = vec![false; areas.len()];
            for y in 0..m.height() {
                for x in 0..m.width() {
                    let l = labels[y as usize * w + x as usize];
                    if l > 0 && other.get(y, x) {
                        hit[l as usize - 1] = true;
                    }
                }
            }
            (labels, hit)
        };
        let (gl, gh) = touches(gt, pred);
        let (pl, ph) = touches(pred, gt);
        let mut a = Anatomy::default();
        for y in 0..gt.height() {
            for x in 0..gt.width() {
                let (g, p) = (gt.get(y, x), pred.get(y, x));
                if g == p {
                    continue;
                }
                let i = y as usize * w + x as usize;
                let whole_object = if g {
                    !gh[gl[i] as usize - 1]
                } else {
                    !ph[pl[i] as usize - 1]
                };
                if whole_object {
                    a.segment += 1;
                } else if gt_band.get(y, x) || pred_band.get(y, x) {
                    a.boundary += 1;
                } else {
                    a.extent += 1;
                }
            }
        }
        a
    }

    fn arb_pair() -> impl Strategy<Value = (Mask, Mask, u32)> {
        (1u32..48, 1u32..48, any::<u64>(), 1u32..4, 2u64..9).prop_map(|(h, w, seed, d, k)| {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            // Blobs rather than noise: a pixel copies its upper neighbour most of the time.
            let mut rows = vec![vec![0u8; w as usize]; h as usize];
            let mut pred_rows = rows.clone();
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let up = if y > 0 { rows[y - 1][x] } else { 0 };
                    rows[y][x] = if next() % k == 0 { 1 - up } else { up };
                    let noise = next() % (3 * k) == 0;
                    pred_rows[y][x] = rows[y][x] ^ noise as u8;
                }
            }
            (Mask::from_rows(&rows), Mask::from_rows(&pred_rows), d)
        })
    }

    proptest! {
        #[test]
        fn matches_the_pixel_by_pixel_reference((gt, pred, d) in arb_pair()) {
            let a = anatomy(&gt, &pred, &gt.inner_boundary(d), &pred.inner_boundary(d));
            prop_assert_eq!(a, naive(&gt, &pred, d));
            let c = gt.counts_against(&pred);
            prop_assert_eq!(a.total(), c.fp + c.fn_, "the kinds sum to FP + FN");
        }
    }

    #[test]
    fn each_kind_where_it_belongs() {
        // Truth: a 20×20 square and a dot far away; prediction: the square shifted right by 1
        // and grown 6 px at the bottom, no dot, and an invented 2×2 blob.
        let gt = Mask::from_fn(64, 64, |y, x| {
            (10..30).contains(&y) && (10..30).contains(&x) || (y, x) == (50, 50)
        });
        let pred = Mask::from_fn(64, 64, |y, x| {
            (10..36).contains(&y) && (11..31).contains(&x)
                || (2..4).contains(&y) && (50..52).contains(&x)
        });
        let d = 2;
        let a = anatomy(&gt, &pred, &gt.inner_boundary(d), &pred.inner_boundary(d));
        // Segment: the missed dot and the invented blob.
        assert_eq!(a.segment, 1 + 4);
        // The growth is 6 rows of 20 columns; the prediction's band takes its 2 outer rows and
        // 2 columns on each side, leaving 4 × 16 as extent.
        assert_eq!(a.extent, 4 * 16);
        assert_eq!(a.total(), naive(&gt, &pred, d).total());
        assert_eq!(a, naive(&gt, &pred, d));
    }
}
