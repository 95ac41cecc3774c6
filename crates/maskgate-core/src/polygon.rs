//! Polygon rasterisation, a port of cocoapi's `rleFrPoly` (not a scanline fill: it upsamples
//! the outline ×5 and keeps y-boundary crossings, so results match pycocotools pixel for pixel).

use crate::rle::{Rle, RleError};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolygonError {
    #[error("polygon has an odd number of coordinates ({0})")]
    OddLength(usize),
    #[error("polygon has {0} points; at least 3 are needed")]
    TooFewPoints(usize),
    #[error("polygon has a non-finite coordinate")]
    NotFinite,
    #[error("canvas {h}x{w} has more than 2^32 - 1 pixels")]
    CanvasTooLarge { h: u32, w: u32 },
    #[error(transparent)]
    Rle(#[from] RleError),
}

/// Rasterises one ring `[x1, y1, x2, y2, ...]` (pixel coordinates, vertices at pixel centres).
pub fn rasterize_ring(xy: &[f64], h: u32, w: u32) -> Result<Rle, PolygonError> {
    if !xy.len().is_multiple_of(2) {
        return Err(PolygonError::OddLength(xy.len()));
    }
    let k = xy.len() / 2;
    if k < 3 {
        return Err(PolygonError::TooFewPoints(k));
    }
    if xy.iter().any(|v| !v.is_finite()) {
        return Err(PolygonError::NotFinite);
    }
    if h as u64 * w as u64 > u32::MAX as u64 {
        return Err(PolygonError::CanvasTooLarge { h, w });
    }
    let k = xy.len() / 2;
    let scale = 5.0f64;
    // C's `(int)(v + .5)` truncates toward zero; `as i32` does the same (and saturates).
    let mut x: Vec<i64> = (0..k)
        .map(|j| (scale * xy[2 * j] + 0.5) as i32 as i64)
        .collect();
    let mut y: Vec<i64> = (0..k)
        .map(|j| (scale * xy[2 * j + 1] + 0.5) as i32 as i64)
        .collect();
    x.push(x[0]);
    y.push(y[0]);
    // Only outline points whose upsampled column lies in [lo, hi] can yield a crossing inside the
    // canvas (a pair touching a point outside lands outside it), and within a run of equal
    // columns only the run's first and last points are ever paired. Emitting just those gives
    // cocoapi's crossings exactly, at a cost bounded by the canvas width, however far out a
    // vertex lies.
    let (lo, hi) = (-5i64, 5 * w as i64 + 5);
    let mut u: Vec<i64> = Vec::new();
    let mut v: Vec<i64> = Vec::new();
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        let mut pts: Vec<(i64, i64)> = Vec::new();
        if dx >= dy {
            // A repeated vertex (dx = dy = 0) divides 0 by 0 in C; its one point sits between
            // points of the same column, so it never reaches the output. Use slope 0.
            let s = if dx == 0 {
                0.0
            } else {
                (ye - ys) as f64 / dx as f64
            };
            // u = t + xs rises with t: keep the t whose column is in [lo, hi].
            let (t0, t1) = ((lo - xs).max(0), (hi - xs).min(dx));
            for t in t0..=t1 {
                pts.push((t + xs, (ys as f64 + s * t as f64 + 0.5) as i32 as i64));
            }
        } else {
            let s = (xe - xs) as f64 / dy as f64;
            let col = |t: i64| (xs as f64 + s * t as f64 + 0.5) as i32 as i64;
            for t in column_run_ends(col, dy, lo, hi) {
                pts.push((col(t), t + ys));
            }
        }
        if flip {
            pts.reverse();
        }
        for (pu, pv) in pts {
            u.push(pu);
            v.push(pv);
        }
    }
    let mut a: Vec<u32> = Vec::new();
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let xd = (if u[j] < u[j - 1] { u[j] } else { u[j] - 1 }) as f64;
        let xd = (xd + 0.5) / scale - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > (w as f64 - 1.0) {
            continue;
        }
        let yd = v[j].min(v[j - 1]) as f64;
        let mut yd = (yd + 0.5) / scale - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > h as f64 {
            yd = h as f64;
        }
        let yd = yd.ceil();
        a.push((xd as i64 * h as i64 + yd as i64) as u32);
    }
    a.push(h.wrapping_mul(w));
    a.sort_unstable();
    let mut p = 0u32;
    for item in a.iter_mut() {
        let t = *item;
        *item -= p;
        p = t;
    }
    let mut b: Vec<u32> = vec![a[0]];
    let mut j = 1;
    while j < a.len() {
        if a[j] > 0 {
            b.push(a[j]);
            j += 1;
        } else {
            j += 1;
            if j < a.len() {
                let last = b.len() - 1;
                b[last] += a[j];
                j += 1;
            }
        }
    }
    Ok(Rle { h, w, counts: b })
}

/// The points `t` in `0..=dy` worth emitting for a steep edge whose column at `t` is `col(t)`
/// (monotone in `t`): the first and last `t` of every run of equal columns within [lo, hi], in
/// ascending order.
fn column_run_ends(col: impl Fn(i64) -> i64, dy: i64, lo: i64, hi: i64) -> Vec<i64> {
    let (c0, c1) = (col(0), col(dy));
    let rising = c1 >= c0;
    // The first t whose column has reached `c` (moving from c0 towards c1).
    let first_reaching = |c: i64| -> i64 {
        let (mut a, mut b) = (0i64, dy + 1);
        while a < b {
            let m = a + (b - a) / 2;
            let reached = if rising { col(m) >= c } else { col(m) <= c };
            if reached {
                b = m;
            } else {
                a = m + 1;
            }
        }
        a
    };
    let (from, to) = if rising { (c0, c1) } else { (c1, c0) };
    let (from, to) = (from.max(lo), to.min(hi));
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let values: Vec<i64> = if rising {
        (from..=to).collect()
    } else {
        (from..=to).rev().collect()
    };
    for c in values {
        let start = first_reaching(c);
        let next = if rising { c + 1 } else { c - 1 };
        let end = first_reaching(next) - 1;
        if start <= end && start <= dy {
            out.push(start);
            if end > start {
                out.push(end.min(dy));
            }
        }
    }
    out
}

/// Rasterises every ring and unions them, as `annToRLE` does for a polygon segmentation.
pub fn rasterize_polygons(rings: &[Vec<f64>], h: u32, w: u32) -> Result<Rle, PolygonError> {
    if h as u64 * w as u64 > u32::MAX as u64 {
        return Err(PolygonError::CanvasTooLarge { h, w });
    }
    let parts = rings
        .iter()
        .map(|r| rasterize_ring(r, h, w))
        .collect::<Result<Vec<_>, _>>()?;
    if parts.is_empty() {
        return Ok(Rle {
            h,
            w,
            counts: vec![h * w],
        });
    }
    Ok(Rle::merge(&parts, false)?)
}
