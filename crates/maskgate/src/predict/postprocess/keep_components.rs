use maskgate_core::Mask;

/// The largest 8-connected component, or every component with at least `min_area` pixels.
pub fn keep_components(m: &Mask, min_area: Option<u64>) -> Mask {
    maskgate_core::morphology::keep_components(m, min_area)
}

#[cfg(test)]
mod tests {
    #[test]
    fn largest_or_above_area() {
        let m =
            maskgate_core::Mask::from_rows(&[vec![1, 1, 0, 1], vec![1, 1, 0, 0], vec![0, 0, 0, 1]]);
        assert_eq!(super::keep_components(&m, None).area(), 4);
        assert_eq!(super::keep_components(&m, Some(1)).area(), 6);
        assert_eq!(super::keep_components(&m, Some(2)).area(), 4);
    }
}
