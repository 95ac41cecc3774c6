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
    Mask::from_row_major(h as u32, w as u32, |y, x| {
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
/// it (morphological reconstruction): the components of `within` that `seed` touches.
pub fn reach(seed: &Mask, within: &Mask) -> Mask {
    assert!(seed.same_size(within), "mask sizes differ");
    let mut c = RunComponents::of(within);
    let mut seeded = vec![false; c.runs.len()];
    for i in 0..c.runs.len() {
        let (x, y0, y1) = c.runs[i];
        if seed.any_in_column(x, y0, y1) {
            let r = c.root(i);
            seeded[r] = true;
        }
    }
    let mut out = Mask::new(within.height(), within.width());
    for i in 0..c.runs.len() {
        let (x, y0, y1) = c.runs[i];
        if seeded[c.root(i)] {
            out.fill_column_range(x, y0, y1);
        }
    }
    out
}

/// How many 8-connected components `m` has ([`components`] without a label per pixel).
pub fn count_components(m: &Mask) -> u64 {
    let mut c = RunComponents::of(m);
    (0..c.runs.len()).filter(|&i| c.root(i) == i).count() as u64
}

/// A mask's vertical runs (column, rows `y0..y1`) joined into 8-connected components by
/// union-find: two runs of neighbouring columns touch when their rows come within one of each
/// other. Work and memory grow with the runs, not the pixels, so a large smooth mask is cheap.
struct RunComponents {
    runs: Vec<(u32, u32, u32)>,
    parent: Vec<usize>,
}

impl RunComponents {
    fn of(m: &Mask) -> RunComponents {
        let mut runs = Vec::new();
        m.for_each_column_run(|x, y0, y1| runs.push((x, y0, y1)));
        let mut c = RunComponents {
            parent: (0..runs.len()).collect(),
            runs,
        };
        // Runs come column by column, each column top to bottom: walk each column's runs
        // against the previous column's with two pointers.
        let mut cur = 0..0;
        let mut i = 0;
        while i < c.runs.len() {
            let x = c.runs[i].0;
            let start = i;
            while i < c.runs.len() && c.runs[i].0 == x {
                i += 1;
            }
            let prev = std::mem::replace(&mut cur, start..i);
            if prev.is_empty() || c.runs[prev.start].0 + 1 != x {
                continue;
            }
            let mut j = prev.start;
            for r in cur.clone() {
                let (_, a0, a1) = c.runs[r];
                // A run of the previous column that ends more than a row above this one
                // touches no later run of this column either.
                while j < prev.end && c.runs[j].2 < a0 {
                    j += 1;
                }
                let mut k = j;
                while k < prev.end && c.runs[k].1 <= a1 {
                    c.union(r, k);
                    k += 1;
                }
            }
        }
        c
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
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

    /// Masks taller than a word (columns of several u64s), with long runs and single pixels.
    fn arb_tall_mask() -> impl Strategy<Value = Mask> {
        (60u32..200, 1u32..12, any::<u64>(), 1u64..6).prop_map(|(h, w, seed, sparsity)| {
            let mut s = seed | 1;
            let mut on = false;
            Mask::from_fn(h, w, |_, _| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                if s % (4 * sparsity) == 0 {
                    on = !on;
                }
                on
            })
        })
    }

    proptest! {
        #[test]
        fn column_runs_are_the_set_pixels(m in arb_tall_mask()) {
            let mut from_runs = Mask::new(m.height(), m.width());
            let mut last = (0u32, 0u32);
            m.for_each_column_run(|x, y0, y1| {
                assert!(y0 < y1 && (x, y0) >= last, "runs in order, never empty");
                last = (x, y1 + 1);
                for y in y0..y1 {
                    from_runs.set(y, x, true);
                }
            });
            prop_assert_eq!(&from_runs, &m);
            for x in 0..m.width() {
                for (y0, y1) in [(0, m.height()), (63, 65.min(m.height())), (m.height() / 2, m.height())] {
                    prop_assert_eq!(m.any_in_column(x, y0, y1), (y0..y1).any(|y| m.get(y, x)));
                }
            }
        }

        #[test]
        fn tall_masks_reach_and_count_as_the_pixel_labelling_does(m in arb_tall_mask(), seed in arb_tall_mask()) {
            let seed = Mask::from_fn(m.height(), m.width(), |y, x| {
                y < seed.height() && x < seed.width() && seed.get(y, x) && (x + y) % 7 == 0
            });
            let (labels, areas) = components(&m);
            let w = m.width() as usize;
            let touched: std::collections::BTreeSet<u32> = (0..m.height())
                .flat_map(|y| (0..m.width()).map(move |x| (y, x)))
                .filter(|&(y, x)| seed.get(y, x))
                .map(|(y, x)| labels[y as usize * w + x as usize])
                .filter(|&l| l > 0)
                .collect();
            let naive = Mask::from_fn(m.height(), m.width(), |y, x| {
                touched.contains(&labels[y as usize * w + x as usize])
            });
            prop_assert_eq!(reach(&seed, &m), naive);
            prop_assert_eq!(count_components(&m), areas.len() as u64);
        }

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
