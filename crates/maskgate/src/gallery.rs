//! The gallery: for the top regressions and improvements of a comparison, an overlay PNG per
//! sample and arm — the photo dimmed, the ground truth outlined in white, the prediction's true
//! positives green, false positives red, false negatives blue, for the class whose IoU moved
//! most (named in the file name and the report) — and a side-by-side strip baseline | arm.
//! PNG bytes depend only on the inputs, so galleries are byte-identical across runs.

use crate::evaluation::Evaluation;
use crate::model::Sample;
use crate::pathnames::safe_component as safe;
use rayon::prelude::*;

/// The gallery's folder in the report set.
pub const FOLDER: &str = "gallery";
use crate::predict::image::SamplePhoto;
use crate::predict::variants::Variant;
use crate::predict::{predict_sample, Arm};
use crate::read::Corpus;
use crate::score::SampleScore;
use crate::{Error, Result};
use maskgate_core::Mask;
use serde::Serialize;
use std::path::Path;

#[derive(Clone, Debug, Serialize)]
pub struct GalleryEntry {
    pub corpus: String,
    pub id: String,
    pub hash: String,
    pub kind: &'static str,
    pub arm: String,
    pub baseline: String,
    pub class: String,
    pub iou_baseline: Option<f64>,
    pub iou_arm: Option<f64>,
    /// Paths relative to the output directory.
    pub baseline_png: String,
    pub arm_png: String,
    pub strip_png: String,
}

/// Overlay colours (the reports' legend names them).
pub const TP: [u8; 3] = [40, 200, 60];
pub const FP: [u8; 3] = [230, 40, 40];
pub const FN: [u8; 3] = [40, 90, 240];

/// One overlay (RGB, row-major) of `pred` against `gt` on the photo.
pub fn overlay(photo: Option<&crate::predict::image::RgbImage>, gt: &Mask, pred: &Mask) -> Vec<u8> {
    let (h, w) = (gt.height() as usize, gt.width() as usize);
    let outline = gt.inner_boundary(1);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let base: [u8; 3] = match photo {
                // Grey, so the overlay's colours mean only TP / FP / FN (a red sweater must
                // not read as a false positive). Rec. 601 luma, integer, dimmed by half.
                Some(p) if p.w == w && p.h == h => {
                    let i = (y * w + x) * 3;
                    let luma = (299 * p.data[i] as u32
                        + 587 * p.data[i + 1] as u32
                        + 114 * p.data[i + 2] as u32)
                        / 1000;
                    [(luma / 2) as u8; 3]
                }
                _ => [48, 48, 48],
            };
            let (g, q) = (gt.get(y as u32, x as u32), pred.get(y as u32, x as u32));
            let tint = match (g, q) {
                (true, true) => Some(TP),
                (false, true) => Some(FP),
                (true, false) => Some(FN),
                _ => None,
            };
            let mut px = match tint {
                Some(t) => [0, 1, 2].map(|c| ((base[c] as u16 + t[c] as u16) / 2) as u8),
                None => base,
            };
            if outline.get(y as u32, x as u32) {
                px = [255, 255, 255];
            }
            out[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&px);
        }
    }
    out
}

fn save(path: &Path, w: usize, h: usize, rgb: Vec<u8>) -> Result<()> {
    let img = image::RgbImage::from_raw(w as u32, h as u32, rgb)
        .ok_or_else(|| Error::file(path, "bad image buffer"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    // Fast compression, said outright: the pictures are previews beside the numbers. The
    // bytes are the same on every run.
    let mut bytes = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    img.write_with_encoder(encoder)
        .map_err(|e| Error::file(path, e.to_string()))?;
    // An I/O failure keeps its kind: a full disk is worth a retry.
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// The class whose IoU moved most between the two arms (most negative for regressions).
fn moving_class(a: &SampleScore, b: &SampleScore, worst: bool) -> Option<Picked> {
    let mut best: Option<(f64, &String)> = None;
    for (class, ca) in &a.classes {
        let Some(cb) = b.classes.get(class) else {
            continue;
        };
        let (Some(x), Some(y)) = (ca.iou(), cb.iou()) else {
            continue;
        };
        let d = if worst { x - y } else { y - x }; // smaller = more interesting
        if best.is_none_or(|(bd, bc)| d < bd || (d == bd && class < bc)) {
            best = Some((d, class));
        }
    }
    best.map(|(_, c)| {
        let iou = |s: &SampleScore| s.classes.get(c).and_then(|k| k.iou());
        (c.clone(), iou(b), iou(a))
    })
}

/// Renders the gallery for the comparisons of `arms_to_show`, `per_list` samples from each of
/// the regression and improvement lists, into `out_dir/gallery/`.
pub fn render(
    evaluation: &Evaluation,
    corpora: &[Corpus],
    arms: &[&dyn Arm],
    variants: &[Variant],
    arms_to_show: &[String],
    per_list: usize,
    out_dir: &Path,
) -> Result<Vec<GalleryEntry>> {
    if per_list == 0 {
        return Ok(Vec::new());
    }
    // Which strips to draw, in report order: (comparison, sample id, kind, class and IoUs);
    // nothing when a piece is missing.
    type Job<'e> = (
        &'e crate::compare::Comparison,
        &'e str,
        &'static str,
        Picked,
    );
    let mut jobs: Vec<Job> = Vec::new();
    let want = |c: &crate::compare::Comparison,
                id: &str,
                pick: &dyn Fn(&SampleScore, &SampleScore) -> Option<Picked>| {
        pick(
            evaluation.sample(&c.arm, &c.corpus, id)?,
            evaluation.sample(&c.baseline, &c.corpus, id)?,
        )
    };
    for c in (evaluation.comparisons.iter()).filter(|c| arms_to_show.contains(&c.arm)) {
        for (kind, list) in [
            ("regression", &c.regressions),
            ("improvement", &c.improvements),
        ] {
            for ranked in list.iter().take(per_list) {
                let picked = want(c, &ranked.id, &|sa, sb| {
                    moving_class(sa, sb, kind == "regression")
                });
                if let Some(p) = picked {
                    jobs.push((c, ranked.id.as_str(), kind, p));
                }
            }
        }
    }
    // Suspect labels, each as the baseline beside the first arm shown: both agree, and the
    // ground truth's outline shows what they disagree with (on the class the baseline scores
    // worst, ties by name).
    for suspect in evaluation.suspects.iter().take(MAX_SUSPECT_PICTURES) {
        let Some(c) = (evaluation.comparisons.iter())
            .find(|c| c.corpus == suspect.corpus && arms_to_show.contains(&c.arm))
        else {
            continue;
        };
        let picked = want(c, &suspect.id, &|sa, sb| {
            let (class, _) = (sb.classes.iter())
                .filter_map(|(k, v)| Some((k, v.iou()?)))
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)))?;
            let iou = |s: &SampleScore| s.classes.get(class).and_then(|k| k.iou());
            Some((class.clone(), iou(sb), iou(sa)))
        });
        if let Some(p) = picked {
            jobs.push((c, suspect.id.as_str(), "suspect", p));
        }
    }
    // Each distinct strip is drawn once, strips in parallel: a sample listed twice (a
    // regression that is also a suspect) names the same files, which one writer makes.
    // The files a strip writes are named by (corpus, sample, class, baseline, arm).
    let same = |a: &Job, b: &Job| {
        (&a.0.corpus, &a.0.baseline, &a.0.arm, a.1, &a.3 .0)
            == (&b.0.corpus, &b.0.baseline, &b.0.arm, b.1, &b.3 .0)
    };
    let mut distinct: Vec<&Job> = Vec::new();
    for j in &jobs {
        if !distinct.iter().any(|d| same(d, j)) {
            distinct.push(j);
        }
    }
    let drawn: Vec<Option<GalleryEntry>> = distinct
        .par_iter()
        .map(
            |&&(c, id, kind, ref picked)| -> Result<Option<GalleryEntry>> {
                let Some(corpus) = corpora.iter().find(|k| k.name == c.corpus) else {
                    return Ok(None);
                };
                let Some(Ok(sample)) = corpus.load_id(id) else {
                    return Ok(None);
                };
                let (class, iou_b, iou_a) = picked;
                render_one(
                    &sample,
                    corpus,
                    arms,
                    variants,
                    &c.baseline,
                    &c.arm,
                    class,
                    kind,
                    (*iou_b, *iou_a),
                    out_dir,
                )
                .map(Some)
            },
        )
        .collect::<Result<_>>()?;
    // Every listed strip in report order, each with its own kind.
    Ok(jobs
        .iter()
        .filter_map(|j| {
            let at = distinct.iter().position(|d| same(d, j))?;
            let mut e = drawn[at].clone()?;
            e.kind = j.2;
            Some(e)
        })
        .collect())
}

/// A class to draw, with its IoU for the baseline and for the arm.
type Picked = (String, Option<f64>, Option<f64>);

/// The most suspect labels the gallery draws (the report lists every one).
pub const MAX_SUSPECT_PICTURES: usize = 24;

#[allow(clippy::too_many_arguments)]
fn render_one(
    sample: &Sample,
    corpus: &Corpus,
    arms: &[&dyn Arm],
    variants: &[Variant],
    baseline: &str,
    arm: &str,
    class: &str,
    kind: &'static str,
    (iou_baseline, iou_arm): (Option<f64>, Option<f64>),
    out_dir: &Path,
) -> Result<GalleryEntry> {
    let photo = SamplePhoto::of(sample.image.as_deref(), corpus);
    let preds = predict_sample(sample, &photo, arms, variants, &crate::observe::Silent);
    let (h, w) = sample.size;
    let gt = sample
        .gt
        .get(class)
        .and_then(|m| m.rasterize(None).ok())
        .unwrap_or_else(|| Mask::new(h, w));
    let mask_of = |name: &str| {
        preds
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, p)| p.masks.get(class))
            .and_then(|m| m.rasterize(None).ok())
            .map(|m| {
                if (m.height(), m.width()) == (h, w) {
                    m
                } else {
                    m.resize_nearest(h, w)
                }
            })
            .unwrap_or_else(|| Mask::new(h, w))
    };
    let pixels = photo.shown().ok();
    let (mut ob, mut oa) = (
        overlay(pixels, &gt, &mask_of(baseline)),
        overlay(pixels, &gt, &mask_of(arm)),
    );
    let (w, h) = (w as usize, h as usize);
    // Each panel says what it is: arm, IoU, and on the arm's panel the change.
    let scale = if w >= 320 { 2 } else { 1 };
    let iou = crate::fmt::short;
    let change = match (iou_baseline, iou_arm) {
        (Some(b), Some(a)) => format!(" Δ {}", crate::fmt::delta(Some(a - b))),
        _ => String::new(),
    };
    let (ink, band) = ([255, 255, 255], [0, 0, 0]);
    let baseline_label = format!("{baseline} IoU {}", iou(iou_baseline));
    let arm_label = format!("{arm} IoU {}{change}", iou(iou_arm));
    let (ob_bare, oa_bare) = (ob.clone(), oa.clone());
    maskgate_core::label::stamp(&mut ob, w, &baseline_label, scale, ink, band);
    maskgate_core::label::stamp(&mut oa, w, &arm_label, scale, ink, band);
    // The strip is what the page shows: every strip as wide as every other, labelled at one
    // size, so the gallery reads alike whatever the photos' resolutions. The full-size panels
    // beside it keep every pixel.
    let (sw, sh) = (
        STRIP_PANEL_WIDTH,
        ((h as f64 * STRIP_PANEL_WIDTH as f64 / w as f64).round() as usize)
            .clamp(1, 4 * STRIP_PANEL_WIDTH),
    );
    let panel = |rgb: &[u8], text: &str| {
        let mut p = maskgate_core::resample::pil_resize(
            rgb,
            w,
            h,
            3,
            sw,
            sh,
            maskgate_core::resample::PilFilter::Bilinear,
            maskgate_core::resample::Pillow::V13,
        );
        maskgate_core::label::stamp(&mut p, sw, text, STRIP_LABEL_SCALE, ink, band);
        p
    };
    let (sb, sa) = (
        panel(&ob_bare, &baseline_label),
        panel(&oa_bare, &arm_label),
    );
    let gap = 4;
    let mut strip = vec![255u8; (2 * sw + gap) * sh * 3];
    for y in 0..sh {
        let row = y * (2 * sw + gap) * 3;
        strip[row..row + sw * 3].copy_from_slice(&sb[y * sw * 3..(y + 1) * sw * 3]);
        strip[row + (sw + gap) * 3..row + (2 * sw + gap) * 3]
            .copy_from_slice(&sa[y * sw * 3..(y + 1) * sw * 3]);
    }
    let stem = format!(
        "{FOLDER}/{}/{}_{}",
        safe(&corpus.name),
        sample.hash,
        safe(class)
    );
    let files = [
        format!("{stem}_{}.png", safe(baseline)),
        format!("{stem}_{}.png", safe(arm)),
        format!("{stem}_{}_vs_{}.png", safe(baseline), safe(arm)),
    ];
    save(&out_dir.join(&files[0]), w, h, ob)?;
    save(&out_dir.join(&files[1]), w, h, oa)?;
    save(&out_dir.join(&files[2]), 2 * sw + gap, sh, strip)?;
    let [baseline_png, arm_png, strip_png] = files;
    Ok(GalleryEntry {
        corpus: corpus.name.clone(),
        id: sample.id.clone(),
        hash: sample.hash.clone(),
        kind,
        arm: arm.to_string(),
        baseline: baseline.to_string(),
        class: class.to_string(),
        iou_baseline,
        iou_arm,
        baseline_png,
        arm_png,
        strip_png,
    })
}

/// The width of a gallery strip's panels, in pixels: a label of 30 characters fits it at
/// [`STRIP_LABEL_SCALE`].
const STRIP_PANEL_WIDTH: usize = 360;
/// The scale of the labels on a strip (12 px a character).
const STRIP_LABEL_SCALE: usize = 2;

/// Distinct colours for region overlays, in class order.
const REGION_COLOURS: [[u8; 3]; 8] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
];

/// The photo dimmed with each of `classes` tinted in its own colour and outlined, and `outline`
/// (e.g. the skin) drawn in white: how face modules sit on a face (docs, `inspect --overlays`).
pub fn region_overlay(
    photo: Option<&crate::predict::image::RgbImage>,
    sample: &Sample,
    classes: &[String],
    outline: Option<&str>,
) -> Result<(usize, usize, Vec<u8>)> {
    let (h, w) = (sample.size.0 as usize, sample.size.1 as usize);
    let raster = |c: &str| -> Result<Mask> {
        match sample.gt.get(c) {
            Some(m) => m
                .rasterize(None)
                .map_err(|e| Error::Usage(format!("{}: class {c:?}: {e}", sample.id))),
            None => Ok(Mask::new(h as u32, w as u32)),
        }
    };
    let masks = classes
        .iter()
        .map(|c| raster(c))
        .collect::<Result<Vec<_>>>()?;
    let edges: Vec<Mask> = masks.iter().map(|m| m.inner_boundary(1)).collect();
    let skin_edge = outline
        .map(raster)
        .transpose()?
        .map(|m| m.inner_boundary(1));
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (yy, xx) = (y as u32, x as u32);
            let mut px: [u8; 3] = match photo {
                Some(p) if p.w == w && p.h == h => {
                    let i = (y * w + x) * 3;
                    [p.data[i] / 2, p.data[i + 1] / 2, p.data[i + 2] / 2]
                }
                _ => [48, 48, 48],
            };
            if skin_edge.as_ref().is_some_and(|e| e.get(yy, xx)) {
                px = [255, 255, 255];
            }
            for (i, m) in masks.iter().enumerate() {
                let c = REGION_COLOURS[i % REGION_COLOURS.len()];
                if edges[i].get(yy, xx) {
                    px = c;
                } else if m.get(yy, xx) {
                    px = [0, 1, 2].map(|k| ((px[k] as u16 + c[k] as u16) / 2) as u8);
                }
            }
            out[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&px);
        }
    }
    Ok((w, h, out))
}

/// Writes [`region_overlay`] as a PNG.
pub fn save_region_overlay(
    path: &Path,
    photo: Option<&crate::predict::image::RgbImage>,
    sample: &Sample,
    classes: &[String],
    outline: Option<&str>,
) -> Result<()> {
    let (w, h, rgb) = region_overlay(photo, sample, classes, outline)?;
    save(path, w, h, rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_photo_under_an_overlay_is_grey() {
        // A red sweater must not read as a false positive: off the masks, every pixel is grey.
        let photo = crate::predict::image::RgbImage {
            w: 4,
            h: 4,
            data: [220u8, 30, 30].repeat(16),
        };
        let none = Mask::new(4, 4);
        let o = overlay(Some(&photo), &none, &none);
        assert!(o.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]), "{o:?}");
        assert!(o[0] > 0, "the photo is still visible");
    }

    #[test]
    fn overlay_colours() {
        let gt = Mask::from_fn(4, 4, |y, _| y < 2);
        let pred = Mask::from_fn(4, 4, |_, x| x < 2);
        let o = overlay(None, &gt, &pred);
        let px = |y: usize, x: usize| {
            [
                o[(y * 4 + x) * 3],
                o[(y * 4 + x) * 3 + 1],
                o[(y * 4 + x) * 3 + 2],
            ]
        };
        assert_eq!(px(0, 0), [255, 255, 255], "GT outline on top");
        assert_eq!(
            px(3, 0),
            [
                ((48u16 + 230) / 2) as u8,
                ((48u16 + 40) / 2) as u8,
                ((48u16 + 40) / 2) as u8
            ],
            "FP red"
        );
        assert_eq!(px(3, 3), [48, 48, 48], "true negative untouched");
    }
}
