//! One-channel probability models. `mediapipe-selfie`: MediaPipe's legacy selfie-segmentation
//! CPU graph — `ImageToTensorCalculator` stretches the photo to the model size with OpenCV's
//! fixed-point `warpPerspective` (corners to corners), `× 1/255`; the output is already a
//! probability, and `TensorsToSegmentationCalculator` brings it back with `cv::resize`'s
//! half-pixel bilinear (`opencv_linear.rs`). `sigmoid`: a stretch with top-left bilinear sampling
//! and no antialiasing (`x_src = x · W / w_model`), configurable mean/std, the same sampling back,
//! and with `logits = true` a sigmoid on the output (skin masks).

use super::{input_hw, one_class, single_map, threshold, AdapterSettings, MasksAndNear, Segmenter};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::opencv_linear;
use maskgate_core::resample::{topleft_bilinear_f32, TopLeftGrid};
use maskgate_core::Mask;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub struct Probability {
    kind: &'static str,
    class: String,
    threshold: f64,
    mean: [f64; 3],
    std: [f64; 3],
    logits: bool,
    /// MediaPipe's OpenCV resampling in and out (else top-left bilinear both ways).
    opencv: bool,
    /// The caller decodes: OpenCV for MediaPipe (its own examples and tests read photos with
    /// `cv2.imread`), Pillow for a generic sigmoid model.
    decode: DecodePolicy,
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
            opencv: true,
            decode: s.decode_or(DecodePolicy::OpenCv)?,
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
            opencv: false,
            decode: s.decode_or(DecodePolicy::Pillow)?,
        })
    }

    /// The model's map as probabilities at model resolution.
    fn model_map<'a>(
        &self,
        outputs: &'a [Tensor],
    ) -> Result<(usize, usize, Cow<'a, [f32]>), String> {
        let (mh, mw, pred) = single_map(outputs.first().ok_or("the model returned no output")?)?;
        let p = if self.logits {
            Cow::Owned(pred.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect())
        } else {
            Cow::Borrowed(pred)
        };
        Ok((mh, mw, p))
    }

    /// The class mask of the photo-size probabilities `p`.
    fn masks(&self, p: &[f32], w: usize, h: usize) -> BTreeMap<String, Mask> {
        let mask = Mask::from_row_major(h as u32, w as u32, |y, x| {
            p[y as usize * w + x as usize] as f64 >= self.threshold
        });
        BTreeMap::from([(self.class.clone(), mask)])
    }

    /// The photo-size probabilities exactly as the threshold sees them (row-major).
    fn decided_map(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<Vec<f32>, String> {
        if self.opencv {
            return self.prob(outputs, w, h);
        }
        let (mh, mw, p) = self.model_map(outputs)?;
        let grid = TopLeftGrid::new(mw, mh, 1, w, h);
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            out.extend((0..w).map(|x| grid.at(y, x, 0, |i| p[i] as f64) as f32));
        }
        Ok(out)
    }

    fn prob(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<Vec<f32>, String> {
        let (mh, mw, p) = self.model_map(outputs)?;
        Ok(if self.opencv {
            opencv_linear::resize_linear_f32(&p, mw, mh, w, h)
        } else {
            topleft_bilinear_f32(&p, mw, mh, 1, w, h)
        })
    }
}

impl Segmenter for Probability {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn decode(&self) -> DecodePolicy {
        self.decode
    }
    fn params(&self) -> String {
        format!(
            "class={};threshold={};mean={:?};std={:?};logits={}{}",
            self.class,
            self.threshold,
            self.mean,
            self.std,
            self.logits,
            if self.opencv { ";resize=opencv" } else { "" }
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
        if self.opencv {
            let small = opencv_linear::warp_scale_u8(&img.data, img.w, img.h, 3, mw, mh);
            let plane = mw * mh;
            let mut data = vec![0f32; 3 * plane];
            for (i, px) in small.chunks_exact(3).enumerate() {
                for (c, &v) in px.iter().enumerate() {
                    // convertTo(CV_32F, 1/255): a multiplication by the float reciprocal.
                    data[c * plane + i] = v as f32 * (1.0f32 / 255.0);
                }
            }
            return Ok(Tensor {
                shape: vec![1, 3, mh, mw],
                data,
            });
        }
        // Each source byte as the f32 `v / 255` it was scaled to, widened for the sampler.
        let unit: [f64; 256] = std::array::from_fn(|v| (v as f32 / 255.0) as f64);
        let grid = TopLeftGrid::new(img.w, img.h, 3, mw, mh);
        let plane = mw * mh;
        let mut data = vec![0f32; 3 * plane];
        for y in 0..mh {
            for x in 0..mw {
                for c in 0..3 {
                    let small = grid.at(y, x, c, |i| unit[img.data[i] as usize]) as f32;
                    data[c * plane + y * mw + x] =
                        ((small as f64 - self.mean[c]) / self.std[c]) as f32;
                }
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
        let p = self.decided_map(outputs, w, h)?;
        Ok(self.masks(&p, w, h))
    }
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String> {
        let p = self.decided_map(outputs, w, h)?;
        let near = super::near_f32(&p, w, h, self.threshold, eps);
        Ok((
            self.masks(&p, w, h),
            BTreeMap::from([(self.class.clone(), near)]),
        ))
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
