//! Morphology on binary masks: dilation by a square (Chebyshev radius), opening, closing, hole
//! filling and connected components. Everything outside the image counts as background, so a
//! dilation never grows in from the border. Tested against pixel-by-pixel references.

use crate::mask::Mask;

/// Dilation by a `(2d+1)²` square: a pixel is set if any pixel within Chebyshev distance `d`
/// is set (pixels outside the image are not).
pub fn dilate_square(m: &Mask, d: u32) -> Mask {
    m.dilate_square(d)
}

/// Erosion by a square with pixels outside the image counted as set, so a shape is never
/// trimmed just for touching the border (the convention for post-processing; Boundary IoU's
/// erosion, [`Mask::erode_square`], counts the outside as unset).
pub fn erode_square_inside(m: &Mask, d: u32) -> Mask {
    m.complement().dilate_square(d).complement()
}

pub fn open_square(m: &Mask, d: u32) -> Mask {
    dilate_square(&erode_square_inside(m, d), d)
}

pub fn close_square(m: &Mask, d: u32) -> Mask {
    erode_square_inside(&dilate_square(m, d), d)
}

/// Sets every background pixel that is not 4-connected to the image border.
pub fn fill_holes(m: &Mask) -> Mask {
    let (h, w) = (m.height() as usize, m.width() as usize);
    let mut outside = vec![false; h * w];
    let mut stack: Vec<usize> = Vec::new();
    let seed = |i: usize, stack: &mut Vec<usize>, outside: &mut Vec<bool>| {
        if !outside[i] && !m.get((i / w) as u32, (i % w) as u32) {
            outside[i] = true;
            stack.push(i);
        }
    };
    for x in 0..w {
        seed(x, &mut stack, &mut outside);
        seed((h - 1) * w + x, &mut stack, &mut outside);
    }
    for y in 0..h {
        seed(y * w, &mut stack, &mut outside);
        seed(y * w + w - 1, &mut stack, &mut outside);
    }
    while let Some(i) = stack.pop() {
        let (y, x) = (i / w, i % w);
        if y > 0 {
            seed(i - w, &mut stack, &mut outside);
        }
        if y + 1 < h {
            seed(i + w, &mut stack, &mut outside);
        }
        if x > 0 {
            seed(i - 1, &mut stack, &mut outside);
        }
        if x + 1 < w {
            seed(i + 1, &mut stack, &mut outside);
        }
    }
    Mask::from_fn(h as u32, w as u32, |y, x| {
        !outside[y as usize * w + x as usize]
    })
}

/// 8-connected components: a label per pixel (0 = background, components numbered from 1 in
/// row-major order of their first pixel) and each component's area (index = label − 1).
pub fn components(m: &Mask) -> (Vec<u32>, Vec<u64>) {
    let (h, w) = (m.height() as usize, m.width() as usize);
    let mut labels = vec![0u32; h * w];
    let mut areas = Vec::new();
    let mut stack = Vec::new();
    for start in 0..h * w {
        if labels[start] != 0 || !m.get((start / w) as u32, (start % w) as u32) {
            continue;
        }
        let label = areas.len() as u32 + 1;
        let mut area = 0u64;
        labels[start] = label;
        stack.push(start);
        while let Some(i) = stack.pop() {
            area += 1;
            let (y, x) = ((i / w) as i64, (i % w) as i64);
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let (yy, xx) = (y + dy, x + dx);
                    if yy < 0 || xx < 0 || yy >= h as i64 || xx >= w as i64 {
                        continue;
                    }
                    let j = yy as usize * w + xx as usize;
                    if labels[j] == 0 && m.get(yy as u32, xx as u32) {
                        labels[j] = label;
                        stack.push(j);
                    }
                }
            }
        }
        areas.push(area);
    }
    (labels, areas)
}

/// The pixels of `within` that are 8-connected, through `within`, to a pixel of `seed` inside
/// it (morphological reconstruction): the components of `within` that `seed` touches, found
/// without labelling the others. Only `within`'s bounding box is visited.
pub fn reach(seed: &Mask, within: &Mask) -> Mask {
    assert!(seed.same_size(within), "mask sizes differ");
    let mut out = Mask::new(within.height(), within.width());
    let Some(mut grid) = Grid::of(within) else {
        return out;
    };
    let b = grid.bbox;
    let mut stack = Vec::new();
    for (i, s) in grid.state.iter_mut().enumerate() {
        let (yy, xx) = (b.y0 + (i / grid.w) as u32, b.x0 + (i % grid.w) as u32);
        if *s == 1 && seed.get(yy, xx) {
            *s = 2;
            stack.push(i);
        }
    }
    let w = grid.w;
    grid.flood(&mut stack, |i| {
        out.set(b.y0 + (i / w) as u32, b.x0 + (i % w) as u32, true)
    });
    out
}

/// How many 8-connected components `m` has ([`components`] without a label per pixel).
pub fn count_components(m: &Mask) -> u64 {
    let Some(mut grid) = Grid::of(m) else {
        return 0;
    };
    let mut n = 0;
    let mut stack = Vec::new();
    for start in 0..grid.state.len() {
        if grid.state[start] == 1 {
            n += 1;
            grid.state[start] = 2;
            stack.push(start);
            grid.flood(&mut stack, |_| {});
        }
    }
    n
}

/// A mask's bounding box as a row-major grid for flood fills: 0 outside the mask, 1 in it and
/// not reached yet, 2 reached.
struct Grid {
    bbox: crate::mask::PixelBox,
    w: usize,
    h: usize,
    state: Vec<u8>,
}

impl Grid {
    fn of(m: &Mask) -> Option<Grid> {
        let bbox = m.bbox()?;
        let (h, w) = (
            (bbox.y1 - bbox.y0 + 1) as usize,
            (bbox.x1 - bbox.x0 + 1) as usize,
        );
        let mut state = vec![0u8; h * w];
        for y in 0..h {
            for x in 0..w {
                state[y * w + x] = m.get(bbox.y0 + y as u32, bbox.x0 + x as u32) as u8;
            }
        }
        Some(Grid { bbox, w, h, state })
    }

    /// Marks everything 8-connected to the cells on `stack` reached, calling `visit` on each.
    fn flood(&mut self, stack: &mut Vec<usize>, mut visit: impl FnMut(usize)) {
        let (w, h) = (self.w, self.h);
        while let Some(i) = stack.pop() {
            visit(i);
            let (y, x) = (i / w, i % w);
            for yy in y.saturating_sub(1)..(y + 2).min(h) {
                for xx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = yy * w + xx;
                    if self.state[j] == 1 {
                        self.state[j] = 2;
                        stack.push(j);
                    }
                }
            }
        }
    }
}

/// Keeps the largest component (ties: the first in row-major order), or with `min_area` every
/// component of at least that many pixels.
pub fn keep_components(m: &Mask, min_area: Option<u64>) -> Mask {
    let (labels, areas) = components(m);
    let keep: Vec<bool> = match min_area {
        Some(a) => areas.iter().map(|&x| x >= a).collect(),
        None => {
            let best = areas
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(i, _)| i);
            (0..areas.len()).map(|i| Some(i) == best).collect()
        }
    };
    let w = m.width() as usize;
    Mask::from_fn(m.height(), m.width(), |y, x| {
        let l = labels[y as usize * w + x as usize];
        l > 0 && keep[l as usize - 1]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_dilate(m: &Mask, d: u32) -> Mask {
        let d = d as i64;
        Mask::from_fn(m.height(), m.width(), |y, x| {
            (-d..=d).any(|dy| {
                (-d..=d).any(|dx| {
                    let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                    yy >= 0
                        && xx >= 0
                        && yy < m.height() as i64
                        && xx < m.width() as i64
                        && m.get(yy as u32, xx as u32)
                })
            })
        })
    }

    fn arb_mask() -> impl Strategy<Value = Mask> {
        (1u32..40, 1u32..40, any::<u64>()).prop_map(|(h, w, seed)| {
            let mut s = seed | 1;
            Mask::from_fn(h, w, |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s % 5 == 0
            })
        })
    }

    proptest! {
        #[test]
        fn dilation_matches_naive(m in arb_mask(), d in 0u32..5) {
            prop_assert_eq!(dilate_square(&m, d), naive_dilate(&m, d));
        }

        #[test]
        fn reach_keeps_exactly_the_components_the_seed_touches(
            m in arb_mask(), seed_bits in any::<u64>()
        ) {
            let mut s = seed_bits | 1;
            let seed = Mask::from_fn(m.height(), m.width(), |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s % 23 == 0
            });
            let (labels, areas) = components(&m);
            let w = m.width() as usize;
            let mut touched = vec![false; areas.len()];
            for y in 0..m.height() {
                for x in 0..m.width() {
                    let l = labels[y as usize * w + x as usize];
                    if l > 0 && seed.get(y, x) {
                        touched[l as usize - 1] = true;
                    }
                }
            }
            let naive = Mask::from_fn(m.height(), m.width(), |y, x| {
                let l = labels[y as usize * w + x as usize];
                l > 0 && touched[l as usize - 1]
            });
            prop_assert_eq!(reach(&seed, &m), naive);
            prop_assert_eq!(count_components(&m), areas.len() as u64);
        }

        #[test]
        fn opening_and_closing_are_monotone(m in arb_mask(), d in 1u32..3) {
            let o = open_square(&m, d);
            let c = close_square(&m, d);
            prop_assert_eq!(o.difference(&m).area(), 0, "opening only removes");
            prop_assert_eq!(m.difference(&c).area(), 0, "closing only adds");
        }
    }

    #[test]
    fn hand_built_cases() {
        let ring = Mask::from_rows(&[
            vec![0, 0, 0, 0, 0, 0],
            vec![0, 1, 1, 1, 0, 0],
            vec![0, 1, 0, 1, 0, 1],
            vec![0, 1, 1, 1, 0, 0],
            vec![0, 0, 0, 0, 0, 0],
        ]);
        let filled = fill_holes(&ring);
        assert!(filled.get(2, 2) && filled.area() == ring.area() + 1);
        // A notch open to the border is not a hole.
        let cup = Mask::from_rows(&[vec![1, 0, 1], vec![1, 0, 1], vec![1, 1, 1]]);
        assert_eq!(fill_holes(&cup), cup);
        let (labels, areas) = components(&ring);
        assert_eq!(areas, vec![8, 1]);
        assert_eq!(labels[2 * 6 + 5], 2);
        assert_eq!(keep_components(&ring, None).area(), 8);
        assert_eq!(keep_components(&ring, Some(1)).area(), 9);
        assert_eq!(keep_components(&ring, Some(9)).area(), 0);
        // Diagonal neighbours are one component (8-connectivity).
        let diag = Mask::from_rows(&[vec![1, 0], vec![0, 1]]);
        assert_eq!(components(&diag).1, vec![2]);
        let dot = Mask::from_fn(5, 5, |y, x| y == 2 && x == 2);
        assert_eq!(dilate_square(&dot, 1).area(), 9);
        assert_eq!(open_square(&dot, 1).area(), 0);
        let gap = Mask::from_rows(&[vec![1, 1, 0, 1, 1]]);
        assert_eq!(close_square(&gap, 1).area(), 5);
    }
}
