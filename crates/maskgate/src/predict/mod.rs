//! Stage 2, **predict**: arms produce a [`Prediction`] per sample — a prediction dump
//! ([`predictions::PredictionsFile`]) or a model run through ONNX Runtime with its family's exact
//! pre- and post-processing ([`model_arm::ModelArm`] over an [`adapters::Segmenter`]), all behind
//! the same [`Arm`] trait.

pub mod adapters;
pub mod cache;
pub mod engine;
pub mod image;
pub mod model_arm;
pub mod postprocess;
pub mod predictions;
pub mod resample;
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
}
