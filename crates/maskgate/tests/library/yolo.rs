//! The yolov8-seg adapter on a model with the real export's I/O layout whose outputs are known
//! (built by `tools/make_test_models.py` during setup): boxes, classes, NMS and masks must
//! come out exactly as designed, through the exact un-letterbox arithmetic.

use maskgate::predict::adapters::yolov8_seg::YoloSeg;
use maskgate::predict::adapters::{build, AdapterSettings, Segmenter};
use maskgate::predict::engine::Model;
use maskgate::predict::image::RgbImage;
use maskgate_core::Mask;
use std::path::Path;

fn model() -> Model {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../vendor/test-models/yolov8-seg-synthetic.onnx");
    assert!(
        p.is_file(),
        "{} missing: run `bash scripts/setup.sh`",
        p.display()
    );
    Model::load(&p, 1, None).unwrap()
}

fn settings() -> AdapterSettings {
    AdapterSettings {
        labels: vec!["person".into(), "pot".into()],
        ..Default::default()
    }
}

/// Compares masks by area, box and pixels without printing megabytes of bits on failure.
fn same(a: &Mask, b: &Mask, what: &str) {
    let c = a.counts_against(b);
    assert!(
        c.fp == 0 && c.fn_ == 0,
        "{what}: got area {} box {:?}, want area {} box {:?}",
        b.area(),
        b.bbox(),
        a.area(),
        a.bbox()
    );
}

fn rect(w: u32, h: u32, x0: u32, y0: u32, x1: u32, y1: u32) -> Mask {
    Mask::from_fn(h, w, |y, x| x >= x0 && x < x1 && y >= y0 && y < y1)
}

#[test]
fn recovers_designed_boxes_classes_and_masks() {
    let m = model();
    assert_eq!(
        m.metadata.get("names").map(String::as_str),
        Some("{0: 'person', 1: 'pot'}")
    );
    let yolo = YoloSeg::new(&settings()).unwrap();
    yolo.check(&m).unwrap();
    // 640×480: gain 1, 80 px of padding above and below.
    let img = RgbImage {
        w: 640,
        h: 480,
        data: vec![90; 640 * 480 * 3],
    };
    let input = yolo.preprocess(&img, &m).unwrap();
    assert_eq!(input.shape, [1, 3, 640, 640]);
    assert_eq!(input.data[0], 114.0 / 255.0, "letterbox padding is 114");
    assert_eq!(
        input.data[100 * 640],
        90.0 / 255.0,
        "the photo starts at row 80"
    );
    let out = m.run(input).unwrap();
    let inst = yolo.instances(&out, 640, 480).unwrap();
    let summary: Vec<(usize, f32, [f32; 4])> = inst
        .iter()
        .map(|(d, _)| (d.class, d.score, d.bbox))
        .collect();
    assert_eq!(
        summary,
        [
            (0, 0.9, [100.0, 100.0, 300.0, 300.0]),
            (1, 0.6, [100.0, 100.0, 300.0, 300.0]),
            (0, 0.5, [250.0, 120.0, 450.0, 320.0]),
        ]
    );
    same(
        &rect(640, 480, 100, 100, 300, 300),
        &inst[0].1,
        "instance 0",
    );
    // Protos channel 1 is +1 left of proto x = 80 and −1 right of it: after the half-pixel
    // upsample to 640 (src = (x + 0.5)/4 − 0.5) the logit crosses 0 at src 79.5, i.e. x = 319.5,
    // so the mask keeps x ≤ 319.
    same(
        &rect(640, 480, 250, 120, 320, 320),
        &inst[2].1,
        "instance 2",
    );
    let masks = yolo.postprocess(&out, 640, 480).unwrap();
    same(&inst[0].1.union(&inst[2].1), &masks["person"], "person");
    same(&inst[0].1, &masks["pot"], "pot");
}

/// The "fg" mask (both classes) of a black 333×500 portrait, under `mask_mode`.
fn portrait_fg(mode: Option<&str>) -> Mask {
    let m = model();
    let yolo = build(
        "yolov8-seg",
        &AdapterSettings {
            classes: [(
                "fg".to_string(),
                vec!["person".to_string(), "pot".to_string()],
            )]
            .into(),
            mask_mode: mode.map(Into::into),
            ..settings()
        },
    )
    .unwrap();
    // 333×500: gain 1.28, resized 426×640, 107 px of padding left and right.
    let img = RgbImage {
        w: 333,
        h: 500,
        data: vec![0; 333 * 500 * 3],
    };
    let out = m.run(yolo.preprocess(&img, &m).unwrap()).unwrap();
    yolo.postprocess(&out, 333, 500)
        .unwrap()
        .remove("fg")
        .unwrap()
}

#[test]
fn unletterboxes_a_portrait_image_exactly() {
    let fg = &portrait_fg(Some("exact"));
    // Box (100,180)-(300,380) in input pixels → ((100−107)/1.28, 180/1.28, (300−107)/1.28, 380/1.28)
    // = (0 after clipping, 140.625, 150.78, 296.875); box (250,200)-(450,400) is cut at x < 320.
    for (y, x) in [(141u32, 0u32), (296, 150), (141, 150)] {
        assert!(fg.get(y, x), "({x}, {y}) inside box 0");
    }
    for (y, x) in [(140u32, 10u32), (297, 10), (200, 151)] {
        let in_box4 = x as f64 >= (250.0 - 107.0) / 1.28
            && (y as f64) >= 200.0 / 1.28
            && (y as f64) < 400.0 / 1.28;
        assert!(!fg.get(y, x) || in_box4, "({x}, {y}) outside box 0");
    }
    // The second instance stops where the logits turn negative: input x 319.5 → (319.5−107)/1.28.
    let cut = (319.5 - 107.0) / 1.28;
    assert!(fg.get(250, (cut - 2.0) as u32) && !fg.get(250, (cut + 2.0) as u32));
}

#[test]
fn refuses_a_model_that_does_not_fit() {
    let m = model();
    let three = AdapterSettings {
        labels: vec!["a".into(), "b".into(), "c".into()],
        ..Default::default()
    };
    let err = YoloSeg::new(&three).unwrap().check(&m).unwrap_err();
    assert!(err.contains("output0 has 38 channels"), "{err}");
    let selfie = build(
        "mediapipe-selfie",
        &AdapterSettings {
            class: Some("fg".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(selfie.check(&m).is_err());
}

/// `mask_mode = "ultralytics"` (the default) crops to the box at the input's resolution and
/// resizes the 0/1 mask (`ops.scale_masks`, `> 0.5`); `"exact"` resizes the logits first. On the
/// portrait both keep the designed regions and differ only along edges.
#[test]
fn ultralytics_and_exact_mask_modes_agree_but_for_edges() {
    let (default, ultralytics, exact) = (
        portrait_fg(None),
        portrait_fg(Some("ultralytics")),
        portrait_fg(Some("exact")),
    );
    same(&ultralytics, &default, "the default is ultralytics");
    for (y, x) in [(141u32, 0u32), (296, 150), (141, 150)] {
        assert!(ultralytics.get(y, x), "({x}, {y}) inside box 0");
    }
    let c = exact.counts_against(&ultralytics);
    let iou = c.tp as f64 / (c.tp + c.fp + c.fn_) as f64;
    assert!(iou > 0.99, "modes disagree beyond edges: IoU {iou}");
    assert!(
        c.fp + c.fn_ > 0,
        "the modes are different paths, yet gave identical masks"
    );
    for (key, bad) in [
        ("mask_mode", "native"),
        ("instances", "biggest"),
        ("conf", "1.5"),
    ] {
        let s = match key {
            "mask_mode" => AdapterSettings {
                mask_mode: Some(bad.into()),
                ..settings()
            },
            "instances" => AdapterSettings {
                instances: Some(bad.into()),
                ..settings()
            },
            _ => AdapterSettings {
                conf: Some(1.5),
                ..settings()
            },
        };
        let err = build("yolov8-seg", &s).err().unwrap();
        assert!(err.contains(key), "{key} = {bad}: {err}");
    }
}

/// A light model (one intra-op thread) run from several threads at once: each busy worker gets
/// a session of its own, and every output equals the one inference run alone.
#[test]
fn concurrent_inferences_on_a_light_model_equal_sequential_ones() {
    use maskgate::predict::engine::Tensor;
    let m = model();
    assert!(!m.is_heavy(), "one intra-op thread: light");
    let shape: Vec<usize> = m.inputs[0].shape.iter().map(|d| d.unwrap_or(1)).collect();
    let len: usize = shape.iter().product();
    let input = |k: usize| Tensor {
        shape: shape.clone(),
        data: (0..len)
            .map(|i| ((i * 31 + k * 7) % 255) as f32 / 255.0)
            .collect(),
    };
    let alone: Vec<Vec<f32>> = (0..6)
        .map(|k| m.run(input(k)).unwrap()[0].data.clone())
        .collect();
    assert_eq!(m.sessions_open(), 1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Released together, the workers find the one session busy and open more, up to one per
    // core; a round in which they happened not to overlap is run again.
    for _round in 0..20 {
        let start = std::sync::Barrier::new(6);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|k| {
                    let (m, input, start) = (&m, &input, &start);
                    s.spawn(move || {
                        start.wait();
                        m.run(input(k)).unwrap()[0].data.clone()
                    })
                })
                .collect();
            for (k, h) in handles.into_iter().enumerate() {
                assert_eq!(h.join().unwrap(), alone[k], "input {k}");
            }
        });
        if m.sessions_open() > 1 || cores == 1 {
            break;
        }
    }
    assert!(m.sessions_open() <= cores, "{} sessions", m.sessions_open());
    if cores > 1 {
        assert!(
            m.sessions_open() > 1,
            "busy workers opened no session of their own"
        );
    }
}

/// The automatic policy counts a 320² input heavy (every core, one inference at a time); the
/// first warm inference tells a quick model from a slow one. The rule's edges on numbers; then
/// the real models, whose decision must follow the rule for the time their warm inference took
/// (timing on a shared machine varies, the rule's application must not): the crop gate's
/// YOLO-seg (about 20 ms on 2 cores) turns light with the same outputs on its single-threaded
/// sessions; u2netp (about 0.25 s) stays heavy.
#[test]
fn a_quick_model_heavy_by_size_turns_light_after_its_first_inference() {
    use maskgate::predict::engine::{is_quick, Tensor, QUICK_INFERENCE_CPU_NS};
    assert!(is_quick(QUICK_INFERENCE_CPU_NS / 2 - 1, 2));
    assert!(!is_quick(QUICK_INFERENCE_CPU_NS / 2, 2));
    // Threads beyond four are not counted: a small model is not slow on a big machine.
    assert!(is_quick(QUICK_INFERENCE_CPU_NS / 4 - 1, 64));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let zeros = |m: &Model| {
        let shape: Vec<usize> = m.inputs[0].shape.iter().map(|d| d.unwrap_or(1)).collect();
        let len = shape.iter().product();
        Tensor {
            shape,
            data: vec![0.5; len],
        }
    };
    // The first (cold) inference decides nothing; the second is the warm one the rule reads.
    let warm_twice = |m: &Model| {
        let (first, _) = m.run_timed(zeros(m)).unwrap();
        assert!(m.is_heavy(), "the cold first inference decides nothing");
        let (warm, ns) = m.run_timed(zeros(m)).unwrap();
        (first, warm, ns)
    };
    let yolo = Model::load(&root.join("models/crop-yolo/best.onnx"), 0, None).unwrap();
    assert_eq!(yolo.input_pixels, 320 * 320);
    assert!(yolo.is_heavy(), "heavy by its input size");
    let (first, warm, ns) = warm_twice(&yolo);
    let quick = cores > 1 && is_quick(ns, cores);
    assert_eq!(
        yolo.is_heavy(),
        !quick,
        "warm inference {ns} ns on {cores} cores"
    );
    if quick {
        assert_eq!(yolo.threads(), (1, false));
    }
    let again = yolo.run(zeros(&yolo)).unwrap();
    assert_eq!(first, warm);
    assert_eq!(warm, again, "the same outputs on whichever sessions run it");

    let u2netp = root.join("vendor/models/u2netp.onnx");
    assert!(
        u2netp.is_file(),
        "{}: run bash scripts/setup.sh",
        u2netp.display()
    );
    let slow = Model::load(&u2netp, 0, None).unwrap();
    let (_, _, ns) = warm_twice(&slow);
    assert_eq!(
        slow.is_heavy(),
        !(cores > 1 && is_quick(ns, cores)),
        "warm inference {ns} ns"
    );
}

/// The engine opens a model's first session with the threads its declared input size calls
/// for, read from the file before the model loads: for every real model, that reading is the
/// session's own input shape, so no model is opened twice; and the policy then agrees.
#[test]
fn the_file_s_declared_input_is_the_session_s() {
    use maskgate::predict::onnx_shape::{first_input_shape, pixels};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = [
        crate::shared_dir().join("models/mediapipe_selfie_segmentation_256.onnx"),
        crate::shared_dir().join("models/mediapipe_selfie_segmentation_landscape_144x256.onnx"),
        root.join("models/crop-yolo/best.onnx"),
        root.join("vendor/models/u2netp.onnx"),
        root.join("vendor/models/isnet_quint8.onnx"),
    ];
    for path in &models {
        assert!(
            path.is_file(),
            "{}: run bash scripts/setup.sh",
            path.display()
        );
        let model = Model::load(path, 0, None).unwrap();
        let read = first_input_shape(path);
        assert_eq!(
            read.as_ref(),
            Some(&model.inputs[0].shape),
            "{}",
            path.display()
        );
        let declared = read.as_deref().and_then(pixels);
        assert_eq!(
            declared.unwrap_or(maskgate::predict::engine::HEAVY_INPUT_PIXELS),
            model.input_pixels,
            "{}",
            path.display()
        );
    }
}
