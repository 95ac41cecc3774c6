//! An arm read from a predictions JSONL file (the NDJSON line shape), joined to gold by `id`.

use super::Arm;
use crate::error::{Error, Result};
use crate::model::{FailReason, MaskData, Prediction, Sample};
use crate::read::ndjson;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub struct PredictionsFile {
    name: String,
    pub path: PathBuf,
    lines: BTreeMap<String, PredLine>,
}

struct PredLine {
    size: Option<(u32, u32)>,
    masks: BTreeMap<String, std::result::Result<MaskData, String>>,
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
                    masks: line.masks,
                },
            );
            Ok(())
        })?;
        Ok(PredictionsFile {
            name: name.to_string(),
            path: path.to_path_buf(),
            lines,
        })
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
        let mut masks = BTreeMap::new();
        let mut invalid = false;
        for (class, m) in &line.masks {
            match m {
                Ok(m) => {
                    masks.insert(class.clone(), m.clone());
                }
                Err(_) => invalid = true,
            }
        }
        Prediction {
            masks,
            size: line.size,
            fail: invalid.then_some(FailReason::PredMaskInvalid),
        }
    }
}
