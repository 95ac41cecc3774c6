use maskgate_core::Mask;

/// Fills background regions not 4-connected to the image border.
pub fn fill_holes(m: &Mask) -> Mask {
    maskgate_core::morphology::fill_holes(m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_an_enclosed_hole_only() {
        let m = maskgate_core::Mask::from_rows(&[
            vec![1, 1, 1, 0],
            vec![1, 0, 1, 0],
            vec![1, 1, 1, 0],
            vec![0, 0, 0, 0],
        ]);
        let f = super::fill_holes(&m);
        assert_eq!(f.area(), 9);
        assert!(f.get(1, 1) && !f.get(3, 3));
    }
}
