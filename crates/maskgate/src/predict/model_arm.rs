//! An arm that runs a model: photo → adapter pre-processing → ONNX Runtime → adapter
//! post-processing → masks, through the prediction cache.

use super::adapters::Segmenter;
use super::cache::PredictionCache;
use super::engine::Model;
use super::image::{RgbImage, SamplePhoto};
use super::Arm;
use crate::model::{FailReason, MaskData, Prediction, Sample};
use maskgate_core::Mask;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct ModelArm {
    pub name: String,
    pub model: Model,
    pub adapter: Box<dyn Segmenter>,
    pub cache: Option<PredictionCache>,
    /// Inferences actually run (cache misses), and predictions served from the cache.
    pub inferences: AtomicUsize,
    pub cache_hits: AtomicUsize,
    /// Per-sample failures: counted, and the first few kept with their messages for the run's
    /// notices.
    pub failures: AtomicUsize,
    pub first_failures: Mutex<Vec<String>>,
}

/// How many failure messages an arm keeps for the notices (the rest are counted).
const FAILURES_KEPT: usize = 5;

impl ModelArm {
    pub fn new(
        name: &str,
        model: Model,
        adapter: Box<dyn Segmenter>,
        cache: Option<PredictionCache>,
    ) -> Result<ModelArm, String> {
        let unfit = |e: String| {
            format!(
                "arm {name:?}: model {} does not fit adapter {}: {e}",
                model.path.display(),
                adapter.kind()
            )
        };
        adapter.check(&model).map_err(unfit)?;
        // One inference on a small grey photo before any work: a model whose outputs do not
        // match its adapter fails here, with the arm's name, not on every sample; it also
        // warms the runtime's memory arena, as any long run would.
        let grey = RgbImage {
            w: 64,
            h: 48,
            data: vec![128; 64 * 48 * 3],
        };
        let input = adapter.preprocess(&grey, &model).map_err(unfit)?;
        let outputs = model.run(input).map_err(unfit)?;
        // NaN on a grey photo is about the data, not the I/O: that stays a per-sample failure.
        let non_finite = outputs
            .iter()
            .any(|t| t.data.iter().any(|v| !v.is_finite()));
        if !non_finite {
            adapter
                .postprocess(&outputs, grey.w, grey.h)
                .map_err(unfit)?;
        }
        model.inference_nanos.store(0, Ordering::Relaxed);
        Ok(ModelArm {
            name: name.to_string(),
            model,
            adapter,
            cache,
            inferences: AtomicUsize::new(0),
            cache_hits: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            first_failures: Mutex::new(Vec::new()),
        })
    }

    /// Runs the model on one decoded photo (no cache).
    pub fn infer(
        &self,
        photo: &SamplePhoto,
    ) -> Result<BTreeMap<String, Mask>, (FailReason, String)> {
        let img = photo.pixels().map_err(|e| (e.reason, e.message.clone()))?;
        let input = self
            .adapter
            .preprocess(img, &self.model)
            .map_err(|e| (FailReason::InferenceFailed, e))?;
        let outputs = self
            .model
            .run(input)
            .map_err(|e| (FailReason::InferenceFailed, e))?;
        self.inferences.fetch_add(1, Ordering::Relaxed);
        self.adapter
            .postprocess(&outputs, img.w, img.h)
            .map_err(|e| (FailReason::InferenceFailed, e))
    }

    fn fail(&self, sample: &Sample, reason: FailReason, message: &str) -> Prediction {
        if self.failures.fetch_add(1, Ordering::Relaxed) < FAILURES_KEPT {
            if let Ok(mut kept) = self.first_failures.lock() {
                kept.push(format!(
                    "arm {}: sample {}: {} ({message})",
                    self.name,
                    sample.id,
                    reason.code()
                ));
            }
        }
        Prediction {
            fail: Some(reason),
            fail_detail: Some(message.to_string()),
            ..Default::default()
        }
    }
}

impl Arm for ModelArm {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "kind": "model",
            "adapter": self.adapter.kind(),
            "params": self.adapter.params(),
            "model": crate::pathnames::display(&self.model.path),
            "model_sha256": self.model.sha256,
        })
    }

    fn predict(&self, sample: &Sample, photo: &SamplePhoto) -> Prediction {
        // The cache key needs the image's hash; without a cache, skip hashing altogether.
        let key = match &self.cache {
            None => None,
            Some(_) => match photo.sha256() {
                // The runtime and its execution provider are part of the key: another ONNX
                // Runtime or a GPU may give other probabilities.
                Ok(sha) => Some(PredictionCache::key(
                    &self.model.sha256,
                    self.adapter.kind(),
                    &format!(
                        "{};runtime={};provider={}",
                        self.adapter.params(),
                        super::engine::ORT_VERSION,
                        super::engine::EXECUTION_PROVIDER
                    ),
                    sha,
                )),
                Err(e) => return self.fail(sample, e.reason, &e.message),
            },
        };
        let cached = self
            .cache
            .as_ref()
            .zip(key.as_deref())
            .and_then(|(c, k)| c.get(k));
        let masks = match cached {
            Some(m) => {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                m
            }
            None => match self.infer(photo) {
                Ok(m) => {
                    if let Some((c, k)) = self.cache.as_ref().zip(key.as_deref()) {
                        c.put(k, &m);
                    }
                    m
                }
                Err((reason, msg)) => return self.fail(sample, reason, &msg),
            },
        };
        let size = masks.values().next().map(|m| (m.height(), m.width()));
        Prediction {
            masks: masks
                .into_iter()
                .map(|(c, m)| (c, MaskData::Mask(m)))
                .collect(),
            size,
            fail: None,
            fail_detail: None,
        }
    }
}
