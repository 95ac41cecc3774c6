//! What issue-level findings rest on, checked against OpenCV 4.11 itself
//! (`tools/opencv_reference.py`, run with vendor/parity-mp's Python; needs
//! `bash scripts/setup_parity.sh`): connected components (8-connected, labelled as
//! `cv2.connectedComponents` labels them), the anatomy of an error (recomputed there from its
//! definition with OpenCV's components and `boundary-iou-api`'s band), and the photo
//! properties of the weak slices (OpenCV's grey conversion and Laplacian).

use maskgate_core::boundary::dilation_px;
use maskgate_core::Mask;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Blobs of several sizes and densities, from a seeded xorshift: a pixel copies its upper
/// neighbour most of the time, so components have real shapes, holes and diagonal contacts.
fn blobs(h: u32, w: u32, seed: u64, flip: u64) -> Mask {
    let mut s = seed | 1;
    let mut rows: Vec<Vec<u8>> = Vec::with_capacity(h as usize);
    for _ in 0..h {
        let row = (0..w as usize)
            .map(|x| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let up = rows.last().map_or((s >> 40) as u8 & 1, |r| r[x]);
                if s.is_multiple_of(flip) {
                    1 - up
                } else {
                    up
                }
            })
            .collect();
        rows.push(row);
    }
    Mask::from_rows(&rows)
}

fn save(m: &Mask, path: &Path) {
    let img = image::GrayImage::from_fn(m.width(), m.height(), |x, y| {
        image::Luma([if m.get(y, x) { 255 } else { 0 }])
    });
    img.save(path).unwrap();
}

#[test]
fn components_anatomy_and_photo_properties_equal_opencv() {
    let python = root().join("vendor/parity-mp/bin/python");
    assert!(
        python.is_file(),
        "{} missing: run `bash scripts/setup_parity.sh`",
        python.display()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("opencv-reference");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sizes = [
        (1, 1),
        (1, 37),
        (29, 1),
        (16, 16),
        (40, 63),
        (97, 50),
        (128, 128),
        (200, 140),
    ];
    let mut cases = Vec::new();
    let mut pairs = Vec::new();
    for (i, &(h, w)) in sizes.iter().cycle().take(40).enumerate() {
        let gt = blobs(h, w, 0x9e37_79b9 * (i as u64 + 1), 3 + (i as u64 % 7));
        let pred = blobs(h, w, 0x85eb_ca6b * (i as u64 + 7), 3 + (i as u64 % 5));
        // Half the pairs: the prediction is the truth with noise, so components overlap.
        let pred = match i % 2 {
            0 => pred,
            _ => {
                let noise = blobs(h, w, i as u64 + 99, 11);
                let mut p = gt.difference(&noise);
                p.union_in_place(&noise.difference(&gt).intersection(&blobs(h, w, 5, 2)));
                p
            }
        };
        let d = dilation_px(h, w, 0.02);
        let (g, p) = (
            dir.join(format!("gt{i}.png")),
            dir.join(format!("pred{i}.png")),
        );
        save(&gt, &g);
        save(&pred, &p);
        pairs.push(serde_json::json!({"gt": g, "pred": p, "d": d}));
        cases.push((gt, pred, d));
    }
    let photo_dir = crate::shared_dir().join("data/fasseg/V2/Test_RGB");
    let photos: Vec<PathBuf> = ["1.bmp", "7.bmp", "23.bmp"]
        .iter()
        .map(|p| photo_dir.join(p))
        .collect();
    std::fs::write(dir.join("pairs.json"), serde_json::to_vec(&pairs).unwrap()).unwrap();
    std::fs::write(
        dir.join("photos.json"),
        serde_json::to_vec(&photos).unwrap(),
    )
    .unwrap();
    let status = Command::new(&python)
        .arg(root().join("tools/opencv_reference.py"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success(), "tools/opencv_reference.py failed");
    let cv: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("opencv.json")).unwrap()).unwrap();
    assert_eq!(cv["opencv"], "4.11.0");
    let (mut components, mut wrong) = (0u64, 0u64);
    for (i, (gt, pred, d)) in cases.iter().enumerate() {
        let want = &cv["pairs"][i];
        // The same partition into components: OpenCV numbers them in the order its block scan
        // (two rows at a time) meets them, maskgate in row-major order of their first pixel,
        // so the labels must map one to one, background to background.
        let (labels, areas) = maskgate_core::morphology::components(gt);
        let cv_labels: Vec<u32> = (want["labels"].as_array().unwrap().iter())
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(labels.len(), cv_labels.len());
        let mut ours_to_cv = std::collections::BTreeMap::new();
        let mut cv_to_ours = std::collections::BTreeMap::new();
        for (&a, &b) in labels.iter().zip(&cv_labels) {
            assert_eq!(
                *ours_to_cv.entry(a).or_insert(b),
                b,
                "case {i}: label {a} splits"
            );
            assert_eq!(
                *cv_to_ours.entry(b).or_insert(a),
                a,
                "case {i}: OpenCV's {b} splits"
            );
        }
        assert_eq!(
            ours_to_cv.get(&0).copied().unwrap_or(0),
            0,
            "case {i}: background"
        );
        assert_eq!(areas.len() as u64, want["components"].as_u64().unwrap());
        assert_eq!(
            maskgate_core::morphology::count_components(gt),
            areas.len() as u64
        );
        components += areas.len() as u64;
        let a = maskgate_core::anatomy::anatomy(
            gt,
            pred,
            &gt.inner_boundary(*d),
            &pred.inner_boundary(*d),
        );
        let w = &want["anatomy"];
        assert_eq!(
            (a.boundary, a.extent, a.segment),
            (
                w["boundary"].as_u64().unwrap(),
                w["extent"].as_u64().unwrap(),
                w["segment"].as_u64().unwrap()
            ),
            "case {i}: anatomy"
        );
        wrong += a.total();
    }
    assert!(
        components > 200 && wrong > 10_000,
        "real work: {components} components, {wrong} wrong pixels"
    );
    for (i, path) in photos.iter().enumerate() {
        let rgb = image::open(path).unwrap().to_rgb8();
        let (w, h) = rgb.dimensions();
        let s =
            maskgate_core::photo_stats::photo_stats(rgb.as_raw(), w as usize, h as usize).unwrap();
        let want = &cv["photos"][i];
        for (name, got) in [
            ("luminance", s.luminance),
            ("contrast", s.contrast),
            ("sharpness", s.sharpness),
        ] {
            let v = want[name].as_f64().unwrap();
            assert!(
                (got - v).abs() <= 1e-9 * v.abs().max(1.0),
                "{}: {name} {got} vs OpenCV {v}",
                path.display()
            );
        }
    }
}
