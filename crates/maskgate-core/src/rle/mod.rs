//! COCO run-length encoding, a port of cocoapi's `maskApi.c` (byte-identical to pycocotools).
//!
//! Counts alternate runs of 0s and 1s over the column-major flattening (`x * h + y`), starting
//! with a (possibly empty) run of 0s.

use crate::mask::Mask;

/// The SSSE3 block kernels of the compressed-string codec (the scalar code here is their
/// fallback and their reference).
#[cfg(target_arch = "x86_64")]
mod ssse3;

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
        let counts = &self.counts;
        // Most deltas take one or two characters: two per count, the rest grown on demand.
        let mut s: Vec<u8> = Vec::with_capacity(counts.len() * 2 + 16);
        let mut next = 0;
        #[cfg(target_arch = "x86_64")]
        if counts.len() > 3 && std::arch::is_x86_feature_detected!("ssse3") {
            for &count in &counts[..3] {
                push_compressed(&mut s, count as i64);
            }
            // SAFETY: the CPU supports SSSE3, checked just above.
            next = unsafe { ssse3::push_compressed_blocks(counts, 3, &mut s) };
        }
        for i in next..counts.len() {
            push_compressed(&mut s, delta_at(counts, i));
        }
        String::from_utf8(s).expect("the alphabet is ASCII")
    }

    /// Parses the compressed string form (`rleFrString`) and checks the total.
    pub fn from_compressed(h: u32, w: u32, s: &str) -> Result<Rle, RleError> {
        let bytes = s.as_bytes();
        let counts = match parse_well_formed(bytes) {
            Some(counts) => counts,
            // Malformed: the character-by-character parser finds and names the fault.
            None => parse_checked(bytes)?,
        };
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

/// What `rleToString` encodes for count `i`: the count itself for the first three, else its
/// difference from the count two back.
fn delta_at(counts: &[u32], i: usize) -> i64 {
    counts[i] as i64 - if i > 2 { counts[i - 2] as i64 } else { 0 }
}

/// Appends one count's characters: sign-extended 5-bit groups, low first, each but the last
/// flagged 0x20, offset by '0'.
pub(crate) fn push_compressed(s: &mut Vec<u8>, mut x: i64) {
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

/// (a byte outside '0'..'o', how many bytes end a count) in one pass that vectorises: per
/// chunk of 64 the tally fits a byte.
fn survey(bytes: &[u8]) -> (bool, usize) {
    let (mut outside, mut ends) = (0u8, 0usize);
    let mut chunks = bytes.chunks_exact(64);
    for chunk in &mut chunks {
        let mut chunk_ends = 0u8;
        for &b in chunk {
            outside |= (b.wrapping_sub(48) > 63) as u8;
            chunk_ends += (b < 80) as u8;
        }
        ends += chunk_ends as usize;
    }
    for &b in chunks.remainder() {
        outside |= (b.wrapping_sub(48) > 63) as u8;
        ends += (b < 80) as usize;
    }
    (outside != 0, ends)
}

/// One count's value (before the delta) starting at `bytes[at]`, and the bytes it used.
/// `None` if the string ends inside it or it runs past 12 characters.
pub(crate) fn parse_one(bytes: &[u8], at: usize) -> Option<(i64, usize)> {
    let mut used = 0;
    let mut x = 0i64;
    loop {
        if used == 12 {
            return None;
        }
        let c = (*bytes.get(at + used)? - 48) as i64;
        x |= (c & 0x1f) << (5 * used);
        used += 1;
        if c & 0x20 == 0 {
            if c & 0x10 != 0 {
                x |= -1i64 << (5 * used);
            }
            return Some((x, used));
        }
    }
}

/// The counts of a string, fast; `None` if it is malformed in any way (the checked parser then
/// says how). Its results are property-tested against `parse_checked`.
fn parse_well_formed(bytes: &[u8]) -> Option<Vec<u32>> {
    let (outside, ends) = survey(bytes);
    if outside {
        return None;
    }
    // Exact: decoded masks may be kept for a whole run (prediction files).
    let mut counts: Vec<u32> = Vec::with_capacity(ends);
    let mut at = 0;
    while at < bytes.len() {
        let m = counts.len();
        #[cfg(target_arch = "x86_64")]
        if m == 3 && std::arch::is_x86_feature_detected!("ssse3") {
            // SAFETY: the CPU supports SSSE3, checked just above.
            at = unsafe { ssse3::parse_blocks(bytes, at, &mut counts)? };
            if at == bytes.len() {
                break;
            }
        }
        let (x, used) = parse_one(bytes, at)?;
        let value = x + if counts.len() > 2 {
            counts[counts.len() - 2] as i64
        } else {
            0
        };
        counts.push(u32::try_from(value).ok()?);
        at += used;
    }
    Some(counts)
}

/// The character-by-character parser (`rleFrString` as written), naming what is wrong.
fn parse_checked(bytes: &[u8]) -> Result<Vec<u32>, RleError> {
    if let Some(p) = bytes.iter().position(|b| !(48..=111).contains(b)) {
        return Err(RleError::BadChar(p));
    }
    let mut counts: Vec<u32> = Vec::new();
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
    Ok(counts)
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

    /// Counts shaped like real masks' (deltas of one and two characters, some longer, some
    /// near the 2^31 and 2^32 edges), so the block kernels and their fallbacks are all taken.
    fn counts_strategy() -> impl Strategy<Value = Vec<u32>> {
        let count = prop_oneof![
            8 => 0u32..40,
            4 => 0u32..1200,
            1 => any::<u32>(),
            1 => (1u32 << 31) - 5000..(1u32 << 31) + 5000,
            1 => u32::MAX - 600..=u32::MAX,
        ];
        proptest::collection::vec(count, 0..120).prop_map(|mut counts| {
            // Mostly small steps from two back, as neighbouring columns of a shape give.
            for i in 3..counts.len() {
                if counts[i] < 40 {
                    counts[i] = (counts[i - 2] as i64 + counts[i] as i64 - 20)
                        .clamp(0, u32::MAX as i64) as u32;
                }
            }
            counts
        })
    }

    /// The scalar writer alone: the reference for the block kernel.
    fn compressed_by_scalar(counts: &[u32]) -> String {
        let mut s = Vec::new();
        for i in 0..counts.len() {
            push_compressed(&mut s, delta_at(counts, i));
        }
        String::from_utf8(s).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn codec_matches_the_scalar_reference(counts in counts_strategy()) {
            let s = Rle { h: 1, w: 0, counts: counts.clone() }.to_compressed();
            prop_assert_eq!(&s, &compressed_by_scalar(&counts));
            prop_assert_eq!(parse_checked(s.as_bytes()).unwrap(), counts.clone());
            let parsed = parse_well_formed(s.as_bytes()).unwrap();
            prop_assert_eq!(parsed.capacity(), parsed.len());
            prop_assert_eq!(parsed, counts);
        }

        /// Any string of the alphabet (and a few bytes outside it): the fast parser agrees with
        /// the character-by-character one, counts or error.
        #[test]
        fn fast_parse_agrees_with_the_checked_parser(
            s in proptest::collection::vec(prop_oneof![
                20 => 48u8..80, 6 => 80u8..112, 1 => 0u8..48, 1 => 112u8..=255,
            ], 0..200)
        ) {
            match parse_checked(&s) {
                Ok(counts) => prop_assert_eq!(parse_well_formed(&s), Some(counts)),
                Err(_) => prop_assert_eq!(parse_well_formed(&s), None),
            }
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
