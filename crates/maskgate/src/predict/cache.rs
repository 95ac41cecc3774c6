//! The prediction cache: content-addressed by (model sha256, adapter + parameters, image
//! sha256), masks stored as COCO RLE. A re-run, a new variant or a new criteria file costs no
//! inference, and an interrupted run keeps every prediction it finished. The cache is a
//! [`Store`]: a local folder, or a bucket prefix shared by a run's shards.

use crate::storage::{LocalStore, Store};
use maskgate_core::{Mask, Rle};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes of one cache entry: far above a real one (a 4K frame's masks are kilobytes to a few
/// megabytes of compressed RLE). An entry past it, or one that is not a regular file (a link to
/// `/dev/zero`), is a miss and is computed again.
const MAX_ENTRY_BYTES: u64 = crate::limits::MAX_LINE_BYTES;

/// A model's masks for one photo and, with the noise check on, the pixels near a decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Inferred {
    pub masks: BTreeMap<String, Mask>,
    pub near: Option<BTreeMap<String, Mask>>,
    /// An instance model's kept instances.
    pub instances: Option<Vec<crate::model::PredInstance>>,
    /// The inference's latency and where it was measured: a cached prediction keeps its cost.
    pub latency: Option<crate::cost::Timing>,
}

#[derive(Clone)]
pub struct PredictionCache {
    store: Arc<dyn Store>,
    /// The folder of a local cache: its entries are read with the bounded, regular-file-only
    /// read rather than the store's plain one.
    local: Option<PathBuf>,
}

impl PredictionCache {
    /// Opens the cache at `dir`, removing temporary files that killed runs left in it.
    pub fn new(dir: &Path) -> PredictionCache {
        if let Ok(subdirs) = std::fs::read_dir(dir) {
            for sub in subdirs.flatten() {
                crate::persist::remove_abandoned_temps(&sub.path());
            }
        }
        PredictionCache {
            store: Arc::new(LocalStore::new(dir)),
            local: Some(dir.to_path_buf()),
        }
    }

    /// A cache kept in `store` (a bucket prefix).
    pub fn on(store: Arc<dyn Store>) -> PredictionCache {
        PredictionCache { store, local: None }
    }

    pub fn key(model_sha: &str, adapter: &str, params: &str, image_sha: &str) -> String {
        let mut h = Sha256::new();
        for part in [model_sha, adapter, params, image_sha] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        hex::encode(h.finalize())
    }

    fn entry(key: &str) -> String {
        format!("{}/{key}.json", &key[..2])
    }

    fn read(&self, entry: &str) -> Option<Value> {
        let bytes = match &self.local {
            Some(dir) => crate::limits::read_regular(&dir.join(entry), MAX_ENTRY_BYTES).ok()?,
            None => self.store.get(entry).ok()??,
        };
        serde_json::from_slice(&bytes).ok()
    }

    /// The cached masks (and near pixels, when stored), or `None` when absent or unreadable (a
    /// damaged entry is recomputed).
    pub fn get(&self, key: &str) -> Option<Inferred> {
        let v = self.read(&Self::entry(key))?;
        let masks = Self::masks(v.get("masks")?)?;
        let near = match v.get("near") {
            Some(n) => Some(Self::masks(n)?),
            None => None,
        };
        let latency = (|| {
            Some(crate::cost::Timing {
                ns: v.get("latency_ns")?.as_u64()?,
                host: v.get("host")?.as_str()?.to_string(),
                run: v.get("timed_in")?.as_str()?.to_string(),
                ordinal: v.get("ordinal")?.as_u64()?,
            })
        })();
        // A list (an entry of an older maskgate held only their count: a miss, recomputed).
        let instances = match v.get("instances") {
            Some(list) => Some(Self::instances(list)?),
            None => None,
        };
        Some(Inferred {
            masks,
            near,
            instances,
            latency,
        })
    }

    /// Instances stored as `{"class", "score_bits", "size", "counts"}`: the score's bits, as
    /// JSON text would round-trip only through a correctly rounding parser.
    fn instances(v: &Value) -> Option<Vec<crate::model::PredInstance>> {
        v.as_array()?
            .iter()
            .map(|i| {
                Some(crate::model::PredInstance {
                    class: i.get("class")?.as_str()?.to_string(),
                    score: f64::from_bits(i.get("score_bits")?.as_u64()?),
                    mask: Self::rle(i)?,
                })
            })
            .collect()
    }

    /// A stored `{"size": [h, w], "counts"}`; a damaged size is a miss, not a canvas past what
    /// any limit allows.
    fn rle(v: &Value) -> Option<Rle> {
        let size = v.get("size")?.as_array()?;
        let (h, w) = (
            u32::try_from(size.first()?.as_u64()?).ok()?,
            u32::try_from(size.get(1)?.as_u64()?).ok()?,
        );
        if h as u64 * w as u64 > crate::limits::CEILINGS.max_mask_pixels {
            return None;
        }
        Rle::from_compressed(h, w, v.get("counts")?.as_str()?).ok()
    }

    fn masks(v: &Value) -> Option<BTreeMap<String, Mask>> {
        v.as_object()?
            .iter()
            .map(|(class, m)| Some((class.clone(), Self::rle(m)?.decode().ok()?)))
            .collect()
    }

    fn facts_entry(model_sha: &str) -> String {
        format!("models/{model_sha}.json")
    }

    /// The input size (pixels) recorded when the model with this sha256 was last loaded: enough
    /// to plan a run without loading a model whose predictions are all cached.
    pub fn model_input_pixels(&self, model_sha: &str) -> Option<usize> {
        let v = self.read(&Self::facts_entry(model_sha))?;
        v.get("input_pixels")?.as_u64().map(|n| n as usize)
    }

    /// Records a loaded model's input size (see [`Self::model_input_pixels`]).
    pub fn put_model_input_pixels(&self, model_sha: &str, input_pixels: usize) {
        let text = json!({"input_pixels": input_pixels}).to_string();
        let _ = self
            .store
            .put(&Self::facts_entry(model_sha), text.as_bytes());
    }

    /// Stores an inference whole (a store's put is atomic); failures only cost a re-run.
    pub fn put(&self, key: &str, inferred: &Inferred) {
        let body = |masks: &BTreeMap<String, Mask>| -> serde_json::Map<String, Value> {
            masks
                .iter()
                .map(|(c, m)| {
                    let rle = Rle::encode(m);
                    (
                        c.clone(),
                        json!({"size": [rle.h, rle.w], "counts": rle.to_compressed()}),
                    )
                })
                .collect()
        };
        let mut entry = json!({"masks": body(&inferred.masks)});
        if let Some(near) = &inferred.near {
            entry["near"] = Value::Object(body(near));
        }
        if let Some(list) = &inferred.instances {
            entry["instances"] = list
                .iter()
                .map(|i| {
                    json!({
                        "class": i.class,
                        "score_bits": i.score.to_bits(),
                        "size": [i.mask.h, i.mask.w],
                        "counts": i.mask.to_compressed(),
                    })
                })
                .collect();
        }
        if let Some(t) = &inferred.latency {
            entry["latency_ns"] = json!(t.ns);
            entry["host"] = json!(t.host);
            entry["timed_in"] = json!(t.run);
            entry["ordinal"] = json!(t.ordinal);
        }
        let _ = self
            .store
            .put(&Self::entry(key), entry.to_string().as_bytes());
    }
}
