//! An arm read from a predictions JSONL file (the NDJSON line shape), joined to gold by `id`.

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
        })
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
}

impl PredictionsFile {
    /// A line's instances as RLE on their canvas, within the limits; every one needs a score.
    fn instances(
        &self,
        list: Vec<ndjson::LineInstance>,
    ) -> std::result::Result<Vec<PredInstance>, (FailReason, String)> {
        let mut out = Vec::with_capacity(list.len());
        for (n, i) in list.into_iter().enumerate() {
            let at = |m: String| format!("instance {} ({:?}): {m}", n + 1, i.class);
            let (h, w) = i.mask.size();
            if let Err(e) = self.limits.check_mask(h, w) {
                return Err((FailReason::MaskTooLarge, at(e.to_string())));
            }
            if i.mask.vertex_count() > self.limits.max_polygon_vertices {
                return Err((
                    FailReason::MaskTooLarge,
                    at(format!(
                        "{} polygon vertices exceed the limit of {} ([limits] max_polygon_vertices)",
                        i.mask.vertex_count(),
                        self.limits.max_polygon_vertices
                    )),
                ));
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
            let (h, w) = m.size();
            if let Err(e) = self.limits.check_mask(h, w) {
                return failed(FailReason::MaskTooLarge, format!("class {class:?}: {e}"));
            }
            if m.vertex_count() > self.limits.max_polygon_vertices {
                return failed(
                    FailReason::MaskTooLarge,
                    format!(
                        "class {class:?}: {} polygon vertices exceed the limit of {} ([limits] max_polygon_vertices)",
                        m.vertex_count(),
                        self.limits.max_polygon_vertices
                    ),
                );
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
        let listed_bad = !invalid.is_empty();
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
        let derived = masks.is_empty() && !listed_bad && invalid.is_empty() && instances.is_some();
        if derived {
            let list = instances.as_deref().unwrap_or_default();
            let (h, w) = (list.first().map(|i| (i.mask.h, i.mask.w)))
                .or(line.size)
                .unwrap_or(sample.size);
            let mut unions: BTreeMap<String, Mask> = BTreeMap::new();
            for i in list {
                // Another canvas is refused when the instances are scored.
                if let Ok(m) = i.mask.decode() {
                    let u = (unions.entry(i.class.clone())).or_insert_with(|| Mask::new(h, w));
                    if m.same_size(u) {
                        u.union_in_place(&m);
                    }
                }
            }
            masks = (unions.into_iter())
                .map(|(c, m)| (c, MaskData::Mask(m)))
                .collect();
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
