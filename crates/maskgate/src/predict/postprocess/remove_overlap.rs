use maskgate_core::Mask;

/// `class` minus `other` dilated by `px` — e.g. clip the forehead by a dilated hair mask — unless
/// fewer than `min_kept_share` of the class's pixels would remain; then the class is unchanged
/// (the guard against wiping a module out on a bad hair mask).
pub fn remove_overlap(class: &Mask, other: &Mask, px: u32, min_kept_share: f64) -> Mask {
    let grown = super::dilate(other, px);
    let kept = class.difference(&grown);
    let area = class.area();
    if area > 0 && (kept.area() as f64) < min_kept_share * area as f64 {
        class.clone()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use maskgate_core::Mask;

    #[test]
    fn removes_dilated_other_with_a_guard() {
        let class = Mask::from_fn(6, 6, |y, _| y < 4); // 24 px
        let other = Mask::from_fn(6, 6, |y, _| y == 0); // hair along the top
        let out = super::remove_overlap(&class, &other, 1, 0.0);
        assert_eq!(
            out.area(),
            12,
            "rows 0 and 1 removed (row 0 + 1 px of dilation)"
        );
        // Keeping 12 of 24 is below a 0.6 share: the class stays as it was.
        assert_eq!(super::remove_overlap(&class, &other, 1, 0.6), class);
        assert_eq!(super::remove_overlap(&class, &other, 1, 0.5).area(), 12);
    }
}
