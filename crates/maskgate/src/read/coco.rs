//! `coco`: a COCO instances file (`path` = the annotations JSON). Each image is a sample; each
//! annotation's `segmentation` is rasterised as pycocotools' `annToRLE` does — polygons through
//! `rleFrPoly` and unioned, uncompressed RLE (`counts` a list, usual for `iscrowd: 1`) and
//! compressed RLE (`counts` a string) decoded — and a class is the union of its categories'
//! instances. Crowd regions count as their category's pixels (a semantic GT) unless the option
//! `crowd = "void"` makes them void; `ignore` can void a category. `file_name` is taken from the
//! `images` option (a folder) or the JSON's folder.
//!
//! The file is parsed once; annotations are kept as their compact JSON forms (polygons, RLE
//! counts), never as pixels.

use super::classmap::{ClassMap, RawInstance};
use super::ndjson::parse_mask;
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Coco;

struct Annotation {
    /// The annotation's `id` (0 when absent: COCOeval then counts its matches as misses).
    id: u64,
    native: usize,
    crowd: bool,
    /// The annotation's `area`, which COCOeval's area ranges read.
    area: Option<f64>,
    segmentation: Value,
}

struct Image {
    h: u32,
    w: u32,
    /// At most `max_annotations_per_image` of them: past it only `count` grows.
    annotations: Vec<Annotation>,
    count: usize,
}

fn u32_field(v: &Value, key: &str) -> Option<u32> {
    v.get(key)?
        .as_u64()
        .filter(|&x| x > 0 && x <= 1 << 16)
        .map(|x| x as u32)
}

impl CorpusReader for Coco {
    fn format(&self) -> &'static str {
        "coco"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&["images", "crowd"])?;
        spec.refuse_split()?;
        let crowd_void = spec.option_choice("crowd", &["class", "void"])? == 1;
        let path = &spec.path;
        let file = crate::limits::open_within(path, spec.limits.max_file_bytes)
            .map_err(|e| e.into_error(path, "[limits] max_file_bytes"))?;
        let doc: Value = serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| Error::input(path, e.line(), format!("invalid JSON: {e}")))?;
        let list = |key: &str| -> Result<&Vec<Value>> {
            doc.get(key).and_then(Value::as_array).ok_or_else(|| {
                Error::file(
                    path,
                    format!("no \"{key}\" list: not a COCO instances file"),
                )
            })
        };
        // Natives: category names in id order; a category id maps to its position.
        let mut cats: Vec<(u64, String)> = list("categories")?
            .iter()
            .map(|c| {
                let id = c.get("id").and_then(Value::as_u64);
                let name = c.get("name").and_then(Value::as_str);
                id.zip(name.map(String::from))
                    .ok_or_else(|| Error::file(path, format!("category without id/name: {c}")))
            })
            .collect::<Result<_>>()?;
        cats.sort();
        let natives: Vec<&str> = cats.iter().map(|(_, n)| n.as_str()).collect();
        let map = ClassMap::resolve(
            spec,
            &natives,
            &["_background_", "background", "__ignore__"],
        )?;
        let native_of: BTreeMap<u64, usize> = cats
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();

        let base = match spec.options.get("images") {
            Some(d) => crate::tomlfile::resolve(path, d),
            None => path.parent().map(|p| p.to_path_buf()).unwrap_or_default(),
        };
        let mut images: BTreeMap<u64, (Entry, Image)> = BTreeMap::new();
        let mut problems = Vec::new();
        for im in list("images")? {
            let (Some(id), Some(name)) = (
                im.get("id").and_then(Value::as_u64),
                im.get("file_name").and_then(Value::as_str),
            ) else {
                return Err(Error::file(
                    path,
                    format!("image without id/file_name: {im}"),
                ));
            };
            let sample = name.rsplit_once('.').map_or(name, |x| x.0).to_string();
            let (Some(h), Some(w)) = (u32_field(im, "height"), u32_field(im, "width")) else {
                problems.push(Problem {
                    sample,
                    kind: "bad_annotation".into(),
                    message: "image without a positive height/width".into(),
                });
                continue;
            };
            let mut e = Entry::new(&spec.name, sample);
            e.source = Some("coco".into());
            e.image = Some(base.join(name));
            e.at = id;
            images.insert(
                id,
                (
                    e,
                    Image {
                        h,
                        w,
                        annotations: Vec::new(),
                        count: 0,
                    },
                ),
            );
        }
        for (i, a) in list("annotations")?.iter().enumerate() {
            let image_id = a.get("image_id").and_then(Value::as_u64);
            let cat = a.get("category_id").and_then(Value::as_u64);
            let seg = a.get("segmentation");
            let what = format!(
                "annotation #{i} (id {})",
                a.get("id").unwrap_or(&Value::Null)
            );
            let (Some(image_id), Some(cat), Some(seg)) = (image_id, cat, seg) else {
                problems.push(Problem {
                    sample: what,
                    kind: "bad_annotation".into(),
                    message: "needs image_id, category_id and segmentation".into(),
                });
                continue;
            };
            let (Some((_, img)), Some(&native)) = (images.get_mut(&image_id), native_of.get(&cat))
            else {
                problems.push(Problem {
                    sample: what,
                    kind: "bad_annotation".into(),
                    message: format!("image {image_id} or category {cat} is not in the file"),
                });
                continue;
            };
            img.count += 1;
            // An image past the limit is refused when loaded; its annotations are not kept.
            if img.count as u64 <= spec.limits.max_annotations_per_image {
                img.annotations.push(Annotation {
                    // COCOeval records a match by the id and reads 0 as none: any other number
                    // (negative, fractional) matches.
                    id: match a.get("id").map(|v| (v.as_u64(), v.as_f64())) {
                        Some((Some(id), _)) => id,
                        Some((None, Some(f))) if f != 0.0 => u64::MAX,
                        _ => 0,
                    },
                    native,
                    // Truthy, as Python reads it (`true`, 1, 2…).
                    crowd: match a.get("iscrowd") {
                        Some(Value::Bool(b)) => *b,
                        Some(v) => v.as_f64().is_some_and(|f| f != 0.0),
                        None => false,
                    },
                    area: a.get("area").and_then(Value::as_f64),
                    segmentation: seg.clone(),
                });
            }
        }
        let (entries, per_image): (Vec<Entry>, BTreeMap<u64, Image>) = images
            .into_iter()
            .map(|(id, (e, img))| (e, (id, img)))
            .unzip();
        Ok(Listing {
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                categories: std::sync::Arc::new(
                    (native_of.iter())
                        .map(|(id, &n)| (*id, map.classes_of(n)))
                        .collect(),
                ),
                map,
                crowd_void,
                images: per_image,
                limits: spec.limits,
            }),
            root: Some(base),
            index_files: Vec::new(),
            version: None,
        })
    }
}

/// One `segmentation` value as a mask on an `h × w` image, as pycocotools' `annToRLE`.
pub fn segmentation_mask(
    seg: &Value,
    h: u32,
    w: u32,
) -> std::result::Result<maskgate_core::Mask, String> {
    segmentation_data(seg, h, w)?.rasterize(None)
}

/// A COCO `segmentation` (polygons or RLE, whose size must be the image's) as mask data, not yet
/// rasterised: what an annotation and a results file's detection both hold.
pub fn segmentation_data(
    seg: &Value,
    h: u32,
    w: u32,
) -> std::result::Result<crate::model::MaskData, String> {
    Ok(match seg {
        Value::Array(rings) => {
            let obj = serde_json::json!({ "polygons": rings });
            parse_mask(&obj, Some((h, w)))?
        }
        Value::Object(_) => {
            let m = parse_mask(seg, None)?;
            if m.size() != (h, w) {
                return Err(format!(
                    "RLE size {:?} but the image is {h}x{w}",
                    [m.size().0, m.size().1]
                ));
            }
            m
        }
        _ => return Err("segmentation must be a polygon list or an RLE object".into()),
    })
}

struct Loader {
    map: ClassMap,
    /// Category id → evaluation classes, for COCO results files.
    categories: std::sync::Arc<BTreeMap<u64, Vec<String>>>,
    /// `crowd = "void"`: `iscrowd` regions are void instead of their category's pixels.
    crowd_void: bool,
    images: BTreeMap<u64, Image>,
    /// What one sample may cost (`[limits]`), checked before its canvas is allocated.
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let img = &self.images[&e.at];
        super::files::check_canvas(&self.limits, img.w, img.h)?;
        super::files::check_annotations(&self.limits, img.count)?;
        let vertices: usize = img
            .annotations
            .iter()
            .filter_map(|a| a.segmentation.as_array())
            .flatten()
            .filter_map(Value::as_array)
            .map(|ring| ring.len() / 2)
            .sum();
        super::files::check_vertices(&self.limits, vertices as u64)?;
        let mut instances = Vec::new();
        let mut raw = Vec::with_capacity(img.annotations.len());
        let mut crowd = maskgate_core::Mask::new(img.h, img.w);
        for a in &img.annotations {
            let m = segmentation_mask(&a.segmentation, img.h, img.w)
                .map_err(|m| LoadError::new("bad_annotation", m))?;
            if a.crowd && self.crowd_void {
                crowd.union_in_place(&m);
            } else {
                instances.push((a.native, m.clone()));
            }
            // COCOeval sees every annotation, crowds as crowds, whatever the semantic rule.
            raw.push(RawInstance {
                id: a.id,
                native: a.native,
                mask: m,
                area: a.area,
                crowd: a.crowd,
            });
        }
        let (gt, mut void) = self.map.from_instances(img.h, img.w, &instances);
        if !crowd.is_empty() {
            let mut all = match void {
                Some(v) => v
                    .rasterize(None)
                    .map_err(|m| LoadError::new("bad_annotation", m))?,
                None => maskgate_core::Mask::new(img.h, img.w),
            };
            all.union_in_place(&crowd);
            void = Some(crate::model::MaskData::Mask(all));
        }
        Ok(Truth {
            size: (img.h, img.w),
            gt,
            void,
            instances: Some(crate::model::GtInstances {
                image_id: Some(e.at),
                class_order: Some(self.map.names_in_native_order()),
                categories: Some(self.categories.clone()),
                list: self.map.gt_instances(&raw),
            }),
            ..Default::default()
        })
    }
}
