//! Stage 2, **predict**: arms produce a [`Prediction`] per sample. An arm is a prediction dump
//! today ([`predictions::PredictionsFile`]); model adapters and post-processing variants plug in
//! behind the same [`Arm`] trait.

pub mod predictions;

use crate::model::{Prediction, Sample};

pub trait Arm: Send + Sync {
    fn name(&self) -> &str;
    /// The arm's output for one sample. Never fails: a missing or broken prediction is a
    /// [`Prediction`] carrying its [`crate::model::FailReason`].
    fn predict(&self, sample: &Sample) -> Prediction;
}
