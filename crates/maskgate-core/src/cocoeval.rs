//! COCO's instance evaluation for masks, as pycocotools' `COCOeval(gt, dt, "segm")` computes
//! it (`cocoeval.py` and `maskApi.c`, pycocotools 2.0.11), step for step so the numbers are
//! the same to the last bit:
//! - per (image, category): detections ordered by score, stably (`mergesort`), at most the
//!   largest `maxDets`; IoU = intersection / union, or intersection / detection area against a
//!   crowd region, in f64 from integer pixel counts;
//! - per area range: a ground truth is ignored when it is a crowd, marked ignore, or its
//!   `area` lies outside the range; ignored ones are matched last; greedy matching by score at
//!   each threshold `min(t, 1 − 1e-10)`, a crowd may take any number of detections; an unmatched
//!   detection outside the area range is ignored;
//! - accumulation over images (in image order, then stably by score): cumulative TP/FP, precision
//!   `tp / (tp + fp + ε)` made monotone from the right, sampled at 101 recall points with
//!   `searchsorted(side="left")`; a category without a counted ground truth stays −1;
//! - the 12 numbers: the mean of the entries above −1.

use crate::Mask;

/// An instance's mask kept as its own columns and 64-row blocks of the bit-packed layout
/// (`Mask`'s column-major words on the image's grid): two instances intersect by AND and
/// POPCNT over the columns and blocks they share, and a corpus of small instances on large
/// photos costs memory by the instances' size, not the photos'.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Region {
    x0: u32,
    block0: u32,
    cols: u32,
    blocks: u32,
    words: Vec<u64>,
    area: u64,
}

impl Region {
    /// The region of `mask`'s set pixels (empty: no columns).
    pub fn of(mask: &Mask) -> Region {
        let Some(b) = mask.bbox() else {
            return Region::default();
        };
        let (block0, block1) = (b.y0 / 64, b.y1 / 64);
        let (cols, blocks) = (b.x1 - b.x0 + 1, block1 - block0 + 1);
        let mut words = Vec::with_capacity(cols as usize * blocks as usize);
        for x in b.x0..=b.x1 {
            words.extend_from_slice(&mask.column(x)[block0 as usize..=block1 as usize]);
        }
        Region {
            x0: b.x0,
            block0,
            cols,
            blocks,
            words,
            area: mask.area(),
        }
    }

    /// The region of a COCO RLE (column-major runs), without making the whole mask.
    pub fn from_rle(rle: &crate::Rle) -> Result<Region, crate::rle::RleError> {
        rle.check_total()?;
        let h = rle.h as u64;
        // Pass 1: the box of the set runs.
        let (mut x0, mut x1, mut y0, mut y1) = (u64::MAX, 0u64, u64::MAX, 0u64);
        let (mut pos, mut area) = (0u64, 0u64);
        for (i, &c) in rle.counts.iter().enumerate() {
            let (s, n) = (pos, c as u64);
            pos += n;
            if i % 2 == 0 || n == 0 {
                continue;
            }
            area += n;
            let (xa, xb) = (s / h, (s + n - 1) / h);
            x0 = x0.min(xa);
            x1 = x1.max(xb);
            if xa == xb {
                y0 = y0.min(s % h);
                y1 = y1.max((s + n - 1) % h);
            } else {
                // A run over a column break holds the last row of one and the first of the next.
                y0 = 0;
                y1 = h - 1;
            }
        }
        if area == 0 {
            return Ok(Region::default());
        }
        let (block0, block1) = ((y0 / 64) as u32, (y1 / 64) as u32);
        let (cols, blocks) = ((x1 - x0 + 1) as u32, block1 - block0 + 1);
        let mut words = vec![0u64; cols as usize * blocks as usize];
        // Pass 2: the bits, a column piece at a time.
        let mut pos = 0u64;
        for (i, &c) in rle.counts.iter().enumerate() {
            let (mut s, end) = (pos, pos + c as u64);
            pos = end;
            if i % 2 == 0 {
                continue;
            }
            while s < end {
                let (x, y) = (s / h, s % h);
                let piece_end = end.min((x + 1) * h);
                let mut yy = y;
                let y_end = y + (piece_end - s);
                while yy < y_end {
                    let block = (yy / 64) as u32;
                    let bit = yy % 64;
                    let take = (64 - bit).min(y_end - yy);
                    let bits = if take == 64 {
                        u64::MAX
                    } else {
                        ((1u64 << take) - 1) << bit
                    };
                    let at = (x - x0) as usize * blocks as usize + (block - block0) as usize;
                    words[at] |= bits;
                    yy += take;
                }
                s = piece_end;
            }
        }
        Ok(Region {
            x0: x0 as u32,
            block0,
            cols,
            blocks,
            words,
            area,
        })
    }

    pub fn area(&self) -> u64 {
        self.area
    }

    /// Pixels both regions hold.
    pub fn intersection(&self, other: &Region) -> u64 {
        let (xa, xb) = (
            self.x0.max(other.x0),
            (self.x0 + self.cols).min(other.x0 + other.cols),
        );
        let (ba, bb) = (
            self.block0.max(other.block0),
            (self.block0 + self.blocks).min(other.block0 + other.blocks),
        );
        if xa >= xb || ba >= bb {
            return 0;
        }
        let mut n = 0u64;
        for x in xa..xb {
            let a = &self.words[((x - self.x0) * self.blocks) as usize..];
            let b = &other.words[((x - other.x0) * other.blocks) as usize..];
            for k in ba..bb {
                n += (a[(k - self.block0) as usize] & b[(k - other.block0) as usize]).count_ones()
                    as u64;
            }
        }
        n
    }
}

/// One ground-truth instance.
#[derive(Clone, Debug)]
pub struct GtInstance {
    /// The annotation's id. COCOeval records a match by it, so a detection matched to an
    /// annotation whose id is 0 counts as unmatched (as in pycocotools); other sources number
    /// their instances from 1.
    pub id: u64,
    /// Index of its image in the evaluation's image order.
    pub image: usize,
    /// Index of its category in the evaluation's category order.
    pub category: usize,
    pub mask: Region,
    /// The annotation's `area` (COCO files give it; elsewhere the mask's pixel count).
    pub area: f64,
    /// `iscrowd`. (An annotation's own `ignore` key plays no part: COCOeval's `_prepare`
    /// overwrites it with `iscrowd`.)
    pub crowd: bool,
}

/// One detected instance.
#[derive(Clone, Debug)]
pub struct DtInstance {
    pub image: usize,
    pub category: usize,
    pub mask: Region,
    pub score: f64,
}

/// `np.linspace(start, stop, n)`: `i·step + start`, the last set to `stop`.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

/// COCOeval's default parameters for segmentation.
#[derive(Clone, Debug)]
pub struct Params {
    pub iou_thresholds: Vec<f64>,
    pub recall_thresholds: Vec<f64>,
    pub max_dets: [usize; 3],
    /// all, small, medium, large.
    pub area_ranges: [[f64; 2]; 4],
}

impl Default for Params {
    fn default() -> Params {
        Params {
            iou_thresholds: linspace(0.5, 0.95, 10),
            recall_thresholds: linspace(0.0, 1.0, 101),
            max_dets: [1, 10, 100],
            area_ranges: [[0.0, 1e10], [0.0, 1024.0], [1024.0, 9216.0], [9216.0, 1e10]],
        }
    }
}

/// One (image, category)'s evaluation, as `evaluateImg` returns it at every area range: what
/// accumulation reads of an image, and all it reads. Images are evaluated alone, so a corpus's
/// evaluations can be computed anywhere (threads, shards) and accumulated over any selection of
/// images (a bootstrap draw) with the same result as one `COCOeval` over those images.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategoryEval {
    /// Scores of the kept detections (at most the largest `maxDets`), in score order.
    pub dt_scores: Vec<f64>,
    /// Per area range.
    pub areas: Vec<AreaEval>,
}

/// One area range of a [`CategoryEval`]: per detection, bit `t` says matched (or ignored) at
/// threshold `t`; and how many ground truths count (are not ignored).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AreaEval {
    pub matched: Vec<u32>,
    pub ignored: Vec<u32>,
    pub counted_gts: u32,
}

/// An image's evaluations: `(category index, evaluation)` for each category the image has a
/// ground truth or a detection of, in category order.
pub type ImageEvals = Vec<(usize, CategoryEval)>;

/// The accumulated curves: `precision[t][r][k][a][m]` and `recall[t][k][a][m]` (−1 where a
/// category has no counted ground truth). Precision is kept at 100 detections (and the last
/// `maxDets`) only: no statistic reads it elsewhere.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub params: Params,
    pub categories: usize,
    precision: Vec<f64>,
    recall: Vec<f64>,
}

/// The 12 standard numbers, in `COCOeval.stats` order.
pub const STAT_NAMES: [&str; 12] = [
    "map",
    "map50",
    "map75",
    "map_small",
    "map_medium",
    "map_large",
    "mar1",
    "mar10",
    "mar100",
    "mar_small",
    "mar_medium",
    "mar_large",
];

/// `maskUtils.iou` for one detection against one ground truth.
fn iou(dt: &Region, dt_area: u64, gt: &Region, gt_area: u64, crowd: bool) -> f64 {
    let inter = dt.intersection(gt);
    if inter == 0 {
        return 0.0;
    }
    let union = if crowd {
        dt_area
    } else {
        dt_area + gt_area - inter
    };
    inter as f64 / union as f64
}

/// numpy's pairwise summation (`pairwise_sum_DOUBLE`), which `np.mean` uses on a contiguous
/// array: the same additions in the same order, so the same bits.
fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |res, v| res + v);
    }
    if n <= 128 {
        let mut r: [f64; 8] = std::array::from_fn(|j| a[j]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[i..] {
            res += v;
        }
        return res;
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
}

/// Stable sort of indices by descending score (`np.argsort(-s, kind="mergesort")`).
fn by_score(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // As numpy sorts −score: −0.0 and 0.0 tie, and a NaN goes last (a total order, so the
    // sort never sees an inconsistent comparison).
    let key = |i: usize| {
        let s = scores[i];
        (s.is_nan(), if s == 0.0 { 0.0 } else { -s })
    };
    order.sort_by(|&a, &b| {
        let ((na, ka), (nb, kb)) = (key(a), key(b));
        na.cmp(&nb).then(ka.total_cmp(&kb))
    });
    order
}

/// Evaluates `dts` against `gts` over `images` images and `categories` categories: each image
/// alone ([`evaluate_image`]), then [`accumulate`]d in image order.
pub fn evaluate(
    images: usize,
    categories: usize,
    gts: &[GtInstance],
    dts: &[DtInstance],
    params: &Params,
) -> Evaluation {
    let mut gt_at: Vec<Vec<GtInstance>> = vec![Vec::new(); images];
    let mut dt_at: Vec<Vec<DtInstance>> = vec![Vec::new(); images];
    for g in gts {
        gt_at[g.image].push(g.clone());
    }
    for d in dts {
        dt_at[d.image].push(d.clone());
    }
    let evals: Vec<ImageEvals> = (0..images)
        .map(|i| evaluate_image(categories, &gt_at[i], &dt_at[i], params))
        .collect();
    let refs: Vec<Vec<(usize, &CategoryEval)>> = evals
        .iter()
        .map(|e| e.iter().map(|(k, c)| (*k, c)).collect())
        .collect();
    accumulate(&refs, categories, params)
}

/// `evaluateImg` of one image's instances (their `image` is not read) for every category.
pub fn evaluate_image(
    categories: usize,
    gts: &[GtInstance],
    dts: &[DtInstance],
    params: &Params,
) -> ImageEvals {
    assert!(
        params.iou_thresholds.len() <= 32,
        "a threshold is a bit of a u32"
    );
    let max_det = params.max_dets[params.max_dets.len() - 1];
    let mut out = Vec::new();
    for k in 0..categories {
        // Instances of the category, in input order.
        let gi: Vec<usize> = (0..gts.len()).filter(|&g| gts[g].category == k).collect();
        let di: Vec<usize> = (0..dts.len()).filter(|&d| dts[d].category == k).collect();
        if gi.is_empty() && di.is_empty() {
            continue;
        }
        // computeIoU: detections by score, at most maxDets[-1].
        let scores: Vec<f64> = di.iter().map(|&d| dts[d].score).collect();
        let mut dsorted: Vec<usize> = by_score(&scores).into_iter().map(|j| di[j]).collect();
        dsorted.truncate(max_det);
        let dt_areas: Vec<u64> = dsorted.iter().map(|&d| dts[d].mask.area()).collect();
        let gt_areas: Vec<u64> = gi.iter().map(|&g| gts[g].mask.area()).collect();
        let ious: Vec<Vec<f64>> = dsorted
            .iter()
            .zip(&dt_areas)
            .map(|(&d, &da)| {
                gi.iter()
                    .zip(&gt_areas)
                    .map(|(&g, &ga)| iou(&dts[d].mask, da, &gts[g].mask, ga, gts[g].crowd))
                    .collect()
            })
            .collect();
        let areas = params
            .area_ranges
            .iter()
            .map(|range| area_eval(gts, dts, &gi, &dsorted, &ious, range, params))
            .collect();
        out.push((
            k,
            CategoryEval {
                dt_scores: dsorted.iter().map(|&d| dts[d].score).collect(),
                areas,
            },
        ));
    }
    out
}

/// `accumulate`: the precision and recall curves of `images` (each image's evaluations, in
/// image order; an image may appear more than once, as in a bootstrap draw).
pub fn accumulate<'a, I: AsRef<[(usize, &'a CategoryEval)]>>(
    images: &[I],
    categories: usize,
    params: &Params,
) -> Evaluation {
    let (t_n, r_n, a_n, m_n) = (
        params.iou_thresholds.len(),
        params.recall_thresholds.len(),
        params.area_ranges.len(),
        params.max_dets.len(),
    );
    // Per category, its evaluations in image order.
    let mut per_category: Vec<Vec<&CategoryEval>> = vec![Vec::new(); categories];
    for image in images {
        for &(k, e) in image.as_ref() {
            if k < categories {
                per_category[k].push(e);
            }
        }
    }
    let mut precision = vec![-1.0; t_n * r_n * categories * a_n * m_n];
    let mut recall = vec![-1.0; t_n * categories * a_n * m_n];
    let (mut scores, mut owner, mut rc, mut pr) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut matched, mut ignored): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    for (k, e) in per_category.iter().enumerate() {
        if e.is_empty() {
            continue;
        }
        for (m, &md) in params.max_dets.iter().enumerate() {
            // The 12 numbers read precision only at 100 detections (and the last `maxDets`);
            // elsewhere only the final recall, a count that needs no score order.
            if md != 100 && m != m_n - 1 {
                for a in 0..a_n {
                    let npig: u64 = e.iter().map(|ev| ev.areas[a].counted_gts as u64).sum();
                    if npig == 0 {
                        continue;
                    }
                    for t in 0..t_n {
                        let bit = 1u32 << t;
                        let tp = e
                            .iter()
                            .map(|ev| {
                                let area = &ev.areas[a];
                                let kept = ev.dt_scores.len().min(md);
                                (0..kept)
                                    .filter(|&j| {
                                        area.ignored[j] & bit == 0 && area.matched[j] & bit != 0
                                    })
                                    .count() as u64
                            })
                            .sum::<u64>();
                        // The same division of the same integers as the curve's last point.
                        recall[((t * categories + k) * a_n + a) * m_n + m] =
                            tp as f64 / npig as f64;
                    }
                }
                continue;
            }
            scores.clear();
            owner.clear();
            for (n, ev) in e.iter().enumerate() {
                let kept = ev.dt_scores.len().min(md);
                scores.extend_from_slice(&ev.dt_scores[..kept]);
                owner.extend((0..kept).map(|j| (n, j)));
            }
            let order = by_score(&scores);
            for a in 0..a_n {
                let npig: u64 = e.iter().map(|ev| ev.areas[a].counted_gts as u64).sum();
                if npig == 0 {
                    continue;
                }
                // The detections' bits in score order, gathered once for every threshold.
                matched.clear();
                ignored.clear();
                for &o in &order {
                    let (n, j) = owner[o];
                    matched.push(e[n].areas[a].matched[j]);
                    ignored.push(e[n].areas[a].ignored[j]);
                }
                for t in 0..t_n {
                    let bit = 1u32 << t;
                    let (mut tp, mut fp) = (0f64, 0f64);
                    rc.clear();
                    pr.clear();
                    for (&m_bits, &i_bits) in matched.iter().zip(&ignored) {
                        if i_bits & bit != 0 {
                            // Neither: the cumulative sums stay, the point still counts.
                        } else if m_bits & bit != 0 {
                            tp += 1.0;
                        } else {
                            fp += 1.0;
                        }
                        rc.push(tp / npig as f64);
                        pr.push(tp / (fp + tp + f64::EPSILON));
                    }
                    let at = ((t * categories + k) * a_n + a) * m_n + m;
                    recall[at] = rc.last().copied().unwrap_or(0.0);
                    for i in (1..pr.len()).rev() {
                        if pr[i] > pr[i - 1] {
                            pr[i - 1] = pr[i];
                        }
                    }
                    for (ri, &thr) in params.recall_thresholds.iter().enumerate() {
                        // searchsorted(rc, thr, side="left"): the first index with rc >= thr.
                        let pi = rc.partition_point(|&v| v < thr);
                        let q = if pi < pr.len() { pr[pi] } else { 0.0 };
                        precision[(((t * r_n + ri) * categories + k) * a_n + a) * m_n + m] = q;
                    }
                }
            }
        }
    }
    Evaluation {
        params: params.clone(),
        categories,
        precision,
        recall,
    }
}

/// `evaluateImg` for one (image, category) and area range.
fn area_eval(
    gts: &[GtInstance],
    dts: &[DtInstance],
    gi: &[usize],
    dsorted: &[usize],
    ious: &[Vec<f64>],
    range: &[f64; 2],
    params: &Params,
) -> AreaEval {
    let outside = |area: f64| area < range[0] || area > range[1];
    let ignored: Vec<bool> = gi
        .iter()
        .map(|&g| gts[g].crowd || outside(gts[g].area))
        .collect();
    // Counted ground truths first, stably.
    let mut gt_order: Vec<usize> = (0..gi.len()).collect();
    gt_order.sort_by_key(|&j| ignored[j]);
    let gt_ig: Vec<bool> = gt_order.iter().map(|&j| ignored[j]).collect();
    let crowd: Vec<bool> = gt_order.iter().map(|&j| gts[gi[j]].crowd).collect();
    let dn = dsorted.len();
    let t_n = params.iou_thresholds.len();
    let mut gt_matched = vec![vec![false; gi.len()]; t_n];
    let mut dt_matched = vec![vec![false; dn]; t_n];
    let mut dt_ignored = vec![vec![false; dn]; t_n];
    for (t, &thr) in params.iou_thresholds.iter().enumerate() {
        for d in 0..dn {
            let mut best = thr.min(1.0 - 1e-10);
            let mut m: Option<usize> = None;
            for g in 0..gi.len() {
                if gt_matched[t][g] && !crowd[g] {
                    continue;
                }
                // Past the counted ones with a counted match in hand: stop.
                if let Some(mm) = m {
                    if !gt_ig[mm] && gt_ig[g] {
                        break;
                    }
                }
                let v = ious[d][gt_order[g]];
                if v < best {
                    continue;
                }
                best = v;
                m = Some(g);
            }
            if let Some(g) = m {
                dt_ignored[t][d] = gt_ig[g];
                // `dtm` holds the annotation's id: an id of 0 reads as no match.
                dt_matched[t][d] = gts[gi[gt_order[g]]].id != 0;
                gt_matched[t][g] = true;
            }
        }
    }
    for d in 0..dn {
        if outside(dts[dsorted[d]].mask.area() as f64) {
            for t in 0..t_n {
                if !dt_matched[t][d] {
                    dt_ignored[t][d] = true;
                }
            }
        }
    }
    let bits = |per_t: &[Vec<bool>]| -> Vec<u32> {
        (0..dn)
            .map(|d| (0..t_n).fold(0u32, |b, t| b | ((per_t[t][d] as u32) << t)))
            .collect()
    };
    AreaEval {
        matched: bits(&dt_matched),
        ignored: bits(&dt_ignored),
        counted_gts: gt_ig.iter().filter(|g| !**g).count() as u32,
    }
}

impl Evaluation {
    /// `_summarize`: the mean of `precision` (or `recall`) entries above −1 at one area range
    /// and max-dets, over every threshold or one, over every category or one.
    fn mean(
        &self,
        ap: bool,
        iou: Option<f64>,
        area: usize,
        max_dets: usize,
        category: Option<usize>,
    ) -> f64 {
        let p = &self.params;
        let (t_n, r_n, a_n, m_n, k_n) = (
            p.iou_thresholds.len(),
            p.recall_thresholds.len(),
            p.area_ranges.len(),
            p.max_dets.len(),
            self.categories,
        );
        let Some(m) = p.max_dets.iter().position(|&v| v == max_dets) else {
            return -1.0;
        };
        let ts: Vec<usize> = match iou {
            None => (0..t_n).collect(),
            Some(v) => (0..t_n).filter(|&t| p.iou_thresholds[t] == v).collect(),
        };
        let ks: Vec<usize> = match category {
            None => (0..k_n).collect(),
            Some(k) => vec![k],
        };
        let mut kept = Vec::new();
        // numpy's mean over the selected entries in memory order (t, r, k for precision).
        for &t in &ts {
            if ap {
                for r in 0..r_n {
                    for &k in &ks {
                        let v = self.precision[(((t * r_n + r) * k_n + k) * a_n + area) * m_n + m];
                        if v > -1.0 {
                            kept.push(v);
                        }
                    }
                }
            } else {
                for &k in &ks {
                    let v = self.recall[((t * k_n + k) * a_n + area) * m_n + m];
                    if v > -1.0 {
                        kept.push(v);
                    }
                }
            }
        }
        match kept.len() {
            0 => -1.0,
            n => pairwise_sum(&kept) / n as f64,
        }
    }

    /// The 12 numbers of `COCOeval.summarize()` (every category, or one).
    pub fn stats(&self, category: Option<usize>) -> [f64; 12] {
        let p = &self.params;
        let (m_small, m_mid, m_all) = (p.max_dets[0], p.max_dets[1], p.max_dets[2]);
        let ap = |iou, area| self.mean(true, iou, area, m_all, category);
        let ar = |area, md| self.mean(false, None, area, md, category);
        [
            // `_summarize(1)`: its default `maxDets=100`, whatever the parameters say.
            self.mean(true, None, 0, 100, category),
            ap(Some(0.5), 0),
            ap(Some(0.75), 0),
            ap(None, 1),
            ap(None, 2),
            ap(None, 3),
            ar(0, m_small),
            ar(0, m_mid),
            ar(0, m_all),
            ar(1, m_all),
            ar(2, m_all),
            ar(3, m_all),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_numpy_s_linspace() {
        let p = Params::default();
        // What `np.linspace(.5, 0.95, 10)` gives, digit for digit.
        assert_eq!(
            p.iou_thresholds,
            [
                0.5,
                0.55,
                0.6,
                0.65,
                0.7,
                0.75,
                0.8,
                0.85,
                0.8999999999999999,
                0.95
            ]
        );
        assert_eq!(p.recall_thresholds.len(), 101);
        assert_eq!(p.recall_thresholds[100], 1.0);
    }

    /// The 12 numbers, overall and per category, bit for bit against pycocotools 2.0.11's
    /// `COCOeval` (numpy 2.3.5's pairwise mean) on
    /// the labelme COCO export and three generated corpora (crowds, empty images, ties, more
    /// than 100 detections on an image, a category without ground truth). Regenerate with
    /// `tools/cocoeval_vectors.py`.
    #[test]
    fn the_12_numbers_are_pycocotools() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/cocoeval_vectors.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(v["pycocotools"], "2.0.11");
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        let mask = |i: &serde_json::Value| -> Mask {
            let n = |k: usize| i["size"][k].as_u64().unwrap() as u32;
            let counts = i["counts"].as_array().unwrap();
            crate::Rle {
                h: n(0),
                w: n(1),
                counts: counts.iter().map(|c| c.as_u64().unwrap() as u32).collect(),
            }
            .decode()
            .unwrap()
        };
        let (mut compared, mut worst) = (0usize, 0f64);
        for c in cases {
            let idx = |i: &serde_json::Value, k: &str| i[k].as_u64().unwrap() as usize;
            let gts: Vec<GtInstance> = (c["gts"].as_array().unwrap().iter())
                .map(|g| GtInstance {
                    id: g["id"].as_u64().unwrap(),
                    image: idx(g, "image"),
                    category: idx(g, "category"),
                    mask: Region::of(&mask(g)),
                    area: g["area"].as_f64().unwrap(),
                    crowd: g["crowd"].as_bool().unwrap(),
                })
                .collect();
            let dts: Vec<DtInstance> = (c["dts"].as_array().unwrap().iter())
                .map(|d| DtInstance {
                    image: idx(d, "image"),
                    category: idx(d, "category"),
                    mask: Region::of(&mask(d)),
                    score: d["score"].as_f64().unwrap(),
                })
                .collect();
            let (images, categories) = (idx(c, "images"), idx(c, "categories"));
            let e = evaluate(images, categories, &gts, &dts, &Params::default());
            let stats = c["stats"].as_object().unwrap();
            // Category ids in the evaluation's (sorted) order.
            let mut ids: Vec<u64> = (stats.keys())
                .filter(|k| *k != "all")
                .map(|k| k.parse().unwrap())
                .collect();
            ids.sort();
            let mut check = |got: [f64; 12], want: &serde_json::Value, what: String| {
                for (n, (g, w)) in got.iter().zip(want.as_array().unwrap()).enumerate() {
                    let w = f64::from_bits(w.as_u64().unwrap());
                    worst = worst.max((g - w).abs());
                    assert_eq!(
                        g.to_bits(),
                        w.to_bits(),
                        "{what} {}: {g} vs {w}",
                        STAT_NAMES[n]
                    );
                    compared += 1;
                }
            };
            check(e.stats(None), &stats["all"], format!("{} all", c["name"]));
            for (k, id) in ids.iter().enumerate() {
                check(
                    e.stats(Some(k)),
                    &stats[&id.to_string()],
                    format!("{} category {id}", c["name"]),
                );
            }
        }
        assert_eq!(compared, 12 * (4 + 21 + 3 * 4));
        eprintln!("cocoeval: {compared} numbers equal pycocotools', largest difference {worst:e}");
    }

    fn blob(h: u32, w: u32, x0: u32, y0: u32, x1: u32, y1: u32, holes: u32) -> Mask {
        Mask::from_fn(h, w, |y, x| {
            x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x * 7 + y * 13) % (holes + 2) != 0
        })
    }

    proptest::proptest! {
        /// Regions intersect exactly as their whole masks do, wherever the blocks fall.
        #[test]
        fn a_region_intersects_as_its_mask(
            h in 1u32..200, w in 1u32..90,
            a in (0u32..200, 0u32..200, 0u32..90, 0u32..90, 0u32..5),
            b in (0u32..200, 0u32..200, 0u32..90, 0u32..90, 0u32..5),
        ) {
            let m = |(y0, y1, x0, x1, holes): (u32, u32, u32, u32, u32)| {
                blob(h, w, x0.min(x1) % w, y0.min(y1) % h, x0.max(x1) % w, y0.max(y1) % h, holes)
            };
            let (ma, mb) = (m(a), m(b));
            let (ra, rb) = (Region::of(&ma), Region::of(&mb));
            proptest::prop_assert_eq!(ra.area(), ma.area());
            // Straight from the RLE, the same region.
            proptest::prop_assert_eq!(&Region::from_rle(&crate::Rle::encode(&ma)).unwrap(), &ra);
            proptest::prop_assert_eq!(ra.intersection(&rb), ma.intersection_count(&mb));
            proptest::prop_assert_eq!(rb.intersection(&ra), ma.intersection_count(&mb));
        }
    }

    fn square(x: u32, y: u32, s: u32) -> Mask {
        Mask::from_fn(64, 64, |r, c| c >= x && c < x + s && r >= y && r < y + s)
    }

    #[test]
    fn a_perfect_detection_scores_one_and_a_crowd_absorbs_extras() {
        let gt = |mask: Mask, crowd| GtInstance {
            id: 1,
            image: 0,
            category: 0,
            area: mask.area() as f64,
            mask: Region::of(&mask),
            crowd,
        };
        let dt = |mask: Mask, score| DtInstance {
            image: 0,
            category: 0,
            mask: Region::of(&mask),
            score,
        };
        let gts = [gt(square(0, 0, 40), false), gt(square(40, 40, 24), true)];
        let dts = [
            dt(square(0, 0, 40), 0.9),
            dt(square(44, 44, 10), 0.8),
            dt(square(50, 50, 10), 0.7),
        ];
        let e = evaluate(1, 1, &gts, &dts, &Params::default());
        let s = e.stats(None);
        // Both detections inside the crowd are ignored, not false positives: precision is
        // 1 / (1 + ε) at every recall point, as COCOeval gives it.
        assert_eq!(s[0], 1.0 / (1.0 + f64::EPSILON), "{s:?}");
        assert_eq!(s[8], 1.0);
        // A category with no ground truth at all is −1 everywhere.
        let none = evaluate(1, 1, &[], &dts, &Params::default());
        assert_eq!(none.stats(None)[0], -1.0);
    }
}
