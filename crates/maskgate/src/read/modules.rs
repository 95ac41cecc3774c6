//! Face modules: regions derived from a face's ground truth, as skin-analysis reports score
//! them (`forehead`, `left_cheek`, `right_cheek`, `chin`, `nose`, `under_eye_left`,
//! `under_eye_right`). Each module is a template region placed in a **face frame** and cut by
//! the GT skin: `module GT = region ∩ skin`.
//!
//! The face frame: origin at the midpoint of the two eye centres, x along the line from the
//! image-left eye to the image-right eye, y perpendicular to it (downwards), both in units of the
//! inter-ocular distance, so a template follows the face's position, size and in-plane roll. The
//! eye centres come from landmark points when the spec names them and the sample has landmarks
//! (LaPa), and otherwise from the GT eye class, split at the middle of its box.
//!
//! "left"/"right" are the subject's: `left_cheek` lies on the image's right in a frontal photo.

use super::{LoadError, Truth};
use crate::model::{MaskData, PredictedModules};
use maskgate_core::polygon::rasterize_polygons;
use maskgate_core::Mask;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One template region, in face-frame units (or landmark indices).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Region {
    /// `[x0, y0, x1, y1]` in the face frame (rotates with the face).
    Rect([f64; 4]),
    /// Vertices `[[x, y], …]` in the face frame.
    Polygon(Vec<[f64; 2]>),
    /// Vertices given by landmark indices, in pixel space (needs landmarks).
    Landmarks(Vec<usize>),
}

/// `[corpus.modules]` of the config.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ModulesSpec {
    /// GT class the modules are cut from (default `skin`).
    pub skin: Option<String>,
    /// GT classes whose pixels locate the eyes (default `["eyes"]`).
    #[serde(default)]
    pub eyes: Vec<String>,
    /// Landmark indices of the image-left and the image-right eye, averaged to each centre.
    pub eye_landmarks: Option<[Vec<usize>; 2]>,
    /// Module name → region. Empty: the seven built-in geometric templates ([`default_regions`]).
    #[serde(default)]
    pub region: BTreeMap<String, Region>,
    /// Also derive the modules of every prediction that has the skin class but no module
    /// classes: the same regions (placed by the **GT** face frame) ∩ the predicted skin. This
    /// scores a skin model per module without a landmark model in the loop.
    #[serde(default)]
    pub derive_predicted: bool,
    /// Region × class overlap measures. Empty with the built-in templates: the gold reports'
    /// `forehead_hair_overlap`, `under_eye_leak_hair` (when the corpus has `hair`) and
    /// `under_eye_leak_bg`.
    #[serde(default)]
    pub overlap: Vec<Overlap>,
}

/// The share of an arm's predicted `pred` pixels (union of the classes) that fall on the GT
/// class `gt` (`"background"`: on no GT class of the corpus's own), e.g. the share of the
/// predicted forehead on GT hair. Undefined when the prediction is empty.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overlap {
    pub name: String,
    pub pred: Vec<String>,
    pub gt: String,
}

/// The overlap measures of the gold reports, for the classes a corpus has.
pub fn default_overlaps(classes: &[String]) -> Vec<Overlap> {
    let o = |name: &str, pred: &[&str], gt: &str| Overlap {
        name: name.into(),
        pred: pred.iter().map(|s| s.to_string()).collect(),
        gt: gt.into(),
    };
    let eyes = ["under_eye_left", "under_eye_right"];
    let mut out = Vec::new();
    if classes.iter().any(|c| c == "hair") {
        out.push(o("forehead_hair_overlap", &["forehead"], "hair"));
        out.push(o("under_eye_leak_hair", &eyes, "hair"));
    }
    out.push(o("under_eye_leak_bg", &eyes, "background"));
    out
}

/// The built-in geometric templates, in inter-ocular units from the eye midpoint, fitted by eye
/// on the 70 FASSEG frontal faces (eyebrows about 0.35 above the eye line, nose tip about 0.8
/// and mouth about 1.05 below it); pictures in docs/src/face-modules.md.
pub fn default_regions() -> BTreeMap<String, Region> {
    let r = |a: [f64; 4]| Region::Rect(a);
    BTreeMap::from([
        ("forehead".to_string(), r([-1.3, -2.2, 1.3, -0.55])),
        ("under_eye_left".to_string(), r([0.15, 0.12, 0.85, 0.45])),
        ("under_eye_right".to_string(), r([-0.85, 0.12, -0.15, 0.45])),
        (
            "nose".to_string(),
            Region::Polygon(vec![[-0.2, -0.1], [0.2, -0.1], [0.38, 0.95], [-0.38, 0.95]]),
        ),
        ("left_cheek".to_string(), r([0.3, 0.5, 1.3, 1.15])),
        ("right_cheek".to_string(), r([-1.3, 0.5, -0.3, 1.15])),
        ("chin".to_string(), r([-0.55, 1.2, 0.55, 1.75])),
    ])
}

/// The resolved module set of one corpus.
#[derive(Clone, Debug)]
pub struct ModuleSet {
    /// The overlap measures scored on this corpus.
    pub overlaps: Vec<Overlap>,
    derive_predicted: bool,
    skin: String,
    eyes: Vec<String>,
    eye_landmarks: Option<[Vec<usize>; 2]>,
    regions: BTreeMap<String, Region>,
}

/// The face frame: origin, x axis and y axis (each scaled to one inter-ocular distance).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub origin: [f64; 2],
    pub x_axis: [f64; 2],
    pub y_axis: [f64; 2],
}

impl Frame {
    /// The frame of two eye centres (image-left first).
    pub fn from_eyes(left: [f64; 2], right: [f64; 2]) -> Option<Frame> {
        let d = [right[0] - left[0], right[1] - left[1]];
        let spans = d[0].hypot(d[1]) > 1.0 && d[0] > 0.0;
        if !spans {
            return None;
        }
        Some(Frame {
            origin: [(left[0] + right[0]) / 2.0, (left[1] + right[1]) / 2.0],
            x_axis: d,
            y_axis: [-d[1], d[0]],
        })
    }

    /// Frame coordinates → pixel coordinates.
    pub fn to_pixels(&self, p: [f64; 2]) -> [f64; 2] {
        [
            self.origin[0] + p[0] * self.x_axis[0] + p[1] * self.y_axis[0],
            self.origin[1] + p[0] * self.x_axis[1] + p[1] * self.y_axis[1],
        ]
    }
}

/// Centres of the two eyes in a mask holding both: the pixels left and right of the middle of
/// its box, each averaged. `None` when either side is empty.
pub fn eye_centres(eyes: &Mask) -> Option<([f64; 2], [f64; 2])> {
    let b = eyes.bbox()?;
    let mid = (b.x0 + b.x1) as f64 / 2.0;
    let mut sums = [[0.0f64; 3]; 2];
    eyes.for_each_run(|start, len| {
        let h = eyes.height() as u64;
        for i in start..start + len {
            let (x, y) = ((i / h) as f64, (i % h) as f64);
            let s = &mut sums[(x >= mid) as usize];
            s[0] += x;
            s[1] += y;
            s[2] += 1.0;
        }
    });
    let c = |s: [f64; 3]| (s[2] > 0.0).then(|| [s[0] / s[2], s[1] / s[2]]);
    Some((c(sums[0])?, c(sums[1])?))
}

impl ModuleSet {
    pub fn new(spec: &ModulesSpec, classes: &[String]) -> Result<ModuleSet, String> {
        let skin = spec.skin.clone().unwrap_or_else(|| "skin".into());
        let eyes = if spec.eyes.is_empty() {
            vec!["eyes".to_string()]
        } else {
            spec.eyes.clone()
        };
        for c in std::iter::once(&skin).chain(
            spec.eye_landmarks
                .is_none()
                .then_some(&eyes)
                .into_iter()
                .flatten(),
        ) {
            if !classes.contains(c) {
                return Err(format!(
                    "modules need the class {c:?}, which the corpus lacks (classes: {})",
                    classes.join(", ")
                ));
            }
        }
        let regions = if spec.region.is_empty() {
            default_regions()
        } else {
            spec.region.clone()
        };
        for (name, r) in &regions {
            if classes.contains(name) {
                return Err(format!("module {name:?} has the name of a corpus class"));
            }
            let bad = match r {
                Region::Polygon(p) => p.len() < 3,
                Region::Landmarks(p) => p.len() < 3,
                Region::Rect([x0, y0, x1, y1]) => !(x0 < x1 && y0 < y1),
            };
            if bad {
                return Err(format!(
                    "module {name:?}: a polygon needs ≥ 3 points and a rect x0 < x1, y0 < y1"
                ));
            }
        }
        let overlaps = if spec.overlap.is_empty() && spec.region.is_empty() {
            default_overlaps(classes)
        } else {
            spec.overlap.clone()
        };
        for o in &overlaps {
            let known = |c: &String| classes.contains(c) || regions.contains_key(c);
            if let Some(c) = o.pred.iter().find(|c| !known(c)) {
                return Err(format!("overlap {:?}: unknown class {c:?}", o.name));
            }
            if o.gt != "background" && !classes.contains(&o.gt) {
                return Err(format!("overlap {:?}: unknown GT class {:?}", o.name, o.gt));
            }
        }
        Ok(ModuleSet {
            overlaps,
            derive_predicted: spec.derive_predicted,
            skin,
            eyes,
            eye_landmarks: spec.eye_landmarks.clone(),
            regions,
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.regions.keys().cloned().collect()
    }

    pub fn skin(&self) -> &str {
        &self.skin
    }

    /// The face frame of one sample.
    pub fn frame(&self, truth: &Truth) -> Result<Frame, LoadError> {
        let centres = match &self.eye_landmarks {
            Some([l, r]) if !truth.landmarks.is_empty() => {
                let mean = |ids: &[usize]| -> Option<[f64; 2]> {
                    let pts: Vec<&[f64; 2]> = ids
                        .iter()
                        .map(|&i| truth.landmarks.get(i))
                        .collect::<Option<_>>()?;
                    let n = pts.len().max(1) as f64;
                    Some([
                        pts.iter().map(|p| p[0]).sum::<f64>() / n,
                        pts.iter().map(|p| p[1]).sum::<f64>() / n,
                    ])
                };
                mean(l).zip(mean(r)).ok_or_else(|| {
                    LoadError::new(
                        "no_module_frame",
                        format!(
                            "eye landmark indices beyond the sample's {} points",
                            truth.landmarks.len()
                        ),
                    )
                })?
            }
            _ => {
                let (h, w) = truth.size;
                let mut eyes = Mask::new(h, w);
                for c in &self.eyes {
                    if let Some(m) = truth.gt.get(c) {
                        let m = m
                            .rasterize(None)
                            .map_err(|e| LoadError::new("bad_mask", format!("class {c:?}: {e}")))?;
                        eyes.union_in_place(&m);
                    }
                }
                eye_centres(&eyes).ok_or_else(|| {
                    LoadError::new(
                        "no_module_frame",
                        format!(
                            "face modules need two eyes in the GT ({}); this sample shows fewer",
                            self.eyes.join(", ")
                        ),
                    )
                })?
            }
        };
        Frame::from_eyes(centres.0, centres.1).ok_or_else(|| {
            LoadError::new(
                "no_module_frame",
                format!(
                    "eye centres {:?} and {:?} do not span a face",
                    centres.0, centres.1
                ),
            )
        })
    }

    /// The template region of one module in pixels (before the skin cut).
    pub fn region_mask(
        &self,
        region: &Region,
        frame: &Frame,
        truth: &Truth,
    ) -> Result<Mask, LoadError> {
        let pts: Vec<[f64; 2]> = match region {
            Region::Rect([x0, y0, x1, y1]) => [[*x0, *y0], [*x1, *y0], [*x1, *y1], [*x0, *y1]]
                .iter()
                .map(|&p| frame.to_pixels(p))
                .collect(),
            Region::Polygon(p) => p.iter().map(|&p| frame.to_pixels(p)).collect(),
            Region::Landmarks(ids) => ids
                .iter()
                .map(|&i| truth.landmarks.get(i).copied())
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    LoadError::new(
                        "no_module_frame",
                        format!(
                            "a landmark module needs points {:?}; the sample has {}",
                            ids,
                            truth.landmarks.len()
                        ),
                    )
                })?,
        };
        let ring: Vec<f64> = pts.iter().flat_map(|p| [p[0], p[1]]).collect();
        let (h, w) = truth.size;
        rasterize_polygons(&[ring], h, w)
            .map_err(|e| LoadError::new("bad_mask", e.to_string()))?
            .decode()
            .map_err(|e| LoadError::new("bad_mask", e.to_string()))
    }

    /// Adds every module's GT (region ∩ skin) to the sample's classes.
    pub fn derive(&self, truth: &mut Truth) -> Result<(), LoadError> {
        let (h, w) = truth.size;
        let skin = match truth.gt.get(&self.skin) {
            Some(m) => m
                .rasterize(None)
                .map_err(|e| LoadError::new("bad_mask", format!("class {:?}: {e}", self.skin)))?,
            None => Mask::new(h, w),
        };
        let frame = self.frame(truth)?;
        let mut regions = BTreeMap::new();
        for (name, region) in &self.regions {
            let r = self.region_mask(region, &frame, truth)?;
            truth
                .gt
                .insert(name.clone(), MaskData::Mask(r.intersection(&skin)));
            if self.derive_predicted {
                regions.insert(name.clone(), r);
            }
        }
        if self.derive_predicted {
            truth.predicted_modules = Some(PredictedModules {
                skin: self.skin.clone(),
                regions,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_maps_eye_units_and_follows_roll() {
        let f = Frame::from_eyes([10.0, 20.0], [30.0, 20.0]).unwrap();
        assert_eq!(f.to_pixels([0.0, 0.0]), [20.0, 20.0]);
        assert_eq!(f.to_pixels([0.5, 0.0]), [30.0, 20.0]);
        assert_eq!(f.to_pixels([0.0, 1.0]), [20.0, 40.0]);
        // Rolled 90°: "down" in the face is image-left.
        let r = Frame::from_eyes([0.0, 0.0], [0.0, 10.0]);
        assert!(
            r.is_none(),
            "eyes stacked vertically are not a frontal frame"
        );
        let tilted = Frame::from_eyes([0.0, 0.0], [10.0, 10.0]).unwrap();
        assert_eq!(tilted.to_pixels([0.0, 1.0]), [-5.0, 15.0]);
    }

    #[test]
    fn eye_centres_split_the_box() {
        let mut m = Mask::new(10, 20);
        for (y, x) in [(4, 2), (4, 3), (5, 2), (5, 3), (4, 15), (6, 17)] {
            m.set(y, x, true);
        }
        let (l, r) = eye_centres(&m).unwrap();
        assert_eq!(l, [2.5, 4.5]);
        assert_eq!(r, [16.0, 5.0]);
        let mut one = Mask::new(10, 20);
        one.set(3, 3, true);
        assert!(eye_centres(&one).is_none());
    }

    #[test]
    fn module_gt_is_region_cut_by_skin() {
        // Eyes at x = 8 and x = 12 (inter-ocular distance 4) on row 5; skin everywhere but the
        // eyes and the right half below row 12.
        let (h, w) = (20, 20);
        let mut eyes = Mask::new(h, w);
        eyes.set(5, 8, true);
        eyes.set(5, 12, true);
        let skin = Mask::from_fn(h, w, |y, x| !(eyes.get(y, x) || (y >= 12 && x >= 10)));
        let mut truth = Truth {
            size: (h, w),
            gt: BTreeMap::from([
                ("skin".to_string(), MaskData::Mask(skin.clone())),
                ("eyes".to_string(), MaskData::Mask(eyes)),
            ]),
            ..Default::default()
        };
        let spec = ModulesSpec {
            region: BTreeMap::from([("box".to_string(), Region::Rect([-1.0, 1.0, 1.0, 2.0]))]),
            ..Default::default()
        };
        let set = ModuleSet::new(&spec, &["eyes".into(), "skin".into()]).unwrap();
        set.derive(&mut truth).unwrap();
        let m = truth.gt["box"].rasterize(None).unwrap();
        // The rect spans x 6..14, y 9..13 in pixels: pixel centres 6..13 × 9..12 (COCO rule),
        // minus the skin hole x ≥ 10 for y ≥ 12.
        let want = Mask::from_fn(h, w, |y, x| {
            (6..14).contains(&x) && (9..13).contains(&y) && !(y >= 12 && x >= 10)
        });
        assert_eq!(m, want);
        assert!(ModuleSet::new(&spec, &["skin".into()]).is_err());
    }
}
