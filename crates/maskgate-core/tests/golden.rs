//! pycocotools / boundary-iou-api golden vectors from `$MASKGATE_SHARED/specs`.

use maskgate_core::boundary::{boundary_iou, dilation_px};
use maskgate_core::polygon::rasterize_polygons;
use maskgate_core::{Mask, Rle};
use serde_json::Value;
use std::path::PathBuf;

/// `$MASKGATE_SHARED`, default `../shared` beside the repository (relative values are taken
/// from the repository root).
fn shared_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    root.join(v)
}

fn vectors() -> Value {
    let p = shared_dir().join("specs/coco_rle_boundary_vectors.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn size(v: &Value) -> (u32, u32) {
    let s = v["rle"]["size"].as_array().unwrap();
    (s[0].as_u64().unwrap() as u32, s[1].as_u64().unwrap() as u32)
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn rows(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u8)
                .collect()
        })
        .collect()
}

fn rect(
    h: u32,
    w: u32,
    rows: std::ops::RangeInclusive<u32>,
    cols: std::ops::RangeInclusive<u32>,
) -> Mask {
    Mask::from_fn(h, w, |y, x| rows.contains(&y) && cols.contains(&x))
}

fn check_string_roundtrip(v: &Value, counts: &[u32]) {
    let (h, w) = size(v);
    let s = v["rle"]["counts"].as_str().unwrap();
    let rle = Rle {
        h,
        w,
        counts: counts.to_vec(),
    };
    assert_eq!(rle.to_compressed(), s);
    assert_eq!(Rle::from_compressed(h, w, s).unwrap(), rle);
}

#[test]
fn encode_and_strings() {
    let g = vectors();
    let m1 = &g["m1"];
    let mask = Mask::from_rows(&rows(&m1["mask_rows"]));
    let rle = Rle::encode(&mask);
    assert_eq!(rle.counts, u32s(&m1["counts"]));
    assert_eq!(rle.area(), m1["area"].as_u64().unwrap());
    let bbox: Vec<f64> = m1["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(rle.bbox().to_vec(), bbox);
    check_string_roundtrip(m1, &rle.counts);

    for key in ["zeros_4x5", "ones_4x5", "formula_7x9", "large_1000x1000"] {
        let v = &g[key];
        check_string_roundtrip(v, &u32s(&v["counts"]));
    }
    let (h, w) = size(&g["formula_7x9"]);
    let formula = Mask::from_fn(h, w, |y, x| (7 * x + 13 * y) % 11 < 4);
    assert_eq!(
        Rle::encode(&formula).counts,
        u32s(&g["formula_7x9"]["counts"])
    );
    assert_eq!(Rle::encode(&Mask::new(4, 5)).to_compressed(), "d0");
    assert_eq!(
        Rle::encode(&Mask::from_fn(4, 5, |_, _| true)).to_compressed(),
        "0d0"
    );

    let large = Mask::from_fn(1000, 1000, |y, x| x < 300 || (y == 500 && x == 300));
    assert_eq!(
        Rle::encode(&large).to_compressed(),
        g["large_1000x1000"]["rle"]["counts"]
    );

    let r = &g["rect_100x120"];
    let rect_mask = rect(100, 120, 10..=59, 20..=89);
    let enc = Rle::encode(&rect_mask);
    assert_eq!(enc.to_compressed(), r["rle"]["counts"].as_str().unwrap());
    assert_eq!(enc.counts.len() as u64, r["n_counts"].as_u64().unwrap());
    assert_eq!(enc.counts[..10].to_vec(), u32s(&r["counts_first10"]));
    assert_eq!(enc.area(), r["area"].as_u64().unwrap());
    assert_eq!(enc.decode().unwrap(), rect_mask);
}

#[test]
fn polygons_rasterise_like_pycocotools() {
    let g = vectors();
    for key in ["poly_rect", "poly_tri", "poly_frac"] {
        let v = &g[key];
        let rings: Vec<Vec<f64>> = v["poly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect();
        let (h, w) = (
            v["h"].as_u64().unwrap() as u32,
            v["w"].as_u64().unwrap() as u32,
        );
        let rle = rasterize_polygons(&rings, h, w).unwrap();
        assert_eq!(
            rle.to_compressed(),
            v["rle"]["counts"].as_str().unwrap(),
            "{key}"
        );
        assert_eq!(rle.area(), v["area"].as_u64().unwrap(), "{key}");
        assert_eq!(
            rle.decode().unwrap().to_rows(),
            rows(&v["decoded_rows"]),
            "{key}"
        );
    }
}

#[test]
fn iou_and_merge_like_pycocotools() {
    let g = vectors();
    let a = Rle::encode(&rect(100, 120, 10..=59, 20..=89));
    let b = Rle::encode(&rect(100, 120, 30..=79, 50..=109));
    let v = &g["iou_rects"];
    assert_eq!(Rle::iou(&a, &b, false).unwrap(), v["iou"].as_f64().unwrap());
    assert_eq!(
        Rle::iou(&a, &b, true).unwrap(),
        v["iou_crowd_b"].as_f64().unwrap()
    );
    let am = a.decode().unwrap();
    let bm = b.decode().unwrap();
    assert_eq!(
        Rle::merge(&[a.clone(), b.clone()], false).unwrap(),
        Rle::encode(&am.union(&bm))
    );
    assert_eq!(
        Rle::merge(&[a, b], true).unwrap(),
        Rle::encode(&am.intersection(&bm))
    );
}

#[test]
fn boundary_like_reference() {
    let g = vectors();
    let v = &g["boundary_12x12"];
    let m = rect(12, 12, 2..=9, 3..=11);
    let d = v["d"].as_u64().unwrap() as u32;
    assert_eq!(dilation_px(12, 12, 0.12), d);
    assert_eq!(m.inner_boundary(d).to_rows(), rows(&v["boundary_rows"]));

    for (k, want) in g["dilation_examples"].as_object().unwrap() {
        let (hh, ww) = k.split_once('x').unwrap();
        let d = dilation_px(hh.parse().unwrap(), ww.parse().unwrap(), 0.02);
        assert_eq!(d as u64, want.as_u64().unwrap(), "{k}");
    }

    let v = &g["boundary_iou_40x40"];
    let gt = rect(40, 40, 5..=29, 5..=29);
    let pr = rect(40, 40, 8..=32, 6..=30);
    let d = dilation_px(40, 40, 0.02);
    assert_eq!(d as u64, v["d"].as_u64().unwrap());
    let bg = gt.inner_boundary(d);
    let bp = pr.inner_boundary(d);
    assert_eq!(bg.intersection_count(&bp), v["inter"].as_u64().unwrap());
    assert_eq!(bg.union_count(&bp), v["union"].as_u64().unwrap());
    assert_eq!(
        boundary_iou(&gt, &pr, d).unwrap(),
        v["biou"].as_f64().unwrap()
    );
    let iou = gt.intersection_count(&pr) as f64 / gt.union_count(&pr) as f64;
    assert_eq!(iou, v["mask_iou"].as_f64().unwrap());
}

#[test]
fn malformed_strings_are_errors() {
    assert!(Rle::from_compressed(4, 5, "d0").is_ok_and(|r| r.counts == vec![20]));
    assert!(Rle::from_compressed(4, 5, "e0").is_err()); // wrong total
    assert!(Rle::from_compressed(4, 5, "d~").is_err()); // bad char
    assert!(Rle::from_compressed(4, 5, "d").is_err()); // continuation bit with nothing after
    assert!(Rle::from_compressed(4, 5, "0d0o").is_err()); // ends mid-count
    assert!(Rle::from_compressed(4, 5, "").is_err());
}

/// Polygons with vertices up to 5,000 px outside small canvases: the rasteriser clips them to a
/// box around the canvas first (so a vertex at 1e12 costs nothing), and still equals pycocotools
/// on every one. Vectors: `tools/far_polygon_vectors.py`.
#[test]
fn far_out_vertices_are_clipped_and_still_match_pycocotools() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/far_polygon_vectors.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 40);
    let mut differing = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let (h, w) = (
            c["h"].as_u64().unwrap() as u32,
            c["w"].as_u64().unwrap() as u32,
        );
        let poly: Vec<f64> = c["poly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got = maskgate_core::polygon::rasterize_polygons(&[poly], h, w).unwrap();
        if got.to_compressed() != c["counts"].as_str().unwrap() {
            differing.push(i);
        }
    }
    assert!(
        differing.is_empty(),
        "cases differing from pycocotools: {differing:?}"
    );
}

#[test]
fn a_vertex_at_1e12_is_cheap_and_fills_what_it_covers() {
    // A triangle whose far vertices enclose the whole 64×64 canvas.
    let ring = vec![-1e12, -1e12, 1e12, -1e12, 0.0, 1e12];
    let t0 = std::time::Instant::now();
    let rle = maskgate_core::polygon::rasterize_polygons(&[ring], 64, 64).unwrap();
    assert!(t0.elapsed().as_secs() < 5);
    assert_eq!(rle.decode().unwrap().area(), 64 * 64);
    let err = maskgate_core::polygon::rasterize_polygons(
        &[vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0]],
        65536,
        65536,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("more than 2^32 - 1 pixels"),
        "{err}"
    );
}
