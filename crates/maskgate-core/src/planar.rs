//! Interleaved RGB bytes → the planar `[3, H, W]` float tensor a model takes, through one
//! 256-entry table per channel. An adapter fills the tables with its own normalisation formula
//! (768 evaluations), so the per-pixel loop is the same for every model and exact to the formula.

/// `px` is interleaved RGB (`3 × pixels` bytes); returns channel 0's plane, then 1's, then 2's.
pub fn rgb_to_chw(px: &[u8], pixels: usize, tables: &[[f32; 256]; 3]) -> Vec<f32> {
    let mut out = vec![0f32; 3 * pixels];
    let (r, rest) = out.split_at_mut(pixels);
    let (g, b) = rest.split_at_mut(pixels);
    for (i, p) in px.chunks_exact(3).take(pixels).enumerate() {
        r[i] = tables[0][p[0] as usize];
        g[i] = tables[1][p[1] as usize];
        b[i] = tables[2][p[2] as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious loop, as the adapters once wrote it.
    fn naive(px: &[u8], pixels: usize, f: impl Fn(usize, u8) -> f32) -> Vec<f32> {
        let mut out = vec![0f32; 3 * pixels];
        for i in 0..pixels {
            for c in 0..3 {
                out[c * pixels + i] = f(c, px[i * 3 + c]);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn equals_the_formula_applied_per_pixel(
            px in proptest::collection::vec(any::<u8>(), 0..300),
            mean in proptest::array::uniform3(0.0f64..1.0),
        ) {
            let pixels = px.len() / 3;
            let f = |c: usize, v: u8| ((v as f64 / 255.0 - mean[c]) / 0.229) as f32;
            let tables: [[f32; 256]; 3] =
                std::array::from_fn(|c| std::array::from_fn(|v| f(c, v as u8)));
            let got = rgb_to_chw(&px, pixels, &tables);
            let want = naive(&px, pixels, f);
            prop_assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
