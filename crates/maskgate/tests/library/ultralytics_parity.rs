//! The `yolov8-seg` adapter against the real Ultralytics on the crop gate's own YOLO-seg
//! checkpoint (`models/crop-yolo`, trained by `tools/yolo/train.py`): every instance's class,
//! confidence, box and mask, and the crop mask under each `instances` policy, pixel for pixel,
//! on 20 photos (PNG, and JPEG with every EXIF orientation). The fixtures are what
//! `YOLO(best.onnx).predict(..)` and `YOLO(best.pt).predict(..)` of ultralytics 8.4.190 gave
//! (`tools/yolo/ultralytics_reference.py`, which says how to regenerate them).

use maskgate::limits::Limits;
use maskgate::photo::{decode_rgb, DecodePolicy};
use maskgate::predict::adapters::yolov8_seg::YoloSeg;
use maskgate::predict::adapters::{AdapterSettings, Segmenter};
use maskgate::predict::engine::Model;
use maskgate_core::Mask;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The checkpoint under test: the committed one, or `MASKGATE_YOLO_MODEL` (a folder holding
/// `best.onnx`) with fixtures made for it (`MASKGATE_YOLO_FIXTURES`).
fn model_dir() -> PathBuf {
    std::env::var_os("MASKGATE_YOLO_MODEL")
        .map_or_else(|| root().join("models/crop-yolo"), PathBuf::from)
}

fn fixtures() -> Value {
    let p = std::env::var_os("MASKGATE_YOLO_FIXTURES").map_or_else(
        || root().join("tests/fixtures/yolo/ultralytics.json"),
        PathBuf::from,
    );
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// A row-major run-length mask (background first) at `h × w`.
fn from_runs(runs: &[Value], h: u32, w: u32) -> Mask {
    let mut flat = Vec::with_capacity(h as usize * w as usize);
    for (i, n) in runs.iter().enumerate() {
        flat.extend(std::iter::repeat_n(
            i % 2 == 1,
            n.as_u64().unwrap() as usize,
        ));
    }
    assert_eq!(flat.len(), h as usize * w as usize);
    Mask::from_fn(h, w, |y, x| flat[(y * w + x) as usize])
}

struct Reference {
    class: usize,
    conf: f32,
    bbox: [f32; 4],
    mask: Mask,
}

fn references(run: &Value, h: u32, w: u32) -> Vec<Reference> {
    run.as_array()
        .unwrap()
        .iter()
        .map(|i| Reference {
            class: i["class"].as_u64().unwrap() as usize,
            conf: i["conf"].as_f64().unwrap() as f32,
            bbox: std::array::from_fn(|k| i["box"][k].as_f64().unwrap() as f32),
            mask: from_runs(i["mask"].as_array().unwrap(), h, w),
        })
        .collect()
}

/// The crop mask the policy makes of a photo's instances (NMS order), written from the
/// policy's definition: the union; the one with most pixels (the earlier on a tie, which NMS
/// order makes the higher score); the first.
fn policy_mask(instances: &[&Mask], policy: &str, h: u32, w: u32) -> Mask {
    let mut out = Mask::new(h, w);
    match policy {
        "union" => instances.iter().for_each(|m| out.union_in_place(m)),
        "top1" => {
            if let Some(m) = instances.first() {
                out.union_in_place(m)
            }
        }
        _ => {
            let mut best: Option<&Mask> = None;
            for m in instances {
                if best.is_none_or(|b| m.area() > b.area()) {
                    best = Some(m);
                }
            }
            if let Some(m) = best {
                out.union_in_place(m)
            }
        }
    }
    out
}

fn settings(args: &Value, policy: &str) -> AdapterSettings {
    AdapterSettings {
        labels: vec!["foreground".into()],
        conf: args["conf"].as_f64(),
        iou: args["iou"].as_f64(),
        max_det: args["max_det"].as_u64().map(|n| n as usize),
        mask_mode: args["retina_masks"]
            .as_bool()
            .filter(|r| *r)
            .map(|_| "retina".into()),
        instances: Some(policy.into()),
        ..Default::default()
    }
}

fn differing(a: &Mask, b: &Mask) -> u64 {
    let c = a.counts_against(b);
    c.fp + c.fn_
}

#[test]
fn instances_and_crop_masks_match_ultralytics_predict_pixel_for_pixel() {
    let fx = fixtures();
    let dir = model_dir();
    let onnx = dir.join("best.onnx");
    assert_eq!(
        fx["models"]["best.onnx"].as_str().unwrap(),
        maskgate::sha256_file(&onnx).unwrap(),
        "the fixtures were made with another best.onnx: regenerate them (tools/yolo/ultralytics_reference.py)"
    );
    let model = Model::load(&onnx, 1, None).unwrap();
    let photos_dir = root().join("tests/fixtures/yolo/photos");
    let photos = fx["photos"].as_array().unwrap();
    assert!(photos.len() >= 20, "{} photos", photos.len());
    let (mut compared, mut photos_with_instances, mut crops) = (0usize, 0usize, 0usize);
    let (mut max_conf_off, mut max_box_off) = (0f32, 0f32);
    let mut failures = Vec::new();
    for run in ["onnx", "onnx-retina", "onnx-crowded"] {
        let args = &fx["runs"][run]["args"];
        let policies =
            ["union", "largest", "top1"].map(|p| (p, YoloSeg::new(&settings(args, p)).unwrap()));
        for p in photos {
            let file = p["file"].as_str().unwrap();
            let bytes = std::fs::read(photos_dir.join(file)).unwrap();
            let img = decode_rgb(&bytes, DecodePolicy::OpenCv, &Limits::default()).unwrap();
            let (h, w) = (
                p["size"][0].as_u64().unwrap() as u32,
                p["size"][1].as_u64().unwrap() as u32,
            );
            assert_eq!((img.w as u32, img.h as u32), (w, h), "{file}: upright size");
            // One inference a photo: the policies differ only after it.
            let yolo = &policies[0].1;
            let out = model.run(yolo.preprocess(&img, &model).unwrap()).unwrap();
            let want = references(&p["runs"][run], h, w);
            let got = yolo.instances(&out, img.w, img.h).unwrap();
            let at = format!("{run}/{file}");
            photos_with_instances += usize::from(!want.is_empty());
            if got.len() != want.len() {
                failures.push(format!(
                    "{at}: {} instances, Ultralytics {}",
                    got.len(),
                    want.len()
                ));
                continue;
            }
            for (k, ((d, m), r)) in got.iter().zip(&want).enumerate() {
                compared += 1;
                let box_off = d
                    .bbox
                    .iter()
                    .zip(&r.bbox)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                max_conf_off = max_conf_off.max((d.score - r.conf).abs());
                max_box_off = max_box_off.max(box_off);
                let off = differing(m, &r.mask);
                // Same ONNX Runtime (1.31.1) on both sides, so the same floats: no tolerance.
                if d.class != r.class || d.score != r.conf || box_off > 0.0 || off > 0 {
                    failures.push(format!(
                        "{at} #{k}: class {} conf {} box {:?} vs {} {} {:?}; {off} of {} pixels differ",
                        d.class, d.score, d.bbox, r.class, r.conf, r.bbox, r.mask.area()
                    ));
                }
            }
            let refs: Vec<&Mask> = want.iter().map(|r| &r.mask).collect();
            for (policy, yolo) in &policies {
                let crop = yolo
                    .postprocess(&out, img.w, img.h)
                    .unwrap()
                    .remove("foreground")
                    .unwrap();
                let off = differing(&crop, &policy_mask(&refs, policy, h, w));
                crops += 1;
                if off > 0 {
                    failures.push(format!(
                        "{at}: crop mask under {policy}: {off} pixels differ"
                    ));
                }
            }
        }
    }
    eprintln!(
        "ultralytics parity: {compared} instances and {crops} crop masks compared; largest confidence difference {max_conf_off:e}, largest box difference {max_box_off:e} px"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Work happened: every run found instances on most photos (each face at least).
    assert_eq!(crops, 3 * 3 * photos.len());
    assert!(compared >= 3 * 14, "{compared} instances compared");
    assert!(
        photos_with_instances >= 3 * 14,
        "{photos_with_instances} photo runs had instances"
    );
}

/// `YOLO(best.pt).predict` runs the checkpoint on a rectangular letterbox (`rect=True`: padded
/// only to a multiple of the stride, 320×256 for a FASSEG portrait) where the ONNX export takes
/// a fixed square (320×320): another input, so other logits. maskgate runs the export, as
/// production does; how far the checkpoint's own predictions lie from it is measured here on
/// the gate's own domain, the face photos.
#[test]
fn the_checkpoint_s_own_predict_differs_only_by_its_letterbox() {
    let fx = fixtures();
    let model = Model::load(&model_dir().join("best.onnx"), 1, None).unwrap();
    let yolo = YoloSeg::new(&settings(&Value::Null, "union")).unwrap();
    let photos_dir = root().join("tests/fixtures/yolo/photos");
    let mut ious = Vec::new();
    for p in fx["photos"].as_array().unwrap() {
        let file = p["file"].as_str().unwrap();
        if !file.starts_with("fasseg") {
            continue;
        }
        let (h, w) = (
            p["size"][0].as_u64().unwrap() as u32,
            p["size"][1].as_u64().unwrap() as u32,
        );
        let bytes = std::fs::read(photos_dir.join(file)).unwrap();
        let img = decode_rgb(&bytes, DecodePolicy::OpenCv, &Limits::default()).unwrap();
        let out = model.run(yolo.preprocess(&img, &model).unwrap()).unwrap();
        let ours = yolo
            .postprocess(&out, img.w, img.h)
            .unwrap()
            .remove("foreground")
            .unwrap();
        let refs = references(&p["runs"]["pt"], h, w);
        let theirs = policy_mask(
            &refs.iter().map(|r| &r.mask).collect::<Vec<_>>(),
            "union",
            h,
            w,
        );
        let c = ours.counts_against(&theirs);
        let union = c.tp + c.fp + c.fn_;
        ious.push((
            file.to_string(),
            if union == 0 {
                1.0
            } else {
                c.tp as f64 / union as f64
            },
        ));
    }
    assert_eq!(ious.len(), 14);
    let mean = ious.iter().map(|(_, v)| v).sum::<f64>() / ious.len() as f64;
    let (worst, least) = ious.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    eprintln!("checkpoint predict (rect letterbox) vs the ONNX export's crop masks: mean IoU {mean:.4}, lowest {least:.4} ({worst})");
    assert!(mean > 0.99 && *least > 0.95, "{ious:?}");
}
