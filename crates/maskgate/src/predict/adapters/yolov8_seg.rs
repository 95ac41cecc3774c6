//! `yolov8-seg`: Ultralytics YOLOv8/YOLO11-seg ONNX exports (`yolo export model=best.pt
//! format=onnx`, defaults: a fixed square `imgsz`, `nms=False`, so the model gives `output0
//! [1, 4+nc+32, N]` and protos `[1, 32, imgsz/4, imgsz/4]`). Letterbox (114 padding, Python
//! half-to-even rounding), class-aware NMS (conf strictly above 0.25, IoU 0.7, at most 300),
//! mask logits = coeffs·protos. Then, by `mask_mode`:
//! - `"ultralytics"` (default): what production reads from `results.masks` with
//!   `retina_masks=False` (ultralytics 8.4.190, `ops.process_mask(.., upsample=True)`): logits
//!   upsampled to the input size (`F.interpolate`, bilinear), `> 0`, cropped to the box there
//!   (`crop_mask`); brought to the photo as Ultralytics' own plotting does (`ops.scale_masks`:
//!   the letterbox's content rows and columns, the 0/1 mask resized bilinear, `> 0.5`).
//! - `"exact"`: the logits resized to the photo first (the content region, exactly), cropped to
//!   the box in photo pixels and thresholded at 0 there: no 0/1 resize.
//!
//! Instance masks are unioned per class name.

use super::{input_hw, AdapterSettings, MasksAndNear, Segmenter};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::resample::{halfpixel_bilinear_f32, torch_bilinear_f32};
use maskgate_core::Mask;
use std::collections::BTreeMap;

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
        let gain = (size as f64 / h0 as f64).min(size as f64 / w0 as f64);
        let new_w = (w0 as f64 * gain).round_ties_even() as usize;
        let new_h = (h0 as f64 * gain).round_ties_even() as usize;
        let dw = (size - new_w) as f64 / 2.0;
        let dh = (size - new_h) as f64 / 2.0;
        let r = |v: f64| v.round_ties_even().max(0.0) as usize;
        Letterbox {
            gain,
            new_w,
            new_h,
            top: r(dh - 0.1),
            bottom: r(dh + 0.1),
            left: r(dw - 0.1),
            right: r(dw + 0.1),
        }
    }

    /// A box in input pixels → original image pixels (`scale_boxes`), clipped to the image.
    pub fn unmap_box(&self, b: [f64; 4], w0: usize, h0: usize) -> [f64; 4] {
        let x = |v: f64| ((v - self.left as f64) / self.gain).clamp(0.0, w0 as f64);
        let y = |v: f64| ((v - self.top as f64) / self.gain).clamp(0.0, h0 as f64);
        [x(b[0]), y(b[1]), x(b[2]), y(b[3])]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// x1, y1, x2, y2 in input (letterboxed) pixels.
    pub bbox: [f64; 4],
    pub score: f32,
    pub class: usize,
    pub coeffs: Vec<f32>,
}

fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f64; 4]| (r[2] - r[0]) * (r[3] - r[1]);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Decodes `output0` and runs class-aware NMS as Ultralytics' `non_max_suppression` (predict
/// defaults: single label per box, `max_wh` 7680 class offsets, at most 30000 candidates).
pub fn decode(
    out0: &Tensor,
    nc: usize,
    nm: usize,
    conf: f64,
    iou_thr: f64,
    max_det: usize,
) -> Result<Vec<Detection>, String> {
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
    let at = |c: usize, a: usize| out0.data[c * n + a];
    let mut cands: Vec<(usize, Detection)> = Vec::new();
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
        if (best as f64) <= conf {
            continue;
        }
        let (cx, cy, w, h) = (
            at(0, a) as f64,
            at(1, a) as f64,
            at(2, a) as f64,
            at(3, a) as f64,
        );
        cands.push((
            a,
            Detection {
                bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                score: best,
                class: cls,
                coeffs: (0..nm).map(|k| at(4 + nc + k, a)).collect(),
            },
        ));
    }
    // Highest score first; equal scores keep anchor order, so the result is reproducible.
    cands.sort_by(|x, y| y.1.score.total_cmp(&x.1.score).then(x.0.cmp(&y.0)));
    cands.truncate(30000);
    let offset = |d: &Detection| {
        let o = d.class as f64 * 7680.0;
        [d.bbox[0] + o, d.bbox[1] + o, d.bbox[2] + o, d.bbox[3] + o]
    };
    let mut kept: Vec<Detection> = Vec::new();
    let mut kept_boxes: Vec<[f64; 4]> = Vec::new();
    for (_, d) in cands {
        let b = offset(&d);
        if kept_boxes.iter().all(|k| iou(k, &b) <= iou_thr) {
            kept_boxes.push(b);
            kept.push(d);
            if kept.len() == max_det {
                break;
            }
        }
    }
    Ok(kept)
}

/// How instance masks are brought from the prototypes to the photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskMode {
    Ultralytics,
    Exact,
}

pub struct YoloSeg {
    labels: Vec<String>,
    classes: BTreeMap<String, Vec<usize>>,
    conf: f64,
    iou: f64,
    mask_mode: MaskMode,
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
        Ok(YoloSeg {
            labels: s.labels.clone(),
            classes,
            conf: s.conf.unwrap_or(0.25),
            iou: s.iou.unwrap_or(0.7),
            mask_mode: match s.mask_mode.as_deref().unwrap_or("ultralytics") {
                "ultralytics" => MaskMode::Ultralytics,
                "exact" => MaskMode::Exact,
                other => {
                    return Err(format!(
                        "mask_mode {other:?} unknown (\"ultralytics\" or \"exact\")"
                    ))
                }
            },
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

    /// Detections plus one instance mask each, at the original size (`w0 × h0`).
    pub fn instances(
        &self,
        outputs: &[Tensor],
        w0: usize,
        h0: usize,
        size: usize,
    ) -> Result<Vec<(Detection, Mask)>, String> {
        let found = self.instances_near(outputs, w0, h0, size, None)?;
        Ok(found.into_iter().map(|(d, m, _)| (d, m)).collect())
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
        size: usize,
        eps: Option<f64>,
    ) -> Result<Vec<(Detection, Mask, Option<Mask>)>, String> {
        let (det, protos) = self.split(outputs)?;
        let [_, nm, ph, pw] = protos.shape.as_slice() else {
            unreachable!()
        };
        let (nm, ph, pw) = (*nm, *ph, *pw);
        let conf = self.conf - eps.unwrap_or(0.0);
        let dets = decode(det, self.labels.len(), nm, conf, self.iou, 300)?;
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
            let b = lb.unmap_box(d.bbox, w0, h0);
            let borderline = eps.is_some_and(|e| d.score as f64 <= self.conf + e);
            let (mask, near) = if self.mask_mode == MaskMode::Ultralytics {
                let m = ultralytics_mask(&logits, pw, ph, size, &lb, d.bbox, w0, h0, None);
                let near = band.map(|band| match borderline {
                    true => m.clone(),
                    false => {
                        ultralytics_mask(&logits, pw, ph, size, &lb, d.bbox, w0, h0, Some(band))
                    }
                });
                (m, near)
            } else {
                // Protos → input size, then the exact letterboxed region → the original size.
                let full = halfpixel_bilinear_f32(&logits, pw, ph, 1, size, size);
                let mut region = Vec::with_capacity(lb.new_w * lb.new_h);
                for y in lb.top..lb.top + lb.new_h {
                    region.extend_from_slice(
                        &full[y * size + lb.left..y * size + lb.left + lb.new_w],
                    );
                }
                let orig = halfpixel_bilinear_f32(&region, lb.new_w, lb.new_h, 1, w0, h0);
                // crop_mask: keep pixel (r, c) with x1 ≤ c < x2 and y1 ≤ r < y2.
                let in_box = |y: u32, x: u32| {
                    let (xf, yf) = (x as f64, y as f64);
                    xf >= b[0] && xf < b[2] && yf >= b[1] && yf < b[3]
                };
                let at = |y: u32, x: u32| orig[y as usize * w0 + x as usize];
                let m = Mask::from_fn(h0 as u32, w0 as u32, |y, x| in_box(y, x) && at(y, x) > 0.0);
                let near = band.map(|band| match borderline {
                    true => m.clone(),
                    false => Mask::from_fn(h0 as u32, w0 as u32, |y, x| {
                        in_box(y, x) && at(y, x).abs() <= band
                    }),
                });
                (m, near)
            };
            let above = d.score as f64 > self.conf;
            let d = Detection { bbox: b, ..d };
            // A detection only the lowered cut admits contributes nothing but its near pixels.
            let mask = if above {
                mask
            } else {
                Mask::new(h0 as u32, w0 as u32)
            };
            out.push((d, mask, near));
        }
        Ok(out)
    }
}

/// One instance's mask as Ultralytics gives it (see the module notes): `logits` at prototype
/// size `pw × ph`, `bbox` in input pixels, the result at the photo's `w0 × h0`. With a logit
/// `band`, instead the photo pixels whose value reads any input pixel with |logit| ≤ band (a
/// flip there can reach them through the 0/1 resize).
#[allow(clippy::too_many_arguments)]
fn ultralytics_mask(
    logits: &[f32],
    pw: usize,
    ph: usize,
    size: usize,
    lb: &Letterbox,
    bbox: [f64; 4],
    w0: usize,
    h0: usize,
    band: Option<f32>,
) -> Mask {
    // process_mask: upsample to the input, `gt_(0)`, then crop_mask keeps column c and row r
    // with x1 <= c < x2 and y1 <= r < y2 (float box, integer pixel index).
    let full = torch_bilinear_f32(logits, pw, ph, size, size);
    let [x1, y1, x2, y2] = bbox.map(|v| v as f32);
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
    Mask::from_fn(h0 as u32, w0 as u32, |y, x| {
        orig[y as usize * w0 + x as usize] > cut
    })
}

impl Segmenter for YoloSeg {
    fn kind(&self) -> &'static str {
        "yolov8-seg"
    }
    fn decode(&self) -> DecodePolicy {
        // `model.predict(path)`: Ultralytics' LoadImagesAndVideos reads with cv2.imread.
        DecodePolicy::OpenCv
    }
    fn outputs_read(&self) -> usize {
        // Detections and prototypes, found by rank among every output.
        usize::MAX
    }
    fn params(&self) -> String {
        format!(
            "labels={:?};classes={:?};conf={};iou={};mask_mode={:?}",
            self.labels, self.classes, self.conf, self.iou, self.mask_mode
        )
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
        let resized: Vec<u8> = if (lb.new_w, lb.new_h) == (img.w, img.h) {
            img.data.clone()
        } else {
            let f: Vec<f32> = img.data.iter().map(|&v| v as f32).collect();
            halfpixel_bilinear_f32(&f, img.w, img.h, 3, lb.new_w, lb.new_h)
                .iter()
                .map(|v| v.round().clamp(0.0, 255.0) as u8)
                .collect()
        };
        let plane = size * size;
        let mut data = vec![114.0f32 / 255.0; 3 * plane];
        for y in 0..lb.new_h {
            for x in 0..lb.new_w {
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
        // The input size is the proto size × 4 in every export; recover it from the outputs.
        let (_, protos) = self.split(outputs)?;
        let size = protos.shape[2] * 4;
        let inst = self.instances(outputs, w, h, size)?;
        let mut out = BTreeMap::new();
        for (class, ids) in &self.classes {
            let mut m = Mask::new(h as u32, w as u32);
            for (d, im) in &inst {
                if ids.contains(&d.class) {
                    m.union_in_place(im);
                }
            }
            out.insert(class.clone(), m);
        }
        Ok(out)
    }
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String> {
        let (_, protos) = self.split(outputs)?;
        let size = protos.shape[2] * 4;
        // One pass: a detection only the lowered cut admits has an empty mask, so the masks are
        // `postprocess`'s.
        let inst = self.instances_near(outputs, w, h, size, Some(eps))?;
        let (mut masks, mut near_pixels) = (BTreeMap::new(), BTreeMap::new());
        for (class, ids) in &self.classes {
            // A class's mask is a union: a pixel that a sure detection of the class keeps
            // whatever noise does cannot flip, however near it is for another detection.
            let empty = || Mask::new(h as u32, w as u32);
            let (mut mask, mut near, mut sure) = (empty(), empty(), empty());
            for (d, m, n) in inst.iter().filter(|(d, _, _)| ids.contains(&d.class)) {
                mask.union_in_place(m);
                let Some(n) = n else { continue };
                near.union_in_place(n);
                if d.score as f64 > self.conf + eps {
                    sure.union_in_place(&m.difference(n));
                }
            }
            masks.insert(class.clone(), mask);
            near_pixels.insert(class.clone(), near.difference(&sure));
        }
        Ok((masks, near_pixels))
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
                lb.left as f64,
                lb.top as f64,
                (lb.left + lb.new_w) as f64,
                (lb.top + lb.new_h) as f64,
            ];
            let b = lb.unmap_box(full, w0, h0);
            assert!(b[0].abs() < 1e-9 && b[1].abs() < 1e-9);
            assert!(
                (b[2] - w0 as f64).abs() <= 1.0 / lb.gain
                    && (b[3] - h0 as f64).abs() <= 1.0 / lb.gain
            );
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
        let d = decode(&t, nc, nm, 0.25, 0.7, 300).unwrap();
        assert_eq!(
            d.iter().map(|d| (d.class, d.score)).collect::<Vec<_>>(),
            [(0, 0.9), (1, 0.7)]
        );
        assert_eq!(d[0].bbox, [30.0, 30.0, 70.0, 70.0]);
    }
}
