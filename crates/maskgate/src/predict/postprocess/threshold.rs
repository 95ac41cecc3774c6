use maskgate_core::Mask;

/// Binarises a probability map (row-major, `w × h`, values 0..1) at `value` (inclusive).
pub fn threshold(prob: &[f32], w: usize, h: usize, value: f64) -> Mask {
    Mask::from_row_major(h as u32, w as u32, |y, x| {
        prob[y as usize * w + x as usize] as f64 >= value
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn inclusive_threshold() {
        let m = super::threshold(&[0.2, 0.5, 0.7, 0.49], 2, 2, 0.5);
        assert_eq!(m.to_rows(), vec![vec![0, 1], vec![1, 0]]);
    }
}
