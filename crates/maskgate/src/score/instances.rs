//! The instance half of scoring: one sample's ground-truth instances against one arm's
//! predicted instances, evaluated as COCOeval's `evaluateImg` evaluates an image
//! (`maskgate_core::cocoeval`). A sample's records are all that accumulation reads, so the
//! corpus's mask AP/AR are accumulated later (`crate::aggregate::instance_rows`) over any
//! selection of samples: a group, a shard's merge, a bootstrap draw.

use crate::model::PredInstance;
use maskgate_core::cocoeval::{self, CategoryEval, Params, Region};

/// One (arm, sample)'s instance evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstanceEval {
    /// The COCO image id, where the corpus is COCO's: accumulation goes in its order.
    pub image_id: Option<u64>,
    /// The corpus's classes in category order, where it has one (see
    /// [`crate::model::GtInstances::class_order`]).
    pub class_order: Option<std::sync::Arc<[String]>>,
    /// The arm gave instances for this sample (an empty list included); otherwise its ground
    /// truth counts as missed where the arm gives instances elsewhere.
    pub detections: bool,
    /// Ground-truth instances and detections of the corpus's classes.
    pub gts: u32,
    pub dts: u32,
    /// Per class with a ground truth or a detection, by name, in class order.
    pub classes: Vec<(String, CategoryEval)>,
}

impl InstanceEval {
    /// The records as `accumulate` reads them: each class by its index in a category list
    /// (`index`: class → position); a class the list lacks is left out.
    pub fn by_index(
        &self,
        index: &std::collections::BTreeMap<&str, usize>,
    ) -> Vec<(usize, &CategoryEval)> {
        (self.classes.iter())
            .filter_map(|(c, ev)| Some((*index.get(c.as_str())?, ev)))
            .collect()
    }
}

/// The ground truth of one sample in COCOeval's terms, built once for every arm.
pub struct GtSide {
    gts: Vec<cocoeval::GtInstance>,
    image_id: Option<u64>,
    class_order: Option<std::sync::Arc<[String]>>,
}

impl GtSide {
    /// `classes` are the corpus's; an instance of another class plays no part.
    pub fn new(instances: &crate::model::GtInstances, classes: &[String]) -> GtSide {
        GtSide {
            gts: (instances.list.iter())
                .filter_map(|g| {
                    Some(cocoeval::GtInstance {
                        id: g.id,
                        image: 0,
                        category: classes.iter().position(|c| *c == g.class)?,
                        mask: g.region.clone(),
                        area: g.area,
                        crowd: g.crowd,
                    })
                })
                .collect(),
            image_id: instances.image_id,
            class_order: instances.class_order.clone(),
        }
    }
}

/// The records of a sample the arm gave no instances for: every ground truth missed.
pub fn missed(gt: &GtSide, classes: &[String], size: (u32, u32)) -> InstanceEval {
    // No detection: nothing to refuse.
    evaluate(gt, Some(&[]), classes, size).unwrap_or_default()
}

/// Evaluates `preds` against the sample's ground truth on a `size` (height, width) canvas. A
/// detection of a class the corpus lacks is left out, as COCOeval leaves out a category the
/// ground truth does not declare; a mask on another canvas is an error naming it.
pub fn evaluate(
    gt: &GtSide,
    preds: Option<&[PredInstance]>,
    classes: &[String],
    size: (u32, u32),
) -> Result<InstanceEval, String> {
    let given = preds.is_some();
    let preds = preds.unwrap_or_default();
    let mut dts = Vec::with_capacity(preds.len());
    for (n, p) in preds.iter().enumerate() {
        let Some(category) = classes.iter().position(|c| *c == p.class) else {
            continue;
        };
        if (p.mask.h, p.mask.w) != size {
            return Err(format!(
                "instance {} ({:?}) has a {}x{} mask on a {}x{} sample; give instance masks on the photo's canvas",
                n + 1,
                p.class,
                p.mask.w,
                p.mask.h,
                size.1,
                size.0
            ));
        }
        let mask = Region::from_rle(&p.mask)
            .map_err(|e| format!("instance {} ({:?}): bad RLE: {e}", n + 1, p.class))?;
        dts.push(cocoeval::DtInstance {
            image: 0,
            category,
            mask,
            score: p.score,
        });
    }
    let evals = cocoeval::evaluate_image(classes.len(), &gt.gts, &dts, &Params::default());
    Ok(InstanceEval {
        image_id: gt.image_id,
        class_order: gt.class_order.clone(),
        detections: given,
        gts: gt.gts.len() as u32,
        dts: dts.len() as u32,
        classes: evals
            .into_iter()
            .map(|(k, e)| (classes[k].clone(), e))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GtInstance;
    use maskgate_core::{Mask, Rle};

    fn square(x: u32, y: u32, s: u32) -> Mask {
        Mask::from_fn(32, 32, |r, c| c >= x && c < x + s && r >= y && r < y + s)
    }

    #[test]
    fn detections_of_foreign_classes_are_left_out_and_foreign_canvases_refused() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let m = square(2, 2, 10);
        let gt = GtSide::new(
            &crate::model::GtInstances {
                image_id: None,
                class_order: None,
                categories: None,
                list: vec![GtInstance {
                    id: 1,
                    class: "dog".into(),
                    region: Region::of(&m),
                    area: m.area() as f64,
                    crowd: false,
                }],
            },
            &classes,
        );
        let pred = |class: &str, mask: &Mask| PredInstance {
            class: class.into(),
            score: 0.9,
            mask: Rle::encode(mask),
        };
        let e = evaluate(
            &gt,
            Some(&[pred("dog", &m), pred("zebra", &m)]),
            &classes,
            (32, 32),
        )
        .unwrap();
        assert_eq!((e.gts, e.dts), (1, 1));
        assert_eq!(e.classes.len(), 1);
        assert_eq!(e.classes[0].0, "dog");
        // Matched at every threshold (bits 0..10), in every area range where it counts.
        assert_eq!(e.classes[0].1.areas[0].matched, vec![0x3ff]);
        let other = Mask::new(16, 32);
        let err = evaluate(&gt, Some(&[pred("cat", &other)]), &classes, (32, 32)).unwrap_err();
        assert!(err.contains("32x16 mask on a 32x32 sample"), "{err}");
    }
}
