//! Boundary IoU (Cheng et al., CVPR 2021) against a reference written from the definition, pixel
//! by pixel, sharing no code with maskgate: the band width is `max(1, round(ratio · diagonal))`
//! with Python's round (half to even), as `boundary-iou-api`'s `mask_to_boundary` computes it; a
//! mask's boundary is the mask minus its erosion by the (2d+1)×(2d+1) square, where pixels
//! outside the image count as background (the same as the reference's one-pixel zero pad eroded
//! d times by a 3×3 square kernel); Boundary IoU is |B_G ∩ B_P| / |B_G ∪ B_P|.
//! Checked three ways: the boundary masks themselves, `maskgate_core::boundary::boundary_iou`,
//! and the `boundary_iou` that `score_sample` reports (null when both masks are empty).

use maskgate::model::{MaskData, Prediction, Sample};
use maskgate::score::{score_sample, ScoreSettings};
use maskgate_core::Mask;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Python's `int(round(ratio * sqrt(h² + w²)))`, at least 1, with the tie rule spelled out.
fn naive_width(h: u32, w: u32, ratio: f64) -> u32 {
    let x = ratio * ((h as f64) * (h as f64) + (w as f64) * (w as f64)).sqrt();
    let f = x.floor();
    // Above half, or exactly half with an odd floor, rounds up.
    let up = x - f > 0.5 || (x - f == 0.5 && f % 2.0 != 0.0);
    let r = if up { f + 1.0 } else { f };
    if r < 1.0 {
        1
    } else {
        r as u32
    }
}

type Grid = Vec<Vec<bool>>;

fn grid(m: &Mask) -> Grid {
    (0..m.height())
        .map(|y| (0..m.width()).map(|x| m.get(y, x)).collect())
        .collect()
}

/// Pixel (y, x) survives the erosion iff every pixel of the square around it is inside the
/// image and set; the boundary is the set pixels that do not survive.
fn naive_boundary(m: &Grid, d: u32) -> Grid {
    let h = m.len() as i64;
    let w = m.first().map_or(0, |r| r.len()) as i64;
    let d = d as i64;
    let mut out = vec![vec![false; w as usize]; h as usize];
    for y in 0..h {
        for x in 0..w {
            if !m[y as usize][x as usize] {
                continue;
            }
            let mut survives = true;
            'window: for dy in -d..=d {
                for dx in -d..=d {
                    let (yy, xx) = (y + dy, x + dx);
                    if yy < 0 || yy >= h || xx < 0 || xx >= w || !m[yy as usize][xx as usize] {
                        survives = false;
                        break 'window;
                    }
                }
            }
            out[y as usize][x as usize] = !survives;
        }
    }
    out
}

/// `None` when both boundaries are empty.
fn naive_boundary_iou(g: &Grid, p: &Grid, d: u32) -> Option<f64> {
    let (bg, bp) = (naive_boundary(g, d), naive_boundary(p, d));
    let (mut inter, mut union) = (0u64, 0u64);
    for (rg, rp) in bg.iter().zip(&bp) {
        for (&a, &b) in rg.iter().zip(rp) {
            inter += (a && b) as u64;
            union += (a || b) as u64;
        }
    }
    (union > 0).then(|| inter as f64 / union as f64)
}

fn score(g: &Mask, p: &Mask, ratio: f64) -> Option<f64> {
    let sample = Sample {
        instances: None,
        id: "s".into(),
        hash: "h".into(),
        source: None,
        image: None,
        size: (g.height(), g.width()),
        gt: BTreeMap::from([("a".to_string(), MaskData::Mask(g.clone()))]),
        void: None,
        fit_predictions: false,
        predicted_modules: None,
        notes: None,
        meta: Default::default(),
    };
    let pred = Prediction {
        masks: BTreeMap::from([("a".to_string(), MaskData::Mask(p.clone()))]),
        ..Default::default()
    };
    let settings = ScoreSettings {
        boundary_ratio: ratio,
        ..Default::default()
    };
    let s = score_sample(
        &"c".into(),
        &sample,
        &["a".into()],
        &[("x".into(), pred)],
        &settings,
        &[],
        &[],
        maskgate::score::SampleContext::default(),
    );
    s[0].classes.get("a").unwrap().metric("boundary_iou")
}

/// Masks with structure: a few rectangles, XOR-ed with sparse noise (holes, specks), and a
/// prediction that is the GT shifted, the GT with other noise, or unrelated.
fn arb_case() -> impl Strategy<Value = (Mask, Mask, f64)> {
    (
        1u32..64,
        1u32..64,
        any::<u64>(),
        0usize..4,
        0u64..4,
        0u8..3,
        prop::sample::select(vec![0.02, 0.05, 0.1, 0.2]),
    )
        .prop_map(|(h, w, seed, rects, noise, mode, ratio)| {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let shape = |next: &mut dyn FnMut() -> u64| {
                let boxes: Vec<[u32; 4]> = (0..rects)
                    .map(|_| {
                        let (a, b) = ((next() % h as u64) as u32, (next() % h as u64) as u32);
                        let (c, d) = ((next() % w as u64) as u32, (next() % w as u64) as u32);
                        [a.min(b), a.max(b), c.min(d), c.max(d)]
                    })
                    .collect();
                let flips: Vec<bool> = (0..h * w).map(|_| next() % 16 < noise).collect();
                Mask::from_fn(h, w, |y, x| {
                    let inside = boxes
                        .iter()
                        .any(|b| b[0] <= y && y <= b[1] && b[2] <= x && x <= b[3]);
                    inside ^ flips[(y * w + x) as usize]
                })
            };
            let g = shape(&mut next);
            let p = match mode {
                0 => {
                    let (dy, dx) = ((next() % 5) as i64 - 2, (next() % 5) as i64 - 2);
                    Mask::from_fn(h, w, |y, x| {
                        let (yy, xx) = (y as i64 - dy, x as i64 - dx);
                        yy >= 0
                            && xx >= 0
                            && yy < h as i64
                            && xx < w as i64
                            && g.get(yy as u32, xx as u32)
                    })
                }
                1 => {
                    let flips: Vec<bool> = (0..h * w).map(|_| next() % 32 == 0).collect();
                    Mask::from_fn(h, w, |y, x| g.get(y, x) ^ flips[(y * w + x) as usize])
                }
                _ => shape(&mut next),
            };
            (g, p, ratio)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn boundary_iou_matches_the_pixel_by_pixel_definition((g, p, ratio) in arb_case()) {
        let d = naive_width(g.height(), g.width(), ratio);
        prop_assert_eq!(maskgate_core::boundary::dilation_px(g.height(), g.width(), ratio), d);
        let (gg, pg) = (grid(&g), grid(&p));
        prop_assert_eq!(grid(&g.inner_boundary(d)), naive_boundary(&gg, d));
        prop_assert_eq!(grid(&p.inner_boundary(d)), naive_boundary(&pg, d));
        let want = naive_boundary_iou(&gg, &pg, d);
        prop_assert_eq!(maskgate_core::boundary::boundary_iou(&g, &p, d), want);
        // The scorer: null only when both masks are empty (then both boundaries are too).
        let both_empty = g.area() == 0 && p.area() == 0;
        prop_assert_eq!(want.is_none(), both_empty);
        prop_assert_eq!(score(&g, &p, ratio), want);
    }
}

/// Worked by hand, d = 2: a full 10×10 mask's boundary is the 2-px band along the edges,
/// 100 − 6·6 = 64 pixels. A 6×6 square in the corner (rows and columns 0..=5) erodes to rows and
/// columns 2..=3 (4 pixels), so its boundary has 32; the two boundaries share the square's
/// pixels in rows 0–1 or columns 0–1, 36 − 4·4 = 20, of a union of 64 + 32 − 20 = 76.
#[test]
fn hand_worked_cases() {
    let full = Mask::from_fn(10, 10, |_, _| true);
    let square = Mask::from_fn(10, 10, |y, x| y < 6 && x < 6);
    // diagonal √200 ≈ 14.14: ratio 0.15 → 2.12 → d = 2; ratio 0.02 → 0.28 → d = 1.
    assert_eq!(naive_width(10, 10, 0.15), 2);
    assert_eq!(naive_width(10, 10, 0.02), 1);
    // Half-way cases round to even, as Python: 2.5 → 2, 3.5 → 4 (3-4-5 triangles: diagonal 5).
    assert_eq!(naive_width(3, 4, 0.5), 2);
    assert_eq!(naive_width(3, 4, 0.7), 4);
    let band = |m: &Mask| naive_boundary(&grid(m), 2);
    let count = |g: &Grid| g.iter().flatten().filter(|&&b| b).count();
    assert_eq!(count(&band(&full)), 64);
    assert_eq!(count(&band(&square)), 32);
    assert_eq!(
        naive_boundary_iou(&grid(&full), &grid(&square), 2),
        Some(20.0 / 76.0)
    );
    assert_eq!(score(&full, &square, 0.15), Some(20.0 / 76.0));
}
