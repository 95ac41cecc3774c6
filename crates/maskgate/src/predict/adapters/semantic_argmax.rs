//! `semantic-argmax`: an N-class logit map → label map → one mask per evaluation class. The
//! reference layout is BiSeNet face parsing: Pillow BILINEAR resize to the model size ignoring
//! aspect, `/255`, ImageNet mean/std, output 0 `[1, N, H, W]`, argmax over N, nearest neighbour
//! (OpenCV `INTER_NEAREST`) back to the photo size.

use super::{input_hw, AdapterSettings, MasksAndNear, Segmenter};
use crate::predict::engine::{Model, Tensor};
use crate::predict::image::{DecodePolicy, RgbImage};
use maskgate_core::resample::{nearest_floor, pil_resize, PilFilter, Pillow};
use maskgate_core::LabelMap;
use maskgate_core::Mask;
use std::collections::BTreeMap;

pub struct SemanticArgmax {
    labels: Vec<String>,
    /// Evaluation class → label indices.
    classes: BTreeMap<String, Vec<u8>>,
    mean: [f64; 3],
    std: [f64; 3],
    /// The caller decodes: Pillow by default (torchvision's loaders open photos with it).
    decode: DecodePolicy,
}

impl SemanticArgmax {
    pub fn new(s: &AdapterSettings) -> Result<SemanticArgmax, String> {
        if s.labels.is_empty() || s.labels.len() > 255 {
            return Err("semantic-argmax needs `labels`: the model's class names by output channel (1..255)".into());
        }
        let index = |n: &String| {
            s.labels
                .iter()
                .position(|l| l == n)
                .map(|i| i as u8)
                .ok_or_else(|| format!("class map names {n:?}, which is not in `labels`"))
        };
        let classes = if s.classes.is_empty() {
            s.labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), vec![i as u8]))
                .collect()
        } else {
            s.classes
                .iter()
                .map(|(c, ls)| {
                    Ok((
                        c.clone(),
                        ls.iter().map(index).collect::<Result<Vec<u8>, String>>()?,
                    ))
                })
                .collect::<Result<_, String>>()?
        };
        Ok(SemanticArgmax {
            decode: s.decode_or(DecodePolicy::Pillow)?,
            labels: s.labels.clone(),
            classes,
            mean: s.mean.unwrap_or([0.485, 0.456, 0.406]),
            std: s.std.unwrap_or([0.229, 0.224, 0.225]),
        })
    }

    /// The label map at the photo's size.
    pub fn labels(&self, outputs: &[Tensor], w: usize, h: usize) -> Result<LabelMap, String> {
        let (scan, _) = self.scan(outputs, None)?;
        Ok(scan.at(w, h))
    }

    /// One pass over the scores at the model's size: each pixel's argmax (first maximum wins,
    /// as numpy's argmax) and, with an `eps`, per class whether the pixel is near (see
    /// [`Segmenter::postprocess_near`]): a pixel whose best score has others within `eps` may
    /// go to any of those labels, so it is near for a class that holds the best label but not
    /// one of the others, or one of the others but not the best.
    fn scan(&self, outputs: &[Tensor], eps: Option<f64>) -> Result<(Small, Vec<Vec<u8>>), String> {
        let t = outputs.first().ok_or("the model returned no output")?;
        let [_, n, mh, mw] = t.shape.as_slice() else {
            return Err(format!("expected a [1, N, H, W] output, got {:?}", t.shape));
        };
        let (n, mh, mw) = (*n, *mh, *mw);
        if n != self.labels.len() {
            return Err(format!(
                "the model outputs {n} channels but {} labels are configured",
                self.labels.len()
            ));
        }
        let plane = mh * mw;
        let mut labels = vec![0u8; plane];
        let mut near: Vec<Vec<u8>> = match eps {
            Some(_) => vec![vec![0u8; plane]; self.classes.len()],
            None => Vec::new(),
        };
        let mut rivals = Vec::with_capacity(n);
        for i in 0..plane {
            let score = |c: usize| t.data[c * plane + i];
            if (0..n).any(|c| score(c).is_nan()) {
                return Err("the model output contains NaN".into());
            }
            let best = (0..n).fold(0, |b, c| if score(c) > score(b) { c } else { b });
            labels[i] = best as u8;
            let Some(eps) = eps else { continue };
            rivals.clear();
            rivals.extend(
                (0..n).filter(|&c| c != best && score(best) as f64 - score(c) as f64 <= eps),
            );
            for (near, ids) in near.iter_mut().zip(self.classes.values()) {
                let holds = |c: usize| ids.contains(&(c as u8));
                near[i] = rivals.iter().any(|&r| holds(r) != holds(best)) as u8;
            }
        }
        Ok((
            Small {
                data: labels,
                mw,
                mh,
            },
            near,
        ))
    }
}

/// A map at the model's size, brought to the photo's by nearest-neighbour (floor) sampling.
struct Small {
    data: Vec<u8>,
    mw: usize,
    mh: usize,
}

impl Small {
    fn at(&self, w: usize, h: usize) -> LabelMap {
        let data = nearest_floor(&self.data, self.mw, self.mh, w, h);
        LabelMap {
            h: h as u32,
            w: w as u32,
            data,
        }
    }
}

impl SemanticArgmax {
    /// Each class's mask: the pixels labelled with one of its ids.
    fn masks(&self, labels: &LabelMap) -> BTreeMap<String, Mask> {
        (self.classes.iter())
            .map(|(c, ids)| (c.clone(), labels.mask_of(ids)))
            .collect()
    }
}

impl Segmenter for SemanticArgmax {
    fn kind(&self) -> &'static str {
        "semantic-argmax"
    }
    fn decode(&self) -> DecodePolicy {
        self.decode
    }
    fn params(&self) -> String {
        format!(
            "labels={:?};classes={:?};mean={:?};std={:?}",
            self.labels, self.classes, self.mean, self.std
        )
    }
    fn check(&self, model: &Model) -> Result<(), String> {
        input_hw(model)?;
        match model.outputs.first().map(|o| o.shape.as_slice()) {
            Some([_, Some(n), _, _]) if *n != self.labels.len() => Err(format!(
                "the model outputs {n} channels but {} labels are configured",
                self.labels.len()
            )),
            Some([_, _, _, _]) => Ok(()),
            other => Err(format!(
                "semantic-argmax expects a [1, N, H, W] output, the model gives {other:?}"
            )),
        }
    }
    fn preprocess(&self, img: &RgbImage, model: &Model) -> Result<Tensor, String> {
        let (mh, mw) = input_hw(model)?;
        // The face-parsing references this adapter was checked against ran Pillow 12.
        let px = pil_resize(
            &img.data,
            img.w,
            img.h,
            3,
            mw,
            mh,
            PilFilter::Bilinear,
            Pillow::V12,
        );
        let data = super::to_chw(&px, mw, mh, |c, v| {
            ((v as f64 / 255.0 - self.mean[c]) / self.std[c]) as f32
        });
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
        Ok(self.masks(&self.labels(outputs, w, h)?))
    }
    fn postprocess_near(
        &self,
        outputs: &[Tensor],
        w: usize,
        h: usize,
        eps: f64,
    ) -> Result<MasksAndNear, String> {
        let (labels, near) = self.scan(outputs, Some(eps))?;
        let masks = self.masks(&labels.at(w, h));
        let near = self
            .classes
            .keys()
            .zip(near)
            .map(|(c, small)| {
                let near = Small {
                    data: small,
                    ..labels
                };
                (c.clone(), near.at(w, h).mask_of(&[1]))
            })
            .collect();
        Ok((masks, near))
    }
}
