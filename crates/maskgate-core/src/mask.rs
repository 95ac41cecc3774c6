//! Bit-packed binary mask.
//!
//! Pixels are stored column-major, like COCO RLE (linear index `x * h + y`), so RLE runs decode
//! into contiguous bit ranges. Each column is padded to whole 64-bit words; padding bits are
//! always zero, which lets set operations and popcounts work word by word.

use crate::counts::Counts;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Mask {
    h: u32,
    w: u32,
    stride: usize,
    words: Vec<u64>,
}

/// Inclusive pixel box of a non-empty mask.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PixelBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl PixelBox {
    pub fn area(&self) -> u64 {
        (self.x1 - self.x0 + 1) as u64 * (self.y1 - self.y0 + 1) as u64
    }

    /// IoU of two pixel boxes, both inclusive of their edge pixels.
    pub fn iou(&self, other: &PixelBox) -> f64 {
        let ix0 = self.x0.max(other.x0);
        let iy0 = self.y0.max(other.y0);
        let ix1 = self.x1.min(other.x1);
        let iy1 = self.y1.min(other.y1);
        if ix1 < ix0 || iy1 < iy0 {
            return 0.0;
        }
        let inter = (ix1 - ix0 + 1) as u64 * (iy1 - iy0 + 1) as u64;
        inter as f64 / (self.area() + other.area() - inter) as f64
    }
}

fn low_bits(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl Mask {
    /// An all-zero mask of `h` rows and `w` columns.
    pub fn new(h: u32, w: u32) -> Mask {
        let stride = (h as usize).div_ceil(64);
        Mask {
            h,
            w,
            stride,
            words: vec![0; stride * w as usize],
        }
    }

    pub fn from_fn(h: u32, w: u32, mut f: impl FnMut(u32, u32) -> bool) -> Mask {
        let mut m = Mask::new(h, w);
        // Column-major, one 64-row word at a time: the same order as the bit layout.
        for x in 0..w {
            for (wi, word) in m.column_mut(x).iter_mut().enumerate() {
                let y0 = wi as u32 * 64;
                let mut bits = 0u64;
                for b in 0..(h - y0).min(64) {
                    bits |= (f(y0 + b, x) as u64) << b;
                }
                *word = bits;
            }
        }
        m
    }

    /// [`Mask::from_fn`] for a source stored row by row: `f` is called row-major, 64 rows at a
    /// time, so a row-major map is read in order instead of a column's 64 cache lines per word.
    pub fn from_row_major(h: u32, w: u32, mut f: impl FnMut(u32, u32) -> bool) -> Mask {
        let mut m = Mask::new(h, w);
        let stride = m.stride;
        if w == 0 {
            return m;
        }
        for band in 0..stride {
            let y0 = band as u32 * 64;
            for b in 0..(h - y0).min(64) {
                let y = y0 + b;
                for (x, word) in m.words[band..].iter_mut().step_by(stride).enumerate() {
                    *word |= (f(y, x as u32) as u64) << b;
                }
            }
        }
        m
    }

    pub fn height(&self) -> u32 {
        self.h
    }
    pub fn width(&self) -> u32 {
        self.w
    }
    pub fn same_size(&self, other: &Mask) -> bool {
        self.h == other.h && self.w == other.w
    }
    pub fn pixel_count(&self) -> u64 {
        self.h as u64 * self.w as u64
    }

    #[inline]
    fn index(&self, y: u32, x: u32) -> (usize, u32) {
        (x as usize * self.stride + (y / 64) as usize, y % 64)
    }

    #[inline]
    pub fn get(&self, y: u32, x: u32) -> bool {
        debug_assert!(y < self.h && x < self.w);
        let (i, b) = self.index(y, x);
        (self.words[i] >> b) & 1 == 1
    }

    #[inline]
    pub fn set(&mut self, y: u32, x: u32, v: bool) {
        debug_assert!(y < self.h && x < self.w);
        let (i, b) = self.index(y, x);
        if v {
            self.words[i] |= 1 << b;
        } else {
            self.words[i] &= !(1 << b);
        }
    }

    pub(crate) fn column(&self, x: u32) -> &[u64] {
        let s = x as usize * self.stride;
        &self.words[s..s + self.stride]
    }

    fn column_mut(&mut self, x: u32) -> &mut [u64] {
        let s = x as usize * self.stride;
        &mut self.words[s..s + self.stride]
    }

    /// Calls `f(x, y0, y1)` for every vertical run of ones, rows `y0..y1` of column `x`, column
    /// by column and top to bottom: a word at a time, by its transitions.
    pub fn for_each_column_run(&self, mut f: impl FnMut(u32, u32, u32)) {
        for x in 0..self.w {
            let (mut inside, mut start) = (false, 0u32);
            for (wi, &word) in self.column(x).iter().enumerate() {
                let base = wi as u32 * 64;
                let valid = low_bits((self.h - base).min(64));
                // Looking for a one outside a run, for a zero inside one.
                let mut bits = if inside { !word } else { word };
                let mut from = 0u32;
                loop {
                    let ahead = if from >= 64 {
                        0
                    } else {
                        bits & (u64::MAX << from) & valid
                    };
                    if ahead == 0 {
                        break;
                    }
                    let t = ahead.trailing_zeros();
                    if inside {
                        f(x, start, base + t);
                    } else {
                        start = base + t;
                    }
                    inside = !inside;
                    bits = !bits;
                    from = t;
                }
            }
            if inside {
                f(x, start, self.h);
            }
        }
    }

    /// Whether any of rows `y0..y1` of column `x` is set.
    pub fn any_in_column(&self, x: u32, y0: u32, y1: u32) -> bool {
        let col = self.column(x);
        let mut y = y0;
        while y < y1 {
            let (wi, b) = ((y / 64) as usize, y % 64);
            let n = (64 - b).min(y1 - y);
            if col[wi] & (low_bits(n) << b) != 0 {
                return true;
            }
            y += n;
        }
        false
    }

    /// Sets bits `y0..y1` of column `x`.
    pub(crate) fn fill_column_range(&mut self, x: u32, y0: u32, y1: u32) {
        let col = self.column_mut(x);
        let (mut y, end) = (y0, y1);
        while y < end {
            let wi = (y / 64) as usize;
            let b = y % 64;
            let n = (64 - b).min(end - y);
            col[wi] |= low_bits(n) << b;
            y += n;
        }
    }

    /// Sets the linear (column-major) range `start..start+len`, which may span columns.
    pub fn fill_linear(&mut self, mut start: u64, mut len: u64) {
        let h = self.h as u64;
        while len > 0 {
            let x = (start / h) as u32;
            let y = (start % h) as u32;
            let n = len.min(h - y as u64);
            self.fill_column_range(x, y, y + n as u32);
            start += n;
            len -= n;
        }
    }

    /// Calls `f(start, len)` for every run of ones in column-major linear order, merging runs
    /// that continue from the bottom of one column into the top of the next.
    pub fn for_each_run(&self, mut f: impl FnMut(u64, u64)) {
        let h = self.h as u64;
        let mut open: Option<u64> = None;
        for x in 0..self.w {
            let base = x as u64 * h;
            let col = self.column(x);
            let mut y: u32 = 0;
            while y < self.h {
                let wi = (y / 64) as usize;
                let b = y % 64;
                let valid = (self.h - (y - b)).min(64);
                let word = col[wi] & low_bits(valid);
                let rest_bits = valid - b;
                let shifted = word >> b;
                if open.is_some() {
                    let zeros_at = (!shifted & low_bits(rest_bits)).trailing_zeros();
                    if zeros_at >= rest_bits {
                        y += rest_bits;
                    } else {
                        let end = base + (y + zeros_at) as u64;
                        let s = open.take().unwrap_or(0);
                        f(s, end - s);
                        y += zeros_at;
                    }
                } else {
                    let ones_at = shifted.trailing_zeros();
                    if ones_at >= rest_bits {
                        y += rest_bits;
                    } else {
                        open = Some(base + (y + ones_at) as u64);
                        y += ones_at;
                    }
                }
            }
        }
        if let Some(s) = open {
            f(s, self.pixel_count() - s);
        }
    }

    pub fn area(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// TP/FP/FN of `pred` against `self` as ground truth. Sizes must match.
    pub fn counts_against(&self, pred: &Mask) -> Counts {
        assert!(self.same_size(pred), "mask sizes differ");
        // The portable build has no POPCNT instruction, and counting bits without it is most
        // of this function's time; every x86-64 CPU since about 2008 has it.
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports POPCNT, checked just above.
            return unsafe { counts_with_popcnt(&self.words, &pred.words) };
        }
        counts_of_words(&self.words, &pred.words)
    }

    fn zip_with(&self, other: &Mask, f: impl Fn(u64, u64) -> u64) -> Mask {
        assert!(self.same_size(other), "mask sizes differ");
        let words = self
            .words
            .iter()
            .zip(&other.words)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Mask {
            words,
            ..self.clone_shape()
        }
    }

    fn clone_shape(&self) -> Mask {
        Mask {
            h: self.h,
            w: self.w,
            stride: self.stride,
            words: Vec::new(),
        }
    }

    pub fn union(&self, other: &Mask) -> Mask {
        self.zip_with(other, |a, b| a | b)
    }
    pub fn intersection(&self, other: &Mask) -> Mask {
        self.zip_with(other, |a, b| a & b)
    }
    pub fn difference(&self, other: &Mask) -> Mask {
        self.zip_with(other, |a, b| a & !b)
    }
    /// `self` with the pixels of `region` taken from `source`: a prediction whose uncertain
    /// pixels are set to the truth (`source` = truth) or against it (its complement).
    pub fn overlay(&self, region: &Mask, source: &Mask) -> Mask {
        let mut out = self.difference(region);
        out.union_in_place(&region.intersection(source));
        out
    }
    pub fn union_in_place(&mut self, other: &Mask) {
        assert!(self.same_size(other), "mask sizes differ");
        for (a, &b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }
    pub fn intersection_count(&self, other: &Mask) -> u64 {
        self.counts_against(other).tp
    }
    pub fn union_count(&self, other: &Mask) -> u64 {
        let c = self.counts_against(other);
        c.tp + c.fp + c.fn_
    }

    /// The tight inclusive box around the set pixels, or `None` when empty.
    pub fn bbox(&self) -> Option<PixelBox> {
        let mut b: Option<PixelBox> = None;
        for x in 0..self.w {
            let col = self.column(x);
            let first = col.iter().position(|&w| w != 0);
            let Some(fi) = first else { continue };
            let li = col.iter().rposition(|&w| w != 0).unwrap_or(fi);
            let y0 = fi as u32 * 64 + col[fi].trailing_zeros();
            let y1 = li as u32 * 64 + 63 - col[li].leading_zeros();
            b = Some(match b {
                None => PixelBox {
                    x0: x,
                    y0,
                    x1: x,
                    y1,
                },
                Some(p) => PixelBox {
                    x0: p.x0,
                    y0: p.y0.min(y0),
                    x1: x,
                    y1: p.y1.max(y1),
                },
            });
        }
        b
    }

    /// Nearest-neighbour resample to `h2 × w2`, sampling source pixel centres:
    /// `src = floor((dst + 0.5) · src_size / dst_size)` (Pillow's NEAREST).
    pub fn resize_nearest(&self, h2: u32, w2: u32) -> Mask {
        if h2 == self.h && w2 == self.w {
            return self.clone();
        }
        let ys: Vec<u32> = (0..h2).map(|y| nearest_source(y, self.h, h2)).collect();
        let mut out = Mask::new(h2, w2);
        for x in 0..w2 {
            let sx = nearest_source(x, self.w, w2);
            for (y, &sy) in ys.iter().enumerate() {
                if self.get(sy, sx) {
                    out.set(y as u32, x, true);
                }
            }
        }
        out
    }

    /// Erosion by a `(2d+1)²` square with everything outside the image counted as 0: a pixel
    /// survives only if every pixel within Chebyshev distance `d` is set and inside the image.
    /// Only the mask's bounding box is processed: nothing outside it can survive, and for the
    /// small objects of a many-class canvas the box is a sliver of the image.
    pub fn erode_square(&self, d: u32) -> Mask {
        self.erode_square_in(d, self.bbox())
    }

    /// [`Mask::erode_square`] given the mask's [`Mask::bbox`], for callers that have it already.
    pub fn erode_square_in(&self, d: u32, bbox: Option<PixelBox>) -> Mask {
        if d == 0 {
            return self.clone();
        }
        let window = 2 * d + 1;
        let mut out = Mask::new(self.h, self.w);
        let Some(b) = bbox else {
            return out;
        };
        if b.x1 - b.x0 + 1 < window || b.y1 - b.y0 + 1 < window {
            return out;
        }
        // The box's words of each of its columns, packed: rows outside them are 0 and read as
        // 0 past a slice's ends, so the shifts below see the same bits as on the full column.
        let (w0, w1) = ((b.y0 / 64) as usize, (b.y1 / 64) as usize + 1);
        let span = w1 - w0;
        let cols = (b.x1 - b.x0 + 1) as usize;
        let mut acc = vec![0u64; cols * span];
        for (i, col) in acc.chunks_exact_mut(span).enumerate() {
            // Along y: a pixel survives where its run of set pixels reaches d beyond it both
            // ways, so each run [s, e) long enough keeps [s + d, e − d). Masks have few runs a
            // column, so this walks runs instead of shifting whole columns.
            let src = &self.column(b.x0 + i as u32)[w0..w1];
            for_each_bit_run(src, |s, e| {
                if e - s >= window {
                    set_bit_range(col, s + d, e - d);
                }
            });
        }
        // Along x: acc[i] = AND of box columns i..i+len; doubling keeps this O(log d) passes.
        let mut len = 1usize;
        while len * 2 <= window as usize {
            for i in 0..cols - len {
                let (lo, hi) = acc.split_at_mut((i + len) * span);
                lo[i * span..(i + 1) * span]
                    .iter_mut()
                    .zip(&hi[..span])
                    .for_each(|(a, b)| *a &= b);
            }
            len *= 2;
        }
        let rest = window as usize - len;
        // Column b.x0 + i + d survives where all of box columns i..i+window do.
        for i in 0..=cols - window as usize {
            let x = b.x0 as usize + i + d as usize;
            let dst = &mut out.words[x * self.stride + w0..x * self.stride + w1];
            let (first, second) = (&acc[i * span..], &acc[(i + rest) * span..]);
            for k in 0..span {
                dst[k] = first[k] & second[k];
            }
        }
        out
    }

    /// Dilation by a `(2d+1)²` square with nothing set outside the image: a pixel is set if any
    /// pixel within Chebyshev distance `d` is. Word-parallel, like [`Mask::erode_square`].
    pub fn dilate_square(&self, d: u32) -> Mask {
        if d == 0 {
            return self.clone();
        }
        let mut out = self.clone();
        let (mut down, mut up, mut scratch) = (
            vec![0u64; self.stride],
            vec![0u64; self.stride],
            vec![0u64; self.stride],
        );
        for x in 0..self.w {
            let col = out.column_mut(x);
            // OR over y..=y+d (downwards) and y-d..=y (upwards); bits outside are 0.
            down.copy_from_slice(col);
            window_bits(&mut down, d + 1, &mut scratch, |a, b| a | b);
            up.copy_from_slice(col);
            let mut len = 1u32;
            while len * 2 <= d + 1 {
                shifted_up_into(&up, len, &mut scratch);
                up.iter_mut().zip(&scratch).for_each(|(a, b)| *a |= b);
                len *= 2;
            }
            if d + 1 > len {
                shifted_up_into(&up, d + 1 - len, &mut scratch);
                up.iter_mut().zip(&scratch).for_each(|(a, b)| *a |= b);
            }
            col.iter_mut()
                .zip(down.iter().zip(&up))
                .for_each(|(c, (a, b))| *c = a | b);
        }
        out.clear_padding();
        // Across columns: OR of columns x-d..=x+d that exist, by doubling in both directions
        // (columns outside the image contribute nothing).
        let stride = self.stride;
        let w = self.w as usize;
        let spread = |src: &[u64], forward: bool| -> Vec<u64> {
            let mut acc = src.to_vec();
            let mut len = 1usize;
            let step = |acc: &mut Vec<u64>, k: usize| {
                let prev = acc.clone();
                for x in 0..w {
                    let from = if forward { x + k } else { x.wrapping_sub(k) };
                    if from < w {
                        for i in 0..stride {
                            acc[x * stride + i] |= prev[from * stride + i];
                        }
                    }
                }
            };
            let span = d as usize + 1;
            while len * 2 <= span {
                step(&mut acc, len);
                len *= 2;
            }
            if span > len {
                step(&mut acc, span - len);
            }
            acc
        };
        let ahead = spread(&out.words, true);
        let behind = spread(&out.words, false);
        out.words
            .iter_mut()
            .zip(ahead.iter().zip(&behind))
            .for_each(|(o, (a, b))| *o = a | b);
        out
    }

    /// Every pixel flipped (padding stays zero).
    pub fn complement(&self) -> Mask {
        let mut out = self.clone();
        out.words.iter_mut().for_each(|w| *w = !*w);
        out.clear_padding();
        out
    }

    fn clear_padding(&mut self) {
        let tail = self.h % 64;
        if tail == 0 || self.stride == 0 {
            return;
        }
        let keep = low_bits(tail);
        for x in 0..self.w as usize {
            self.words[x * self.stride + self.stride - 1] &= keep;
        }
    }

    /// Pixels of the mask within Chebyshev distance `d` of a zero pixel or the image border.
    pub fn inner_boundary(&self, d: u32) -> Mask {
        self.difference(&self.erode_square(d))
    }

    /// [`Mask::inner_boundary`] given the mask's [`Mask::bbox`].
    pub fn inner_boundary_in(&self, d: u32, bbox: Option<PixelBox>) -> Mask {
        self.difference(&self.erode_square_in(d, bbox))
    }

    pub fn to_rows(&self) -> Vec<Vec<u8>> {
        (0..self.h)
            .map(|y| (0..self.w).map(|x| self.get(y, x) as u8).collect())
            .collect()
    }

    pub fn from_rows(rows: &[Vec<u8>]) -> Mask {
        let h = rows.len() as u32;
        let w = rows.first().map_or(0, |r| r.len()) as u32;
        Mask::from_row_major(h, w, |y, x| rows[y as usize][x as usize] != 0)
    }
}

/// Source index for nearest-neighbour resampling of `dst` in a `dst_size` axis from `src_size`.
pub fn nearest_source(dst: u32, src_size: u32, dst_size: u32) -> u32 {
    let s = ((2 * dst as u64 + 1) * src_size as u64) / (2 * dst_size as u64);
    (s as u32).min(src_size.saturating_sub(1))
}

/// Calls `f(start, end)` for every run of set bits in `words` (bit `i` of word `k` is position
/// `64k + i`), in order.
fn for_each_bit_run(words: &[u64], mut f: impl FnMut(u32, u32)) {
    let total = words.len() as u32 * 64;
    // The first position at or after `from` whose bit equals `set`, else `total`.
    let next = |from: u32, set: bool| -> u32 {
        let mut k = (from / 64) as usize;
        if k >= words.len() {
            return total;
        }
        let flip = |w: u64| if set { w } else { !w };
        let mut w = flip(words[k]) & (u64::MAX << (from % 64));
        loop {
            if w != 0 {
                return k as u32 * 64 + w.trailing_zeros();
            }
            k += 1;
            if k == words.len() {
                return total;
            }
            w = flip(words[k]);
        }
    };
    let mut pos = 0;
    while pos < total {
        let start = next(pos, true);
        if start >= total {
            break;
        }
        let end = next(start, false);
        f(start, end);
        pos = end;
    }
}

/// Sets bits `from..to` of `words`.
fn set_bit_range(words: &mut [u64], from: u32, to: u32) {
    let mut y = from;
    while y < to {
        let (k, b) = ((y / 64) as usize, y % 64);
        let n = (64 - b).min(to - y);
        words[k] |= low_bits(n) << b;
        y += n;
    }
}

/// TP/FP/FN of word-aligned ground truth `g` and prediction `p`.
#[inline(always)]
fn counts_of_words(g: &[u64], p: &[u64]) -> Counts {
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (&g, &p) in g.iter().zip(p) {
        tp += (g & p).count_ones() as u64;
        fp += (!g & p).count_ones() as u64;
        fn_ += (g & !p).count_ones() as u64;
    }
    Counts { tp, fp, fn_ }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn counts_with_popcnt(g: &[u64], p: &[u64]) -> Counts {
    counts_of_words(g, p)
}

/// In place: bit y becomes `op` over bits y..y+window (bits past the column count as 0),
/// by doubling: O(log window) shifted combinations of the column.
fn window_bits(col: &mut [u64], window: u32, scratch: &mut [u64], op: impl Fn(u64, u64) -> u64) {
    let mut len = 1u32;
    while len * 2 <= window {
        shifted_down_into(col, len, scratch);
        col.iter_mut()
            .zip(scratch.iter())
            .for_each(|(a, b)| *a = op(*a, *b));
        len *= 2;
    }
    let rest = window - len;
    if rest > 0 {
        shifted_down_into(col, rest, scratch);
        col.iter_mut()
            .zip(scratch.iter())
            .for_each(|(a, b)| *a = op(*a, *b));
    }
}

/// `out` = the column with bit y taking the value of bit y+k (zeros shifted in at the end).
fn shifted_down_into(col: &[u64], k: u32, out: &mut [u64]) {
    let n = col.len();
    let (ws, bs) = ((k / 64) as usize, k % 64);
    for (i, o) in out.iter_mut().enumerate().take(n) {
        let lo = col.get(i + ws).copied().unwrap_or(0);
        let hi = col.get(i + ws + 1).copied().unwrap_or(0);
        *o = if bs == 0 {
            lo
        } else {
            (lo >> bs) | (hi << (64 - bs))
        };
    }
}

/// `out` = the column with bit y taking the value of bit y-k (zeros shifted in at the top).
fn shifted_up_into(col: &[u64], k: u32, out: &mut [u64]) {
    out.copy_from_slice(col);
    shift_up(out, k);
}

/// In place: bit y takes the value of bit y-k (zeros shifted in at the top).
fn shift_up(col: &mut [u64], k: u32) {
    let n = col.len();
    let (ws, bs) = ((k / 64) as usize, k % 64);
    for i in (0..n).rev() {
        let lo = if i >= ws { col[i - ws] } else { 0 };
        let lower = if i > ws { col[i - ws - 1] } else { 0 };
        col[i] = if bs == 0 {
            lo
        } else {
            (lo << bs) | (lower >> (64 - bs))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_erode(m: &Mask, d: u32) -> Mask {
        let (h, w) = (m.height() as i64, m.width() as i64);
        let d = d as i64;
        Mask::from_fn(m.height(), m.width(), |y, x| {
            for dy in -d..=d {
                for dx in -d..=d {
                    let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                    if yy < 0 || xx < 0 || yy >= h || xx >= w || !m.get(yy as u32, xx as u32) {
                        return false;
                    }
                }
            }
            true
        })
    }

    fn arb_mask() -> impl Strategy<Value = Mask> {
        (1u32..140, 1u32..40, any::<u64>(), 0u32..4).prop_map(|(h, w, seed, density)| {
            let mut s = seed | 1;
            Mask::from_fn(h, w, |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 4) < density as u64 || (s % 97 == 0)
            })
        })
    }

    /// Dense pixels inside a random sub-box: erosion's box restriction meets word and column
    /// offsets away from the origin.
    fn arb_boxed_mask() -> impl Strategy<Value = Mask> {
        (1u32..200, 1u32..60, any::<u64>(), any::<[u32; 4]>()).prop_map(|(h, w, seed, c)| {
            let (y0, x0) = (c[0] % h, c[1] % w);
            let (y1, x1) = (y0 + c[2] % (h - y0), x0 + c[3] % (w - x0));
            let mut s = seed | 1;
            Mask::from_fn(h, w, |y, x| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (y0..=y1).contains(&y) && (x0..=x1).contains(&x) && s % 50 != 0
            })
        })
    }

    proptest! {
        #[test]
        fn erosion_matches_naive(m in arb_mask(), d in 0u32..9) {
            prop_assert_eq!(m.erode_square(d), naive_erode(&m, d));
        }

        #[test]
        fn erosion_of_a_boxed_mask_matches_naive(m in arb_boxed_mask(), d in 0u32..9) {
            prop_assert_eq!(m.erode_square(d), naive_erode(&m, d));
        }

        #[test]
        fn row_major_construction_equals_from_fn(m in arb_mask()) {
            prop_assert_eq!(Mask::from_row_major(m.height(), m.width(), |y, x| m.get(y, x)), m);
        }

        #[test]
        fn runs_roundtrip(m in arb_mask()) {
            let mut back = Mask::new(m.height(), m.width());
            m.for_each_run(|s, l| back.fill_linear(s, l));
            prop_assert_eq!(back, m);
        }

        #[test]
        fn bbox_matches_naive(m in arb_mask()) {
            let mut b: Option<(u32, u32, u32, u32)> = None;
            for y in 0..m.height() { for x in 0..m.width() { if m.get(y, x) {
                b = Some(match b { None => (x, y, x, y), Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)) });
            }}}
            prop_assert_eq!(m.bbox().map(|p| (p.x0, p.y0, p.x1, p.y1)), b);
        }
    }

    #[test]
    fn a_zero_width_mask_from_rows_is_empty() {
        assert_eq!(Mask::from_row_major(100, 0, |_, _| true), Mask::new(100, 0));
        assert_eq!(Mask::from_row_major(0, 7, |_, _| true), Mask::new(0, 7));
    }

    #[test]
    fn nearest_resample_maps_centres() {
        // 2 → 4 duplicates each pixel, 4 → 2 takes pixels 1 and 3 (centre sampling).
        assert_eq!(
            (0..4).map(|d| nearest_source(d, 2, 4)).collect::<Vec<_>>(),
            [0, 0, 1, 1]
        );
        assert_eq!(
            (0..2).map(|d| nearest_source(d, 4, 2)).collect::<Vec<_>>(),
            [1, 3]
        );
        let m = Mask::from_rows(&[vec![1, 0], vec![0, 1]]);
        let r = m.resize_nearest(4, 4);
        assert_eq!(r.area(), 8);
        assert!(r.get(0, 1) && !r.get(0, 2) && r.get(3, 3));
    }
}
