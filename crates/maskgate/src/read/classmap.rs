//! The `classes` / `ignore` map of a `[[corpus]]`, resolved against a format's native labels:
//! evaluation class → native label indices, plus the native labels that are void.

use super::CorpusSpec;
use crate::error::{Error, Result};
use crate::model::{ClassMasks, MaskData};
use maskgate_core::{LabelMap, Mask};

#[derive(Clone, Debug)]
pub struct ClassMap {
    /// (evaluation class, native label indices), sorted by class.
    pub classes: Vec<(String, Vec<usize>)>,
    /// Native label indices treated as void.
    pub ignore: Vec<usize>,
    /// The classes in the order of their first native label, worked out once (every sample's
    /// instances carry it).
    native_order: std::sync::Arc<[String]>,
}

/// One instance as a source gives it, before the class map.
pub struct RawInstance {
    /// The source's id for it (COCO's annotation id; elsewhere its 1-based position).
    pub id: u64,
    pub native: usize,
    pub mask: Mask,
    pub area: Option<f64>,
    pub crowd: bool,
}

impl ClassMap {
    /// Resolves the spec's map against `natives` (index = native label id). Without a map, every
    /// native label not in `background` is its own class. Unknown names are an error listing the
    /// known ones.
    pub fn resolve(spec: &CorpusSpec, natives: &[&str], background: &[&str]) -> Result<ClassMap> {
        let find = |n: &str, what: &str| {
            natives.iter().position(|x| *x == n).ok_or_else(|| {
                Error::Usage(format!(
                    "corpus {:?}: {what} names unknown {} label {n:?} (known: {})",
                    spec.name,
                    spec.format,
                    natives.join(", ")
                ))
            })
        };
        let ignore = spec
            .ignore
            .iter()
            .map(|n| find(n, "ignore"))
            .collect::<Result<Vec<_>>>()?;
        let classes = if spec.classes.is_empty() {
            natives
                .iter()
                .enumerate()
                .filter(|(i, n)| !background.contains(n) && !ignore.contains(i) && !n.is_empty())
                .map(|(i, n)| (n.to_string(), vec![i]))
                .collect()
        } else {
            spec.classes
                .iter()
                .map(|(class, ns)| {
                    let ids = ns
                        .iter()
                        .map(|n| find(n, &format!("class {class:?}")))
                        .collect::<Result<Vec<_>>>()?;
                    if let Some(i) = ids.iter().find(|i| ignore.contains(i)) {
                        return Err(Error::Usage(format!(
                            "corpus {:?}: label {:?} is both in class {class:?} and ignored",
                            spec.name, natives[*i]
                        )));
                    }
                    Ok((class.clone(), ids))
                })
                .collect::<Result<Vec<_>>>()?
        };
        let mut classes: Vec<(String, Vec<usize>)> = classes;
        classes.sort();
        let mut by: Vec<(usize, &String)> = (classes.iter())
            .map(|(c, ids)| (ids.iter().copied().min().unwrap_or(usize::MAX), c))
            .collect();
        by.sort();
        let native_order = by.into_iter().map(|(_, c)| c.clone()).collect();
        Ok(ClassMap {
            classes,
            ignore,
            native_order,
        })
    }

    /// The classes in the order of their first native label (a COCO file's category ids, a
    /// YOLO dataset's indices): COCOeval's category order.
    pub fn names_in_native_order(&self) -> std::sync::Arc<[String]> {
        self.native_order.clone()
    }

    /// The evaluation classes native label `native` makes up.
    pub fn classes_of(&self, native: usize) -> Vec<String> {
        (self.classes.iter())
            .filter(|(_, ids)| ids.contains(&native))
            .map(|(c, _)| c.clone())
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.classes.iter().map(|(c, _)| c.clone()).collect()
    }

    /// Class masks and void from a label map whose values are native indices; `void_value`
    /// (VOC's 255) is void as well.
    pub fn from_labels(
        &self,
        labels: &LabelMap,
        void_value: Option<u8>,
    ) -> (ClassMasks, Option<MaskData>) {
        let as_u8 = |ids: &[usize]| -> Vec<u8> {
            ids.iter().filter(|&&i| i < 256).map(|&i| i as u8).collect()
        };
        let gt = self
            .classes
            .iter()
            .map(|(c, ids)| (c.clone(), MaskData::Mask(labels.mask_of(&as_u8(ids)))))
            .collect();
        let mut void_ids = as_u8(&self.ignore);
        void_ids.extend(void_value);
        let void = (!void_ids.is_empty())
            .then(|| labels.mask_of(&void_ids))
            .filter(|m| !m.is_empty())
            .map(MaskData::Mask);
        (gt, void)
    }

    /// Ground-truth instances for the instance metrics: one per evaluation class the native
    /// label makes up (none for a void or unmapped label). `area` is the source's own
    /// (COCO's field), else the pixel count.
    pub fn gt_instances(&self, raw: &[RawInstance]) -> Vec<crate::model::GtInstance> {
        let mut out = Vec::new();
        for r in raw {
            let region = maskgate_core::cocoeval::Region::of(&r.mask);
            for class in self.classes_of(r.native) {
                out.push(crate::model::GtInstance {
                    id: r.id,
                    class,
                    region: region.clone(),
                    area: r.area.unwrap_or(region.area() as f64),
                    crowd: r.crowd,
                });
            }
        }
        out
    }

    /// Class masks and void from instances `(native index, mask)` on an `h × w` canvas: a class
    /// is the union of its labels' instances.
    pub fn from_instances(
        &self,
        h: u32,
        w: u32,
        instances: &[(usize, Mask)],
    ) -> (ClassMasks, Option<MaskData>) {
        let union_of = |ids: &[usize]| {
            let mut m = Mask::new(h, w);
            for (_, inst) in instances.iter().filter(|(n, _)| ids.contains(n)) {
                m.union_in_place(inst);
            }
            m
        };
        let gt = self
            .classes
            .iter()
            .map(|(c, ids)| (c.clone(), MaskData::Mask(union_of(ids))))
            .collect();
        let void = Some(union_of(&self.ignore))
            .filter(|m| !m.is_empty())
            .map(MaskData::Mask);
        (gt, void)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(classes: &[(&str, &[&str])], ignore: &[&str]) -> CorpusSpec {
        CorpusSpec {
            name: "c".into(),
            format: "f".into(),
            classes: classes
                .iter()
                .map(|(c, ns)| (c.to_string(), ns.iter().map(|s| s.to_string()).collect()))
                .collect::<BTreeMap<_, _>>(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn default_map_is_every_native_but_background_and_ignored() {
        let m = ClassMap::resolve(&spec(&[], &["b"]), &["bg", "a", "b"], &["bg"]).unwrap();
        assert_eq!(m.classes, vec![("a".to_string(), vec![1])]);
        assert_eq!(m.ignore, vec![2]);
    }

    #[test]
    fn unknown_and_contradictory_labels_are_errors() {
        let e = ClassMap::resolve(&spec(&[("x", &["nope"])], &[]), &["bg", "a"], &["bg"]);
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("\"nope\" (known: bg, a)"));
        let e = ClassMap::resolve(&spec(&[("x", &["a"])], &["a"]), &["bg", "a"], &["bg"]);
        assert!(e.unwrap_err().to_string().contains("both in class"));
    }

    #[test]
    fn labels_split_into_classes_and_void() {
        let m = ClassMap::resolve(
            &spec(&[("fg", &["a", "b"])], &["c"]),
            &["bg", "a", "b", "c"],
            &[],
        )
        .unwrap();
        let mut labels = LabelMap::new(1, 5, 0);
        labels.data = vec![0, 1, 2, 3, 255];
        let (gt, void) = m.from_labels(&labels, Some(255));
        let fg = gt["fg"].rasterize(None).unwrap();
        assert_eq!(fg.to_rows(), vec![vec![0, 1, 1, 0, 0]]);
        assert_eq!(
            void.unwrap().rasterize(None).unwrap().to_rows(),
            vec![vec![0, 0, 0, 1, 1]]
        );
    }
}
