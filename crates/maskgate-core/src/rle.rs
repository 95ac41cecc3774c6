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
        let mut s = String::with_capacity(self.counts.len() * 2);
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
                s.push((c as u8 + 48) as char);
                if !more {
                    break;
                }
            }
        }
        s
    }

    /// Parses the compressed string form (`rleFrString`) and checks the total.
    pub fn from_compressed(h: u32, w: u32, s: &str) -> Result<Rle, RleError> {
        let bytes = s.as_bytes();
        let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
        let mut p = 0usize;
        while p < bytes.len() {
            let mut x: i64 = 0;
            let mut k = 0u32;
            loop {
                let Some(&byte) = bytes.get(p) else {
                    return Err(RleError::Truncated);
                };
                if !(48..=111).contains(&byte) {
                    return Err(RleError::BadChar(p));
                }
                if k >= 12 {
                    return Err(RleError::BadCount {
                        index: counts.len(),
                    });
                }
                let c = (byte - 48) as i64;
                x |= (c & 0x1f) << (5 * k);
                let more = c & 0x20 != 0;
                p += 1;
                k += 1;
                if !more && (c & 0x10) != 0 {
                    x |= -1i64 << (5 * k);
                }
                if !more {
                    break;
                }
            }
            let m = counts.len();
            if m > 2 {
                x += counts[m - 2] as i64;
            }
            if !(0..=u32::MAX as i64).contains(&x) {
                return Err(RleError::BadCount { index: m });
            }
            counts.push(x as u32);
        }
        // Decoded masks may be kept for a whole run (prediction files): no spare capacity.
        counts.shrink_to_fit();
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
        let i = Rle::merge(&[dt.clone(), gt.clone()], true)?.area();
        let u = if crowd_gt {
            dt.area()
        } else {
            Rle::merge(&[dt.clone(), gt.clone()], false)?.area()
        };
        Ok(if i == 0 { 0.0 } else { i as f64 / u as f64 })
    }
}
