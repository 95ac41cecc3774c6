//! One-channel probability models. `mediapipe-selfie`: MediaPipe's graph — stretch to the model
//! size with top-left bilinear sampling and no antialiasing (`x_src = x · W / w_model`), `/255`,
//! output already a probability, resized back with the same sampling. `sigmoid`: the same with
//! configurable mean/std and, with `logits = true`, a sigmoid on the output (skin masks).

use super::{
    input_hw, one_class, single_map, threshold, threshold_mask, AdapterSettings, Segmenter,
};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::RgbImage;
use crate::predict::resample::topleft_bilinear_f32;
use maskgate_core::Mask;
use std::collections::BTreeMap;

pub struct Probability {
    kind: &'static str,
    class: String,
    threshold: f64,
    mean: [f64; 3],
    std: [f64; 3],
    logits: bool,
}

impl Probability {
    pub fn mediapipe(s: &AdapterSettings) -> Result<Probability, String> {
        Ok(Probability {
            kind: "mediapipe-selfie",
            class: one_class(s, "mediapipe-selfie")?,
            threshold: threshold(s, 0.5)?,
            mean: [0.0; 3],
            std: [1.0; 3],
            logits: false,
        })
    }

    pub fn sigmoid(s: &AdapterSettings) -> Result<Probability, String> {
        let std = s.std.unwrap_or([1.0; 3]);
        if std.contains(&0.0) {
            return Err("std must not be 0".into());
        }
        Ok(Probability {
            kind: "sigmoid",
            class: one_class(s, "sigmoid")?,
            threshold: threshold(s, 0.5)?,
            mean: s.mean.unwrap_or([0.0; 3]),
            std,
            logits: s.logits,
        })
    }

    fn prob(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<Vec<f32>, String> {
        let (mh, mw, pred) = single_map(outputs.first().ok_or("the model returned no output")?)?;
        let p: Vec<f32> = if self.logits {
            pred.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect()
        } else {
            pred.to_vec()
        };
        Ok(topleft_bilinear_f32(&p, mw, mh, 1, w, h))
    }
}

impl Segmenter for Probability {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn params(&self) -> String {
        format!(
            "class={};threshold={};mean={:?};std={:?};logits={}",
            self.class, self.threshold, self.mean, self.std, self.logits
        )
    }
    fn check(&self, model: &Model) -> Result<(), String> {
        let (h, w) = input_hw(model)?;
        match model.outputs.first().map(|o| o.shape.as_slice()) {
            Some([_, Some(1), _, _]) => Ok(()),
            Some([_, oh, ow]) if *oh == Some(h) && *ow == Some(w) => Ok(()),
            other => Err(format!(
                "{} expects a one-channel [1, 1, H, W] output, the model gives {other:?}",
                self.kind
            )),
        }
    }
    fn preprocess(&self, img: &RgbImage, model: &Model) -> Result<Tensor, String> {
        let (mh, mw) = input_hw(model)?;
        let unit: Vec<f32> = img.data.iter().map(|&v| v as f32 / 255.0).collect();
        let small = topleft_bilinear_f32(&unit, img.w, img.h, 3, mw, mh);
        let mut data = vec![0f32; 3 * mw * mh];
        for i in 0..mw * mh {
            for c in 0..3 {
                data[c * mw * mh + i] =
                    ((small[i * 3 + c] as f64 - self.mean[c]) / self.std[c]) as f32;
            }
        }
        Ok(Tensor {
            shape: vec![1, 3, mh, mw],
            data,
        })
    }
    fn postprocess(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
    ) -> Result<BTreeMap<String, Mask>, String> {
        let p = self.prob(outputs, w, h)?;
        Ok(BTreeMap::from([(
            self.class.clone(),
            threshold_mask(&p, w, h, self.threshold),
        )]))
    }
    fn probability(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
    ) -> Option<Result<Vec<f32>, String>> {
        Some(self.prob(outputs, w, h))
    }
}
