//! Post-processing operations on an arm's predicted masks, each a small pure function in its
//! own file. An [`Op`] names a class (`"*"` = every class) and its parameters; [`apply`] runs an
//! ordered list of them, the shape of a `[[variant]]`'s `ops`.

mod clip;
mod fill_holes;
mod keep_components;
mod min_coverage;
mod morphology;
mod remove_overlap;
mod threshold;

pub use clip::clip_to_region;
pub use fill_holes::fill_holes;
pub use keep_components::keep_components;
pub use min_coverage::{min_coverage, GuardAction};
pub use morphology::{close, dilate, erode, open};
pub use remove_overlap::remove_overlap;
pub use threshold::threshold;

use maskgate_core::Mask;
use serde::Deserialize;
use std::collections::BTreeMap;

pub type Masks = BTreeMap<String, Mask>;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Re-binarise a one-class arm's probability map at `value`.
    Threshold {
        class: String,
        value: f64,
    },
    Dilate {
        class: String,
        px: u32,
    },
    Erode {
        class: String,
        px: u32,
    },
    Open {
        class: String,
        px: u32,
    },
    Close {
        class: String,
        px: u32,
    },
    FillHoles {
        class: String,
    },
    /// Keep the largest 8-connected component, or every component of at least `min_area` px.
    KeepComponents {
        class: String,
        min_area: Option<u64>,
    },
    /// Remove `other` (dilated by `px`) from `class`, unless that would keep less than
    /// `min_kept_share` of the class (then the class is left as it was).
    RemoveOverlap {
        class: String,
        other: String,
        #[serde(default)]
        px: u32,
        #[serde(default)]
        min_kept_share: f64,
    },
    /// If `class` covers less than `min` of `of` (its area ÷ the area of `of`, or of the image),
    /// drop it or fall back to the arm's unprocessed mask.
    MinCoverage {
        class: String,
        of: Option<String>,
        min: f64,
        action: GuardAction,
    },
    /// Keep only the part of `class` inside `to` (dilated by `px`).
    Clip {
        class: String,
        to: String,
        #[serde(default)]
        px: u32,
    },
}

impl Op {
    pub fn class(&self) -> &str {
        match self {
            Op::Threshold { class, .. }
            | Op::Dilate { class, .. }
            | Op::Erode { class, .. }
            | Op::Open { class, .. }
            | Op::Close { class, .. }
            | Op::FillHoles { class }
            | Op::KeepComponents { class, .. }
            | Op::RemoveOverlap { class, .. }
            | Op::MinCoverage { class, .. }
            | Op::Clip { class, .. } => class,
        }
    }

    /// Classes besides `class` that the op reads.
    pub fn reads(&self) -> Vec<&str> {
        match self {
            Op::RemoveOverlap { other, .. } => vec![other],
            Op::MinCoverage { of: Some(o), .. } => vec![o],
            Op::Clip { to, .. } => vec![to],
            _ => vec![],
        }
    }
}

/// A one-class arm's probability map (0..1) at the image size, when the arm has one.
pub struct Probability<'a> {
    pub class: &'a str,
    pub w: usize,
    pub h: usize,
    pub values: &'a [f32],
}

/// Applies `ops` in order to `masks` (the arm's unprocessed masks stay available for
/// fallbacks). A class an op names but the prediction lacks is treated as empty, so a variant
/// that empties a class is still scored.
pub fn apply(ops: &[Op], original: &Masks, prob: Option<&Probability>) -> Result<Masks, String> {
    let mut masks = original.clone();
    let size = original.values().next().map(|m| (m.height(), m.width()));
    let empty = |size: Option<(u32, u32)>| size.map(|(h, w)| Mask::new(h, w));
    for op in ops {
        let targets: Vec<String> = if op.class() == "*" {
            masks.keys().cloned().collect()
        } else {
            vec![op.class().to_string()]
        };
        for class in targets {
            let Some(blank) = empty(size) else {
                continue; // nothing predicted at all: nothing to post-process
            };
            let current = masks.get(&class).unwrap_or(&blank);
            let other = |name: &str| masks.get(name).unwrap_or(&blank);
            let out = match op {
                Op::Threshold { value, .. } => {
                    let p = prob.filter(|p| p.class == class).ok_or_else(|| {
                        format!("threshold on {class:?} needs the arm's probability map (one-class model arms only)")
                    })?;
                    threshold(p.values, p.w, p.h, *value)
                }
                Op::Dilate { px, .. } => dilate(current, *px),
                Op::Erode { px, .. } => erode(current, *px),
                Op::Open { px, .. } => open(current, *px),
                Op::Close { px, .. } => close(current, *px),
                Op::FillHoles { .. } => fill_holes(current),
                Op::KeepComponents { min_area, .. } => keep_components(current, *min_area),
                Op::RemoveOverlap {
                    other: o,
                    px,
                    min_kept_share,
                    ..
                } => remove_overlap(current, other(o), *px, *min_kept_share),
                Op::MinCoverage {
                    of, min, action, ..
                } => {
                    let fallback = original.get(&class).unwrap_or(current);
                    min_coverage(current, of.as_deref().map(other), *min, *action, fallback)
                }
                Op::Clip { to, px, .. } => clip_to_region(current, other(to), *px),
            };
            masks.insert(class, out);
        }
    }
    Ok(masks)
}
