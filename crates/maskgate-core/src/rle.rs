//! COCO run-length encoding, a port of cocoapi's `maskApi.c` (byte-identical to pycocotools).
//!
//! Counts alternate runs of 0s and 1s over the column-major flattening (`x * h + y`), starting
//! with a (possibly empty) run of 0s.

use crate::mask::Mask;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Rle {
    pub h: u32,
    pub w: u32,
    pub counts: Vec<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RleError {
    #[error("RLE string has a character outside '0'..'o' at byte {0}")]
    BadChar(usize),
    #[error("RLE string ends in the middle of a count")]
    Truncated,
    #[error("RLE count {index} is negative or too large")]
    BadCount { index: usize },
    #[error("RLE counts sum to {sum} but size {h}x{w} has {expected} pixels")]
    WrongTotal {
        sum: u64,
        h: u32,
        w: u32,
        expected: u64,
    },
    #[error("RLE sizes differ: {0}x{1} vs {2}x{3}")]
    SizeMismatch(u32, u32, u32, u32),
}

impl Rle {
    /// Encodes a mask (`rleEncode`).
    pub fn encode(mask: &Mask) -> Rle {
        let mut counts = Vec::new();
        let mut pos = 0u64;
        mask.for_each_run(|start, len| {
            counts.push((start - pos) as u32);
            counts.push(len as u32);
            pos = start + len;
        });
        let total = mask.pixel_count();
        if pos < total || counts.is_empty() {
            counts.push((total - pos) as u32);
        }
        Rle {
            h: mask.height(),
            w: mask.width(),
            counts,
        }
    }

    /// Decodes into a mask (`rleDecode`). The counts must cover exactly `h * w` pixels.
    pub fn decode(&self) -> Result<Mask, RleError> {
        self.check_total()?;
        let mut m = Mask::new(self.h, self.w);
        let mut pos = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if i % 2 == 1 && c > 0 {
                m.fill_linear(pos, c as u64);
            }
            pos += c as u64;
        }
        Ok(m)
    }

    pub fn check_total(&self) -> Result<(), RleError> {
        let sum: u64 = self.counts.iter().map(|&c| c as u64).sum();
        let expected = self.h as u64 * self.w as u64;
        if sum != expected {
            return Err(RleError::WrongTotal {
                sum,
                h: self.h,
                w: self.w,
                expected,
            });
        }
        Ok(())
    }

    /// Foreground pixel count (`rleArea`): the sum of the odd-indexed counts.
    pub fn area(&self) -> u64 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&c| c as u64)
            .sum()
    }

    /// COCO `toBbox`: `[x, y, w, h]`, ported line by line, quirks included (a run that spans
    /// columns widens the box to the full height).
    pub fn bbox(&self) -> [f64; 4] {
        let (h, w) = (self.h as u64, self.w as u64);
        let m = (self.counts.len() / 2) * 2;
        if m == 0 || h == 0 {
            return [0.0; 4];
        }
        let (mut xs, mut ys, mut xe, mut ye) = (w, h, 0u64, 0u64);
        let mut cc = 0u64;
        let mut xp = 0u64;
        for j in 0..m {
            cc += self.counts[j] as u64;
            let t = cc - (j % 2) as u64;
            let y = t % h;
            let x = (t - y) / h;
            if j % 2 == 0 {
                xp = x;
            } else if xp < x {
                ys = 0;
                ye = h - 1;
            }
            xs = xs.min(x);
            xe = xe.max(x);
            ys = ys.min(y);
            ye = ye.max(y);
        }
        [
            xs as f64,
            ys as f64,
            (xe - xs + 1) as f64,
            (ye - ys + 1) as f64,
        ]
    }

    /// The compressed string form (`rleToString`): LEB128-like, 6 bits a character,
    /// deltas against the count two back from index 3 on.
    pub fn to_compressed(&self) -> String {
        // Bytes first: every character is ASCII, so a String's per-char UTF-8 step is waste.
        let mut s: Vec<u8> = Vec::with_capacity(self.counts.len() * 2);
        for i in 0..self.counts.len() {
            let mut x = self.counts[i] as i64;
            if i > 2 {
                x -= self.counts[i - 2] as i64;
            }
            loop {
                let mut c = x & 0x1f;
                x >>= 5;
                let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
                if more {
                    c |= 0x20;
                }
                s.push(c as u8 + 48);
                if !more {
                    break;
                }
            }
        }
        String::from_utf8(s).expect("the alphabet is ASCII")
    }

    /// Parses the compressed string form (`rleFrString`) and checks the total.
    pub fn from_compressed(h: u32, w: u32, s: &str) -> Result<Rle, RleError> {
        let bytes = s.as_bytes();
        // One count ends at each character without the continuation bit ('0'..'O'): exact
        // capacity, since decoded masks may be kept for a whole run (prediction files).
        let mut counts: Vec<u32> = Vec::with_capacity(bytes.iter().filter(|&&b| b < 80).count());
        // Validated up front in one pass, so the parsing loop has a single branch per char.
        if let Some(p) = bytes.iter().position(|b| !(48..=111).contains(b)) {
            return Err(RleError::BadChar(p));
        }
        // counts[m - 2] and counts[m - 1], kept at hand for the delta.
        let (mut before_last, mut last) = (0u32, 0u32);
        let mut chars = bytes.iter();
        while let Some(&first) = chars.next() {
            let mut c = (first - 48) as i64;
            let mut x = c & 0x1f;
            let mut k = 1u32;
            while c & 0x20 != 0 {
                let Some(&byte) = chars.next() else {
                    return Err(RleError::Truncated);
                };
                if k >= 12 {
                    return Err(RleError::BadCount {
                        index: counts.len(),
                    });
                }
                c = (byte - 48) as i64;
                x |= (c & 0x1f) << (5 * k);
                k += 1;
            }
            if c & 0x10 != 0 {
                x |= -1i64 << (5 * k);
            }
            let m = counts.len();
            if m > 2 {
                x += before_last as i64;
            }
            if !(0..=u32::MAX as i64).contains(&x) {
                return Err(RleError::BadCount { index: m });
            }
            counts.push(x as u32);
            (before_last, last) = (last, x as u32);
        }
        let rle = Rle { h, w, counts };
        rle.check_total()?;
        Ok(rle)
    }

    /// Union (or intersection) of several RLEs (`rleMerge`), ported run by run.
    pub fn merge(rles: &[Rle], intersect: bool) -> Result<Rle, RleError> {
        let Some(first) = rles.first() else {
            return Ok(Rle {
                h: 0,
                w: 0,
                counts: vec![],
            });
        };
        let (h, w) = (first.h, first.w);
        let mut cnts: Vec<u32> = first.counts.clone();
        for b in &rles[1..] {
            if b.h != h || b.w != w {
                return Err(RleError::SizeMismatch(h, w, b.h, b.w));
            }
            let a = std::mem::take(&mut cnts);
            if a.is_empty() || b.counts.is_empty() {
                return Err(RleError::WrongTotal {
                    sum: 0,
                    h,
                    w,
                    expected: h as u64 * w as u64,
                });
            }
            let (mut ca, mut cb) = (a[0], b.counts[0]);
            let (mut v, mut va, mut vb) = (false, false, false);
            let (mut ai, mut bi) = (1usize, 1usize);
            let mut cc = 0u32;
            let mut ct = 1u64;
            while ct > 0 {
                let c = ca.min(cb);
                cc += c;
                ct = 0;
                ca -= c;
                if ca == 0 && ai < a.len() {
                    ca = a[ai];
                    ai += 1;
                    va = !va;
                }
                ct += ca as u64;
                cb -= c;
                if cb == 0 && bi < b.counts.len() {
                    cb = b.counts[bi];
                    bi += 1;
                    vb = !vb;
                }
                ct += cb as u64;
                let vp = v;
                v = if intersect { va && vb } else { va || vb };
                if v != vp || ct == 0 {
                    cnts.push(cc);
                    cc = 0;
                }
            }
        }
        Ok(Rle { h, w, counts: cnts })
    }

    /// COCO `rleIou` for one pair; with `crowd_gt` the union is the detection's area.
    pub fn iou(dt: &Rle, gt: &Rle, crowd_gt: bool) -> Result<f64, RleError> {
        if dt.h != gt.h || dt.w != gt.w {
            return Err(RleError::SizeMismatch(dt.h, dt.w, gt.h, gt.w));
        }
        let (i, either) = Rle::overlap(dt, gt);
        let u = if crowd_gt { dt.area() } else { either };
        Ok(if i == 0 { 0.0 } else { i as f64 / u as f64 })
    }

    /// (pixels set in both, pixels set in either), walking both run lists once: the areas of
    /// `merge(.., true)` and `merge(.., false)` without building either.
    pub fn overlap(a: &Rle, b: &Rle) -> (u64, u64) {
        let (mut ia, mut ib) = (0usize, 0usize);
        // Pixels left in the current run of each, and whether that run is foreground.
        let (mut left_a, mut left_b) = (0u64, 0u64);
        let (mut on_a, mut on_b) = (true, true);
        let (mut both, mut either) = (0u64, 0u64);
        loop {
            while left_a == 0 {
                let Some(&c) = a.counts.get(ia) else {
                    return (both, either + Rle::rest_area(b, ib, left_b, on_b));
                };
                (left_a, on_a, ia) = (c as u64, !on_a, ia + 1);
            }
            while left_b == 0 {
                let Some(&c) = b.counts.get(ib) else {
                    return (both, either + Rle::rest_area(a, ia, left_a, on_a));
                };
                (left_b, on_b, ib) = (c as u64, !on_b, ib + 1);
            }
            let step = left_a.min(left_b);
            both += step * (on_a && on_b) as u64;
            either += step * (on_a || on_b) as u64;
            left_a -= step;
            left_b -= step;
        }
    }

    /// Foreground pixels from the current run (`left` pixels of it remain, `on` = foreground)
    /// to the end of `r`'s runs, the next at index `next`.
    fn rest_area(r: &Rle, next: usize, left: u64, on: bool) -> u64 {
        let rest: u64 = r.counts[next.min(r.counts.len())..]
            .iter()
            .enumerate()
            // The run at `next` has the opposite kind of the current one.
            .filter(|(k, _)| (k % 2 == 0) != on)
            .map(|(_, &c)| c as u64)
            .sum();
        left * on as u64 + rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rle_of(h: u32, w: u32, bits: &[bool]) -> Rle {
        Rle::encode(&Mask::from_fn(h, w, |y, x| bits[(y * w + x) as usize]))
    }

    proptest! {
        /// The one-pass overlap against the reference: the areas of the two merged RLEs.
        #[test]
        fn overlap_equals_the_merged_areas(
            (h, w, a, b) in (1u32..12, 1u32..12).prop_flat_map(|(h, w)| {
                let n = (h * w) as usize;
                (Just(h), Just(w), proptest::collection::vec(any::<bool>(), n), proptest::collection::vec(any::<bool>(), n))
            })
        ) {
            let (ra, rb) = (rle_of(h, w, &a), rle_of(h, w, &b));
            let both = Rle::merge(&[ra.clone(), rb.clone()], true).unwrap().area();
            let either = Rle::merge(&[ra.clone(), rb.clone()], false).unwrap().area();
            prop_assert_eq!(Rle::overlap(&ra, &rb), (both, either));
            let naive_both = a.iter().zip(&b).filter(|(x, y)| **x && **y).count() as u64;
            prop_assert_eq!(both, naive_both);
        }

        #[test]
        fn compressed_strings_round_trip(bits in proptest::collection::vec(any::<bool>(), 35)) {
            let r = rle_of(5, 7, &bits);
            let back = Rle::from_compressed(5, 7, &r.to_compressed()).unwrap();
            prop_assert_eq!(back.counts.capacity(), back.counts.len());
            prop_assert_eq!(back, r);
        }
    }

    #[test]
    fn overlap_with_leading_and_trailing_zero_runs() {
        let a = Rle {
            h: 1,
            w: 6,
            counts: vec![0, 3, 3],
        };
        let b = Rle {
            h: 1,
            w: 6,
            counts: vec![2, 4, 0, 0],
        };
        assert_eq!(Rle::overlap(&a, &b), (1, 6));
        assert_eq!(Rle::iou(&a, &b, false).unwrap(), 1.0 / 6.0);
        assert_eq!(Rle::iou(&a, &b, true).unwrap(), 1.0 / 3.0);
    }
}
