//! Readers on real labelled photos from the package registries (installed into vendor/data by
//! scripts/setup.sh): the PASCAL VOC 2011 examples of the labelme 6.3.1 sdist as a VOC export,
//! as a COCO export and as labelme JSON, and imgaug 0.4.0's quokka polygon. Every expected value
//! was computed by other tools: labelme's own label arrays (the `.npy` files beside the PNGs),
//! Pillow 13.0.0 (`ImageDraw.polygon`, shapes painted in file order), pycocotools 2.0.11
//! (`annToMask`, `frPyObjects` + `merge` + `area`) and numpy (FASSEG palette mapping) — never by
//! maskgate. FASSEG comes from `$MASKGATE_SHARED`.
//!
//! Every literal below is printed, and checked against this file, by
//! `vendor/py/bin/python tools/real_data_counts.py --check crates/maskgate/tests/library/real_data.rs`
//! (Pillow 12.0.0 or 13.0.0 — they draw these polygons alike —, pycocotools 2.0.11, numpy 2.3.5).

use maskgate::read::{read_corpus, Corpus, CorpusSpec};
use maskgate_core::Mask;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn data(sub: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../vendor/data")
        .join(sub);
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup.sh (it fetches the labelme sdist and imgaug wheel)",
        p.display()
    );
    p
}

fn open(format: &str, path: PathBuf, ignore: &[&str]) -> Corpus {
    let spec = CorpusSpec {
        name: format.into(),
        format: format.into(),
        path,
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let c = read_corpus(&spec).unwrap();
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    c
}

/// Per sample id: class → pixel count (non-empty classes only), plus "void" when present.
fn counts(c: &Corpus) -> BTreeMap<String, BTreeMap<String, u64>> {
    c.samples
        .iter()
        .map(|e| {
            let s = c.load(e).unwrap();
            let mut m: BTreeMap<String, u64> =
                s.gt.iter()
                    .map(|(k, v)| (k.clone(), v.rasterize(None).unwrap().area()))
                    .filter(|(_, n)| *n > 0)
                    .collect();
            if let Some(v) = &s.void {
                m.insert("void".into(), v.rasterize(None).unwrap().area());
            }
            (s.id, m)
        })
        .collect()
}

fn expect(pairs: &[(&str, &[(&str, u64)])]) -> BTreeMap<String, BTreeMap<String, u64>> {
    pairs
        .iter()
        .map(|(id, cs)| {
            (
                id.to_string(),
                cs.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            )
        })
        .collect()
}

/// A `.npy` file of labelme's (little-endian int32, C order) as (h, w, values).
fn read_npy(path: &std::path::Path) -> (u32, u32, Vec<i32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<i4'") && header.contains("'fortran_order': False"));
    let shape = &header[header.find("'shape': (").unwrap() + 10..];
    let dims: Vec<u32> = shape[..shape.find(')').unwrap()]
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    let values = bytes[10 + header_len..]
        .chunks(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (dims[0], dims[1], values)
}

#[test]
fn voc_palette_indices_and_void_match_labelmes_arrays() {
    let root = data("voc");
    let c = open("voc", root.clone(), &[]);
    assert_eq!(
        c.classes.len(),
        20,
        "every class of class_names.txt but _background_"
    );
    for e in &c.samples {
        let s = c.load(e).unwrap();
        let (h, w, npy) = read_npy(&root.join(format!("SegmentationClassNpy/{}.npy", s.id)));
        assert_eq!(s.size, (h, w));
        let at = |y: u32, x: u32| npy[(y * w + x) as usize];
        let names: Vec<String> = std::fs::read_to_string(root.join("class_names.txt"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        for (class, m) in &s.gt {
            let id = names.iter().position(|n| n == class).unwrap() as i32;
            let want = Mask::from_fn(h, w, |y, x| at(y, x) == id);
            assert_eq!(m.rasterize(None).unwrap(), want, "{} {class}", s.id);
        }
        let void = s.void.as_ref().map(|v| v.rasterize(None).unwrap());
        let want_void = Mask::from_fn(h, w, |y, x| at(y, x) == -1);
        assert_eq!(
            void.unwrap_or_else(|| Mask::new(h, w)),
            want_void,
            "{}",
            s.id
        );
    }
    // The same numbers as PIL reads them from the PNGs (palette indices, 255 = void).
    assert_eq!(
        counts(&c),
        expect(&[
            (
                "2011_000003",
                &[("bottle", 873), ("person", 32900), ("void", 9460)]
            ),
            (
                "2011_000006",
                &[
                    ("chair", 44306),
                    ("person", 34791),
                    ("sofa", 14002),
                    ("void", 909)
                ]
            ),
            ("2011_000025", &[("bus", 118222), ("car", 7256)]),
        ])
    );
}

#[test]
fn coco_polygons_match_pycocotools() {
    let c = open("coco", data("coco/annotations.json"), &[]);
    assert_eq!(
        counts(&c),
        expect(&[
            (
                "JPEGImages/2011_000003",
                &[("bottle", 815), ("person", 32414)]
            ),
            (
                "JPEGImages/2011_000006",
                &[("chair", 44276), ("person", 34760), ("sofa", 13701)]
            ),
            ("JPEGImages/2011_000025", &[("bus", 117895), ("car", 7124)]),
        ])
    );
    // The photos are found through file_name, relative to the annotations file.
    assert!(c
        .samples
        .iter()
        .all(|e| e.image.as_ref().unwrap().is_file()));
}

fn with_option(format: &str, path: PathBuf, key: &str, value: &str) -> Corpus {
    let mut spec = CorpusSpec {
        name: format.into(),
        format: format.into(),
        path,
        ..Default::default()
    };
    spec.options.insert(key.into(), value.into());
    read_corpus(&spec).unwrap()
}

#[test]
fn labelme_json_gives_labelmes_own_masks() {
    // Shapes painted in file order with Pillow's fill, as labelme2voc does: the counts Pillow
    // 13.0.0 gives, and labelme's own label arrays (.npy) to the pixel, except one pixel of
    // 2011_000006 that the Pillow labelme used drew differently.
    let c = open("labelme", data("labelme"), &[]);
    assert_eq!(
        counts(&c),
        expect(&[
            (
                "2011_000003",
                &[("bottle", 873), ("person", 32900), ("void", 9460)]
            ),
            (
                "2011_000006",
                &[
                    ("chair", 44306),
                    ("person", 34792),
                    ("sofa", 14001),
                    ("void", 909)
                ]
            ),
            ("2011_000025", &[("bus", 118222), ("car", 7256)]),
        ])
    );
    let voc_root = data("voc");
    let names: Vec<String> = std::fs::read_to_string(voc_root.join("class_names.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut differing = BTreeMap::new();
    for e in &c.samples {
        let s = c.load(e).unwrap();
        let (h, w, npy) = read_npy(&voc_root.join(format!("SegmentationClassNpy/{}.npy", s.id)));
        let mut ours = vec![0i32; (h * w) as usize];
        for (class, m) in &s.gt {
            let id = names.iter().position(|n| n == class).unwrap() as i32;
            let m = m.rasterize(None).unwrap();
            (0..h).for_each(|y| {
                (0..w)
                    .filter(|&x| m.get(y, x))
                    .for_each(|x| ours[(y * w + x) as usize] = id)
            });
        }
        if let Some(v) = &s.void {
            let v = v.rasterize(None).unwrap();
            (0..h).for_each(|y| {
                (0..w)
                    .filter(|&x| v.get(y, x))
                    .for_each(|x| ours[(y * w + x) as usize] = -1)
            });
        }
        let n = ours.iter().zip(&npy).filter(|(a, b)| a != b).count();
        differing.insert(s.id, n);
    }
    assert_eq!(
        differing,
        BTreeMap::from([
            ("2011_000003".to_string(), 0),
            ("2011_000006".to_string(), 1),
            ("2011_000025".to_string(), 0)
        ])
    );
}

#[test]
fn labelme_with_the_coco_rule_matches_pycocotools() {
    let c = with_option("labelme", data("labelme"), "rasterizer", "coco");
    assert_eq!(
        counts(&c),
        expect(&[
            (
                "2011_000003",
                &[("bottle", 815), ("person", 32404), ("void", 9258)]
            ),
            (
                "2011_000006",
                &[
                    ("chair", 44137),
                    ("person", 34407),
                    ("sofa", 13701),
                    ("void", 878)
                ]
            ),
            ("2011_000025", &[("bus", 117884), ("car", 7087)]),
        ])
    );
    // Pillow's fill includes the outline: the pixel-centre rule keeps ≥ 97% IoU with it.
    let voc = open("voc", data("voc"), &[]);
    let (mut compared, mut union_pixels) = (0usize, 0u64);
    for e in &c.samples {
        let (a, b) = (c.load(e).unwrap(), voc.load_id(&e.id).unwrap().unwrap());
        for class in ["person", "bus", "car", "sofa", "chair"] {
            let (Some(x), Some(y)) = (a.gt.get(class), b.gt.get(class)) else {
                continue;
            };
            let (x, y) = (x.rasterize(None).unwrap(), y.rasterize(None).unwrap());
            if y.area() == 0 {
                continue;
            }
            let iou = x.intersection_count(&y) as f64 / x.union_count(&y) as f64;
            assert!(iou > 0.97 && iou < 1.0, "{} {class}: {iou}", e.id);
            compared += 1;
            union_pixels += x.union_count(&y);
        }
    }
    // The loop skips absent classes: it must still have compared every (sample, class) pair
    // present on both sides — person; chair, person, sofa; bus, car (the counts above).
    assert_eq!(compared, 6, "sample/class pairs compared");
    assert!(union_pixels > 0);
}

#[test]
fn quokka_polygon_matches_pillow_and_pycocotools() {
    let c = open("labelme", data("quokka"), &[]);
    let s = c.load(&c.samples[0]).unwrap();
    assert_eq!(s.size, (643, 960));
    // Pillow 13.0.0's ImageDraw.polygon(fill=1), as labelme would draw it.
    assert_eq!(s.gt["quokka"].rasterize(None).unwrap().area(), 187113);
    let c = with_option("labelme", data("quokka"), "rasterizer", "coco");
    let m = c.load(&c.samples[0]).unwrap().gt["quokka"]
        .rasterize(None)
        .unwrap();
    assert_eq!(m.area(), 186375);
    let b = m.bbox().unwrap();
    // pycocotools toBbox: [143, 50, 405, 591] as x, y, w, h.
    assert_eq!(
        (b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1),
        (143, 50, 405, 591)
    );
}

/// FASSEG V1 and V2 labels on named files: pixels per class as PIL + numpy count them (RGB,
/// squared distance to the six palette colours, first minimum).
#[test]
fn fasseg_class_pixels_match_numpy() {
    let want: [(&str, &str, [u64; 5]); 4] = [
        // hair, skin, eyes, nose, mouth
        ("V1", "Test/1", [37539, 106372, 4158, 1520, 1972]),
        ("V2", "Test/1", [34281, 103718, 2466, 6373, 2768]),
        ("V2", "Train/19", [67369, 81931, 2382, 4330, 2639]),
        ("V1", "Train/9", [101036, 65743, 4266, 1767, 3304]),
    ];
    for (version, id, counts) in want {
        let spec = CorpusSpec {
            name: "fasseg".into(),
            format: "fasseg".into(),
            path: crate::shared_dir().join("data/fasseg").join(version),
            ..Default::default()
        };
        let c = read_corpus(&spec).unwrap();
        let s = c.load_id(id).unwrap().unwrap();
        let got: Vec<u64> = ["hair", "skin", "eyes", "nose", "mouth"]
            .iter()
            .map(|k| s.gt[*k].rasterize(None).unwrap().area())
            .collect();
        assert_eq!(got, counts, "{version} {id}");
    }
}

/// FASSEG's own split (Train_* / Test_* folders: 20 / 50 faces); formats without splits refuse one.
#[test]
fn fasseg_split_and_formats_without_splits() {
    let spec = |split: Option<&str>| CorpusSpec {
        name: "fasseg".into(),
        format: "fasseg".into(),
        path: crate::shared_dir().join("data/fasseg/V2"),
        split: split.map(String::from),
        ..Default::default()
    };
    let n = |split| read_corpus(&spec(split)).unwrap().samples.len();
    assert_eq!((n(Some("train")), n(Some("test")), n(None)), (20, 50, 70));
    assert!(read_corpus(&spec(Some("val"))).is_err());
    let coco = CorpusSpec {
        name: "c".into(),
        format: "coco".into(),
        path: data("coco/annotations.json"),
        split: Some("val".into()),
        ..Default::default()
    };
    let e = read_corpus(&coco).unwrap_err().to_string();
    assert!(e.contains("has no splits"), "{e}");
}

/// FASSEG's photos (24-bit) and labels (32-bit) take the direct BMP path; it must give the
/// general decoder's pixels exactly.
#[test]
fn fasseg_bitmaps_decode_as_the_general_decoder_does() {
    let mut seen = 0;
    for split in ["Train_RGB", "Test_RGB", "Train_Labels", "Test_Labels"] {
        let dir = crate::shared_dir().join("data/fasseg/V2").join(split);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let general = image::load_from_memory(&bytes).unwrap().to_rgb8();
            let (w, h, direct) = maskgate_core::bmp::decode_rgb(&bytes, |_, _| Ok::<(), ()>(()))
                .expect("a BI_RGB bitmap")
                .unwrap();
            assert_eq!((w, h), general.dimensions());
            assert_eq!(direct, general.into_raw());
            seen += 1;
        }
    }
    assert_eq!(seen, 140);
}
