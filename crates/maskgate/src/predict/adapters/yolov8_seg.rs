//! `yolov8-seg`: Ultralytics YOLOv8/YOLO11-seg ONNX exports (`yolo export model=best.pt
//! format=onnx`, defaults: a fixed square `imgsz`, `nms=False`, so the model gives `output0
//! [1, 4+nc+32, N]` and protos `[1, 32, imgsz/4, imgsz/4]`), exactly as `YOLO(best.onnx).predict`
//! of ultralytics 8.4.190 treats them (read from its source, checked pixel for pixel against it
//! by `tests/library/ultralytics_parity.rs`):
//! - the photo decoded as `cv2.imdecode(.., IMREAD_COLOR)` (EXIF orientation applied);
//! - `LetterBox`: gain `min(S/h, S/w)`, sides `max(round(side·gain), 1)` (half to even),
//!   `cv2.resize(.., INTER_LINEAR)` bit for bit (OpenCV's 8-bit fixed-point path), centred
//!   padding of 114 split as `round(d/2 ∓ 0.1)`; then `/ 255` in f32;
//! - `non_max_suppression`: the best class per anchor, kept when its score is above `conf`
//!   (compared in f32), boxes `xywh2xyxy` in f32, torchvision's NMS (stable by score, IoU in f32
//!   on boxes offset by class × 7680 unless agnostic, suppressed above `iou`), at most `max_det`;
//! - masks by `mask_mode`:
//!   - `"ultralytics"` (default, `retina_masks=False`): `ops.process_mask(.., upsample=True)`
//!     (logits = coefficients·protos, `F.interpolate` bilinear to the input, `> 0`, cropped to
//!     the box there), then brought to the photo as `ops.scale_masks` does (the letterbox's
//!     content rows and columns, the 0/1 mask resized bilinear, `> 0.5`);
//!   - `"retina"` (`retina_masks=True`): `ops.process_mask_native` (the logits upsampled by the
//!     smallest factor that crops the padding on whole pixels, `scale_masks` to the photo, `> 0`,
//!     cropped to the box in photo pixels);
//!   - `"exact"`: maskgate's own: the logits resized to the photo's exact content region,
//!     cropped to the photo box and thresholded at 0 there, with no 0/1 resize;
//! - an instance whose mask is empty where `construct_result` looks (at the input's size in the
//!   default mode, padding included) is dropped, as it drops it;
//! - boxes to the photo by `ops.scale_boxes` (per-axis gains, in f32, clipped).
//!
//! How instances become an evaluation class's mask is production's policy, `instances`:
//! `"union"` (default) of every kept instance of the class's labels, `"largest"` (most pixels;
//! ties to the higher score) or `"top1"` (the highest score, NMS order).

use super::{input_hw, AdapterSettings, MasksAndNear, Segmented, Segmenter};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::opencv_linear::resize_linear_u8;
use maskgate_core::resample::{halfpixel_bilinear_f32, torch_bilinear_f32};
use maskgate_core::Mask;
use std::collections::BTreeMap;

/// `ops.non_max_suppression`'s class offset (`max_wh`).
const MAX_WH: f32 = 7680.0;
/// Candidates NMS considers at most (`max_nms`).
const MAX_NMS: usize = 30000;

/// Python's `round`: to nearest, ties to even.
fn py_round(v: f64) -> usize {
    v.round_ties_even().max(0.0) as usize
}

/// Letterbox geometry for an image of `w0 × h0` into a `size × size` input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    pub gain: f64,
    pub new_w: usize,
    pub new_h: usize,
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Letterbox {
    pub fn new(w0: usize, h0: usize, size: usize) -> Letterbox {
        Letterbox::into_input(w0, h0, size, size)
    }

    /// Into an input of `in_w × in_h` (`scale_masks` letterboxes into the prototype grid too).
    fn into_input(w0: usize, h0: usize, in_w: usize, in_h: usize) -> Letterbox {
        let gain = (in_h as f64 / h0 as f64).min(in_w as f64 / w0 as f64);
        let new_w = py_round(w0 as f64 * gain).max(1);
        let new_h = py_round(h0 as f64 * gain).max(1);
        let dw = in_w.saturating_sub(new_w) as f64 / 2.0;
        let dh = in_h.saturating_sub(new_h) as f64 / 2.0;
        Letterbox {
            gain,
            new_w,
            new_h,
            top: py_round(dh - 0.1),
            bottom: py_round(dh + 0.1),
            left: py_round(dw - 0.1),
            right: py_round(dw + 0.1),
        }
    }

    /// A box in input pixels → photo pixels as `ops.scale_boxes` computes it: in f32, per-axis
    /// gains `new / old`, clipped to the photo.
    pub fn unmap_box(&self, b: [f32; 4], w0: usize, h0: usize) -> [f32; 4] {
        let (gx, gy) = (
            (self.new_w as f64 / w0 as f64) as f32,
            (self.new_h as f64 / h0 as f64) as f32,
        );
        let (px, py) = (self.left as f32, self.top as f32);
        let x = |v: f32| ((v - px) / gx).clamp(0.0, w0 as f32);
        let y = |v: f32| ((v - py) / gy).clamp(0.0, h0 as f32);
        [x(b[0]), y(b[1]), x(b[2]), y(b[3])]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// x1, y1, x2, y2: in input (letterboxed) pixels out of [`decode`], in photo pixels in an
    /// [`Instance`].
    pub bbox: [f32; 4],
    pub score: f32,
    pub class: usize,
    pub coeffs: Vec<f32>,
}

/// One kept instance at the photo's size.
#[derive(Clone, Debug)]
pub struct Instance {
    pub detection: Detection,
    pub mask: Mask,
    /// Kept by `predict`: scored above `conf`, and its mask had a pixel where
    /// `construct_result` looks (at the input's size in the default mode, padding included,
    /// so a kept instance may still have no pixel on the photo).
    kept: bool,
    /// With the noise check: the pixels a change of ε could flip.
    near: Option<Mask>,
}

/// torchvision's `box_iou` step inside `nms` (CPU kernel, f32).
fn iou(a: &[f32; 4], area_a: f32, b: &[f32; 4], area_b: f32) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    inter / (area_a + area_b - inter)
}

/// NMS settings (`predict`'s `conf`, `iou`, `max_det`, `agnostic_nms`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nms {
    pub conf: f64,
    pub iou: f64,
    pub max_det: usize,
    pub agnostic: bool,
}

/// Decodes `output0` and runs NMS as Ultralytics' `non_max_suppression` (single label per box).
pub fn decode(out0: &Tensor, nc: usize, nm: usize, nms: &Nms) -> Result<Vec<Detection>, String> {
    let [_, ch, n] = out0.shape.as_slice() else {
        return Err(format!(
            "output0 must be [1, 4+nc+nm, N], is {:?}",
            out0.shape
        ));
    };
    let (ch, n) = (*ch, *n);
    if ch != 4 + nc + nm {
        return Err(format!(
            "output0 has {ch} channels, expected 4 + {nc} classes + {nm} mask coefficients"
        ));
    }
    // The threshold meets f32 scores as PyTorch compares them: cast to the tensor's type.
    let conf = nms.conf as f32;
    let at = |c: usize, a: usize| out0.data[c * n + a];
    let mut cands: Vec<Detection> = Vec::new();
    for a in 0..n {
        let (mut best, mut cls) = (f32::NEG_INFINITY, 0usize);
        for c in 0..nc {
            let s = at(4 + c, a);
            if s.is_nan() {
                return Err("output0 contains NaN".into());
            }
            if s > best {
                best = s;
                cls = c;
            }
        }
        if best.partial_cmp(&conf) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let (cx, cy, hw, hh) = (at(0, a), at(1, a), at(2, a) / 2.0, at(3, a) / 2.0);
        cands.push(Detection {
            bbox: [cx - hw, cy - hh, cx + hw, cy + hh],
            score: best,
            class: cls,
            coeffs: (0..nm).map(|k| at(4 + nc + k, a)).collect(),
        });
    }
    // torchvision sorts by score, stably: equal scores keep anchor order.
    cands.sort_by(|x, y| y.score.total_cmp(&x.score));
    cands.truncate(MAX_NMS);
    let boxes: Vec<[f32; 4]> = cands
        .iter()
        .map(|d| {
            let o = if nms.agnostic {
                0.0
            } else {
                d.class as f32 * MAX_WH
            };
            d.bbox.map(|v| v + o)
        })
        .collect();
    let areas: Vec<f32> = boxes
        .iter()
        .map(|b| (b[2] - b[0]) * (b[3] - b[1]))
        .collect();
    let mut suppressed = vec![false; cands.len()];
    let mut kept = Vec::new();
    for i in 0..cands.len() {
        if suppressed[i] {
            continue;
        }
        kept.push(i);
        if kept.len() == nms.max_det {
            break;
        }
        for j in i + 1..cands.len() {
            if !suppressed[j] && iou(&boxes[i], areas[i], &boxes[j], areas[j]) as f64 > nms.iou {
                suppressed[j] = true;
            }
        }
    }
    let mut cands: Vec<Option<Detection>> = cands.into_iter().map(Some).collect();
    Ok(kept.into_iter().filter_map(|i| cands[i].take()).collect())
}

/// How instance masks are brought from the prototypes to the photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskMode {
    Ultralytics,
    Retina,
    Exact,
}

/// How an evaluation class's mask is made from its instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstancePolicy {
    Union,
    Largest,
    Top1,
}

impl InstancePolicy {
    fn parse(s: &str) -> Result<InstancePolicy, String> {
        match s {
            "union" => Ok(InstancePolicy::Union),
            "largest" => Ok(InstancePolicy::Largest),
            "top1" => Ok(InstancePolicy::Top1),
            other => Err(format!(
                "instances {other:?} unknown (\"union\", \"largest\" or \"top1\")"
            )),
        }
    }
}

pub struct YoloSeg {
    labels: Vec<String>,
    classes: BTreeMap<String, Vec<usize>>,
    nms: Nms,
    mask_mode: MaskMode,
    policy: InstancePolicy,
}

impl YoloSeg {
    pub fn new(s: &AdapterSettings) -> Result<YoloSeg, String> {
        if s.labels.is_empty() {
            return Err(
                "yolov8-seg needs `labels`: the class names by index (as in the model's `names`)"
                    .into(),
            );
        }
        let classes = if s.classes.is_empty() {
            s.labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), vec![i]))
                .collect()
        } else {
            s.classes
                .iter()
                .map(|(c, ls)| {
                    let ids =
                        ls.iter()
                            .map(|n| {
                                s.labels.iter().position(|l| l == n).ok_or_else(|| {
                                    format!("class map names {n:?}, not in `labels`")
                                })
                            })
                            .collect::<Result<Vec<usize>, String>>()?;
                    Ok((c.clone(), ids))
                })
                .collect::<Result<_, String>>()?
        };
        let unit = |name: &str, v: Option<f64>, default: f64| -> Result<f64, String> {
            let v = v.unwrap_or(default);
            match (0.0..=1.0).contains(&v) {
                true => Ok(v),
                false => Err(format!("{name} must be within [0, 1], got {v}")),
            }
        };
        let max_det = s.max_det.unwrap_or(300);
        if max_det == 0 {
            return Err("max_det must be at least 1".into());
        }
        Ok(YoloSeg {
            labels: s.labels.clone(),
            classes,
            nms: Nms {
                conf: unit("conf", s.conf, 0.25)?,
                iou: unit("iou", s.iou, 0.7)?,
                max_det,
                agnostic: s.agnostic_nms.unwrap_or(false),
            },
            mask_mode: match s.mask_mode.as_deref().unwrap_or("ultralytics") {
                "ultralytics" => MaskMode::Ultralytics,
                "retina" => MaskMode::Retina,
                "exact" => MaskMode::Exact,
                other => {
                    return Err(format!(
                        "mask_mode {other:?} unknown (\"ultralytics\", \"retina\" or \"exact\")"
                    ))
                }
            },
            policy: InstancePolicy::parse(s.instances.as_deref().unwrap_or("union"))?,
        })
    }

    fn split<'t>(&self, outputs: &'t [Tensor]) -> Result<(&'t Tensor, &'t Tensor), String> {
        let det = outputs
            .iter()
            .find(|t| t.shape.len() == 3)
            .ok_or("no [1, C, N] detection output")?;
        let protos = outputs
            .iter()
            .find(|t| t.shape.len() == 4)
            .ok_or("no [1, 32, H, W] prototype output")?;
        Ok((det, protos))
    }

    /// The kept instances, in NMS order, at the photo's size (`w0 × h0`), as `predict` gives
    /// them: boxes in photo pixels, empty masks dropped.
    pub fn instances(
        &self,
        outputs: &[Tensor],
        w0: usize,
        h0: usize,
    ) -> Result<Vec<(Detection, Mask)>, String> {
        let found = self.instances_near(outputs, w0, h0, None)?;
        Ok(found
            .into_iter()
            .filter(|i| i.kept)
            .map(|i| (i.detection, i.mask))
            .collect())
    }

    /// [`Self::instances`], and with `eps` each instance's pixels whose outcome a change of
    /// `eps` in probability could flip. Detections are then decoded down to `conf − eps`: a
    /// detection scored within `eps` of `conf` may appear or vanish, so all its pixels are
    /// near (its mask is kept only if it scores above `conf`). NMS is greedy by score, so the
    /// detections above `conf` are the same either way.
    fn instances_near(
        &self,
        outputs: &[Tensor],
        w0: usize,
        h0: usize,
        eps: Option<f64>,
    ) -> Result<Vec<Instance>, String> {
        let (det, protos) = self.split(outputs)?;
        let [_, nm, ph, pw] = protos.shape.as_slice() else {
            unreachable!()
        };
        let (nm, ph, pw) = (*nm, *ph, *pw);
        if ph == 0 || pw == 0 || ph != pw {
            return Err(format!(
                "prototypes must be a square [1, {nm}, H, W] with H, W > 0, are {ph}x{pw}"
            ));
        }
        // The input size is the proto size × 4 in every export.
        let size = ph * 4;
        let nms = Nms {
            conf: (self.nms.conf - eps.unwrap_or(0.0)).max(0.0),
            ..self.nms
        };
        let dets = decode(det, self.labels.len(), nm, &nms)?;
        let lb = Letterbox::new(w0, h0, size);
        // |sigmoid(l) − 0.5| ≤ eps ⟺ |l| ≤ ln((0.5 + eps) / (0.5 − eps)).
        let band = eps.map(|e| match e < 0.5 {
            true => ((0.5 + e) / (0.5 - e)).ln() as f32,
            false => f32::INFINITY,
        });
        let mut out = Vec::with_capacity(dets.len());
        for d in dets {
            let mut logits = vec![0f32; ph * pw];
            for (k, &c) in d.coeffs.iter().enumerate() {
                let plane = &protos.data[k * ph * pw..(k + 1) * ph * pw];
                logits.iter_mut().zip(plane).for_each(|(l, &p)| *l += c * p);
            }
            let photo_box = lb.unmap_box(d.bbox, w0, h0);
            let borderline = eps.is_some_and(|e| d.score as f64 <= self.nms.conf + e);
            // (The photo mask, whether `construct_result` saw a pixel.)
            let mask_with = |band: Option<f32>| match self.mask_mode {
                MaskMode::Ultralytics => {
                    ultralytics_mask(&logits, pw, ph, size, &lb, d.bbox, w0, h0, band)
                }
                MaskMode::Retina => {
                    let m = retina_mask(&logits, pw, ph, photo_box, w0, h0, band);
                    let any = m.area() > 0;
                    (m, any)
                }
                MaskMode::Exact => {
                    let m = exact_mask(&logits, pw, ph, size, &lb, photo_box, w0, h0, band);
                    let any = m.area() > 0;
                    (m, any)
                }
            };
            let (mask, any) = mask_with(None);
            // `construct_result` keeps only instances whose mask has a pixel.
            if !any && !borderline {
                continue;
            }
            let near = band.map(|band| match borderline {
                true => mask.clone(),
                false => mask_with(Some(band)).0,
            });
            let kept = any && d.score > self.nms.conf as f32;
            let detection = Detection {
                bbox: photo_box,
                ..d
            };
            // A detection only the lowered cut admits contributes nothing but its near pixels.
            let mask = match kept {
                true => mask,
                false => Mask::new(h0 as u32, w0 as u32),
            };
            out.push(Instance {
                detection,
                mask,
                kept,
                near,
            });
        }
        Ok(out)
    }

    /// The instances that make up evaluation class `ids`' mask under the policy.
    fn chosen<'i>(&self, inst: &'i [Instance], ids: &[usize]) -> Vec<&'i Instance> {
        let of_class = inst
            .iter()
            .filter(|i| i.kept && ids.contains(&i.detection.class));
        match self.policy {
            InstancePolicy::Union => of_class.collect(),
            // NMS order is by score, so the first is the highest.
            InstancePolicy::Top1 => of_class.take(1).collect(),
            InstancePolicy::Largest => {
                let mut best: Option<&Instance> = None;
                for i in of_class {
                    if best.is_none_or(|b| i.mask.area() > b.mask.area()) {
                        best = Some(i);
                    }
                }
                best.into_iter().collect()
            }
        }
    }

    /// The masks per evaluation class, the kept instances (one per class their label makes
    /// up, in NMS order), and with `eps` the near pixels per class.
    fn assemble(
        &self,
        inst: &[Instance],
        w: usize,
        h: usize,
        eps: Option<f64>,
    ) -> (
        BTreeMap<String, Mask>,
        Vec<crate::model::PredInstance>,
        BTreeMap<String, Mask>,
    ) {
        let (mut masks, mut near_pixels) = (BTreeMap::new(), BTreeMap::new());
        let empty = || Mask::new(h as u32, w as u32);
        for (class, ids) in &self.classes {
            let chosen = self.chosen(inst, ids);
            let mut mask = empty();
            chosen.iter().for_each(|i| mask.union_in_place(&i.mask));
            if let Some(eps) = eps {
                near_pixels.insert(class.clone(), self.near(inst, ids, &chosen, eps, w, h));
            }
            masks.insert(class.clone(), mask);
        }
        let mut kept = Vec::new();
        for i in inst.iter().filter(|i| i.kept) {
            for (class, ids) in &self.classes {
                if ids.contains(&i.detection.class) {
                    kept.push(crate::model::PredInstance {
                        class: class.clone(),
                        score: i.detection.score as f64,
                        mask: maskgate_core::Rle::encode(&i.mask),
                    });
                }
            }
        }
        (masks, kept, near_pixels)
    }

    /// The pixels of class `ids`' mask a change of `eps` could flip.
    fn near(
        &self,
        inst: &[Instance],
        ids: &[usize],
        chosen: &[&Instance],
        eps: f64,
        w: usize,
        h: usize,
    ) -> Mask {
        let (mut near, mut sure) = (Mask::new(h as u32, w as u32), Mask::new(h as u32, w as u32));
        let of_class: Vec<&Instance> = inst
            .iter()
            .filter(|i| ids.contains(&i.detection.class))
            .collect();
        match self.policy {
            InstancePolicy::Union => {
                // A class's mask is a union: a pixel that a sure detection of the class keeps
                // whatever noise does cannot flip, however near it is for another detection.
                for i in &of_class {
                    let Some(n) = &i.near else { continue };
                    near.union_in_place(n);
                    if i.detection.score as f64 > self.nms.conf + eps {
                        sure.union_in_place(&i.mask.difference(n));
                    }
                }
                near.difference(&sure)
            }
            InstancePolicy::Top1 | InstancePolicy::Largest => {
                let Some(c) = chosen.first() else {
                    // Nothing chosen: only an instance admitted by noise could be.
                    for i in &of_class {
                        if let Some(n) = &i.near {
                            near.union_in_place(n);
                        }
                    }
                    return near;
                };
                let wobble = |i: &Instance| i.near.as_ref().map_or(0, Mask::area);
                // Noise may remove the chosen one (scored within ε of conf): any other could
                // take its place. Otherwise, for the top one, an instance scored within 2ε;
                // for the largest, one whose area could reach the chosen one's.
                let fragile = c.detection.score as f64 <= self.nms.conf + eps;
                let rivals: Vec<&&Instance> = of_class
                    .iter()
                    .filter(|i| !std::ptr::eq(**i, *c))
                    .filter(|i| {
                        fragile
                            || match self.policy {
                                InstancePolicy::Top1 => {
                                    (c.detection.score - i.detection.score) as f64 <= 2.0 * eps
                                }
                                _ => {
                                    // An instance only noise admits has no area yet: its near
                                    // pixels are what it could bring.
                                    i.mask.area() + wobble(i) + wobble(c) >= c.mask.area()
                                }
                            }
                    })
                    .collect();
                if let Some(n) = &c.near {
                    near.union_in_place(n);
                }
                if !rivals.is_empty() {
                    near.union_in_place(&c.mask);
                    for i in rivals {
                        near.union_in_place(&i.mask);
                        if let Some(n) = &i.near {
                            near.union_in_place(n);
                        }
                    }
                }
                near
            }
        }
    }
}

/// One instance's mask as `process_mask(.., upsample=True)` and `scale_masks` give it (see the
/// module notes): `logits` at prototype size `pw × ph`, `bbox` in input pixels, the result at
/// the photo's `w0 × h0`, and whether the input-size mask `construct_result` tests has a pixel
/// (the padding included). With a logit `band`, instead the photo pixels whose value reads any
/// input pixel with |logit| ≤ band (a flip there can reach them through the 0/1 resize).
#[allow(clippy::too_many_arguments)]
fn ultralytics_mask(
    logits: &[f32],
    pw: usize,
    ph: usize,
    size: usize,
    lb: &Letterbox,
    bbox: [f32; 4],
    w0: usize,
    h0: usize,
    band: Option<f32>,
) -> (Mask, bool) {
    // process_mask: upsample to the input, `gt_(0)`, then crop_mask keeps column c and row r
    // with x1 <= c < x2 and y1 <= r < y2 (f32 box, f32 pixel index).
    let full = torch_bilinear_f32(logits, pw, ph, size, size);
    let [x1, y1, x2, y2] = bbox;
    // Only the box's rows and columns can hold a kept pixel (the comparisons stay exact).
    let span = |a: f32, b: f32| {
        (a.max(0.0).ceil() as usize).min(size)..(b.max(0.0).ceil() as usize).min(size)
    };
    let any = band.is_some()
        || span(y1, y2).any(|y| {
            let yf = y as f32;
            yf >= y1
                && yf < y2
                && span(x1, x2).any(|x| {
                    let xf = x as f32;
                    xf >= x1 && xf < x2 && full[y * size + x] > 0.0
                })
        });
    // scale_masks: rows top..top+new_h and columns left..left+new_w of the 0/1 mask.
    let mut region = Vec::with_capacity(lb.new_w * lb.new_h);
    for y in lb.top..lb.top + lb.new_h {
        let yf = y as f32;
        region.extend((lb.left..lb.left + lb.new_w).map(|x| {
            let xf = x as f32;
            let inside = xf >= x1 && xf < x2 && yf >= y1 && yf < y2;
            let l = full[y * size + x];
            let on = match band {
                None => l > 0.0,
                Some(band) => l.abs() <= band,
            };
            (inside && on) as u8 as f32
        }));
    }
    let orig = torch_bilinear_f32(&region, lb.new_w, lb.new_h, w0, h0);
    let cut = if band.is_some() { 0.0 } else { 0.5 };
    let mask = Mask::from_row_major(h0 as u32, w0 as u32, |y, x| {
        orig[y as usize * w0 + x as usize] > cut
    });
    (mask, any)
}

/// `process_mask_native` (`retina_masks=True`): the logits upsampled by `f` (1, 2 or 4, the
/// smallest that crops the letterbox padding on whole pixels), `scale_masks` to the photo,
/// `> 0`, cropped to the box in photo pixels. With a `band`: the pixels with |logit| ≤ band.
fn retina_mask(
    logits: &[f32],
    pw: usize,
    ph: usize,
    bbox: [f32; 4],
    w0: usize,
    h0: usize,
    band: Option<f32>,
) -> Mask {
    let lb4 = Letterbox::into_input(w0, h0, 4 * pw, 4 * ph);
    let pad = (4 * ph - lb4.new_h) | (4 * pw - lb4.new_w);
    let f = 4 / gcd(4, pad | (pad / 2));
    let (up, uw, uh) = match f > 1 {
        true => (
            torch_bilinear_f32(logits, pw, ph, f * pw, f * ph),
            f * pw,
            f * ph,
        ),
        false => (logits.to_vec(), pw, ph),
    };
    let lb = Letterbox::into_input(w0, h0, uw, uh);
    let region = content(&up, uw, &lb);
    let orig = torch_bilinear_f32(&region, lb.new_w, lb.new_h, w0, h0);
    boxed(&orig, w0, h0, bbox, band)
}

/// The letterbox's content rows and columns of a `stride`-wide map.
fn content(full: &[f32], stride: usize, lb: &Letterbox) -> Vec<f32> {
    let mut region = Vec::with_capacity(lb.new_w * lb.new_h);
    for y in lb.top..lb.top + lb.new_h {
        region.extend_from_slice(&full[y * stride + lb.left..y * stride + lb.left + lb.new_w]);
    }
    region
}

/// `crop_mask` on photo-size logits: pixel (x, y) with x1 ≤ x < x2 and y1 ≤ y < y2 (f32) whose
/// logit is above 0, or with a `band`, within it.
fn boxed(logits: &[f32], w0: usize, h0: usize, bbox: [f32; 4], band: Option<f32>) -> Mask {
    let [x1, y1, x2, y2] = bbox;
    Mask::from_row_major(h0 as u32, w0 as u32, |y, x| {
        let (xf, yf) = (x as f32, y as f32);
        let l = logits[y as usize * w0 + x as usize];
        let on = match band {
            None => l > 0.0,
            Some(band) => l.abs() <= band,
        };
        on && xf >= x1 && xf < x2 && yf >= y1 && yf < y2
    })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// maskgate's `"exact"` mode: protos → input size, then the exact letterboxed region → the
/// photo, cropped to the photo box, `> 0` (or |logit| ≤ band).
#[allow(clippy::too_many_arguments)]
fn exact_mask(
    logits: &[f32],
    pw: usize,
    ph: usize,
    size: usize,
    lb: &Letterbox,
    bbox: [f32; 4],
    w0: usize,
    h0: usize,
    band: Option<f32>,
) -> Mask {
    let full = halfpixel_bilinear_f32(logits, pw, ph, 1, size, size);
    let region = content(&full, size, lb);
    let orig = halfpixel_bilinear_f32(&region, lb.new_w, lb.new_h, 1, w0, h0);
    boxed(&orig, w0, h0, bbox, band)
}

impl Segmenter for YoloSeg {
    fn kind(&self) -> &'static str {
        "yolov8-seg"
    }
    fn decode(&self) -> DecodePolicy {
        // `model.predict(path)`: Ultralytics' LoadImagesAndVideos reads with cv2.imdecode.
        DecodePolicy::OpenCv
    }
    fn outputs_read(&self) -> usize {
        // Detections and prototypes, found by rank among every output.
        usize::MAX
    }
    fn params(&self) -> String {
        // `pipeline=2`: Ultralytics' own resize, NMS and keep rule; predictions cached by the
        // earlier port are not served for it.
        let mut p = format!(
            "labels={:?};classes={:?};conf={};iou={};mask_mode={:?};pipeline=2",
            self.labels, self.classes, self.nms.conf, self.nms.iou, self.mask_mode
        );
        if self.nms.max_det != 300 {
            p.push_str(&format!(";max_det={}", self.nms.max_det));
        }
        if self.nms.agnostic {
            p.push_str(";agnostic_nms=true");
        }
        if self.policy != InstancePolicy::Union {
            p.push_str(&format!(";instances={:?}", self.policy));
        }
        p
    }
    fn check(&self, model: &Model) -> Result<(), String> {
        let (h, w) = input_hw(model)?;
        if h != w {
            return Err(format!(
                "yolov8-seg expects a square input, the model takes {h}x{w}"
            ));
        }
        let shapes: Vec<usize> = model.outputs.iter().map(|o| o.shape.len()).collect();
        if !(shapes.contains(&3) && shapes.contains(&4)) {
            return Err(format!("yolov8-seg expects output0 [1, 4+nc+32, N] and protos [1, 32, H, W], the model gives ranks {shapes:?}"));
        }
        if let Some(Some(ch)) = model
            .outputs
            .iter()
            .find(|o| o.shape.len() == 3)
            .and_then(|o| o.shape.get(1))
        {
            let nm = model
                .outputs
                .iter()
                .find(|o| o.shape.len() == 4)
                .and_then(|o| o.shape[1])
                .unwrap_or(32);
            if *ch != 4 + self.labels.len() + nm {
                return Err(format!(
                    "output0 has {ch} channels; {} labels need {}",
                    self.labels.len(),
                    4 + self.labels.len() + nm
                ));
            }
        }
        Ok(())
    }
    fn preprocess(&self, img: &RgbImage, model: &Model) -> Result<Tensor, String> {
        let (size, _) = input_hw(model)?;
        let lb = Letterbox::new(img.w, img.h, size);
        let resized = resize_linear_u8(&img.data, img.w, img.h, 3, lb.new_w, lb.new_h);
        let plane = size * size;
        let mut data = vec![114.0f32 / 255.0; 3 * plane];
        let rows = lb.new_h.min(size - lb.top);
        let cols = lb.new_w.min(size - lb.left);
        for y in 0..rows {
            for x in 0..cols {
                for c in 0..3 {
                    data[c * plane + (y + lb.top) * size + x + lb.left] =
                        resized[(y * lb.new_w + x) * 3 + c] as f32 / 255.0;
                }
            }
        }
        Ok(Tensor {
            shape: vec![1, 3, size, size],
            data,
        })
    }
    fn postprocess(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
    ) -> Result<BTreeMap<String, Mask>, String> {
        Ok(self.segment(outputs, w, h, None)?.masks)
    }
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String> {
        let s = self.segment(outputs, w, h, Some(eps))?;
        Ok((s.masks, s.near.unwrap_or_default()))
    }
    fn segment(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: Option<f64>,
    ) -> Result<Segmented, String> {
        // One pass: a detection only the lowered cut admits has an empty mask, so the masks are
        // `postprocess`'s.
        let inst = self.instances_near(outputs, w, h, eps)?;
        let (masks, kept, near) = self.assemble(&inst, w, h, eps);
        Ok(Segmented {
            masks,
            near: eps.map(|_| near),
            instances: Some(kept),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn letterbox_matches_ultralytics_vectors() {
        let p = crate::shared_dir().join("specs/yolo_letterbox_vectors.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let cases = v.as_array().unwrap();
        assert!(cases.len() >= 9);
        for c in cases {
            let n = |k: &str, i: usize| c[k][i].as_u64().unwrap() as usize;
            let (w0, h0) = (n("orig_wh", 0), n("orig_wh", 1));
            let lb = Letterbox::new(w0, h0, 640);
            assert_eq!(
                (lb.new_w, lb.new_h),
                (n("resized_wh", 0), n("resized_wh", 1)),
                "{w0}x{h0}"
            );
            assert_eq!(
                [lb.top, lb.bottom, lb.left, lb.right],
                [0, 1, 2, 3].map(|i| n("pad_tblr", i)),
                "{w0}x{h0}"
            );
            assert_eq!(
                (lb.left, lb.top),
                (n("scale_boxes_pad_xy", 0), n("scale_boxes_pad_xy", 1))
            );
            assert!((lb.gain - c["r"].as_f64().unwrap()).abs() < 1e-12);
            // Our un-letterbox crop is the exact resized region (Ultralytics' may be 1 px off).
            let crop = c["input640_crop_tlbr"].as_array().unwrap();
            let (ct, cl) = (
                crop[0].as_u64().unwrap() as i64,
                crop[1].as_u64().unwrap() as i64,
            );
            assert!((ct - lb.top as i64).abs() <= 1 && (cl - lb.left as i64).abs() <= 1);
            // A box spanning the whole resized region maps back onto the whole image.
            let full = [
                lb.left as f32,
                lb.top as f32,
                (lb.left + lb.new_w) as f32,
                (lb.top + lb.new_h) as f32,
            ];
            // Per-axis gains (`scale_boxes`): the content region maps onto the photo exactly.
            let b = lb.unmap_box(full, w0, h0);
            assert_eq!(b, [0.0, 0.0, w0 as f32, h0 as f32], "{w0}x{h0}");
        }
    }

    /// A model whose prototype output is empty or not square is an error naming the shape,
    /// not a panic on the arithmetic that assumes it.
    #[test]
    fn empty_or_oblong_prototypes_are_an_error() {
        let yolo = YoloSeg::new(&AdapterSettings {
            labels: vec!["thing".into()],
            ..Default::default()
        })
        .unwrap();
        for (ph, pw) in [(0usize, 0usize), (16, 8)] {
            let out = vec![
                Tensor {
                    shape: vec![1, 6, 1],
                    data: vec![8.0, 8.0, 4.0, 4.0, 0.9, 1.0],
                },
                Tensor {
                    shape: vec![1, 1, ph, pw],
                    data: vec![1.0; ph * pw],
                },
            ];
            let err = yolo.postprocess(&out, 10, 10).unwrap_err();
            assert!(err.contains("prototypes"), "{err}");
        }
    }

    #[test]
    fn nms_is_class_aware_and_strict_on_conf() {
        // Anchors: two overlapping boxes of class 0, one of class 1 on top of them, one at conf 0.25.
        let boxes = [
            (50.0, 50.0, 40.0, 40.0, 0.9, 0.0),
            (52.0, 52.0, 40.0, 40.0, 0.8, 0.0),
            (50.0, 50.0, 40.0, 40.0, 0.0, 0.7),
            (200.0, 200.0, 10.0, 10.0, 0.25, 0.0),
        ];
        let (nc, nm, n) = (2, 1, boxes.len());
        let mut data = vec![0f32; (4 + nc + nm) * n];
        for (a, b) in boxes.iter().enumerate() {
            for (c, v) in [b.0, b.1, b.2, b.3, b.4, b.5, 1.0].iter().enumerate() {
                data[c * n + a] = *v as f32;
            }
        }
        let t = Tensor {
            shape: vec![1, 4 + nc + nm, n],
            data,
        };
        let nms = Nms {
            conf: 0.25,
            iou: 0.7,
            max_det: 300,
            agnostic: false,
        };
        let d = decode(&t, nc, nm, &nms).unwrap();
        assert_eq!(
            d.iter().map(|d| (d.class, d.score)).collect::<Vec<_>>(),
            [(0, 0.9), (1, 0.7)]
        );
        assert_eq!(d[0].bbox, [30.0, 30.0, 70.0, 70.0]);
        // Class-agnostic NMS lets the class-1 box on top of the first go; max_det cuts.
        let agnostic = decode(
            &t,
            nc,
            nm,
            &Nms {
                agnostic: true,
                ..nms
            },
        )
        .unwrap();
        assert_eq!(agnostic.len(), 1);
        let one = decode(&t, nc, nm, &Nms { max_det: 1, ..nms }).unwrap();
        assert_eq!(one.len(), 1);
        // A lower IoU threshold suppresses the shifted box of the same class (IoU 0.82 > 0.5
        // suppresses it at 0.7 too; at 0.9 it survives).
        let loose = decode(&t, nc, nm, &Nms { iou: 0.9, ..nms }).unwrap();
        assert_eq!(loose.len(), 3);
    }
}
