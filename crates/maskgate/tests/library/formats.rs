//! Readers on small fixtures written exactly in each dataset's real layout (file names, folder
//! rules, palettes, class orders), with expectations checkable by hand; and every kind of bad
//! input, which must leave the rest of the corpus loadable.

use maskgate::read::{read_corpus, Corpus, CorpusSpec};
use maskgate_core::Mask;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn jpeg(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb([90, 120, 150]))
        .save(path)
        .unwrap();
}

/// A single-channel 8-bit PNG with `f(x, y)` as the value.
fn grey_png(path: &Path, w: u32, h: u32, f: impl Fn(u32, u32) -> u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([f(x, y)]))
        .save(path)
        .unwrap();
}

fn spec(format: &str, path: PathBuf) -> CorpusSpec {
    CorpusSpec {
        name: format.into(),
        format: format.into(),
        path,
        ..Default::default()
    }
}

fn classes(map: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    map.iter()
        .map(|(c, ns)| (c.to_string(), ns.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// id → class → pixel count, and id → problem kind for samples that did not load.
fn load_all(
    c: &Corpus,
) -> (
    BTreeMap<String, BTreeMap<String, u64>>,
    BTreeMap<String, String>,
) {
    let mut ok = BTreeMap::new();
    let mut bad: BTreeMap<String, String> = c
        .problems
        .iter()
        .map(|p| (p.sample.clone(), p.kind.clone()))
        .collect();
    for e in &c.samples {
        match c.load(e) {
            Ok(s) => {
                let m =
                    s.gt.iter()
                        .map(|(k, v)| (k.clone(), v.rasterize(None).unwrap().area()))
                        .collect();
                ok.insert(s.id, m);
            }
            Err(p) => {
                bad.insert(p.sample, p.kind);
            }
        }
    }
    (ok, bad)
}

#[test]
fn lapa_index_labels_landmarks_and_bad_samples() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("LaPa/train");
    // Sample "a": 8×6; columns 0-1 background, 2-3 skin (1), 4 nose (6), 5 hair (10),
    // 6 left eye (4), 7 right eye (5).
    let lab = |x: u32, _y: u32| [0u8, 0, 1, 1, 6, 10, 4, 5][x as usize];
    jpeg(&t.join("images/a.jpg"), 8, 6);
    grey_png(&t.join("labels/a.png"), 8, 6, lab);
    let mut lm = String::from("106\n");
    (0..106).for_each(|i| lm.push_str(&format!("{}.5 {}.25\n", i % 8, i % 6)));
    write(&t.join("landmarks/a.txt"), lm.as_bytes());
    // "b": label of another size. "c": a value beyond 10. "d": landmarks that do not parse.
    // "e": an image that is not an image. "f": no image at all.
    jpeg(&t.join("images/b.jpg"), 8, 6);
    grey_png(&t.join("labels/b.png"), 7, 6, lab);
    jpeg(&t.join("images/c.jpg"), 8, 6);
    grey_png(&t.join("labels/c.png"), 8, 6, |x, y| {
        if (x, y) == (0, 0) {
            11
        } else {
            1
        }
    });
    jpeg(&t.join("images/d.jpg"), 8, 6);
    grey_png(&t.join("labels/d.png"), 8, 6, lab);
    write(&t.join("landmarks/d.txt"), b"106\n1 2\nthree four\n");
    write(&t.join("images/e.jpg"), b"not a jpeg");
    grey_png(&t.join("labels/e.png"), 8, 6, lab);
    grey_png(&t.join("labels/f.png"), 8, 6, lab);

    let mut s = spec("lapa", dir.path().join("LaPa"));
    s.split = Some("train".into());
    s.classes = classes(&[
        ("skin", &["skin", "nose"]),
        ("hair", &["hair"]),
        ("eyes", &["left_eye", "right_eye"]),
    ]);
    let c = read_corpus(&s).unwrap();
    assert_eq!(c.classes, vec!["eyes", "hair", "skin"]);
    let (ok, bad) = load_all(&c);
    assert_eq!(ok.len(), 1);
    assert_eq!(
        ok["a"],
        BTreeMap::from([("eyes".into(), 12), ("hair".into(), 6), ("skin".into(), 18)])
    );
    let kinds: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("b", "size_mismatch"),
            ("c", "unknown_label"),
            ("d", "bad_landmarks"),
            ("e", "unreadable_image"),
            ("f", "missing_image"),
        ]
    );
    // Without a split every split folder is read and ids carry it.
    let all = read_corpus(&spec("lapa", dir.path().join("LaPa"))).unwrap();
    assert!(all.samples.iter().any(|e| e.id == "train/a"));
}

#[test]
fn lapa_landmark_modules() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("LaPa/test");
    jpeg(&t.join("images/x.jpg"), 40, 40);
    grey_png(&t.join("labels/x.png"), 40, 40, |_, _| 1);
    // Eyes at (10, 10) and (30, 10): points 0, 1; a square module on points 2..5.
    let mut lm = String::from("106\n10 10\n30 10\n5 20\n15 20\n15 30\n5 30\n");
    (6..106).for_each(|_| lm.push_str("0 0\n"));
    write(&t.join("landmarks/x.txt"), lm.as_bytes());
    let toml_text = r#"
        eye_landmarks = [[0], [1]]
        [region]
        patch = { landmarks = [2, 3, 4, 5] }
        band = { rect = [-0.5, 0.5, 0.5, 1.0] }
    "#;
    let mut s = spec("lapa", dir.path().join("LaPa"));
    s.modules = Some(toml::from_str(toml_text).unwrap());
    let c = read_corpus(&s).unwrap();
    let x = c.load(&c.samples[0]).unwrap();
    let area = |k: &str| x.gt[k].rasterize(None).unwrap().area();
    // Landmark square (5,20)-(15,30): pixel centres 5..14 × 20..29 = 100.
    assert_eq!(area("patch"), 100);
    // Frame: origin (20, 10), unit 20 px: rect x 10..30, y 20..30 → 20 × 10 = 200 pixels.
    assert_eq!(area("band"), 200);
}

#[test]
fn celebamask_parts_compose_in_each_order_and_split() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("CelebAMask-HQ");
    jpeg(&root.join("CelebA-HQ-img/0.jpg"), 1024, 1024);
    jpeg(&root.join("CelebA-HQ-img/2001.jpg"), 1024, 1024);
    jpeg(&root.join("CelebA-HQ-img/5.jpg"), 1024, 1024);
    let part = |k: u32, name: &str, f: &dyn Fn(u32, u32) -> bool| {
        let p = root.join(format!(
            "CelebAMask-HQ-mask-anno/{}/{k:05}_{name}.png",
            k / 2000
        ));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // Written as RGB white-on-black, as the release's part PNGs are.
        image::RgbImage::from_fn(512, 512, |x, y| {
            image::Rgb(if f(x, y) { [255; 3] } else { [0; 3] })
        })
        .save(&p)
        .unwrap();
    };
    // Image 0: skin rows 0..256; hair rows 100..200; cloth rows 150..300 (all full width).
    part(0, "skin", &|_, y| y < 256);
    part(0, "hair", &|_, y| (100..200).contains(&y));
    part(0, "cloth", &|_, y| (150..300).contains(&y));
    // Image 2001 lives in folder 1.
    part(2001, "nose", &|x, y| x < 10 && y < 10);
    // Image 5 has no part file at all.
    write(
        &root.join("CelebA-HQ-to-CelebA-mapping.txt"),
        b"idx         orig_idx  orig_file\n0 100 000101.jpg\n2001 170000 170001.jpg\n5 190000 190001.jpg\n",
    );
    let read = |order: &str, split: Option<&str>| {
        let mut s = spec("celebamask-hq", root.clone());
        s.options.insert("order".into(), order.into());
        s.split = split.map(String::from);
        s.classes = classes(&[
            ("skin", &["skin"]),
            ("hair", &["hair"]),
            ("cloth", &["cloth"]),
            ("nose", &["nose"]),
        ]);
        read_corpus(&s).unwrap()
    };
    // g_mask.py order: cloth (18) over hair (13) over skin (1).
    let (ok, bad) = load_all(&read("celebamask", None));
    let w = 512u64;
    assert_eq!(ok["0"]["cloth"], 150 * w);
    assert_eq!(ok["0"]["hair"], 50 * w);
    assert_eq!(ok["0"]["skin"], 100 * w);
    assert_eq!(ok["2001"]["nose"], 100);
    assert_eq!(bad["5"], "missing_label");
    // face-parsing order: hair (17) over cloth (15).
    let bisenet = read("bisenet", None);
    assert_eq!(bisenet.samples.len(), 2);
    let (ok, _) = load_all(&bisenet);
    assert_eq!(ok["0"]["hair"], 100 * w);
    assert_eq!(ok["0"]["cloth"], 100 * w);
    assert_eq!(ok["0"]["skin"], 100 * w);
    // The official split by original CelebA index: 100 train, 170000 val, 190000 test.
    let ids = |split| {
        read("celebamask", Some(split))
            .samples
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("train"), vec!["0"]);
    assert_eq!(ids("val"), vec!["2001"]);
    assert!(
        ids("test").is_empty(),
        "image 5 has no masks: a problem, not a sample"
    );
    // An option value the format does not know is an error naming the choices.
    let mut bad = spec("celebamask-hq", root.clone());
    bad.options.insert("order".into(), "lapa".into());
    let e = read_corpus(&bad).unwrap_err().to_string();
    assert!(
        e.contains(r#"order = "lapa" is not one of "celebamask", "bisenet""#),
        "{e}"
    );
    // Masks are 512² for 1024² photos: the sample asks the scorer to fit predictions.
    let c = read("celebamask", None);
    let s = c.load_id("0").unwrap().unwrap();
    assert_eq!(s.size, (512, 512));
    assert!(s.fit_predictions);
}

fn golden() -> Value {
    let p = crate::shared_dir().join("specs/coco_rle_boundary_vectors.json");
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn rows(m: &Mask) -> Vec<Vec<u8>> {
    m.to_rows()
}

#[test]
fn coco_rle_forms_and_polygons_match_the_golden_vectors() {
    let g = golden();
    let dir = tempfile::tempdir().unwrap();
    let images = json!([
        {"id": 1, "file_name": "a.jpg", "height": 2, "width": 3},
        {"id": 2, "file_name": "b.jpg", "height": 7, "width": 9},
        {"id": 3, "file_name": "c.jpg", "height": 10, "width": 10},
        {"id": 4, "file_name": "../outside.jpg", "height": 10, "width": 10},
        {"id": 5, "file_name": "e.jpg", "height": 10, "width": 10},
    ]);
    let anns = json!([
        // Compressed RLE string (m1), iscrowd 0.
        {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": g["m1"]["rle"]},
        // Uncompressed counts of formula_7x9, iscrowd 1 (crowd pixels count for their class).
        {"id": 11, "image_id": 2, "category_id": 1, "iscrowd": 1,
         "segmentation": {"size": [7, 9], "counts": g["formula_7x9"]["counts"]}},
        // Polygon (poly_frac) as class "cat"; the rectangle polygon as "dog", unioned over it.
        {"id": 12, "image_id": 3, "category_id": 2, "iscrowd": 0, "segmentation": g["poly_frac"]["poly"]},
        {"id": 13, "image_id": 3, "category_id": 3, "iscrowd": 0, "segmentation": g["poly_rect"]["poly"]},
        {"id": 14, "image_id": 4, "category_id": 2, "iscrowd": 0, "segmentation": g["poly_rect"]["poly"]},
        // A 2-point "polygon" (pycocotools would misread it as a box) is a bad annotation.
        {"id": 15, "image_id": 5, "category_id": 2, "iscrowd": 0, "segmentation": [[1, 1, 5, 5]]},
    ]);
    let doc = json!({"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "person"}, {"id": 2, "name": "cat"}, {"id": 3, "name": "dog"}]});
    let path = dir.path().join("coco/annotations.json");
    write(&path, doc.to_string().as_bytes());
    let mut s = spec("coco", path);
    s.classes = classes(&[
        ("fg", &["person"]),
        ("pets", &["cat", "dog"]),
        ("cat", &["cat"]),
    ]);
    let c = read_corpus(&s).unwrap();
    let get = |id: &str, class: &str| {
        c.load_id(id).unwrap().unwrap().gt[class]
            .rasterize(None)
            .unwrap()
    };
    let want_rows = |v: &Value| -> Vec<Vec<u8>> { serde_json::from_value(v.clone()).unwrap() };
    assert_eq!(rows(&get("a", "fg")), want_rows(&g["m1"]["mask_rows"]));
    let f = get("b", "fg");
    assert_eq!(
        f.area(),
        g["formula_7x9"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
    );
    assert_eq!(
        maskgate_core::Rle::encode(&f).to_compressed(),
        g["formula_7x9"]["rle"]["counts"].as_str().unwrap()
    );
    assert_eq!(
        rows(&get("c", "cat")),
        want_rows(&g["poly_frac"]["decoded_rows"])
    );
    let pets = get("c", "pets");
    let union = get("c", "cat").union(&Mask::from_rows(&want_rows(
        &g["poly_rect"]["decoded_rows"],
    )));
    assert_eq!(pets, union);
    let (_, bad) = load_all(&c);
    // With crowd = "void" the crowd RLE of image b is void instead of "fg".
    let mut voided = s.clone();
    voided.options.insert("crowd".into(), "void".into());
    let v = read_corpus(&voided).unwrap();
    let b = v.load_id("b").unwrap().unwrap();
    assert_eq!(b.gt["fg"].rasterize(None).unwrap().area(), 0);
    assert_eq!(b.void.unwrap().rasterize(None).unwrap(), f);
    assert_eq!(bad["../outside"], "path_escape");
    assert_eq!(bad["e"], "bad_annotation");
    assert_eq!(c.samples.len(), 5);
}

#[test]
fn yolo_yaml_img2label_and_normalised_polygons() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ds");
    write(
        &dir.path().join("data.yaml"),
        b"path: ds\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: car\nnc: 2\n",
    );
    jpeg(&root.join("images/val/a.jpg"), 10, 10);
    // A square 0.1..0.6 in a 10x10 image → pixels 1..5 × 1..5 = 25; a car triangle (0,0),
    // (3,0), (0,3) → 3 pixels, as pycocotools' frPyObjects gives.
    write(
        &root.join("labels/val/a.txt"),
        b"0 0.1 0.1 0.6 0.1 0.6 0.6 0.1 0.6\n1 0.0 0.0 0.3 0.0 0.0 0.3\n",
    );
    jpeg(&root.join("images/val/b.jpg"), 10, 10); // no label file: no objects
    jpeg(&root.join("images/val/c.jpg"), 10, 10);
    write(
        &root.join("labels/val/c.txt"),
        b"0 0.1 0.1 1.5 0.1 0.5 0.5\n",
    ); // not normalised
    jpeg(&root.join("images/val/d.jpg"), 10, 10);
    write(&root.join("labels/val/d.txt"), b"0 0.5 0.5 0.2 0.2\n"); // a detection box
    jpeg(&root.join("images/val/e.jpg"), 10, 10);
    write(
        &root.join("labels/val/e.txt"),
        b"7 0.1 0.1 0.5 0.1 0.5 0.5\n",
    ); // class beyond nc
    jpeg(&root.join("images/train/t.jpg"), 10, 10);
    let c = read_corpus(&spec("yolo", dir.path().join("data.yaml"))).unwrap();
    let (ok, bad) = load_all(&c);
    assert_eq!(
        ok["images/val/a"],
        BTreeMap::from([("car".into(), 3), ("person".into(), 25)])
    );
    assert_eq!(
        ok["images/val/b"],
        BTreeMap::from([("car".into(), 0), ("person".into(), 0)])
    );
    for id in ["c", "d", "e"] {
        assert_eq!(bad[&format!("images/val/{id}")], "malformed_label");
    }
    assert!(!ok.contains_key("images/train/t"), "split defaults to val");
    assert_eq!(
        maskgate::read::yolo::label_path(Path::new("/d/images/x/images/a.b.jpg")),
        Some(PathBuf::from("/d/images/x/labels/a.b.txt"))
    );
    // A YAML that is not valid, or whose nc disagrees, is an error naming the file.
    write(&dir.path().join("bad.yaml"), b"names: [a, b\n");
    let e = read_corpus(&spec("yolo", dir.path().join("bad.yaml"))).unwrap_err();
    assert!(e.to_string().contains("bad.yaml"), "{e}");
    write(
        &dir.path().join("nc.yaml"),
        b"val: images/val\nnames: [a]\nnc: 2\n",
    );
    let e = read_corpus(&spec("yolo", dir.path().join("nc.yaml"))).unwrap_err();
    assert!(e.to_string().contains("nc is 2"), "{e}");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_dataset_are_refused_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("voc");
    let secret = dir.path().join("elsewhere/x.png");
    grey_png(&secret, 4, 4, |_, _| 1);
    jpeg(&root.join("JPEGImages/in.jpg"), 4, 4);
    grey_png(&root.join("SegmentationClass/in.png"), 4, 4, |x, _| {
        (x == 0) as u8 * 15
    });
    jpeg(&root.join("JPEGImages/out.jpg"), 4, 4);
    std::os::unix::fs::symlink(&secret, root.join("SegmentationClass/out.png")).unwrap();
    let c = read_corpus(&spec("voc", root)).unwrap();
    let (ok, bad) = load_all(&c);
    assert_eq!(ok["in"]["person"], 4);
    assert_eq!(bad["out"], "path_escape");
}

#[test]
fn malformed_labelme_json_is_a_problem_not_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    jpeg(&dir.path().join("a.jpg"), 10, 10);
    let good = json!({"shapes": [{"label": "cat", "points": [[1, 1], [6, 1], [6, 6], [1, 6]], "shape_type": "polygon"},
                                 {"label": "cat", "points": [[0, 0], [2, 2]], "shape_type": "rectangle"}],
                      "imagePath": "a.jpg", "imageHeight": 10, "imageWidth": 10});
    write(&dir.path().join("a.json"), good.to_string().as_bytes());
    write(&dir.path().join("b.json"), b"{\"shapes\": [");
    let c = read_corpus(&spec("labelme", dir.path().to_path_buf())).unwrap();
    let (ok, bad) = load_all(&c);
    // Pillow's fill, as labelme: the square 1..=6 × 1..=6 (36) and the rectangle 0..=2 × 0..=2
    // (9), overlapping in 1..=2 × 1..=2 (4).
    assert_eq!(ok["a"]["cat"], 41);
    assert_eq!(bad["b"], "malformed_json");
}

/// A FASSEG V3 layout (pose folders, lower-case `labels`) with one good face and one of each
/// problem FASSEG has in the wild: a label of another width (four real V3 test pairs), a
/// label far from the palette, an unreadable label, a missing label.
#[test]
fn fasseg_v3_layout_and_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("V3");
    let bmp = |p: &Path, w: u32, f: &dyn Fn(u32, u32) -> [u8; 3]| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        image::RgbImage::from_fn(w, 8, |x, y| image::Rgb(f(x, y)))
            .save_with_format(p, image::ImageFormat::Bmp)
            .unwrap();
    };
    let photo = |_: u32, _: u32| [120, 100, 90];
    // Left half background (red), right half skin (yellow) with near-colours (255, 255, 1).
    let label = |x: u32, _: u32| if x < 5 { [255, 0, 0] } else { [255, 255, 1] };
    for name in ["good", "wide", "grey", "garbage", "nolabel"] {
        bmp(&root.join(format!("Test_RGB/+30/{name}.bmp")), 10, &photo);
    }
    bmp(&root.join("Test_labels/+30/good.bmp"), 10, &label);
    bmp(&root.join("Test_labels/+30/wide.bmp"), 12, &label);
    bmp(&root.join("Test_labels/+30/grey.bmp"), 10, &|x, _| {
        if x < 2 {
            [255, 0, 0]
        } else {
            [128, 128, 128]
        }
    });
    write(&root.join("Test_labels/+30/garbage.bmp"), b"BM not really");
    let c = read_corpus(&spec("fasseg", root)).unwrap();
    let (ok, bad) = load_all(&c);
    assert_eq!(ok["Test/+30/good"]["skin"], 5 * 8);
    let kinds: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("Test/+30/garbage", "unreadable_label"),
            ("Test/+30/grey", "unknown_colours"),
            ("Test/+30/nolabel", "missing_label"),
            ("Test/+30/wide", "size_mismatch"),
        ]
    );
}

/// (id, class, pixels, area, crowd) of a sample's ground-truth instances.
fn instances_of(c: &Corpus, id: &str) -> Vec<(u64, String, u64, f64, bool)> {
    let s = c.load_id(id).unwrap().unwrap();
    s.instances
        .expect("the sample has instances")
        .list
        .iter()
        .map(|i| (i.id, i.class.clone(), i.region.area(), i.area, i.crowd))
        .collect()
}

/// Every source of ground-truth instances: YOLO rows, labelme shapes grouped as
/// `labelme2coco` groups them, gold `instances` (crowds, areas, ids; masks from their union),
/// and `instances = "classes"`.
#[test]
fn ground_truth_instances_from_each_source() {
    let dir = tempfile::tempdir().unwrap();
    // YOLO: one instance per row, numbered in file order.
    let root = dir.path().join("ds");
    write(
        &dir.path().join("data.yaml"),
        b"path: ds\nval: images/val\nnames:\n  0: person\n  1: car\n",
    );
    jpeg(&root.join("images/val/a.jpg"), 10, 10);
    write(
        &root.join("labels/val/a.txt"),
        b"0 0.1 0.1 0.6 0.1 0.6 0.6 0.1 0.6\n1 0.0 0.0 0.3 0.0 0.0 0.3\n0 0.7 0.7 0.9 0.7 0.9 0.9 0.7 0.9\n",
    );
    let c = read_corpus(&spec("yolo", dir.path().join("data.yaml"))).unwrap();
    assert_eq!(
        instances_of(&c, "images/val/a"),
        vec![
            (1, "person".into(), 25, 25.0, false),
            (2, "car".into(), 3, 3.0, false),
            (3, "person".into(), 4, 4.0, false),
        ]
    );
    // labelme: shapes of one (label, group_id) are one instance; a shape without a group is
    // its own; `__ignore__` is void, never an instance.
    let lm = dir.path().join("lm");
    let rect = |label: &str, group: Value, x0: f64, x1: f64| json!({"label": label, "points": [[x0, 1.0], [x1, 3.0]], "shape_type": "rectangle", "group_id": group});
    write(
        &lm.join("a.json"),
        json!({
            "shapes": [
                rect("cat", json!(1), 0.0, 2.0),
                rect("cat", json!(null), 10.0, 12.0),
                rect("cat", json!(1), 5.0, 7.0),
                rect("dog", json!(1), 14.0, 16.0),
                rect("__ignore__", json!(null), 17.0, 18.0),
            ],
            "imagePath": "a.jpg", "imageData": null, "imageHeight": 8, "imageWidth": 20,
        })
        .to_string()
        .as_bytes(),
    );
    jpeg(&lm.join("a.jpg"), 20, 8);
    let c = read_corpus(&spec("labelme", lm)).unwrap();
    let got = instances_of(&c, "a");
    // Pillow's rectangle includes both corners: 3×3 pixels each.
    assert_eq!(
        got,
        vec![
            (1, "cat".into(), 18, 18.0, false),
            (2, "cat".into(), 9, 9.0, false),
            (3, "dog".into(), 9, 9.0, false),
        ]
    );
    // Gold NDJSON: `instances` with ids, areas and crowds; no `masks`: the classes are their
    // instances' unions.
    let gold = dir.path().join("gold.ndjson");
    let rle = |counts: &[u32]| json!({"size": [4, 4], "counts": counts});
    write(
        &gold,
        format!(
            "{}\n{}\n",
            json!({"id": "g1", "instances": [
                {"class": "fg", "mask": rle(&[0, 4, 12]), "id": 7, "area": 100.5},
                {"class": "fg", "mask": rle(&[4, 4, 8]), "iscrowd": 1},
                {"class": "bg", "mask": rle(&[12, 4])},
            ]}),
            json!({"id": "g2", "size": [4, 4], "instances": []}),
        )
        .as_bytes(),
    );
    let c = read_corpus(&spec("gold-ndjson", gold.clone())).unwrap();
    assert_eq!(c.classes, vec!["bg".to_string(), "fg".to_string()]);
    assert_eq!(
        instances_of(&c, "g1"),
        vec![
            (7, "fg".into(), 4, 100.5, false),
            (2, "fg".into(), 4, 4.0, true),
            (3, "bg".into(), 4, 4.0, false),
        ]
    );
    let (ok, _) = load_all(&c);
    assert_eq!(
        ok["g1"],
        BTreeMap::from([("bg".into(), 4), ("fg".into(), 8)])
    );
    assert_eq!(instances_of(&c, "g2"), vec![], "an image without instances");
    // A malformed instance (its RLE does not fill its size) is the listing's error, naming it,
    // as a malformed mask is; the listing checks it without decoding any mask.
    write(
        &gold,
        format!(
            "{}\n",
            json!({"id": "g3", "instances": [{"class": "fg", "mask": {"size": [4, 4], "counts": [0, 99]}}]})
        )
        .as_bytes(),
    );
    let e = read_corpus(&spec("gold-ndjson", gold.clone()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("instance 1"), "{e}");
    // Sizes that disagree are the listing's error, as a line's masks' are.
    write(
        &gold,
        format!(
            "{}\n",
            json!({"id": "g4", "size": [4, 4], "instances": [{"class": "fg", "mask": {"size": [3, 3], "counts": [9]}}]})
        )
        .as_bytes(),
    );
    let e = read_corpus(&spec("gold-ndjson", gold))
        .unwrap_err()
        .to_string();
    assert!(e.contains("instance 1") && e.contains("3x3"), "{e}");
    // `instances = "classes"`: each class's non-empty mask.
    let mut s = spec("yolo", dir.path().join("data.yaml"));
    s.class_instances = true;
    let c = read_corpus(&s).unwrap();
    assert_eq!(
        instances_of(&c, "images/val/a"),
        vec![
            (1, "car".into(), 3, 3.0, false),
            (2, "person".into(), 29, 29.0, false)
        ]
    );
}
