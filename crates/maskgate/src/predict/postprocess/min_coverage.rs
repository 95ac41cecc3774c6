use maskgate_core::Mask;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GuardAction {
    /// Empty the class.
    Drop,
    /// Use the arm's unprocessed mask of the class.
    Fallback,
}

/// When `class` covers less than `min` of `reference` (or of the image), drop it or fall back.
/// Coverage here is |class| ÷ |reference|: post-processing never sees the ground truth.
pub fn min_coverage(
    class: &Mask,
    reference: Option<&Mask>,
    min: f64,
    action: GuardAction,
    fallback: &Mask,
) -> Mask {
    let denom = reference
        .map(|r| r.area())
        .unwrap_or_else(|| class.pixel_count());
    let coverage = if denom == 0 {
        0.0
    } else {
        class.area() as f64 / denom as f64
    };
    if coverage >= min {
        return class.clone();
    }
    match action {
        GuardAction::Drop => Mask::new(class.height(), class.width()),
        GuardAction::Fallback => fallback.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_drops_or_falls_back_below_min() {
        let small = Mask::from_fn(10, 10, |y, x| y == 0 && x < 5); // 5 px
        let skin = Mask::from_fn(10, 10, |y, _| y < 5); // 50 px
        let original = Mask::from_fn(10, 10, |y, _| y < 2);
        assert_eq!(
            min_coverage(&small, Some(&skin), 0.1, GuardAction::Drop, &original),
            small,
            "exactly 0.1 passes"
        );
        assert_eq!(
            min_coverage(&small, Some(&skin), 0.11, GuardAction::Drop, &original).area(),
            0
        );
        assert_eq!(
            min_coverage(&small, Some(&skin), 0.11, GuardAction::Fallback, &original),
            original
        );
        assert_eq!(
            min_coverage(&small, None, 0.06, GuardAction::Drop, &original).area(),
            0,
            "5 of 100 image pixels"
        );
    }
}
