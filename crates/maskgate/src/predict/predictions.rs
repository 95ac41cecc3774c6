//! An arm read from a predictions JSONL file (the NDJSON line shape), joined to gold by `id`;
//! or from a COCO results file (a JSON list of `{image_id, category_id, segmentation, score}`),
//! joined to a `coco` corpus by image id and category id.

use super::Arm;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{FailReason, MaskData, PredInstance, Prediction, Sample};
use crate::read::ndjson;
use maskgate_core::{Mask, Rle};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub struct PredictionsFile {
    name: String,
    pub path: PathBuf,
    /// Id → (byte offset, line number) of its line. Lines are parsed again when predicted, so
    /// a file's masks are never all in memory (the same as gold NDJSON).
    lines: BTreeMap<Box<str>, (u64, usize)>,
    /// Every class a line names, to tell a file whose classes the gold never has.
    classes: BTreeSet<String>,
    limits: Limits,
    /// A COCO results file: per image id, its detections.
    coco: Option<CocoResults>,
}

/// A COCO results file's detections by image id: (category id, score, segmentation).
type CocoResults = BTreeMap<u64, Vec<(u64, f64, serde_json::Value)>>;

/// Each class's mask as the union of its instances on an `(h, w)` canvas (an instance on
/// another canvas is refused when the instances are scored, not here).
fn union_by_class(list: &[PredInstance], (h, w): (u32, u32)) -> BTreeMap<String, MaskData> {
    let mut unions: BTreeMap<String, Mask> = BTreeMap::new();
    for i in list {
        if let Ok(m) = i.mask.decode() {
            let u = (unions.entry(i.class.clone())).or_insert_with(|| Mask::new(h, w));
            if m.same_size(u) {
                u.union_in_place(&m);
            }
        }
    }
    (unions.into_iter())
        .map(|(c, m)| (c, MaskData::Mask(m)))
        .collect()
}

/// A COCO results file's first byte: a JSON list, where a JSONL file holds objects.
fn is_json_list(path: &Path) -> bool {
    use std::io::Read;
    let Ok((f, _)) = crate::limits::open_regular(path) else {
        return false;
    };
    let mut head = Vec::new();
    if f.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// One line's masks, read back at its offset.
struct PredLine {
    size: Option<(u32, u32)>,
    masks: BTreeMap<String, std::result::Result<MaskData, String>>,
    instances: Option<std::result::Result<Vec<ndjson::LineInstance>, String>>,
}

impl PredictionsFile {
    /// Indexes the file; a line that is not valid JSON, or a repeated id, is an error naming the
    /// file and line. A mask that does not decode is a per-sample fail reason when predicted.
    pub fn load(name: &str, path: &Path) -> Result<PredictionsFile> {
        if is_json_list(path) {
            return Self::load_coco_results(name, path);
        }
        let mut lines = BTreeMap::new();
        let mut classes = BTreeSet::new();
        ndjson::for_each_line(path, |line| {
            let listed = line.instances.iter().flatten().flatten().map(|i| &i.class);
            for c in line.masks.keys().chain(listed) {
                if !classes.contains(c) {
                    classes.insert(c.clone());
                }
            }
            let id: Box<str> = line.id.into();
            if let Some(&(_, first)) = lines.get(&id) {
                return Err(Error::input(
                    path,
                    line.line_no,
                    format!("duplicate id {id:?} (first on line {first})"),
                ));
            }
            lines.insert(id, (line.offset, line.line_no));
            Ok(())
        })?;
        Ok(PredictionsFile {
            name: name.to_string(),
            path: path.to_path_buf(),
            lines,
            classes,
            limits: Limits::default(),
            coco: None,
        })
    }

    /// A COCO results file, as `COCO.loadRes` takes it: every entry an object with `image_id`,
    /// `category_id`, `score` and a `segmentation` (RLE or polygons); a bad entry is an error
    /// naming it.
    fn load_coco_results(name: &str, path: &Path) -> Result<PredictionsFile> {
        let limits = Limits::default();
        let file = crate::limits::open_within(path, limits.max_file_bytes)
            .map_err(|e| e.into_error(path, "[limits] max_file_bytes"))?;
        let doc: serde_json::Value = serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| Error::input(path, e.line(), format!("invalid JSON: {e}")))?;
        let list = doc
            .as_array()
            .ok_or_else(|| Error::file(path, "a COCO results file is a JSON list of detections"))?;
        let mut by_image = CocoResults::new();
        for (n, d) in list.iter().enumerate() {
            let field = |k: &str| d.get(k).filter(|v| !v.is_null());
            let (Some(image), Some(category), Some(score), Some(seg)) = (
                field("image_id").and_then(|v| v.as_u64()),
                field("category_id").and_then(|v| v.as_u64()),
                field("score")
                    .and_then(|v| v.as_f64())
                    .filter(|s| s.is_finite()),
                field("segmentation").filter(|v| v.is_object() || v.is_array()),
            ) else {
                return Err(Error::file(
                    path,
                    format!(
                        "detection {} needs image_id, category_id, a finite score and a segmentation (RLE or polygons): {}",
                        n + 1,
                        d.to_string().chars().take(200).collect::<String>()
                    ),
                ));
            };
            by_image
                .entry(image)
                .or_default()
                .push((category, score, seg.clone()));
        }
        Ok(PredictionsFile {
            name: name.to_string(),
            path: path.to_path_buf(),
            lines: BTreeMap::new(),
            classes: BTreeSet::new(),
            limits,
            coco: Some(by_image),
        })
    }

    /// A sample's detections in a COCO results file: by its COCO image id, each in the classes
    /// its category makes up; an image the file lists nothing for has no detections.
    fn predict_coco(&self, by_image: &CocoResults, sample: &Sample) -> Prediction {
        let coco = sample
            .instances
            .as_ref()
            .and_then(|i| Some((i.image_id?, i.categories.as_deref()?)));
        let Some((image_id, categories)) = coco else {
            return Prediction {
                fail: Some(FailReason::PredMissing),
                fail_detail: Some(
                    "a COCO results file is read against a `coco` corpus (by image and category id); this sample is not from one".into(),
                ),
                ..Default::default()
            };
        };
        let mut listed = Vec::new();
        for (category, score, seg) in by_image.get(&image_id).into_iter().flatten() {
            // A category the ground truth does not declare is left out, as COCOeval does.
            let Some(classes) = categories.get(category) else {
                continue;
            };
            let mask = match crate::read::coco::segmentation_data(seg, sample.size.0, sample.size.1)
            {
                Ok(m) => m,
                Err(e) => {
                    return Prediction {
                        fail: Some(FailReason::PredMaskInvalid),
                        fail_detail: Some(format!("image {image_id}, category {category}: {e}")),
                        instances: Some(Vec::new()),
                        ..Default::default()
                    }
                }
            };
            for class in classes {
                listed.push(ndjson::LineInstance {
                    class: class.clone(),
                    mask: mask.clone(),
                    score: Some(*score),
                    crowd: false,
                    area: None,
                    id: None,
                });
            }
        }
        let instances = match self.instances(listed) {
            Ok(list) => list,
            Err((reason, detail)) => {
                return Prediction {
                    fail: Some(reason),
                    fail_detail: Some(detail),
                    instances: Some(Vec::new()),
                    ..Default::default()
                }
            }
        };
        Prediction {
            // The semantic masks: each class's union of its detections, as a line of instances.
            masks: union_by_class(&instances, sample.size),
            size: Some(sample.size),
            fail: None,
            fail_detail: None,
            near: None,
            instances: Some(instances),
            classes_complete: true,
        }
    }

    /// The line of `id` at `offset`, parsed again; an error when the file changed since
    /// [`load`](Self::load).
    fn read_line(&self, id: &str, offset: u64) -> std::result::Result<PredLine, String> {
        let changed = |m: String| {
            format!(
                "{} byte {offset}: {m} (was the file changed during the run?)",
                self.path.display()
            )
        };
        let text = ndjson::line_at(&self.path, offset).map_err(changed)?;
        let line = ndjson::parse_line(&text, 0).map_err(changed)?;
        if line.id != id {
            return Err(changed(format!(
                "the line holds id {:?}, not {id:?}",
                line.id
            )));
        }
        Ok(PredLine {
            size: line.size,
            masks: line.masks,
            instances: line.instances,
        })
    }

    /// The same file checked against other limits.
    pub fn with_limits(self, limits: Limits) -> PredictionsFile {
        PredictionsFile { limits, ..self }
    }

    /// When the file names classes and none of them is one of `gold` (the corpora's): what to
    /// tell the user, since every class of every sample would score as missing.
    pub fn foreign_classes(&self, gold: &BTreeSet<&str>) -> Option<String> {
        if self.classes.is_empty() || self.classes.iter().any(|c| gold.contains(c.as_str())) {
            return None;
        }
        let list = |v: Vec<&str>| v.join(", ");
        Some(format!(
            "arm {}: {} names the classes {}, none of which the ground truth has ({}): every sample will fail PRED_CLASSES_MISSING and score 0. Name the prediction's classes as the gold's (e.g. convert the gold with the same [corpus] classes mapping)",
            self.name,
            crate::pathnames::display(&self.path),
            list(self.classes.iter().map(String::as_str).collect()),
            list(gold.iter().copied().collect())
        ))
    }

    /// Prediction ids that no gold sample has: reported, not scored.
    pub fn unmatched_ids(&self, gold_ids: &BTreeSet<&str>) -> Vec<String> {
        self.lines
            .keys()
            .filter(|id| !gold_ids.contains(&id[..]))
            .map(|id| id.to_string())
            .collect()
    }

    /// Whether a mask is within the limits, checked before anything of it is decoded.
    fn check_limits(&self, m: &MaskData) -> std::result::Result<(), String> {
        let (h, w) = m.size();
        self.limits.check_mask(h, w).map_err(|e| e.to_string())?;
        if m.vertex_count() > self.limits.max_polygon_vertices {
            return Err(format!(
                "{} polygon vertices exceed the limit of {} ([limits] max_polygon_vertices)",
                m.vertex_count(),
                self.limits.max_polygon_vertices
            ));
        }
        Ok(())
    }

    /// A line's instances as RLE on their canvas, within the limits; every one needs a score.
    fn instances(
        &self,
        list: Vec<ndjson::LineInstance>,
    ) -> std::result::Result<Vec<PredInstance>, (FailReason, String)> {
        let mut out = Vec::with_capacity(list.len());
        for (n, i) in list.into_iter().enumerate() {
            let at = |m: String| format!("instance {} ({:?}): {m}", n + 1, i.class);
            if let Err(e) = self.check_limits(&i.mask) {
                return Err((FailReason::MaskTooLarge, at(e)));
            }
            let Some(score) = i.score else {
                return Err((
                    FailReason::PredMaskInvalid,
                    at("a predicted instance needs a \"score\"".into()),
                ));
            };
            let mask = match i.mask {
                MaskData::Rle(r) => r,
                other => Rle::encode(
                    &other
                        .rasterize(None)
                        .map_err(|e| (FailReason::PredMaskInvalid, at(e)))?,
                ),
            };
            out.push(PredInstance {
                class: i.class,
                score,
                mask,
            });
        }
        Ok(out)
    }
}

impl Arm for PredictionsFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "kind": "predictions", "path": crate::pathnames::display(&self.path)})
    }

    fn predict(&self, sample: &Sample, _photo: &super::image::SamplePhoto) -> Prediction {
        if let Some(by_image) = &self.coco {
            return self.predict_coco(by_image, sample);
        }
        let Some(&(offset, _)) = self.lines.get(sample.id.as_str()) else {
            return Prediction {
                fail: Some(FailReason::PredMissing),
                ..Default::default()
            };
        };
        let line = match self.read_line(&sample.id, offset) {
            Ok(line) => line,
            Err(detail) => {
                return Prediction {
                    fail: Some(FailReason::PredMissing),
                    fail_detail: Some(detail),
                    ..Default::default()
                }
            }
        };
        let failed = |reason: FailReason, detail: String| Prediction {
            size: line.size,
            fail: Some(reason),
            fail_detail: Some(detail),
            ..Default::default()
        };
        // Limits first: nothing of an oversized mask is decoded.
        for (class, m) in line
            .masks
            .iter()
            .filter_map(|(c, m)| Some((c, m.as_ref().ok()?)))
        {
            if let Err(e) = self.check_limits(m) {
                return failed(FailReason::MaskTooLarge, format!("class {class:?}: {e}"));
            }
        }
        // One prediction is one canvas: masks of different sizes cannot be post-processed or
        // scored together.
        let sizes: BTreeSet<(u32, u32)> = line
            .masks
            .values()
            .filter_map(|m| m.as_ref().ok().map(MaskData::size))
            .chain(line.size)
            .collect();
        if sizes.len() > 1 {
            let list: Vec<String> = sizes.iter().map(|(h, w)| format!("{h}x{w}")).collect();
            return failed(
                FailReason::SizeMismatch,
                format!(
                    "masks of different sizes in one prediction: {}",
                    list.join(", ")
                ),
            );
        }
        // A bad instance list is this sample's fail reason; the line's masks are still scored,
        // and its instances count as no detections.
        let mut invalid = Vec::new();
        let mut instance_fail = None;
        let instances = match line.instances {
            None => None,
            Some(Err(e)) => {
                invalid.push(e);
                Some(Vec::new())
            }
            Some(Ok(list)) => match self.instances(list) {
                Ok(list) => Some(list),
                Err((reason, detail)) => {
                    instance_fail = Some(reason);
                    invalid.push(detail);
                    Some(Vec::new())
                }
            },
        };
        let mut masks = BTreeMap::new();
        for (class, m) in line.masks {
            match m {
                Ok(m) => {
                    masks.insert(class, m);
                }
                Err(e) => invalid.push(format!("class {class:?}: {e}")),
            }
        }
        // Instances alone: each class's mask is the union of its instances (the yolov8-seg
        // adapter's default policy), and a class without one is empty.
        let derived = masks.is_empty() && invalid.is_empty() && instances.is_some();
        if derived {
            let list = instances.as_deref().unwrap_or_default();
            let size = (list.first().map(|i| (i.mask.h, i.mask.w)))
                .or(line.size)
                .unwrap_or(sample.size);
            masks = union_by_class(list, size);
        }
        let fail = match (instance_fail, invalid.is_empty()) {
            (_, true) => None,
            (Some(reason), _) => Some(reason),
            (None, false) => Some(FailReason::PredMaskInvalid),
        };
        Prediction {
            masks,
            size: line.size,
            fail,
            fail_detail: (!invalid.is_empty()).then(|| invalid.join("; ")),
            near: None,
            instances,
            classes_complete: derived,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::image::SamplePhoto;

    fn sample(id: &str) -> Sample {
        Sample {
            instances: None,
            id: id.into(),
            hash: String::new(),
            source: None,
            image: None,
            size: (2, 2),
            gt: Default::default(),
            void: None,
            fit_predictions: false,
            predicted_modules: None,
            notes: None,
            meta: Default::default(),
        }
    }

    /// Lines are read back when predicted: a file rewritten during the run is a per-sample
    /// failure that says so, never another sample's masks.
    #[test]
    fn a_line_is_read_back_at_its_offset_and_a_changed_file_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        let line = |id: &str, counts: &str| {
            format!(
                "{{\"id\": \"{id}\", \"masks\": {{\"fg\": {{\"size\": [2, 2], \"counts\": {counts}}}}}}}\n"
            )
        };
        std::fs::write(&path, line("a", "[0, 4]") + &line("b", "[4]") + "\n").unwrap();
        let file = PredictionsFile::load("p", &path).unwrap();
        let photo = SamplePhoto::new(None, &Limits::default());
        let a = file.predict(&sample("a"), &photo);
        assert_eq!(a.fail, None);
        assert_eq!(a.masks["fg"].rasterize(None).unwrap().area(), 4);
        let b = file.predict(&sample("b"), &photo);
        assert_eq!(b.masks["fg"].rasterize(None).unwrap().area(), 0);
        assert_eq!(
            file.predict(&sample("c"), &photo).fail,
            Some(FailReason::PredMissing)
        );

        std::fs::write(&path, line("b", "[4]") + &line("a", "[0, 4]")).unwrap();
        let changed = file.predict(&sample("a"), &photo);
        assert_eq!(changed.fail, Some(FailReason::PredMissing));
        assert!(changed.masks.is_empty());
        let detail = changed.fail_detail.unwrap();
        assert!(
            detail.contains("holds id \"b\"") && detail.contains("changed"),
            "{detail}"
        );
    }
}
