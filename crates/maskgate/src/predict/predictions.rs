//! An arm read from a predictions JSONL file (the NDJSON line shape), joined to gold by `id`.

use super::Arm;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{FailReason, MaskData, Prediction, Sample};
use crate::read::ndjson;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub struct PredictionsFile {
    name: String,
    pub path: PathBuf,
    lines: BTreeMap<String, PredLine>,
    limits: Limits,
}

struct PredLine {
    size: Option<(u32, u32)>,
    /// Class → mask, sorted by class. A vector, not a map: a map's first node reserves room for
    /// 11 entries, and a file holds one of these per sample for the whole run.
    masks: Box<[(String, std::result::Result<MaskData, String>)]>,
}

impl PredictionsFile {
    /// Loads the file; a line that is not valid JSON, or a repeated id, is an error naming the
    /// file and line. A mask that does not decode is kept as a per-sample fail reason instead.
    pub fn load(name: &str, path: &Path) -> Result<PredictionsFile> {
        let mut lines = BTreeMap::new();
        let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
        ndjson::for_each_line(path, |line| {
            if let Some(first) = first_line.insert(line.id.clone(), line.line_no) {
                return Err(Error::input(
                    path,
                    line.line_no,
                    format!("duplicate id {:?} (first on line {first})", line.id),
                ));
            }
            lines.insert(
                line.id,
                PredLine {
                    size: line.size,
                    masks: line.masks.into_iter().collect(),
                },
            );
            Ok(())
        })?;
        Ok(PredictionsFile {
            name: name.to_string(),
            path: path.to_path_buf(),
            lines,
            limits: Limits::default(),
        })
    }

    /// The same file checked against other limits.
    pub fn with_limits(self, limits: Limits) -> PredictionsFile {
        PredictionsFile { limits, ..self }
    }

    /// Prediction ids that no gold sample has: reported, not scored.
    pub fn unmatched_ids(&self, gold_ids: &BTreeSet<&str>) -> Vec<String> {
        self.lines
            .keys()
            .filter(|id| !gold_ids.contains(id.as_str()))
            .cloned()
            .collect()
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
        let Some(line) = self.lines.get(&sample.id) else {
            return Prediction {
                fail: Some(FailReason::PredMissing),
                ..Default::default()
            };
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
            .iter()
            .map(|(_, m)| m)
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
        let mut masks = BTreeMap::new();
        let mut invalid = Vec::new();
        for (class, m) in line.masks.iter() {
            match m {
                Ok(m) => {
                    masks.insert(class.clone(), m.clone());
                }
                Err(e) => invalid.push(format!("class {class:?}: {e}")),
            }
        }
        Prediction {
            masks,
            size: line.size,
            fail: (!invalid.is_empty()).then_some(FailReason::PredMaskInvalid),
            fail_detail: (!invalid.is_empty()).then(|| invalid.join("; ")),
        }
    }
}
