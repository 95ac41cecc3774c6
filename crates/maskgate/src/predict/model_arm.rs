//! An arm that runs a model: photo → adapter pre-processing → ONNX Runtime → adapter
//! post-processing → masks, through the prediction cache.

use super::adapters::Segmenter;
use super::cache::{Inferred, PredictionCache};
use super::engine::{InferenceTurn, Model, OrtMemory};
use super::image::{RgbImage, SamplePhoto};
use super::meter::Meter;
use super::Arm;
use crate::model::{FailReason, MaskData, Prediction, Sample};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Where an arm's model comes from, and how to load it when it is first needed.
pub struct ModelSource {
    pub path: PathBuf,
    pub sha256: String,
    pub intra_threads: usize,
    pub memory: OrtMemory,
    pub runtime: Option<PathBuf>,
    pub turn: InferenceTurn,
    /// The noise check's ε: each prediction also carries its pixels within ε of a decision
    /// (0: not measured).
    pub noise_epsilon: f64,
    /// This host (`cost::Host::key`) and this run's own id: cached predictions keep them
    /// beside their latency.
    pub host: String,
    pub run: String,
    /// Measure the arm's cost (latencies, load time, memory) while it runs.
    pub measure_cost: bool,
    /// A `.pt` checkpoint arm: the checkpoint `path` was exported from.
    pub exported: Option<super::checkpoint::Exported>,
}

pub struct ModelArm {
    pub name: String,
    pub source: ModelSource,
    /// Loaded at the first cache miss (or at construction without a cache): a re-run served
    /// from the cache never loads ONNX Runtime's session, nor its memory.
    model: OnceLock<Result<Model, String>>,
    pub adapter: Box<dyn Segmenter>,
    pub cache: Option<PredictionCache>,
    /// Inferences actually run (cache misses), and predictions served from the cache.
    pub inferences: AtomicUsize,
    pub cache_hits: AtomicUsize,
    /// The arm's cost measurements, when the run measures cost.
    pub meter: Option<Meter>,
    /// Per-sample failures: counted, and the first few kept with their messages for the run's
    /// notices.
    pub failures: AtomicUsize,
    pub first_failures: Mutex<Vec<String>>,
}

/// How many failure messages an arm keeps for the notices (the rest are counted).
const FAILURES_KEPT: usize = 5;

impl ModelArm {
    /// An arm over `source`; its model is loaded by [`ModelArm::preload`] or at first use.
    pub fn new(
        name: &str,
        source: ModelSource,
        adapter: Box<dyn Segmenter>,
        cache: Option<PredictionCache>,
    ) -> ModelArm {
        ModelArm {
            name: name.to_string(),
            meter: source
                .measure_cost
                .then(|| Meter::new(source.host.clone(), source.run.clone())),
            source,
            model: OnceLock::new(),
            adapter,
            cache,
            inferences: AtomicUsize::new(0),
            cache_hits: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            first_failures: Mutex::new(Vec::new()),
        }
    }

    /// Loads and checks the model now when there is no cache, or when the cache has never seen
    /// it (its input size, which plans the run's threads, is then recorded); otherwise the first
    /// cache miss loads it, and a fully cached run loads none. A model that will not load stops
    /// the run before any work.
    pub fn preload(&self) -> Result<(), String> {
        let cached = (self.cache.as_ref())
            .is_some_and(|c| c.model_input_pixels(&self.source.sha256).is_some());
        if !cached {
            self.model()?;
        }
        Ok(())
    }

    /// The model, loaded on first use.
    pub fn model(&self) -> Result<&Model, String> {
        self.model
            .get_or_init(|| self.load())
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The model if it was loaded (a fully cached run loads none).
    pub fn loaded(&self) -> Option<&Model> {
        self.model.get().and_then(|m| m.as_ref().ok())
    }

    /// Why the model could not be loaded, if loading was tried and failed.
    pub fn load_error(&self) -> Option<&str> {
        self.model
            .get()
            .and_then(|m| m.as_ref().err())
            .map(String::as_str)
    }

    /// Whether the model is heavy (runs alone on every core): from the loaded model, else from
    /// the input size the cache recorded.
    pub fn is_heavy(&self) -> bool {
        match self.loaded() {
            Some(m) => m.is_heavy(),
            None => self
                .cache
                .as_ref()
                .and_then(|c| c.model_input_pixels(&self.source.sha256))
                .is_some_and(|px| super::engine::threading(self.source.intra_threads, px).1),
        }
    }

    fn load(&self) -> Result<Model, String> {
        let s = &self.source;
        let started = Instant::now();
        let load = || {
            Model::load_sharing(
                &s.path,
                &s.sha256,
                s.intra_threads,
                s.memory,
                s.runtime.as_deref(),
                s.turn.clone(),
            )
        };
        // Memory is read only when the run measures cost.
        let (model, rise) = match &self.meter {
            Some(_) => super::meter::rise_around(load),
            None => (load(), None),
        };
        let model = model.map_err(|e| format!("arm {:?}: {e}", self.name))?;
        if let Some(m) = &self.meter {
            m.loaded(started.elapsed().as_nanos() as u64, rise);
        }
        let adapter = &self.adapter;
        let unfit = |e: String| {
            format!(
                "arm {:?}: model {} does not fit adapter {}: {e}",
                self.name,
                model.path.display(),
                adapter.kind()
            )
        };
        adapter.check(&model).map_err(unfit)?;
        model
            .read_outputs(adapter.outputs_read())
            .map_err(|e| format!("arm {:?}: {e}", self.name))?;
        if let Some(c) = &self.cache {
            c.put_model_input_pixels(&s.sha256, model.input_pixels);
        }
        if model.is_heavy() {
            // A heavy model's trial inference costs as much as a sample's (seconds for ISNet):
            // its declared shapes were checked above, and its first sample runs the rest.
            return Ok(model);
        }
        // One inference on a small grey photo before any of this model's work: a model whose
        // outputs do not match its adapter fails here, with the arm's name, not on every
        // sample.
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
        Ok(model)
    }

    /// Runs the model on one decoded photo (no cache): the masks, and with an ε the pixels
    /// near a decision.
    pub fn infer(&self, photo: &SamplePhoto) -> Result<Inferred, (FailReason, String)> {
        let img = photo
            .pixels(self.adapter.decode())
            .map_err(|e| (e.reason, e.message.clone()))?;
        let model = self.model().map_err(|e| (FailReason::InferenceFailed, e))?;
        let failed = |e| (FailReason::InferenceFailed, e);
        let started = Instant::now();
        let input = self.adapter.preprocess(img, model).map_err(failed)?;
        let pre = started.elapsed();
        // The arm's first inference is read for memory (its arena grows to the photo's size).
        let (ran, rise) = match self.meter.as_ref().filter(|m| m.claim_first()) {
            Some(_) => super::meter::rise_around(|| model.run_timed(input)),
            None => (model.run_timed(input), None),
        };
        if let Some(m) = &self.meter {
            m.first_inference_rise(rise);
        }
        let (outputs, latency_ns) = ran.map_err(failed)?;
        let ordinal = self.inferences.fetch_add(1, Ordering::Relaxed) as u64;
        let started = Instant::now();
        // With the noise check on, the near pixels come from the same maps as the masks.
        let eps = self.source.noise_epsilon;
        let segmented = self
            .adapter
            .segment(&outputs, img.w, img.h, (eps > 0.0).then_some(eps))
            .map_err(failed)?;
        if let Some(m) = &self.meter {
            m.inferred(
                ordinal,
                latency_ns,
                (pre + started.elapsed()).as_nanos() as u64,
            );
        }
        Ok(Inferred {
            masks: segmented.masks,
            near: segmented.near,
            instances: segmented.instances,
            latency: Some(crate::cost::Timing {
                ns: latency_ns,
                host: self.source.host.clone(),
                run: self.source.run.clone(),
                ordinal,
            }),
        })
    }

    /// Times one more inference of `photo` (`--cost-repeat`): its latency in nanoseconds.
    pub fn time_inference(&self, photo: &SamplePhoto) -> Result<u64, String> {
        let img = photo
            .pixels(self.adapter.decode())
            .map_err(|e| e.message.clone())?;
        let model = self.model()?;
        let input = self.adapter.preprocess(img, model)?;
        model.run_timed(input).map(|(_, ns)| ns)
    }

    /// The arm's raw cost measurements, when it measured them.
    pub fn cost(&self) -> Option<crate::cost::RawArm> {
        let meter = self.meter.as_ref()?;
        let model_bytes = std::fs::metadata(&self.source.path).map_or(0, |m| m.len());
        let (intra, exclusive) = match self.loaded() {
            Some(m) => m.threads(),
            None => (self.source.intra_threads, false),
        };
        Some(meter.raw(&self.name, model_bytes, intra, exclusive))
    }

    fn fail(&self, sample: &Sample, reason: FailReason, message: &str) -> Prediction {
        if self.failures.fetch_add(1, Ordering::Relaxed) < FAILURES_KEPT {
            if let Ok(mut kept) = self.first_failures.lock() {
                kept.push(format!(
                    "arm {}: sample {}: {}",
                    self.name,
                    sample.id,
                    reason.message(Some(message))
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

    fn occupies_every_core(&self) -> bool {
        self.loaded().is_some_and(Model::is_heavy)
    }

    fn layout_known(&self) -> bool {
        self.loaded().is_some()
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = serde_json::json!({
            "name": self.name,
            "kind": "model",
            "adapter": self.adapter.kind(),
            "params": super::adapters::params_of(self.adapter.as_ref()),
            "model": crate::pathnames::display(&self.source.path),
            "model_sha256": self.source.sha256,
        });
        if let Some(e) = &self.source.exported {
            // The ONNX lives in a cache folder: the report names the checkpoint it came from.
            d["model"] = serde_json::json!(e.checkpoint);
            d["model_sha256"] = serde_json::json!(e.checkpoint_sha256);
            d["exported_onnx_sha256"] = serde_json::json!(self.source.sha256);
            d["exporter"] = serde_json::json!(format!("ultralytics {}", e.ultralytics));
            d["export"] = serde_json::json!(e.settings);
        }
        d
    }

    fn predict(&self, sample: &Sample, photo: &SamplePhoto) -> Prediction {
        // The cache key needs the image's hash; without a cache, skip hashing altogether.
        let key = match &self.cache {
            None => None,
            Some(_) => match photo.sha256() {
                // The runtime and its execution provider are part of the key: another ONNX
                // Runtime or a GPU may give other probabilities.
                Ok(sha) => Some(PredictionCache::key(
                    &self.source.sha256,
                    self.adapter.kind(),
                    &format!(
                        "{};runtime={};provider={}{}",
                        super::adapters::params_of(self.adapter.as_ref()),
                        super::engine::ORT_VERSION,
                        super::engine::EXECUTION_PROVIDER,
                        // Entries with near pixels are kept apart from those without.
                        match self.source.noise_epsilon {
                            e if e > 0.0 => format!(";near={e}"),
                            _ => String::new(),
                        }
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
        let Inferred {
            masks,
            near,
            instances,
            ..
        } = match cached {
            Some(m) => {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                if let (Some(meter), Some(k)) = (&self.meter, key.as_deref()) {
                    meter.served(k, m.latency.clone());
                }
                m
            }
            None => match self.infer(photo) {
                Ok(m) => {
                    if let Some((c, k)) = self.cache.as_ref().zip(key.as_deref()) {
                        if let Some(meter) = &self.meter {
                            meter.timed_key(k);
                        }
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
            near,
            instances,
            classes_complete: false,
        }
    }
}
