//! Cheap properties of each sample, for finding weak slices nobody tagged (`crate::slices`):
//! the photo's luminance, contrast and sharpness (`maskgate_core::photo_stats`, OpenCV's
//! definitions), its size and aspect, and the ground truth's foreground share and number of
//! components. Each is one declaration in [`PROPERTIES`]; a criterion names one as
//! `per = "slice:<name>"`.

use maskgate_core::photo_stats::PhotoStats;
use maskgate_core::Mask;
use serde::Serialize;

/// One property, declared once.
#[derive(Debug)]
pub struct Property {
    /// Its key in `samples.jsonl`'s `properties`.
    pub name: &'static str,
    /// The grouping its bins form: `slice:<name>`, what `per` and `group_by` take.
    pub grouping: &'static str,
    /// How the report names it.
    pub label: &'static str,
    pub decimals: usize,
}

const fn property(
    name: &'static str,
    grouping: &'static str,
    label: &'static str,
    decimals: usize,
) -> Property {
    Property {
        name,
        grouping,
        label,
        decimals,
    }
}

/// Every property, in report order. The photo's three come from its pixels (absent when the
/// photo could not be decoded); the rest from the sample's size and ground truth.
pub const PROPERTIES: &[Property] = &[
    property("luminance", "slice:luminance", "mean luminance (0–255)", 1),
    property(
        "contrast",
        "slice:contrast",
        "contrast (grey-level s.d.)",
        1,
    ),
    property(
        "sharpness",
        "slice:sharpness",
        "sharpness (variance of the Laplacian)",
        0,
    ),
    property("megapixels", "slice:megapixels", "size (megapixels)", 2),
    property("aspect", "slice:aspect", "aspect (width / height)", 2),
    property(
        "foreground",
        "slice:foreground",
        "ground-truth foreground share",
        3,
    ),
    property(
        "gt_components",
        "slice:gt_components",
        "ground-truth components",
        0,
    ),
];

pub const COUNT: usize = PROPERTIES.len();

/// The property whose grouping is `grouping` (`slice:<name>`), with its position.
pub fn by_grouping(grouping: &str) -> Option<(usize, &'static Property)> {
    PROPERTIES
        .iter()
        .enumerate()
        .find(|(_, p)| p.grouping == grouping)
}

/// One sample's values in [`PROPERTIES`] order; serialised as a map by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Properties(pub [Option<f64>; COUNT]);

impl Serialize for Properties {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_map(PROPERTIES.iter().zip(&self.0).map(|(p, v)| (p.name, v)))
    }
}

impl Properties {
    /// A sample of `size` (height, width) whose ground-truth classes together cover `gt`, out
    /// of `counted` pixels (void left out); `None` when its ground truth failed to load. With
    /// its photo's statistics when it was decoded.
    pub fn of(size: (u32, u32), gt: Option<(&Mask, u64)>, photo: Option<PhotoStats>) -> Properties {
        let (h, w) = size;
        Properties([
            photo.map(|p| p.luminance),
            photo.map(|p| p.contrast),
            photo.map(|p| p.sharpness),
            Some(h as f64 * w as f64 / 1e6),
            (h > 0).then(|| w as f64 / h as f64),
            gt.and_then(|(m, counted)| (counted > 0).then(|| m.area() as f64 / counted as f64)),
            gt.map(|(m, _)| maskgate_core::morphology::count_components(m) as f64),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_consistent() {
        for p in PROPERTIES {
            assert_eq!(p.grouping, format!("slice:{}", p.name));
        }
        let gt = Mask::from_fn(10, 20, |y, x| (y < 2 && x < 2) || (y > 5 && x > 15));
        let p = Properties::of((10, 20), Some((&gt, 200)), None);
        assert_eq!(p.0[3], Some(200.0 / 1e6));
        assert_eq!(p.0[4], Some(2.0));
        assert_eq!(p.0[5], Some((4.0 + 16.0) / 200.0));
        assert_eq!(p.0[6], Some(2.0));
        assert_eq!(p.0[0], None);
        let failed = Properties::of((10, 20), None, None);
        assert_eq!((failed.0[5], failed.0[6]), (None, None));
    }
}
