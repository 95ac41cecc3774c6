//! Pillow's filled polygon and rectangle (`ImageDraw.polygon(xy, fill=…)`,
//! `ImageDraw.rectangle(xy, fill=…)` on an "L" image), ported from Pillow 13.0.0's
//! `src/libImaging/Draw.c` (`ImagingDrawPolygon`, `polygon_generic`, `add_edge`,
//! `ImagingDrawRectangle`, `hline8`) and `_imaging.c` (coordinates truncated with `(int)`).
//! labelme draws its masks this way, so labelme JSON read through here gives the masks of
//! labelme's own exports. Arithmetic is f32 where Pillow's is `float`, f64 where it is `double`.

use crate::mask::Mask;

#[derive(Clone, Copy, Debug)]
struct Edge {
    x0: i32,
    y0: i32,
    xmin: i32,
    ymin: i32,
    xmax: i32,
    ymax: i32,
    dx: f32,
}

fn add_edge(x0: i32, y0: i32, x1: i32, y1: i32) -> Edge {
    Edge {
        x0,
        y0,
        xmin: x0.min(x1),
        xmax: x0.max(x1),
        ymin: y0.min(y1),
        ymax: y0.max(y1),
        dx: if y0 == y1 {
            0.0
        } else {
            (x1 - x0) as f32 / (y1 - y0) as f32
        },
    }
}

/// `ROUND_UP`: round half away from zero. The negative branch runs in double (`fabs` returns
/// a double), as in C.
fn round_up(f: f32) -> i32 {
    if f >= 0.0 {
        (f + 0.5).floor() as i32
    } else {
        -((f.abs() as f64) + 0.5).floor() as i32
    }
}

/// `ROUND_DOWN`: round half towards zero.
fn round_down(f: f32) -> i32 {
    if f >= 0.0 {
        (f - 0.5).ceil() as i32
    } else {
        -((f.abs() as f64) - 0.5).ceil() as i32
    }
}

/// `hline8`: pixels x0..=x1 of row y, clipped to the image.
fn hline(m: &mut Mask, x0: i32, y: i32, x1: i32) {
    let (h, w) = (m.height() as i32, m.width() as i32);
    if y < 0 || y >= h || x0 >= w || x1 < 0 {
        return;
    }
    let (x0, x1) = (x0.max(0), x1.min(w - 1));
    for x in x0..=x1 {
        m.set(y as u32, x as u32, true);
    }
}

fn x_at(e: &Edge, y: i32) -> f32 {
    (y - e.y0) as f32 * e.dx + e.x0 as f32
}

/// `polygon_generic` without alpha: horizontal edges drawn whole, then one span per pair of
/// sorted crossings on every scan line.
fn polygon_generic(m: &mut Mask, e: &[Edge]) {
    if e.is_empty() {
        return;
    }
    let mut ymin = m.height() as i32 - 1;
    let mut ymax = 0;
    let mut table: Vec<&Edge> = Vec::with_capacity(e.len());
    for edge in e {
        ymin = ymin.min(edge.ymin);
        ymax = ymax.max(edge.ymax);
        if edge.ymin == edge.ymax {
            hline(m, edge.xmin, edge.ymin, edge.xmax);
            continue;
        }
        table.push(edge);
    }
    let ymin = ymin.max(0);
    let ymax = ymax.min(m.height() as i32);
    let mut xx: Vec<f32> = Vec::with_capacity(table.len() * 2);
    for y in ymin..=ymax {
        xx.clear();
        for (i, cur) in table.iter().enumerate() {
            if y < cur.ymin || y > cur.ymax {
                continue;
            }
            xx.push(x_at(cur, y));
            if y == cur.ymax && y < ymax {
                // "Needed to draw consistent polygons"
                xx.push(*xx.last().unwrap_or(&0.0));
            } else if (y == cur.ymin || y == cur.ymax) && cur.dx != 0.0 {
                // "Connect discontiguous corners"
                for other in &table[..i] {
                    if (y != other.ymin && y != other.ymax) || other.dx == 0.0 {
                        continue;
                    }
                    let last = *xx.last().unwrap_or(&0.0);
                    if last.round() != x_at(other, y).round() {
                        continue;
                    }
                    let offset = if y == cur.ymax { -1 } else { 1 };
                    let adjacent = x_at(cur, y + offset);
                    if y + offset >= other.ymin && y + offset <= other.ymax {
                        let adjacent_other = x_at(other, y + offset);
                        let slot = xx.len() - 1;
                        if last > adjacent + 1.0 && last > adjacent_other + 1.0 {
                            xx[slot] = (adjacent.max(adjacent_other)).round() + 1.0;
                        } else if last < adjacent - 1.0 && last < adjacent_other - 1.0 {
                            xx[slot] = (adjacent.min(adjacent_other)).round() - 1.0;
                        }
                        break;
                    }
                }
            }
        }
        xx.sort_by(|a, b| a.total_cmp(b));
        for pair in xx.chunks_exact(2) {
            hline(m, round_up(pair[0]), y, round_down(pair[1]));
        }
    }
}

/// Pillow's filled polygon of `points` (pixel coordinates, truncated to int as Pillow does) on
/// an `h × w` canvas.
pub fn fill_polygon(points: &[[f64; 2]], h: u32, w: u32) -> Mask {
    let mut m = Mask::new(h, w);
    let xy: Vec<(i32, i32)> = points.iter().map(|p| (p[0] as i32, p[1] as i32)).collect();
    let count = xy.len();
    if count == 0 {
        return m;
    }
    let mut edges: Vec<Edge> = Vec::with_capacity(count);
    for i in 0..count - 1 {
        let ((x0, y0), (x1, y1)) = (xy[i], xy[i + 1]);
        if y0 == y1 && i != 0 && y0 == xy[i - 1].1 {
            // A horizontal line right after another: extend that one instead.
            let prev_x = xy[i - 1].0;
            if let Some(last) = edges.last_mut() {
                if x1 > x0 && x0 > prev_x {
                    last.xmax = x1;
                    continue;
                } else if x1 < x0 && x0 < prev_x {
                    last.xmin = x1;
                    continue;
                }
            }
        }
        edges.push(add_edge(x0, y0, x1, y1));
    }
    if xy[count - 1] != xy[0] {
        let ((x0, y0), (x1, y1)) = (xy[count - 1], xy[0]);
        edges.push(add_edge(x0, y0, x1, y1));
    }
    polygon_generic(&mut m, &edges);
    m
}

/// Pillow's filled rectangle between two corners (truncated to int), both edges included.
pub fn fill_rectangle(a: [f64; 2], b: [f64; 2], h: u32, w: u32) -> Mask {
    let mut m = Mask::new(h, w);
    let (x0, x1) = (a[0] as i32, b[0] as i32);
    let (mut y0, mut y1) = (a[1] as i32, b[1] as i32);
    if y0 > y1 {
        std::mem::swap(&mut y0, &mut y1);
    }
    if y0 >= h as i32 || y1 < 0 {
        return m;
    }
    for y in y0.max(0)..=y1.min(h as i32) {
        hline(&mut m, x0, y, x1);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_the_c_macros() {
        assert_eq!((round_up(2.5), round_up(-2.5), round_up(2.4)), (3, -3, 2));
        assert_eq!(
            (round_down(2.5), round_down(-2.5), round_down(2.6)),
            (2, -2, 3)
        );
    }

    #[test]
    fn an_axis_aligned_square_includes_its_edges() {
        // Pillow fills both the left/right and the top/bottom edge pixels.
        let m = fill_polygon(&[[1.0, 1.0], [4.0, 1.0], [4.0, 3.0], [1.0, 3.0]], 6, 6);
        let want = Mask::from_fn(6, 6, |y, x| (1..=4).contains(&x) && (1..=3).contains(&y));
        assert_eq!(m, want);
        let r = fill_rectangle([1.0, 3.9], [4.9, 1.0], 6, 6);
        assert_eq!(r, want);
    }
}
