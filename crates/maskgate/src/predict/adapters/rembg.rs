//! `rembg`: u2net / u2netp / isnet-general-use sessions exactly as rembg 2.x runs them —
//! Pillow LANCZOS resize ignoring aspect, divide by the image's own max, mean/std, output 0
//! channel 0, per-image min–max, ×255 truncated to u8, Pillow LANCZOS back to the photo size.
//! Both resizes follow the Pillow release set by `pillow` ("13" by default, as a fresh install
//! resolves; "12"), since 13.0 changed the order of LANCZOS's two passes.

use super::{
    input_hw, one_class, single_map, threshold, to_chw, AdapterSettings, MasksAndNear, Segmenter,
};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::resample::{pil_resize, PilFilter, Pillow};
use maskgate_core::Mask;
use std::collections::BTreeMap;

pub struct Rembg {
    session: String,
    size: usize,
    mean: [f64; 3],
    std: [f64; 3],
    class: String,
    threshold: f64,
    /// The Pillow release rembg runs on: its LANCZOS pass order changed in 13.0.
    pillow: Pillow,
}

impl Rembg {
    pub fn new(s: &AdapterSettings) -> Result<Rembg, String> {
        let session = s.variant.clone().unwrap_or_else(|| "u2netp".into());
        let (size, mean, std) = match session.as_str() {
            "u2net" | "u2netp" => (320, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            "isnet-general-use" => (1024, [0.5, 0.5, 0.5], [1.0, 1.0, 1.0]),
            other => {
                return Err(format!(
                    "rembg session {other:?} unknown (u2net, u2netp, isnet-general-use)"
                ))
            }
        };
        Ok(Rembg {
            session,
            size,
            mean,
            std,
            class: one_class(s, "rembg")?,
            threshold: threshold(s, 0.5)?,
            // What `pip install rembg` resolves to today; production pinned to 12 says so.
            pillow: Pillow::parse(s.pillow.as_deref().unwrap_or("13"))?,
        })
    }

    /// The u8 mask rembg returns (before any thresholding), at the photo's size.
    pub fn alpha(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<Vec<u8>, String> {
        let (mh, mw, pred) = single_map(outputs.first().ok_or("the model returned no output")?)?;
        let (mut mi, mut ma) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in pred {
            mi = mi.min(v);
            ma = ma.max(v);
        }
        // numpy float32 arithmetic: (pred - mi) / (ma - mi), then * 255, astype(uint8) truncates.
        let small: Vec<u8> = pred
            .iter()
            .map(|&v| (((v - mi) / (ma - mi)) * 255.0) as u8)
            .collect();
        Ok(pil_resize(
            &small,
            mw,
            mh,
            1,
            w,
            h,
            PilFilter::Lanczos,
            self.pillow,
        ))
    }
}

impl Segmenter for Rembg {
    fn kind(&self) -> &'static str {
        "rembg"
    }
    fn decode(&self) -> DecodePolicy {
        // `remove()`: Image.open → ImageOps.exif_transpose → convert("RGB").
        DecodePolicy::Pillow
    }
    fn params(&self) -> String {
        // The class is part of the key: the cached masks are stored under it.
        format!(
            "class={};session={};threshold={};pillow={}",
            self.class,
            self.session,
            self.threshold,
            self.pillow.name()
        )
    }
    fn check(&self, model: &Model) -> Result<(), String> {
        let (h, w) = input_hw(model)?;
        if (h, w) != (self.size, self.size) {
            return Err(format!(
                "rembg {} expects a {s}x{s} input, the model takes {h}x{w}",
                self.session,
                s = self.size
            ));
        }
        Ok(())
    }
    fn preprocess(&self, img: &RgbImage, _: &Model) -> Result<Tensor, String> {
        let s = self.size;
        let px = pil_resize(
            &img.data,
            img.w,
            img.h,
            3,
            s,
            s,
            PilFilter::Lanczos,
            self.pillow,
        );
        let max = (*px.iter().max().unwrap_or(&0) as f64).max(1e-6);
        let data = to_chw(&px, s, s, |c, v| {
            ((v as f64 / max - self.mean[c]) / self.std[c]) as f32
        });
        Ok(Tensor {
            shape: vec![1, 3, s, s],
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
