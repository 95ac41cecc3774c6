//! Parity with this project's Python port of IMG.LY's (ISNet) processing on real photos
//! (`tools/parity_reference.py`, outputs in `tests/fixtures/parity/`). rembg and MediaPipe are
//! checked against the real packages instead (`tests/real_parity.rs`).
//! Needs `bash scripts/setup.sh` (runtime and models in vendor/).

use maskgate::predict::adapters::{build, AdapterSettings};
use maskgate::predict::engine::Model;
use maskgate::predict::image::decode_rgb;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_path(name: &str) -> PathBuf {
    match name {
        "isnet_quint8" => root().join("vendor/models/isnet_quint8.onnx"),
        other => panic!("no parity model {other}"),
    }
}

fn check(name: &str, adapter: &str, variant: Option<&str>) {
    let fixtures = root().join("tests/fixtures/parity");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("manifest.json")).unwrap())
            .unwrap();
    let path = model_path(name);
    assert!(
        path.is_file(),
        "{} missing: run `bash scripts/setup.sh`",
        path.display()
    );
    let model = Model::load(&path, 2, None).unwrap();
    let settings = AdapterSettings {
        class: Some("fg".into()),
        variant: variant.map(Into::into),
        ..Default::default()
    };
    let seg = build(adapter, &settings).unwrap();
    seg.check(&model).unwrap();
    let photos = manifest[name].as_object().unwrap();
    assert_eq!(photos.len(), 3);
    for (photo, entry) in photos {
        let bytes =
            std::fs::read(maskgate::shared_dir().join("data/fasseg/V2").join(photo)).unwrap();
        let img = decode_rgb(&bytes).unwrap();
        let input = seg.preprocess(&img, &model).unwrap();
        let outputs = model.run(input).unwrap();
        let prob = seg.probability(&outputs, img.w, img.h).unwrap().unwrap();
        let reference = image::open(fixtures.join(entry["png"].as_str().unwrap())).unwrap();
        let (refp, cut): (Vec<f32>, f32) = match reference {
            image::DynamicImage::ImageLuma16(p) => {
                (p.pixels().map(|v| v.0[0] as f32 / 65535.0).collect(), 0.5)
            }
            other => (
                other
                    .to_luma8()
                    .pixels()
                    .map(|v| v.0[0] as f32 / 255.0)
                    .collect(),
                128.0 / 255.0 - 1e-6,
            ),
        };
        assert_eq!(refp.len(), prob.len(), "{name} {photo}: size");
        let max_diff = refp
            .iter()
            .zip(&prob)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        // 16-bit references quantise by 0.5/65535; u8 maps compare in whole steps.
        assert!(
            max_diff <= 1.0 / 255.0 + 1e-5,
            "{name} {photo}: max |Δp| = {max_diff} ({} steps of 1/255)",
            max_diff * 255.0
        );
        let (mut inter, mut union) = (0u64, 0u64);
        for (a, b) in refp.iter().zip(&prob) {
            let (x, y) = (*a >= cut, *b >= cut);
            inter += (x && y) as u64;
            union += (x || y) as u64;
        }
        // An empty union would make the IoU NaN: fail on that first, with its own message.
        assert!(union > 0, "{name} {photo}: empty masks prove nothing");
        let iou = inter as f64 / union as f64;
        assert!(iou >= 0.999, "{name} {photo}: mask IoU {iou}");
        eprintln!("{name} {photo}: max |Δp| {max_diff:.6}, mask IoU {iou:.6}");
    }
}

#[test]
fn imgly_isnet_matches_background_removal_js() {
    check("isnet_quint8", "imgly-isnet", None);
}
