//! `save_predictions`: each model arm's masks, written beside the reports as prediction JSONL
//! (the format a `predictions = "…"` arm reads), so a team can archive what production would
//! have produced, give it to other tools, and score it again with no inference.
//!
//! One file per (corpus, arm), `predictions/<corpus>/<arm>.jsonl`, lines sorted by id, masks as
//! COCO compressed RLE: the same inputs give the same bytes at any thread count. A sample whose
//! prediction failed (an unreadable photo, a failed inference) has no line; scored again, it is
//! `PRED_MISSING`.

use crate::error::{Error, Result};
use crate::model::{MaskData, Prediction};
use maskgate_core::Rle;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The folder, inside the output folder, that holds the saved predictions.
pub const FOLDER: &str = "predictions";

/// Collects the lines of the arms it was asked to save, while samples are scored in parallel.
pub struct SavedPredictions {
    arms: BTreeSet<String>,
    /// (corpus, arm) → id → line.
    lines: Mutex<BTreeMap<(String, String), BTreeMap<String, String>>>,
}

impl SavedPredictions {
    pub fn new(arms: impl IntoIterator<Item = String>) -> SavedPredictions {
        SavedPredictions {
            arms: arms.into_iter().collect(),
            lines: Mutex::new(BTreeMap::new()),
        }
    }

    /// Keeps `pred` as `id`'s line for (`corpus`, `arm`) when that arm is saved and its
    /// prediction did not fail.
    pub fn record(&self, corpus: &str, arm: &str, id: &str, pred: &Prediction) {
        if !self.arms.contains(arm) || pred.fail.is_some() {
            return;
        }
        let Some(line) = line_of(id, pred) else {
            return;
        };
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .entry((corpus.to_string(), arm.to_string()))
            .or_default()
            .insert(id.to_string(), line);
    }

    /// Writes every file under `dir/predictions/`; returns their paths.
    /// Every kept line as (corpus, arm, id, line), sorted: what a shard stores.
    pub fn lines(&self) -> Vec<(String, String, String, String)> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .flat_map(|((corpus, arm), by_id)| {
                by_id
                    .iter()
                    .map(move |(id, line)| (corpus.clone(), arm.clone(), id.clone(), line.clone()))
            })
            .collect()
    }

    /// Keeps a line made by another process (a shard's), as [`record`](Self::record) would.
    pub fn insert_line(&self, corpus: &str, arm: &str, id: &str, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .entry((corpus.to_string(), arm.to_string()))
            .or_default()
            .insert(id.to_string(), line);
    }

    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let mut written = Vec::new();
        for ((corpus, arm), by_id) in lines.iter() {
            let folder = dir
                .join(FOLDER)
                .join(crate::pathnames::safe_component(corpus));
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            let path = folder.join(format!("{}.jsonl", crate::pathnames::safe_component(arm)));
            crate::persist::write_atomically(&path, |w| {
                for line in by_id.values() {
                    w.write_all(line.as_bytes())?;
                    w.write_all(b"\n")?;
                }
                Ok(())
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

/// `{"id", "size": [H, W], "masks": {class: {"size": [H, W], "counts": RLE}}}`; `None` when a
/// mask is not a raster (a model arm's always are).
fn line_of(id: &str, pred: &Prediction) -> Option<String> {
    let mut masks = serde_json::Map::new();
    let mut size = pred.size;
    for (class, data) in &pred.masks {
        let MaskData::Mask(mask) = data else {
            return None;
        };
        let (h, w) = (mask.height(), mask.width());
        size.get_or_insert((h, w));
        masks.insert(
            class.clone(),
            serde_json::json!({"size": [h, w], "counts": Rle::encode(mask).to_compressed()}),
        );
    }
    let mut line = serde_json::Map::new();
    line.insert("id".into(), id.into());
    if let Some((h, w)) = size {
        line.insert("size".into(), serde_json::json!([h, w]));
    }
    line.insert("masks".into(), masks.into());
    Some(serde_json::Value::Object(line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FailReason;
    use maskgate_core::Mask;

    fn prediction(bits: &[bool]) -> Prediction {
        let mask = Mask::from_fn(2, 2, |y, x| bits[(y * 2 + x) as usize]);
        Prediction {
            masks: [("fg".to_string(), MaskData::Mask(mask))].into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_saved_arms_and_successful_predictions_are_written_sorted_by_id() {
        let saved = SavedPredictions::new(["model".to_string()]);
        saved.record("c", "model", "b", &prediction(&[true, false, false, true]));
        saved.record("c", "model", "a", &prediction(&[false; 4]));
        saved.record("c", "file-arm", "a", &prediction(&[true; 4]));
        let failed = Prediction {
            fail: Some(FailReason::ImageUnreadable),
            ..prediction(&[true; 4])
        };
        saved.record("c", "model", "z", &failed);
        let dir = tempfile::tempdir().unwrap();
        let written = saved.write(dir.path()).unwrap();
        assert_eq!(written, [dir.path().join("predictions/c/model.jsonl")]);
        let text = std::fs::read_to_string(&written[0]).unwrap();
        assert_eq!(
            text,
            // [[1, 0], [0, 1]] column-major: runs 0, 1, 2, 1; the last written as 1 - 1.
            "{\"id\":\"a\",\"size\":[2,2],\"masks\":{\"fg\":{\"size\":[2,2],\"counts\":\"4\"}}}\n\
             {\"id\":\"b\",\"size\":[2,2],\"masks\":{\"fg\":{\"size\":[2,2],\"counts\":\"0120\"}}}\n"
        );
    }
}
