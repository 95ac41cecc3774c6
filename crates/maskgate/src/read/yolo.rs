//! `yolo`: an Ultralytics segmentation dataset (`path` = the dataset YAML). The YAML's `path` is
//! the root (relative to the YAML's folder; absent: that folder); `train` / `val` / `test` name a
//! folder, a `.txt` list of images or a list of either, relative to the root; `names` is a list
//! or an `{id: name}` map (`nc`, if given, must agree). `split` picks the key (default `val`).
//!
//! Each image's label is found by Ultralytics' `img2label_paths` rule: the last `/images/` of
//! the path becomes `/labels/` and the extension `.txt`. A row is `<class> x1 y1 … xn yn`,
//! normalised to [0, 1]; a missing or empty file means no objects. Polygons are rasterised in
//! pixel space (`x·W`, `y·H`) by COCO's pixel-centre rule rather than cv2.fillPoly's truncated,
//! boundary-inclusive fill (a decision: consistent with COCO; the two differ by about one
//! boundary pixel).

use super::classmap::ClassMap;
use super::files::{image_dims, polygon_mask};
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use serde_norway::Value;
use std::path::{Path, PathBuf};

pub struct Yolo;

/// Ultralytics' image suffixes.
pub const IMAGE_SUFFIXES: &[&str] = &[
    "bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic",
];

/// `img2label_paths`: the last `/images/` → `/labels/`, extension → `.txt`.
pub fn label_path(image: &Path) -> Option<PathBuf> {
    let s = image.to_string_lossy();
    let sep = std::path::MAIN_SEPARATOR;
    let key = format!("{sep}images{sep}");
    let i = s.rfind(&key)?;
    let swapped = format!("{}{sep}labels{sep}{}", &s[..i], &s[i + key.len()..]);
    Some(PathBuf::from(swapped).with_extension("txt"))
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_SUFFIXES.contains(&e.to_ascii_lowercase().as_str()))
}

/// Images under a folder (recursively), sorted. A symlink to a folder is not followed, so a
/// link loop cannot recurse forever.
fn images_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?.is_dir()))))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for (p, is_dir) in entries {
        if is_dir {
            images_under(&p, out)?;
        } else if is_image(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// The class names of the YAML (`names` list or map; `nc` checked).
fn names(yaml: &Value, path: &Path) -> Result<Vec<String>> {
    let bad = |m: &str| Error::file(path, m.to_string());
    let names: Vec<String> = match yaml.get("names") {
        Some(Value::Sequence(s)) => s
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad("names must be strings"))
            })
            .collect::<Result<_>>()?,
        Some(Value::Mapping(m)) => {
            let mut pairs: Vec<(u64, String)> = m
                .iter()
                .map(|(k, v)| {
                    let k = k
                        .as_u64()
                        .ok_or_else(|| bad("names keys must be class ids 0, 1, …"))?;
                    let v = v.as_str().ok_or_else(|| bad("names must be strings"))?;
                    Ok((k, v.to_string()))
                })
                .collect::<Result<_>>()?;
            pairs.sort();
            if pairs.iter().enumerate().any(|(i, (k, _))| *k != i as u64) {
                return Err(bad("names ids must be 0..n-1 without gaps"));
            }
            pairs.into_iter().map(|p| p.1).collect()
        }
        _ => return Err(bad("no `names` (a list or an {id: name} map)")),
    };
    if let Some(nc) = yaml.get("nc").and_then(Value::as_u64) {
        if nc as usize != names.len() {
            return Err(bad(&format!("nc is {nc} but names has {}", names.len())));
        }
    }
    Ok(names)
}

impl CorpusReader for Yolo {
    fn format(&self) -> &'static str {
        "yolo"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&[])?;
        let path = &spec.path;
        let text = crate::limits::read_text(path)?;
        let yaml: Value = serde_norway::from_str(&text).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            Error::input(path, line, format!("invalid YAML: {e}"))
        })?;
        let names = names(&yaml, path)?;
        let natives: Vec<&str> = names.iter().map(String::as_str).collect();
        let map = ClassMap::resolve(spec, &natives, &[])?;
        let yaml_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let root = match yaml.get("path").and_then(Value::as_str) {
            Some(p) => yaml_dir.join(p),
            None => yaml_dir,
        };
        let split = spec.split.as_deref().unwrap_or("val");
        let targets: Vec<String> = match yaml.get(split) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Sequence(v)) => v
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => {
                return Err(Error::file(
                    path,
                    format!("no `{split}` entry (the split to read; set `split` in the corpus)"),
                ))
            }
        };
        let mut images = Vec::new();
        for t in &targets {
            let p = root.join(t);
            if p.is_dir() {
                images_under(&p, &mut images).map_err(|e| Error::io(&p, e))?;
            } else if p.extension().is_some_and(|e| e == "txt") {
                // A list can name millions of images: bounded by the data limit, not the text one.
                let bytes = crate::limits::read_regular(&p, spec.limits.max_file_bytes)
                    .map_err(|e| e.into_error(&p, "[limits] max_file_bytes"))?;
                let list = String::from_utf8_lossy(&bytes);
                // Lines starting with ./ are relative to the list's parent (Ultralytics' rule).
                let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
                images.extend(
                    list.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(|l| match l.strip_prefix("./") {
                            Some(rest) => parent.join(rest),
                            None => root.join(l),
                        }),
                );
            } else if is_image(&p) {
                images.push(p);
            } else {
                return Err(Error::file(
                    path,
                    format!("`{split}`: {} is not a folder, list or image", p.display()),
                ));
            }
        }
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for image in images {
            let rel = image.strip_prefix(&root).unwrap_or(&image);
            let id = rel.with_extension("").to_string_lossy().replace('\\', "/");
            let Some(label) = label_path(&image) else {
                problems.push(Problem {
                    sample: id,
                    kind: "missing_label".into(),
                    message: format!(
                        "{}: no /images/ in the path to map to /labels/",
                        image.display()
                    ),
                });
                continue;
            };
            entries.push(Entry::for_files(&spec.name, id, "yolo", image, vec![label]));
        }
        Ok(Listing {
            version: None,
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                map,
                nc: names.len(),
                limits: spec.limits,
            }),
            index_files: targets
                .iter()
                .map(|t| root.join(t))
                .filter(|p| p.is_file())
                .collect(),
            root: Some(root),
        })
    }
}

/// One label row: class id and polygon in normalised coordinates.
pub type Segment = (usize, Vec<[f64; 2]>);

/// The instances of one label file, within the default limits.
pub fn parse_label(text: &str, nc: usize) -> std::result::Result<Vec<Segment>, String> {
    parse_label_within(text, nc, &crate::limits::Limits::default()).map_err(|e| e.message)
}

/// The instances of one label file (`malformed_label` when one is not a segment): more rows
/// than `max_annotations_per_image` or more points than `max_polygon_vertices` is the sample's
/// `too_many_annotations` / `mask_too_large` before the rows past the limit are parsed.
pub fn parse_label_within(
    text: &str,
    nc: usize,
    limits: &crate::limits::Limits,
) -> std::result::Result<Vec<Segment>, LoadError> {
    let mut out = Vec::new();
    let mut points = 0u64;
    for (i, line) in text.lines().enumerate() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.is_empty() {
            continue;
        }
        super::files::check_annotations(limits, out.len() + 1)?;
        points += (toks.len() as u64 - 1) / 2;
        super::files::check_vertices(limits, points)?;
        let at = |m: String| LoadError::new("malformed_label", format!("line {}: {m}", i + 1));
        let class: usize = toks[0].parse().map_err(|_| {
            at(format!(
                "class id {:?} is not a non-negative integer",
                toks[0]
            ))
        })?;
        if class >= nc {
            return Err(at(format!(
                "class id {class} but the YAML names {nc} classes"
            )));
        }
        let vals: Vec<f64> = toks[1..]
            .iter()
            .map(|t| t.parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| at("coordinates must be numbers".into()))?;
        if vals.len() < 6 || !vals.len().is_multiple_of(2) {
            return Err(at(format!(
                "a segment needs an even number ≥ 6 of coordinates, got {} (a 4-number row is a detection box)",
                vals.len()
            )));
        }
        if vals.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(at("coordinates must be normalised to [0, 1]".into()));
        }
        out.push((class, vals.chunks(2).map(|c| [c[0], c[1]]).collect()));
    }
    Ok(out)
}

struct Loader {
    map: ClassMap,
    nc: usize,
    /// What one sample may cost (`[limits]`), checked before its canvas is allocated.
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let image = e.image.as_deref().unwrap_or(Path::new(""));
        let (w, h) = image_dims(image)
            .map_err(|m| LoadError::new("unreadable_image", format!("{}: {m}", image.display())))?;
        super::files::check_canvas(&self.limits, w, h)?;
        let label = &e.files[0];
        let text = match crate::limits::read_regular(label, self.limits.max_file_bytes) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
                LoadError::new(
                    "malformed_label",
                    format!("{}: not UTF-8 text", label.display()),
                )
            })?,
            Err(crate::limits::ReadError::Io(err))
                if err.kind() == std::io::ErrorKind::NotFound =>
            {
                String::new()
            }
            Err(err) => {
                return Err(LoadError::new(
                    "unreadable_label",
                    format!(
                        "{}: {}",
                        label.display(),
                        err.describe("[limits] max_file_bytes")
                    ),
                ))
            }
        };
        let rows = parse_label_within(&text, self.nc, &self.limits).map_err(|e| LoadError {
            message: format!("{}: {}", label.display(), e.message),
            ..e
        })?;
        let instances = rows
            .iter()
            .map(|(c, pts)| {
                let px: Vec<[f64; 2]> = pts
                    .iter()
                    .map(|p| [p[0] * w as f64, p[1] * h as f64])
                    .collect();
                polygon_mask(&px, h, w).map(|m| (*c, m))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| LoadError::new("malformed_label", format!("{}: {m}", label.display())))?;
        let (gt, void) = self.map.from_instances(h, w, &instances);
        // Each row is an instance, numbered from 1 in file order.
        let raw: Vec<super::classmap::RawInstance> = instances
            .into_iter()
            .enumerate()
            .map(|(i, (native, mask))| super::classmap::RawInstance {
                id: i as u64 + 1,
                native,
                mask,
                area: None,
                crowd: false,
            })
            .collect();
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
