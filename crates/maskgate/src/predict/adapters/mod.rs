//! Model adapters: each model family's exact pre- and post-processing behind [`Segmenter`].
//! Adding one is a new file here plus one line in [`build`].

pub mod imgly_isnet;
pub mod probability;
pub mod rembg;
pub mod semantic_argmax;
pub mod yolov8_seg;

use super::engine::{Model, Tensor};
use super::image::RgbImage;
use maskgate_core::Mask;
use std::collections::BTreeMap;

/// Settings of one model arm that adapters read (the `[[arm]]` table of the run config).
#[derive(Clone, Debug, Default)]
pub struct AdapterSettings {
    /// The GT class a one-class model is scored against.
    pub class: Option<String>,
    /// Binarisation threshold on the probability (0..1).
    pub threshold: Option<f64>,
    /// Model output labels by index (semantic-argmax, yolov8-seg).
    pub labels: Vec<String>,
    /// Evaluation class → model labels that make it up; empty = each label is its own class.
    pub classes: BTreeMap<String, Vec<String>>,
    /// Adapter-specific variant, e.g. rembg's `session` (u2net, u2netp, isnet-general-use).
    pub variant: Option<String>,
    /// Per-channel normalisation for the generic adapters.
    pub mean: Option<[f64; 3]>,
    pub std: Option<[f64; 3]>,
    /// The probability adapter's output is logits (apply a sigmoid).
    pub logits: bool,
    /// rembg: the Pillow release whose resize is reproduced ("12" or "13").
    pub pillow: Option<String>,
    /// YOLO: how masks reach the photo ("ultralytics" or "exact").
    pub mask_mode: Option<String>,
    /// YOLO: confidence and NMS IoU thresholds.
    pub conf: Option<f64>,
    pub iou: Option<f64>,
}

pub trait Segmenter: Send + Sync {
    /// Adapter name as written in configs.
    fn kind(&self) -> &'static str;
    /// Every parameter that changes the output, for the cache key and the report.
    fn params(&self) -> String;
    /// Refuses a model whose inputs/outputs do not fit this adapter.
    fn check(&self, model: &Model) -> Result<(), String>;
    /// How many of the model's outputs, from the first, the adapter reads: the runtime then
    /// computes and copies only those (ISNet's and u2net's side outputs cost 4–5%).
    fn outputs_read(&self) -> usize {
        1
    }
    fn preprocess(&self, img: &RgbImage, model: &Model) -> Result<Tensor, String>;
    /// The model outputs → one mask per evaluation class, at the image's size.
    fn postprocess(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
    ) -> Result<BTreeMap<String, Mask>, String>;
    /// One-class adapters: the probability map (0..1) at the image's size, before thresholding.
    fn probability(
        &self,
        _outputs: &[Tensor],
        _w: usize,
        _h: usize,
    ) -> Option<Result<Vec<f32>, String>> {
        None
    }
    /// Per class, the photo's pixels whose outcome a change of `eps` in the model's outputs
    /// could flip (ONNX Runtime differs across CPUs and versions by 1e-4–1e-6): what the noise
    /// check flips against the arm. Each family says where its decision is taken.
    fn near_threshold(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<BTreeMap<String, Mask>, String>;
}

/// One model family: its config name, the `[[arm]]` keys it reads, and its constructor.
pub struct Adapter {
    pub name: &'static str,
    /// The `[[arm]]` keys this adapter reads besides `name`, `adapter` and `model`; any other
    /// key given is an error, so a setting that would be silently ignored never is.
    pub keys: &'static [&'static str],
    pub build: fn(&AdapterSettings) -> Result<Box<dyn Segmenter>, String>,
}

/// Every adapter, in documentation order: adding one is a file plus one line here.
pub const ADAPTERS: &[Adapter] = &[
    Adapter {
        name: "rembg",
        keys: &["class", "threshold", "session", "pillow"],
        build: |s| Ok(Box::new(rembg::Rembg::new(s)?)),
    },
    Adapter {
        name: "imgly-isnet",
        keys: &["class", "threshold"],
        build: |s| Ok(Box::new(imgly_isnet::ImglyIsnet::new(s)?)),
    },
    Adapter {
        name: "mediapipe-selfie",
        keys: &["class", "threshold"],
        build: |s| Ok(Box::new(probability::Probability::mediapipe(s)?)),
    },
    Adapter {
        name: "yolov8-seg",
        keys: &["labels", "classes", "conf", "iou", "mask_mode"],
        build: |s| Ok(Box::new(yolov8_seg::YoloSeg::new(s)?)),
    },
    Adapter {
        name: "semantic-argmax",
        keys: &["labels", "classes", "mean", "std"],
        build: |s| Ok(Box::new(semantic_argmax::SemanticArgmax::new(s)?)),
    },
    Adapter {
        name: "sigmoid",
        keys: &["class", "threshold", "mean", "std", "logits"],
        build: |s| Ok(Box::new(probability::Probability::sigmoid(s)?)),
    },
];

/// The adapter called `kind`.
pub fn adapter(kind: &str) -> Result<&'static Adapter, String> {
    ADAPTERS.iter().find(|a| a.name == kind).ok_or_else(|| {
        format!(
            "unknown adapter {kind:?} (known: {})",
            ADAPTERS
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

pub fn build(kind: &str, s: &AdapterSettings) -> Result<Box<dyn Segmenter>, String> {
    (adapter(kind)?.build)(s)
}

/// Refuses keys the adapter does not read, listing the ones it does.
pub fn check_keys(kind: &str, given: &[&str]) -> Result<(), String> {
    let a = adapter(kind)?;
    let unused: Vec<&str> = given
        .iter()
        .copied()
        .filter(|k| !a.keys.contains(k))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    Err(format!(
        "adapter {kind} does not use {} (it uses: {})",
        unused
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
        a.keys.join(", ")
    ))
}

/// The one class a single-class adapter predicts.
pub(crate) fn one_class(s: &AdapterSettings, kind: &str) -> Result<String, String> {
    s.class
        .clone()
        .ok_or_else(|| format!("adapter {kind} needs `class` (the GT class it is scored against)"))
}

pub(crate) fn threshold(s: &AdapterSettings, default: f64) -> Result<f64, String> {
    let t = s.threshold.unwrap_or(default);
    if !(0.0..=1.0).contains(&t) {
        return Err(format!("threshold must be within [0, 1], got {t}"));
    }
    Ok(t)
}

/// Interleaved RGB u8 → planar CHW f32 with `f(channel, value)`, evaluated once per channel
/// and byte value (the per-pixel loop is maskgate-core's).
pub(crate) fn to_chw(px: &[u8], w: usize, h: usize, f: impl Fn(usize, u8) -> f32) -> Vec<f32> {
    let tables: [[f32; 256]; 3] = std::array::from_fn(|c| std::array::from_fn(|v| f(c, v as u8)));
    maskgate_core::planar::rgb_to_chw(px, w * h, &tables)
}

/// The (height, width) of a model's first input, which must be `[1, 3, H, W]` with fixed H, W.
pub(crate) fn input_hw(model: &Model) -> Result<(usize, usize), String> {
    let p = model.inputs.first().ok_or("the model has no input")?;
    match p.shape.as_slice() {
        [_, Some(3), Some(h), Some(w)] => Ok((*h, *w)),
        other => Err(format!(
            "input {:?} must be [1, 3, H, W] with fixed H and W, is {other:?}",
            p.name
        )),
    }
}

/// Channel 0 of a `[1, 1, H, W]` / `[1, H, W]` output as (H, W, data), checked for NaN.
pub(crate) fn single_map(t: &Tensor) -> Result<(usize, usize, &[f32]), String> {
    let (h, w) = match t.shape.as_slice() {
        [_, _, h, w] | [_, h, w] => (*h, *w),
        other => return Err(format!("expected a [1, C, H, W] output, got {other:?}")),
    };
    let data = &t.data[..h * w];
    if data.iter().any(|v| !v.is_finite()) {
        return Err("the model output contains NaN or infinite values".into());
    }
    Ok((h, w, data))
}

/// For a u8 probability map: `v / 255 ≥ t`, decided in integers so it never depends on rounding.
pub(crate) fn threshold_u8(map: &[u8], w: usize, h: usize, t: f64) -> Mask {
    let cut = (t * 255.0).ceil() as u16;
    Mask::from_fn(h as u32, w as u32, |y, x| {
        map[y as usize * w + x as usize] as u16 >= cut
    })
}

/// An 8-bit map's pixels one step either side of the cut (or within `eps` of `t`): any change
/// before the rounding can move a value by a whole step, and only a crossing of the cut flips.
pub(crate) fn near_u8(map: &[u8], w: usize, h: usize, t: f64, eps: f64) -> Mask {
    let cut = (t * 255.0).ceil() as i32;
    Mask::from_fn(h as u32, w as u32, |y, x| {
        let v = map[y as usize * w + x as usize];
        let step = v as i32 - cut;
        step == 0 || step == -1 || (v as f64 / 255.0 - t).abs() <= eps
    })
}

/// A probability map's pixels within `eps` of the threshold `t`.
pub(crate) fn near_f32(p: &[f32], w: usize, h: usize, t: f64, eps: f64) -> Mask {
    Mask::from_fn(h as u32, w as u32, |y, x| {
        (p[y as usize * w + x as usize] as f64 - t).abs() <= eps
    })
}

/// The masks of a one-class adapter whose output is an 8-bit alpha map (rembg, IMG.LY).
pub(crate) fn alpha_masks(
    class: &str,
    alpha: &[u8],
    w: usize,
    h: usize,
    t: f64,
) -> BTreeMap<String, Mask> {
    BTreeMap::from([(class.to_string(), threshold_u8(alpha, w, h, t))])
}

/// An 8-bit alpha map as probabilities (v / 255).
pub(crate) fn alpha_probability(alpha: Vec<u8>) -> Vec<f32> {
    alpha.iter().map(|&v| v as f32 / 255.0).collect()
}
