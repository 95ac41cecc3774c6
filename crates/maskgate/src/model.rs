//! The types that cross stage seams: samples from readers, predictions from arms, fail reasons.

use maskgate_core::polygon::{rasterize_polygons, PolygonError};
use maskgate_core::{Mask, Rle};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One class's mask as stored: an RLE, polygons in pixel coordinates, or a decoded mask.
#[derive(Clone, Debug)]
pub enum MaskData {
    Rle(Rle),
    Polygons {
        h: u32,
        w: u32,
        rings: Vec<Vec<f64>>,
    },
    Mask(Mask),
}

impl MaskData {
    /// (height, width) of the canvas this mask lives on.
    pub fn size(&self) -> (u32, u32) {
        match self {
            MaskData::Rle(r) => (r.h, r.w),
            MaskData::Polygons { h, w, .. } => (*h, *w),
            MaskData::Mask(m) => (m.height(), m.width()),
        }
    }

    /// Polygon vertices (0 for a raster mask).
    pub fn vertex_count(&self) -> u64 {
        match self {
            MaskData::Polygons { rings, .. } => rings.iter().map(|r| r.len() as u64 / 2).sum(),
            _ => 0,
        }
    }

    /// The mask on its own canvas, or on an `n × n` grid: raster masks are resampled with
    /// nearest neighbour, polygons are scaled and rasterised on the grid directly.
    pub fn rasterize(&self, grid: Option<u32>) -> Result<Mask, String> {
        let (h, w) = self.size();
        match (self, grid) {
            (MaskData::Polygons { rings, .. }, Some(n)) => {
                let (sx, sy) = (n as f64 / w as f64, n as f64 / h as f64);
                let scaled: Vec<Vec<f64>> = rings
                    .iter()
                    .map(|r| {
                        r.chunks(2)
                            .flat_map(|p| [p[0] * sx, p.get(1).copied().unwrap_or(f64::NAN) * sy])
                            .collect()
                    })
                    .collect();
                polygons_to_mask(&scaled, n, n)
            }
            (MaskData::Polygons { rings, .. }, None) => polygons_to_mask(rings, h, w),
            (MaskData::Rle(r), g) => {
                let m = r.decode().map_err(|e| e.to_string())?;
                Ok(resample(m, g))
            }
            (MaskData::Mask(m), g) => Ok(resample(m.clone(), g)),
        }
    }
}

fn resample(m: Mask, grid: Option<u32>) -> Mask {
    match grid {
        Some(n) => m.resize_nearest(n, n),
        None => m,
    }
}

fn polygons_to_mask(rings: &[Vec<f64>], h: u32, w: u32) -> Result<Mask, String> {
    let rle = rasterize_polygons(rings, h, w).map_err(|e: PolygonError| e.to_string())?;
    rle.decode().map_err(|e| e.to_string())
}

pub type ClassMasks = BTreeMap<String, MaskData>;

/// A listed sample's `meta` object, kept as its compact JSON text until a sample is loaded: a run
/// keeps one per listed sample, and a parsed map of two short strings costs ten times its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta(Option<Box<str>>);

impl Meta {
    pub fn new(map: serde_json::Map<String, serde_json::Value>) -> Meta {
        if map.is_empty() {
            return Meta(None);
        }
        Meta(Some(serde_json::Value::Object(map).to_string().into()))
    }
    /// The object again. Numbers round-trip exactly (serde_json prints the shortest exact form).
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

/// A labelled sample as a reader delivers it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub id: String,
    /// Stable 20-hex hash of (corpus name, id), see [`sample_hash`].
    pub hash: String,
    pub source: Option<String>,
    pub image: Option<PathBuf>,
    /// (height, width)
    pub size: (u32, u32),
    pub gt: ClassMasks,
    /// Void pixels (`ignore` labels, VOC 255): left out of both GT and prediction.
    pub void: Option<MaskData>,
    /// Predictions of another size but the same aspect ratio are resampled (nearest) to `size`.
    pub fit_predictions: bool,
    /// With `derive_predicted` face modules: the regions that turn a predicted skin into
    /// predicted modules.
    pub predicted_modules: Option<PredictedModules>,
    pub notes: Option<String>,
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// The ground truth's instances, where the source has them (COCO annotations, YOLO rows,
    /// labelme shapes, gold `instances`): what the COCO instance metrics match against.
    /// `None`: the source has none (the sample is left out of the instance metrics).
    pub instances: Option<GtInstances>,
}

/// A sample's ground-truth instances.
#[derive(Clone, Debug, Default)]
pub struct GtInstances {
    /// The COCO image id: COCOeval accumulates images in id order (tied scores of different
    /// images keep it), so a COCO corpus's samples are accumulated in that order.
    pub image_id: Option<u64>,
    /// The corpus's classes in its category order (COCO's ids, YOLO's indices): COCOeval
    /// averages over categories in id order, and the order of that sum is the last bits.
    /// `None`: by name.
    pub class_order: Option<std::sync::Arc<[String]>>,
    /// A COCO corpus's category ids → the evaluation classes each makes up: how a COCO results
    /// file's detections (`category_id`) are read.
    pub categories: Option<std::sync::Arc<BTreeMap<u64, Vec<String>>>>,
    pub list: Vec<GtInstance>,
}

/// One ground-truth instance, on the sample's canvas.
#[derive(Clone, Debug)]
pub struct GtInstance {
    /// The annotation's id (COCO's own; other sources number their instances from 1).
    pub id: u64,
    /// Its evaluation class.
    pub class: String,
    pub region: maskgate_core::cocoeval::Region,
    /// What the area ranges read: COCO's `area` field, elsewhere the pixel count.
    pub area: f64,
    /// `iscrowd`: matched as COCOeval matches a crowd (never a miss, absorbs detections).
    pub crowd: bool,
}

/// One predicted instance: its class, confidence and mask on the prediction's canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct PredInstance {
    pub class: String,
    pub score: f64,
    pub mask: maskgate_core::Rle,
}

impl Sample {
    /// The pixels that count, on the scoring canvas (`grid` or native): everything but the
    /// void. `Ok(None)` when the sample has no void pixels.
    pub fn kept_region(&self, grid: Option<u32>) -> Result<Option<Mask>, String> {
        match &self.void {
            None => Ok(None),
            Some(v) => {
                let v = v.rasterize(grid)?;
                Ok((!v.is_empty()).then(|| v.complement()))
            }
        }
    }
}

/// The module regions of one sample, kept to derive the modules of its predictions.
#[derive(Clone, Debug)]
pub struct PredictedModules {
    pub skin: String,
    pub regions: BTreeMap<String, Mask>,
}

impl PredictedModules {
    /// Adds `region ∩ predicted skin` for every module a prediction lacks; a prediction without
    /// the skin class (or of another size) is left as it is, so its missing modules count as
    /// missing.
    pub fn apply(&self, pred: &mut Prediction) {
        let Some(skin) = pred
            .masks
            .get(&self.skin)
            .and_then(|m| m.rasterize(None).ok())
        else {
            return;
        };
        for (name, region) in &self.regions {
            if !pred.masks.contains_key(name) && region.same_size(&skin) {
                pred.masks
                    .insert(name.clone(), MaskData::Mask(region.intersection(&skin)));
            }
        }
    }
}

/// First 20 hex digits of sha256(corpus name, NUL, dataset-relative id): the same on every
/// machine, and different for the same id in two corpora.
pub fn sample_hash(corpus: &str, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(corpus.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    let digest = h.finalize();
    hex::encode(&digest[..10])
}

/// Why a sample's prediction could not be scored as given. The sample is still scored
/// (missing parts count as empty predictions), so a failure lowers the metrics honestly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailReason {
    /// No prediction for this sample: every class is scored as an empty prediction.
    PredMissing,
    /// The sample's image could not be read or decoded: scored as an empty prediction.
    ImageUnreadable,
    /// The model failed on this image (runtime error, NaN or wrongly shaped output): scored as
    /// an empty prediction.
    InferenceFailed,
    /// Prediction and ground truth sizes differ (and no grid was set): scored as empty.
    SizeMismatch,
    /// A predicted mask could not be decoded: that class is scored as empty.
    PredMaskInvalid,
    /// The prediction lacks some ground-truth classes: those are scored as empty.
    PredClassesMissing,
    /// The prediction lacks some face-module classes (and has no skin to derive them from, or
    /// the corpus does not derive them): those are scored as empty.
    PredModulesMissing,
    /// A ground-truth mask could not be rasterised: that class is scored against an empty GT.
    GtMaskInvalid,
    /// A variant's post-processing could not run on this sample: scored as empty.
    PostprocessFailed,
    /// The photo's header claims more pixels than `[limits] max_image_pixels`, or the file is
    /// larger than `max_file_bytes`: not decoded, scored as an empty prediction.
    ImageTooLarge,
    /// The photo ends before its image data does (Pillow: "image file is truncated"): never
    /// scored as if it were whole; an empty prediction.
    ImageTruncated,
    /// A predicted mask's canvas or polygon exceeds `[limits]`: not decoded, that class is
    /// scored as empty.
    MaskTooLarge,
    /// The photo is in a format maskgate cannot decode exactly as the model's real tool does
    /// (WebP, GIF, TIFF, HEIF, a compressed BMP…): never decoded differently; an empty
    /// prediction.
    ImageFormatUnsupported,
}

impl FailReason {
    /// The prediction as a whole is unusable: every class is scored as empty.
    pub fn voids_prediction(self) -> bool {
        matches!(
            self,
            FailReason::PredMissing
                | FailReason::ImageUnreadable
                | FailReason::InferenceFailed
                | FailReason::ImageTooLarge
                | FailReason::ImageTruncated
                | FailReason::ImageFormatUnsupported
        )
    }

    /// Which reason a sample reports when several apply: a cause ranks above the
    /// consequences it brings (a mask over the limit is not decoded, so its class is then
    /// also "missing" and its size unknown). Lower ranks first.
    pub fn priority(self) -> u8 {
        match self {
            FailReason::ImageTooLarge => 0,
            FailReason::ImageTruncated => 1,
            FailReason::ImageFormatUnsupported => 2,
            FailReason::ImageUnreadable => 3,
            FailReason::InferenceFailed => 4,
            FailReason::PredMissing => 5,
            FailReason::MaskTooLarge => 6,
            FailReason::PredMaskInvalid => 7,
            FailReason::SizeMismatch => 8,
            FailReason::GtMaskInvalid => 9,
            FailReason::PostprocessFailed => 10,
            FailReason::PredClassesMissing => 11,
            FailReason::PredModulesMissing => 12,
        }
    }

    /// The reason to report of those that apply (see [`priority`](FailReason::priority)).
    pub fn first(reasons: impl IntoIterator<Item = FailReason>) -> Option<FailReason> {
        reasons.into_iter().min_by_key(|r| r.priority())
    }

    pub const ALL: [FailReason; 13] = [
        FailReason::PredMissing,
        FailReason::ImageUnreadable,
        FailReason::InferenceFailed,
        FailReason::SizeMismatch,
        FailReason::PredMaskInvalid,
        FailReason::PredClassesMissing,
        FailReason::PredModulesMissing,
        FailReason::GtMaskInvalid,
        FailReason::PostprocessFailed,
        FailReason::ImageTooLarge,
        FailReason::ImageTruncated,
        FailReason::MaskTooLarge,
        FailReason::ImageFormatUnsupported,
    ];

    /// The reason whose [`code`](FailReason::code) is `code`.
    pub fn from_code(code: &str) -> Option<FailReason> {
        FailReason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What to do about a sample that failed for this reason.
    pub fn remedy(self) -> &'static str {
        match self {
            FailReason::PredMissing => "add a prediction for this id to the arm's file, or leave the sample out of the corpus",
            FailReason::ImageUnreadable => "check that the photo exists, lies under the corpus's root (gold-ndjson: image_root) and is a whole JPEG, PNG or BMP file",
            FailReason::InferenceFailed => "check that the arm's adapter and its keys (mean, std, labels, threshold) fit the model, and that the model runs on this photo",
            FailReason::SizeMismatch => "predict at the ground truth's size, or set --grid / [run] grid to compare on a common grid",
            FailReason::PredMaskInvalid => "fix the mask's encoding in the predictions (COCO RLE or polygons of the declared size)",
            FailReason::PredClassesMissing => "give every ground-truth class a mask in the prediction (an empty one when absent)",
            FailReason::PredModulesMissing => "predict the face modules, or a skin mask with [corpus.modules] derive_predicted",
            FailReason::GtMaskInvalid => "fix the ground truth's mask for this class",
            FailReason::PostprocessFailed => "check the variant's operations against this sample",
            FailReason::ImageTooLarge => "shrink the photo, or raise [limits] max_image_pixels / max_file_bytes",
            FailReason::ImageTruncated => "re-export or re-download the photo",
            FailReason::MaskTooLarge => "fix the mask, or raise the [limits] it exceeds",
            FailReason::ImageFormatUnsupported => "give the photo as production receives it, in a format its model's tool reads exactly (JPEG, PNG or 24/32-bit BMP; in colour for imgly-isnet), or leave the sample out",
        }
    }

    /// A failed sample's message, the one text both the terminal and the report show: the
    /// reason's code, what exactly failed (`detail`), and what to do.
    pub fn message(self, detail: Option<&str>) -> String {
        match detail.filter(|d| !d.is_empty()) {
            Some(d) => format!("{}: {d}; to fix: {}", self.code(), self.remedy()),
            None => format!("{}; to fix: {}", self.code(), self.remedy()),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            FailReason::PredMissing => "PRED_MISSING",
            FailReason::SizeMismatch => "SIZE_MISMATCH",
            FailReason::PredMaskInvalid => "PRED_MASK_INVALID",
            FailReason::PredClassesMissing => "PRED_CLASSES_MISSING",
            FailReason::PredModulesMissing => "PRED_MODULES_MISSING",
            FailReason::GtMaskInvalid => "GT_MASK_INVALID",
            FailReason::PostprocessFailed => "POSTPROCESS_FAILED",
            FailReason::ImageUnreadable => "IMAGE_UNREADABLE",
            FailReason::InferenceFailed => "INFERENCE_FAILED",
            FailReason::ImageTooLarge => "IMAGE_TOO_LARGE",
            FailReason::ImageTruncated => "IMAGE_TRUNCATED",
            FailReason::MaskTooLarge => "MASK_TOO_LARGE",
            FailReason::ImageFormatUnsupported => "IMAGE_FORMAT_UNSUPPORTED",
        }
    }
}

/// An arm's output for one sample.
#[derive(Clone, Debug, Default)]
pub struct Prediction {
    pub masks: ClassMasks,
    /// (height, width) the prediction declares, if any.
    pub size: Option<(u32, u32)>,
    /// A failure the arm already knows of (nothing predicted, an unreadable image, a failed
    /// inference, an undecodable mask).
    pub fail: Option<FailReason>,
    /// What exactly failed (the class and why), for `samples.jsonl`.
    pub fail_detail: Option<String>,
    /// A model arm's pixels per class that inference noise of ε could flip (the noise check);
    /// `None` where nothing measured them (prediction files, variants, ε = 0).
    pub near: Option<std::collections::BTreeMap<String, maskgate_core::Mask>>,
    /// An instance model's kept instances, or a predictions file's `instances` list.
    pub instances: Option<Vec<PredInstance>>,
    /// The masks cover every class: one it lacks is empty, not missing (masks made from
    /// instances).
    pub classes_complete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_rank_and_causes_rank_first() {
        let mut ranks: Vec<u8> = FailReason::ALL.iter().map(|r| r.priority()).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), FailReason::ALL.len());
        use FailReason::*;
        assert_eq!(
            FailReason::first([SizeMismatch, PredClassesMissing, MaskTooLarge]),
            Some(MaskTooLarge)
        );
        assert_eq!(
            FailReason::first([PredMaskInvalid, MaskTooLarge]),
            Some(MaskTooLarge)
        );
        assert_eq!(FailReason::first([]), None);
        for r in FailReason::ALL {
            assert_eq!(FailReason::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn hash_is_stable_and_corpus_scoped() {
        let a = sample_hash("fasseg", "Test/1");
        assert_eq!(a.len(), 20);
        assert_eq!(a, sample_hash("fasseg", "Test/1"));
        assert_ne!(a, sample_hash("lapa", "Test/1"));
        // Pinned so a change of the hashing scheme is a deliberate, visible break.
        assert_eq!(sample_hash("c", "x"), "728d3baf16cfa941ad53");
    }
}
