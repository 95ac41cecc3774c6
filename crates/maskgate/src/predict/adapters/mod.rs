//! Model adapters: each model family's exact pre- and post-processing behind [`Segmenter`].
//! Adding one is a new file here plus one line in [`build`].

pub mod imgly_isnet;
pub mod probability;
pub mod rembg;
pub mod semantic_argmax;
pub mod yolov8_seg;

use super::engine::{Model, Tensor};
use super::image::{DecodePolicy, RgbImage};
use maskgate_core::Mask;
use std::collections::BTreeMap;

/// Per class, an adapter's masks and the pixels within ε of its decision.
pub type MasksAndNear = (BTreeMap<String, Mask>, BTreeMap<String, Mask>);

/// What an adapter made of one photo's outputs (see [`Segmenter::segment`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Segmented {
    pub masks: BTreeMap<String, Mask>,
    /// With the noise check: per class, the pixels within ε of a decision.
    pub near: Option<BTreeMap<String, Mask>>,
    /// Instance models: the kept instances, one per evaluation class its label makes up.
    pub instances: Option<Vec<crate::model::PredInstance>>,
}

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
    /// YOLO: how masks reach the photo ("ultralytics", "retina" or "exact").
    pub mask_mode: Option<String>,
    /// YOLO: confidence and NMS IoU thresholds, the most detections kept, class-agnostic NMS.
    pub conf: Option<f64>,
    pub iou: Option<f64>,
    pub max_det: Option<usize>,
    pub agnostic_nms: Option<bool>,
    /// YOLO: how a class's mask is made from its instances ("union", "largest", "top1").
    pub instances: Option<String>,
    /// Adapters whose caller decodes the photo: whose decoder ("pillow", "opencv", "sharp").
    pub decode: Option<String>,
}

impl AdapterSettings {
    /// The `decode` key, or `default` (the family's documented choice) when it is not set.
    pub fn decode_or(&self, default: DecodePolicy) -> Result<DecodePolicy, String> {
        self.decode
            .as_deref()
            .map_or(Ok(default), DecodePolicy::parse)
    }
}

pub trait Segmenter: Send + Sync {
    /// Adapter name as written in configs.
    fn kind(&self) -> &'static str;
    /// Every parameter that changes the output, for the cache key and the report.
    fn params(&self) -> String;
    /// Whose decoder the family's real tool reads a photo with: Pillow, OpenCV or sharp (the
    /// report and the cache key carry it, see [`params_of`]).
    fn decode(&self) -> DecodePolicy;
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
    /// [`Segmenter::postprocess`], and per class the photo's pixels whose outcome a change of
    /// `eps` in the model's outputs could flip (ONNX Runtime differs across CPUs and versions by
    /// 1e-4–1e-6): what the noise check flips against the arm. Each family says where its
    /// decision is taken, from the same intermediate maps its masks come from (computed once).
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String>;
    /// The masks, with `eps` the near pixels, and for instance models the number of
    /// instances kept: what an arm records of one photo. Instance adapters compute all three
    /// in one pass.
    fn segment(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: Option<f64>,
    ) -> Result<Segmented, String> {
        let (masks, near) = match eps {
            Some(eps) => self
                .postprocess_near(outputs, w, h, eps)
                .map(|(m, n)| (m, Some(n)))?,
            None => (self.postprocess(outputs, w, h)?, None),
        };
        Ok(Segmented {
            masks,
            near,
            instances: None,
        })
    }
    /// The near pixels alone (see [`Segmenter::postprocess_near`]).
    fn near_threshold(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<BTreeMap<String, Mask>, String> {
        self.postprocess_near(outputs, w, h, eps)
            .map(|(_, near)| near)
    }
}

/// An adapter's parameters with its decoder: what the report shows and the cache is keyed by.
pub fn params_of(adapter: &dyn Segmenter) -> String {
    format!("{};decode={}", adapter.params(), adapter.decode().name())
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
        keys: &["class", "threshold", "decode"],
        build: |s| Ok(Box::new(probability::Probability::mediapipe(s)?)),
    },
    Adapter {
        name: "yolov8-seg",
        keys: &[
            "labels",
            "classes",
            "conf",
            "iou",
            "max_det",
            "agnostic_nms",
            "mask_mode",
            "instances",
        ],
        build: |s| Ok(Box::new(yolov8_seg::YoloSeg::new(s)?)),
    },
    Adapter {
        name: "semantic-argmax",
        keys: &["labels", "classes", "mean", "std", "decode"],
        build: |s| Ok(Box::new(semantic_argmax::SemanticArgmax::new(s)?)),
    },
    Adapter {
        name: "sigmoid",
        keys: &["class", "threshold", "mean", "std", "logits", "decode"],
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
    Mask::from_row_major(h as u32, w as u32, |y, x| {
        map[y as usize * w + x as usize] as u16 >= cut
    })
}

/// An 8-bit map's pixels one step either side of the cut (or within `eps` of `t`): any change
/// before the rounding can move a value by a whole step, and only a crossing of the cut flips.
pub(crate) fn near_u8(map: &[u8], w: usize, h: usize, t: f64, eps: f64) -> Mask {
    let cut = (t * 255.0).ceil() as i32;
    Mask::from_row_major(h as u32, w as u32, |y, x| {
        let v = map[y as usize * w + x as usize];
        let step = v as i32 - cut;
        step == 0 || step == -1 || (v as f64 / 255.0 - t).abs() <= eps
    })
}

/// A probability map's pixels within `eps` of the threshold `t`.
pub(crate) fn near_f32(p: &[f32], w: usize, h: usize, t: f64, eps: f64) -> Mask {
    Mask::from_row_major(h as u32, w as u32, |y, x| {
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

/// The near pixels of a one-class adapter whose output is an 8-bit alpha map.
pub(crate) fn alpha_near(
    class: &str,
    alpha: &[u8],
    w: usize,
    h: usize,
    t: f64,
    eps: f64,
) -> BTreeMap<String, Mask> {
    BTreeMap::from([(class.to_string(), near_u8(alpha, w, h, t, eps))])
}

/// An 8-bit alpha map as probabilities (v / 255).
pub(crate) fn alpha_probability(alpha: Vec<u8>) -> Vec<f32> {
    alpha.iter().map(|&v| v as f32 / 255.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_8_bit_map_is_near_one_step_either_side_of_the_cut() {
        // t = 0.5: the cut is 128; 127 and 128 may trade places under any upstream change.
        let map: Vec<u8> = (120..=135).collect();
        let near = near_u8(&map, map.len(), 1, 0.5, 1e-3);
        let got: Vec<u8> = (0..map.len() as u32)
            .filter(|&x| near.get(0, x))
            .map(|x| map[x as usize])
            .collect();
        assert_eq!(got, [127, 128]);
        // A wide ε reaches further: |v/255 − 0.5| ≤ 0.02 holds for 123..=132.
        let near = near_u8(&map, map.len(), 1, 0.5, 0.02);
        assert_eq!(near.area(), 10);
    }

    #[test]
    fn a_probability_is_near_within_eps_of_the_threshold() {
        let p = [0.4985f32, 0.4995, 0.5, 0.5009, 0.502, 0.9];
        let near = near_f32(&p, p.len(), 1, 0.5, 1e-3);
        let got: Vec<bool> = (0..p.len() as u32).map(|x| near.get(0, x)).collect();
        assert_eq!(got, [false, true, true, true, false, false]);
    }

    fn tensor(shape: &[usize], data: Vec<f32>) -> Tensor {
        assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape: shape.to_vec(),
            data,
        }
    }

    #[test]
    fn argmax_pixels_whose_two_best_labels_are_close_are_near_for_one_side_only() {
        let s = AdapterSettings {
            labels: vec!["bg".into(), "skin".into(), "nose".into()],
            classes: BTreeMap::from([
                (
                    "face".to_string(),
                    vec!["skin".to_string(), "nose".to_string()],
                ),
                ("skin".to_string(), vec!["skin".to_string()]),
            ]),
            ..Default::default()
        };
        let seg = build("semantic-argmax", &s).unwrap();
        // Five pixels (one row): skin vs bg close; skin vs nose close; skin clear; bg vs nose
        // far; skin best, nose second, bg third but all three within ε.
        let channels = [
            [0.5f32, 0.0, 0.0, 2.0, 0.9992], // bg
            [0.5005, 1.0, 3.0, 0.0, 1.0],    // skin
            [0.0, 0.9995, 0.0, 0.5, 0.9996], // nose
        ];
        let data: Vec<f32> = channels.concat();
        let out = [tensor(&[1, 3, 1, 5], data)];
        let near = seg.near_threshold(&out, 5, 1, 1e-3).unwrap();
        let row = |c: &str| (0..5).map(|x| near[c].get(0, x)).collect::<Vec<_>>();
        // Pixel 0 may go skin → bg: near for both classes. Pixel 1 may go skin → nose: that
        // changes "skin" but not "face", which holds both. Pixel 4 may go to bg, the third
        // best: near for "face" too.
        assert_eq!(row("skin"), [true, true, false, false, true]);
        assert_eq!(row("face"), [true, false, false, false, true]);
    }

    /// A YOLO-seg output of one class and one mask coefficient: `anchors` are (cx, cy, w, h,
    /// score) in a 64×64 input, every prototype pixel `proto`.
    fn yolo_outputs(anchors: &[(f32, f32, f32, f32, f32)], proto: f32) -> Vec<Tensor> {
        let n = anchors.len();
        let mut det = vec![0f32; 6 * n];
        for (a, &(cx, cy, w, h, score)) in anchors.iter().enumerate() {
            for (c, v) in [cx, cy, w, h, score, 1.0].into_iter().enumerate() {
                det[c * n + a] = v;
            }
        }
        vec![
            tensor(&[1, 6, n], det),
            tensor(&[1, 1, 16, 16], vec![proto; 256]),
        ]
    }

    fn yolo(mask_mode: &str) -> Box<dyn Segmenter> {
        let s = AdapterSettings {
            labels: vec!["thing".into()],
            mask_mode: Some(mask_mode.into()),
            ..Default::default()
        };
        build("yolov8-seg", &s).unwrap()
    }

    /// `construct_result` keeps an instance whose input-size mask has a pixel, even one lying
    /// only in the letterbox padding: Ultralytics reports it (with no pixel on the photo), and
    /// the `top1` crop of a photo whose best instance is such is empty.
    #[test]
    fn an_instance_only_in_the_padding_is_kept_with_an_empty_photo_mask() {
        // A 64×32 photo in a 64×64 input: rows 16..48 hold it, 0..16 and 48..64 are padding.
        let out = yolo_outputs(
            &[(32.0, 8.0, 16.0, 8.0, 0.9), (32.0, 32.0, 16.0, 16.0, 0.8)],
            5.0,
        );
        let policy = |p: &str| {
            let s = AdapterSettings {
                labels: vec!["thing".into()],
                instances: Some(p.into()),
                ..Default::default()
            };
            yolov8_seg::YoloSeg::new(&s).unwrap()
        };
        let union = policy("union");
        let inst = union.instances(&out, 64, 32).unwrap();
        assert_eq!(inst.len(), 2, "both kept, as Ultralytics keeps them");
        assert_eq!(
            inst[0].1.area(),
            0,
            "the padding instance has no photo pixel"
        );
        assert!(inst[1].1.area() > 0);
        let seg = union.segment(&out, 64, 32, None).unwrap();
        assert_eq!(seg.instances.as_ref().map(Vec::len), Some(2));
        let crop = |p: &str| policy(p).postprocess(&out, 64, 32).unwrap()["thing"].area();
        assert_eq!(crop("union"), inst[1].1.area());
        assert_eq!(
            crop("top1"),
            0,
            "the highest-scored instance, as production takes it"
        );
        assert_eq!(crop("largest"), inst[1].1.area());
    }

    /// Under `largest`, noise that removes the largest instance (scored within ε of `conf`)
    /// hands the crop to a smaller one, however sure that one is: both are near whole. A sure
    /// largest instance that no other could outgrow leaves nothing near.
    #[test]
    fn a_fragile_largest_instance_makes_the_next_one_near() {
        let s = AdapterSettings {
            labels: vec!["thing".into()],
            instances: Some("largest".into()),
            ..Default::default()
        };
        let largest = yolov8_seg::YoloSeg::new(&s).unwrap();
        for (big_score, rivals) in [(0.9f32, false), (0.2505, true)] {
            let out = yolo_outputs(
                &[
                    (16.0, 16.0, 16.0, 16.0, big_score),
                    (48.0, 48.0, 8.0, 8.0, 0.6),
                ],
                5.0,
            );
            let inst = largest.instances(&out, 64, 64).unwrap();
            assert_eq!(inst.len(), 2);
            let seg = largest.segment(&out, 64, 64, Some(1e-3)).unwrap();
            let near = &seg.near.unwrap()["thing"];
            for (_, m) in &inst {
                let all = near.intersection_count(m) == m.area();
                assert_eq!(all, rivals, "score {big_score}: near {}", near.area());
            }
        }
    }

    #[test]
    fn a_detection_scored_within_eps_of_conf_is_near_in_full() {
        for mode in ["ultralytics", "exact"] {
            let seg = yolo(mode);
            // Logit 5 everywhere: no pixel is near on its own; only the detection's score is.
            for score in [0.2505f32, 0.2495] {
                let out = yolo_outputs(
                    &[(16.0, 16.0, 16.0, 16.0, 0.9), (48.0, 48.0, 8.0, 8.0, score)],
                    5.0,
                );
                let masks = seg.postprocess(&out, 64, 64).unwrap();
                let near = seg.near_threshold(&out, 64, 64, 1e-3).unwrap();
                let (mask, near) = (&masks["thing"], &near["thing"]);
                let in_second = |y: u32, x: u32| (44..52).contains(&y) && (44..52).contains(&x);
                let near_px: Vec<(u32, u32)> = (0..64u32)
                    .flat_map(|y| (0..64u32).map(move |x| (y, x)))
                    .filter(|&(y, x)| near.get(y, x))
                    .collect();
                assert_eq!(near_px.len(), 64, "{mode} {score}");
                assert!(
                    near_px.iter().all(|&(y, x)| in_second(y, x)),
                    "{mode} {score}"
                );
                // Above conf the detection is in the mask; below it, only near.
                assert_eq!(mask.get(47, 47), score > 0.25, "{mode} {score}");
                assert_eq!(
                    mask.area(),
                    if score > 0.25 { 256 + 64 } else { 256 },
                    "{mode}"
                );
            }
        }
    }

    #[test]
    fn a_pixel_a_sure_detection_of_the_class_keeps_is_not_near() {
        for mode in ["ultralytics", "exact"] {
            let seg = yolo(mode);
            // A borderline detection (16×16 at 24..40) half under a sure one (16×16 at 16..32).
            let out = yolo_outputs(
                &[
                    (24.0, 24.0, 16.0, 16.0, 0.9),
                    (32.0, 32.0, 16.0, 16.0, 0.2505),
                ],
                5.0,
            );
            let near = &seg.near_threshold(&out, 64, 64, 1e-3).unwrap()["thing"];
            // Only the borderline box's pixels outside the sure one: 256 − 8×8.
            assert_eq!(near.area(), 256 - 64, "{mode}");
            assert!(!near.get(28, 28) && near.get(36, 36), "{mode}");
        }
    }

    #[test]
    fn the_masks_made_beside_the_near_pixels_are_postprocess_s() {
        let logits = yolo_outputs(
            &[
                (24.0, 24.0, 16.0, 16.0, 0.9),
                (44.0, 40.0, 12.0, 16.0, 0.2505),
                (50.0, 10.0, 8.0, 8.0, 0.2495),
            ],
            0.3,
        );
        for mode in ["ultralytics", "exact"] {
            let seg = yolo(mode);
            let (masks, _) = seg.postprocess_near(&logits, 64, 48, 1e-3).unwrap();
            assert_eq!(masks, seg.postprocess(&logits, 64, 48).unwrap(), "{mode}");
            assert!(!masks["thing"].is_empty());
        }
        let sigmoid = build(
            "sigmoid",
            &AdapterSettings {
                class: Some("skin".into()),
                logits: true,
                ..Default::default()
            },
        )
        .unwrap();
        let map = [tensor(
            &[1, 1, 2, 3],
            vec![-2.0, -0.001, 0.0, 0.0005, 1.0, 3.0],
        )];
        let (masks, near) = sigmoid.postprocess_near(&map, 7, 5, 1e-3).unwrap();
        assert_eq!(masks, sigmoid.postprocess(&map, 7, 5).unwrap());
        assert!(!near["skin"].is_empty() && !masks["skin"].is_empty());
        // semantic-argmax: scores of 3 channels over 2×3, two of them close on one pixel.
        let argmax = build(
            "semantic-argmax",
            &AdapterSettings {
                labels: vec!["bg".into(), "skin".into(), "hair".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let scores = [tensor(
            &[1, 3, 2, 3],
            vec![
                5.0, 0.0, 0.0, 1.0, 0.0, 0.0, // bg
                0.0, 5.0, 0.0, 1.0005, 5.0, 0.0, // skin
                0.0, 0.0, 5.0, 0.0, 0.0, 5.0, // hair
            ],
        )];
        let (masks, near) = argmax.postprocess_near(&scores, 6, 4, 1e-3).unwrap();
        assert_eq!(masks, argmax.postprocess(&scores, 6, 4).unwrap());
        assert!(!masks["skin"].is_empty() && !near["skin"].is_empty());
    }

    #[test]
    fn mask_logits_within_the_band_are_near() {
        for mode in ["ultralytics", "exact"] {
            let seg = yolo(mode);
            // σ(0.001) − 0.5 ≈ 0.00025 ≤ ε: the whole box is near; σ(0.01) − 0.5 ≈ 0.0025 > ε.
            let out = yolo_outputs(&[(32.0, 32.0, 16.0, 16.0, 0.9)], 0.001);
            let near = seg.near_threshold(&out, 64, 64, 1e-3).unwrap();
            assert_eq!(near["thing"].area(), 256, "{mode}");
            assert_eq!(
                near["thing"],
                seg.postprocess(&out, 64, 64).unwrap()["thing"],
                "{mode}"
            );
            let out = yolo_outputs(&[(32.0, 32.0, 16.0, 16.0, 0.9)], 0.01);
            assert!(
                seg.near_threshold(&out, 64, 64, 1e-3).unwrap()["thing"].is_empty(),
                "{mode}"
            );
        }
    }
}
