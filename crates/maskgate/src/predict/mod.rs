//! Stage 2, **predict**: arms produce a [`Prediction`] per sample — a prediction dump
//! ([`predictions::PredictionsFile`]) or a model run through ONNX Runtime with its family's exact
//! pre- and post-processing ([`model_arm::ModelArm`] over an [`adapters::Segmenter`]), all behind
//! the same [`Arm`] trait.

pub mod adapters;
pub mod cache;
pub mod checkpoint;
pub mod engine;
pub mod image;
pub mod meter;
pub mod model_arm;
pub mod onnx_shape;
pub mod postprocess;
pub mod predictions;
pub mod saved;
pub mod variants;

use crate::model::{Prediction, Sample};
use image::SamplePhoto;

pub trait Arm: Send + Sync {
    fn name(&self) -> &str;
    /// The arm's output for one sample; `photo` is the sample's image, read and decoded at most
    /// once for all arms. Never fails: a missing or broken prediction is a [`Prediction`]
    /// carrying its [`crate::model::FailReason`].
    fn predict(&self, sample: &Sample, photo: &SamplePhoto) -> Prediction;
    /// Describes the arm for the report (adapter, model hash, parameters).
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name()})
    }
    /// Whether this arm's inferences occupy every core (a loaded heavy model): samples are
    /// then processed one at a time, since work beside such an inference only slows it down
    /// (measured on 2 cores: u2netp + ISNet wall 57.6 s with two workers, 52.3 s with one).
    fn occupies_every_core(&self) -> bool {
        false
    }
    /// Whether the arm's thread layout is known before scoring: not for a model arm whose
    /// model has yet to load (a cache miss loads it on the first sample).
    fn layout_known(&self) -> bool {
        true
    }
}

/// Every arm's prediction of one sample, then every variant's, derived in order from its
/// source's prediction (no second inference). `observer` hears how long each arm took.
pub fn predict_sample<'a>(
    s: &Sample,
    photo: &SamplePhoto,
    arms: &[&'a dyn Arm],
    variants: &'a [variants::Variant],
    observer: &dyn crate::observe::Observer,
) -> Vec<(&'a str, crate::model::Prediction)> {
    let mut preds: Vec<(&str, crate::model::Prediction)> = arms
        .iter()
        .map(|a| {
            let started = std::time::Instant::now();
            let p = a.predict(s, photo);
            observer.predicted(a.name(), started.elapsed().as_secs_f64());
            (a.name(), p)
        })
        .collect();
    if let Some(pm) = &s.predicted_modules {
        // Before the variants, so a variant can post-process the derived modules.
        preds.iter_mut().for_each(|(_, p)| pm.apply(p));
    }
    if !variants.is_empty() {
        // Decode each source mask once here, not once per variant that reads it.
        for (_, p) in preds.iter_mut() {
            for m in p.masks.values_mut() {
                if !matches!(m, crate::model::MaskData::Mask(_)) {
                    if let Ok(decoded) = m.rasterize(None) {
                        *m = crate::model::MaskData::Mask(decoded);
                    }
                }
            }
        }
    }
    for v in variants {
        let derived = match preds.iter().find(|(n, _)| *n == v.from) {
            Some((_, src)) => v.derive(src),
            None => crate::model::Prediction {
                fail: Some(crate::model::FailReason::PostprocessFailed),
                ..Default::default()
            },
        };
        preds.push((v.name.as_str(), derived));
    }
    preds
}
