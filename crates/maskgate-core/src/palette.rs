//! Colour-coded label images (FASSEG's, VOC's) → class indices. Labels are long runs of a few
//! exact colours, so the caller's lookup (nearest palette colour, say) is asked once per run.

/// Writes one index per pixel of interleaved RGB `rgb` into `out` (as many as both hold) and
/// returns how many pixels the lookup flagged (e.g. too far from every palette colour).
/// `lookup(colour) -> (index, flagged)`.
pub fn index_by_colour(
    rgb: &[u8],
    out: &mut [u8],
    lookup: &mut dyn FnMut([u8; 3]) -> (u8, bool),
) -> u64 {
    let mut flagged = 0u64;
    let mut last: Option<([u8; 3], (u8, bool))> = None;
    for (slot, px) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        let px = [px[0], px[1], px[2]];
        let hit = match last {
            Some((c, hit)) if c == px => hit,
            _ => {
                let hit = lookup(px);
                last = Some((px, hit));
                hit
            }
        };
        *slot = hit.0;
        flagged += hit.1 as u64;
    }
    flagged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against the lookup asked for every pixel.
        #[test]
        fn equals_a_lookup_per_pixel(rgb in proptest::collection::vec(0u8..4, 0..300)) {
            let lookup = |c: [u8; 3]| (c[0] * 16 + c[1] * 4 + c[2], c[0] == 3);
            let n = rgb.len() / 3;
            let mut out = vec![0u8; n];
            let mut calls = 0;
            let flagged = index_by_colour(&rgb, &mut out, &mut |c| {
                calls += 1;
                lookup(c)
            });
            let want: Vec<(u8, bool)> = rgb.chunks_exact(3).map(|p| lookup([p[0], p[1], p[2]])).collect();
            prop_assert_eq!(out, want.iter().map(|w| w.0).collect::<Vec<_>>());
            prop_assert_eq!(flagged, want.iter().filter(|w| w.1).count() as u64);
            prop_assert!(calls <= n);
        }
    }
}
