use maskgate_core::Mask;

/// The part of `class` inside `region` dilated by `px`.
pub fn clip_to_region(class: &Mask, region: &Mask, px: u32) -> Mask {
    class.intersection(&super::dilate(region, px))
}

#[cfg(test)]
mod tests {
    use maskgate_core::Mask;

    #[test]
    fn clips_to_dilated_region() {
        let class = Mask::from_fn(5, 5, |_, _| true);
        let region = Mask::from_fn(5, 5, |y, x| y == 2 && x == 2);
        assert_eq!(super::clip_to_region(&class, &region, 0).area(), 1);
        assert_eq!(super::clip_to_region(&class, &region, 1).area(), 9);
    }
}
