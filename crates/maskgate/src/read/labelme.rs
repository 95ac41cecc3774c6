//! `labelme`: a folder of labelme JSON files (`shapes` with `label`, `points`, `shape_type`;
//! `imagePath` relative to the JSON; `imageHeight`, `imageWidth`). Shapes are painted in file
//! order, a later shape over an earlier one, as labelme's own `labelme2voc` does; `__ignore__`
//! shapes are void by default.
//!
//! Rasteriser (`rasterizer` option): `labelme` (default) fills polygons and rectangles exactly as
//! labelme does, through Pillow's ImageDraw (ported in `maskgate_core::pil_draw`), so the masks
//! are those of labelme's own exports; `coco` uses COCO's pixel-centre rule instead, like the
//! COCO and YOLO readers (about one boundary pixel less). Circles are filled as 64-gons.

use super::classmap::ClassMap;
use super::files::{image_dims, list_files, polygon_mask};
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use maskgate_core::{pil_draw, LabelMap};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

pub struct Labelme;

#[derive(Deserialize)]
struct Shape {
    label: String,
    points: Vec<[f64; 2]>,
    #[serde(default)]
    shape_type: Option<String>,
    /// Shapes of one label with the same `group_id` are one instance (as `labelme2coco`).
    #[serde(default)]
    group_id: Option<serde_json::Value>,
}

/// The parts of a labelme file maskgate reads (`imageData` is skipped, not decoded).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    shapes: Vec<Shape>,
    image_path: String,
    image_height: u32,
    image_width: u32,
}

fn read_file(path: &Path, limits: &crate::limits::Limits) -> std::result::Result<File, String> {
    let f = crate::limits::open_within(path, limits.max_file_bytes)
        .map_err(|e| e.describe("[limits] max_file_bytes"))?;
    serde_json::from_reader(std::io::BufReader::new(f))
        .map_err(|e| format!("not a labelme file: {e}"))
}

const UNLABELLED: u8 = 255;
const CIRCLE_VERTICES: usize = 64;

/// A shape's outline as a polygon in pixels.
fn outline(s: &Shape) -> std::result::Result<Vec<[f64; 2]>, String> {
    match s.shape_type.as_deref().unwrap_or("polygon") {
        "polygon" => Ok(s.points.clone()),
        "rectangle" => match s.points[..] {
            [[x0, y0], [x1, y1]] => Ok(vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]),
            _ => Err("a rectangle needs 2 points".into()),
        },
        "circle" => match s.points[..] {
            [[cx, cy], [px, py]] => {
                let r = (px - cx).hypot(py - cy);
                Ok((0..CIRCLE_VERTICES)
                    .map(|i| {
                        let t = i as f64 * std::f64::consts::TAU / CIRCLE_VERTICES as f64;
                        [cx + r * t.cos(), cy + r * t.sin()]
                    })
                    .collect())
            }
            _ => Err("a circle needs 2 points (centre, rim)".into()),
        },
        other => Err(format!(
            "shape_type {other:?} has no area to score (polygon, rectangle and circle do)"
        )),
    }
}

impl CorpusReader for Labelme {
    fn format(&self) -> &'static str {
        "labelme"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&["rasterizer"])?;
        spec.refuse_split()?;
        let pil = spec.option_choice("rasterizer", &["labelme", "coco"])? == 0;
        let files = list_files(&spec.path, &["json"]).map_err(|e| Error::io(&spec.path, e))?;
        // The native labels are whatever the files use: one streamed pass collects them.
        let mut labels = BTreeSet::new();
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for path in files {
            let id = super::files::stem(&path);
            match read_file(&path, &spec.limits) {
                Ok(f) => {
                    labels.extend(f.shapes.into_iter().map(|s| s.label));
                    let mut e = Entry::new(&spec.name, id);
                    e.source = Some("labelme".into());
                    e.image = Some(path.parent().unwrap_or(Path::new("")).join(&f.image_path));
                    e.files = vec![path];
                    entries.push(e);
                }
                Err(m) => problems.push(Problem {
                    sample: id,
                    kind: "malformed_json".into(),
                    message: format!("{}: {m}", path.display()),
                }),
            }
        }
        let natives: Vec<&str> = labels.iter().map(String::as_str).collect();
        if natives.len() >= UNLABELLED as usize {
            return Err(Error::file(&spec.path, "more than 254 distinct labels"));
        }
        let mut spec = spec.clone();
        if spec.ignore.is_empty() && natives.contains(&"__ignore__") {
            spec.ignore.push("__ignore__".into());
        }
        let map = ClassMap::resolve(&spec, &natives, &["_background_", "background"])?;
        Ok(Listing {
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                map,
                pil,
                natives: labels.into_iter().collect(),
                limits: spec.limits,
            }),
            root: Some(spec.path.clone()),
            index_files: Vec::new(),
            version: None,
        })
    }
}

struct Loader {
    map: ClassMap,
    /// Pillow's fill (labelme's own) rather than COCO's pixel-centre rule.
    pil: bool,
    natives: Vec<String>,
    /// What one sample may cost (`[limits]`), checked before its canvas is allocated.
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let path = &e.files[0];
        let f = read_file(path, &self.limits)
            .map_err(|m| LoadError::new("malformed_json", format!("{}: {m}", path.display())))?;
        let (h, w) = (f.image_height, f.image_width);
        if h == 0 || w == 0 {
            return Err(LoadError::new(
                "malformed_json",
                format!("{}: image size {w}x{h}", path.display()),
            ));
        }
        super::files::check_canvas(&self.limits, w, h)?;
        super::files::check_annotations(&self.limits, f.shapes.len())?;
        let points: usize = f.shapes.iter().map(|s| s.points.len()).sum();
        super::files::check_vertices(&self.limits, points as u64)?;
        if let Some(img) = &e.image {
            if let Ok((iw, ih)) = image_dims(img) {
                if (iw, ih) != (w, h) {
                    return Err(LoadError::new(
                        "size_mismatch",
                        format!("{} is {iw}x{ih} but the JSON says {w}x{h}", img.display()),
                    ));
                }
            }
        }
        let mut labels = LabelMap::new(h, w, UNLABELLED);
        // Instances as `labelme2coco` makes them: a shape alone, or the union of the shapes of
        // one (label, group_id), numbered from 1 in order of first appearance.
        let mut raw: Vec<super::classmap::RawInstance> = Vec::new();
        let mut groups: Vec<Option<(String, String)>> = Vec::new();
        for (i, s) in f.shapes.iter().enumerate() {
            let bad = |m: String| {
                LoadError::new(
                    "malformed_json",
                    format!("{}: shape {i} ({:?}): {m}", path.display(), s.label),
                )
            };
            let idx = self
                .natives
                .iter()
                .position(|n| *n == s.label)
                .ok_or_else(|| {
                    bad("label not seen when the corpus was listed (file changed?)".into())
                })? as u8;
            let m = match (self.pil, s.shape_type.as_deref(), &s.points[..]) {
                // labelme: draw.rectangle(((min x, min y), (max x, max y)), fill=1)
                (true, Some("rectangle"), [a, b]) => pil_draw::fill_rectangle(
                    [a[0].min(b[0]), a[1].min(b[1])],
                    [a[0].max(b[0]), a[1].max(b[1])],
                    h,
                    w,
                ),
                (true, ..) => {
                    let pts = outline(s).map_err(bad)?;
                    if pts.len() < 3 || pts.iter().flatten().any(|v| !v.is_finite()) {
                        return Err(bad("a polygon needs ≥ 3 finite points".into()));
                    }
                    pil_draw::fill_polygon(&pts, h, w)
                }
                (false, ..) => polygon_mask(&outline(s).map_err(bad)?, h, w).map_err(bad)?,
            };
            m.for_each_run(|start, len| {
                for j in start..start + len {
                    let (x, y) = (j / h as u64, j % h as u64);
                    labels.data[(y * w as u64 + x) as usize] = idx;
                }
            });
            let group = match &s.group_id {
                None | Some(serde_json::Value::Null) => None,
                // By value, as Python compares them: 1 and 1.0 are one group.
                Some(g) => Some((
                    s.label.clone(),
                    g.as_f64().map_or_else(|| g.to_string(), |f| f.to_string()),
                )),
            };
            // A shape without a group (`None`) joins no other.
            match group
                .as_ref()
                .and_then(|g| groups.iter().position(|k| k.as_ref() == Some(g)))
            {
                Some(at) => raw[at].mask.union_in_place(&m),
                None => {
                    groups.push(group);
                    raw.push(super::classmap::RawInstance {
                        id: raw.len() as u64 + 1,
                        native: idx as usize,
                        mask: m,
                        area: None,
                        crowd: false,
                    });
                }
            }
        }
        let (gt, void) = self.map.from_labels(&labels, None);
        Ok(Truth {
            size: (h, w),
            gt,
            void,
            instances: Some(crate::model::GtInstances {
                image_id: None,
                class_order: Some(self.map.names_in_native_order()),
                categories: None,
                list: self.map.gt_instances(&raw),
            }),
            ..Default::default()
        })
    }
}
