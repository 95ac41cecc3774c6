//! `lapa`: LaPa (JDAI-CV) — `<split>/images/<id>.jpg`, `<split>/labels/<id>.png` (one channel,
//! class index 0..10), `<split>/landmarks/<id>.txt` (first line the point count, 106, then one
//! `x y` per line, float pixels). `split` picks one of `train`, `val`, `test`; without it every
//! split present is read and ids are `<split>/<id>`.

use super::classmap::ClassMap;
use super::files::{find_with_stem, index_label_for, list_files};
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use std::path::Path;

/// `labelmap.txt` of the dataset, in index order (spaces as underscores).
pub const LABELS: [&str; 11] = [
    "background",
    "skin",
    "left_eyebrow",
    "right_eyebrow",
    "left_eye",
    "right_eye",
    "nose",
    "upper_lip",
    "inner_mouth",
    "lower_lip",
    "hair",
];

const SPLITS: [&str; 3] = ["train", "val", "test"];

pub struct Lapa;

/// The 106 landmark points of a LaPa `.txt` file.
pub fn read_landmarks(path: &Path) -> std::result::Result<Vec<[f64; 2]>, String> {
    let bytes = crate::limits::read_regular(path, crate::limits::MAX_TEXT_BYTES)
        .map_err(|e| e.describe("a text input's ceiling"))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let n: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("line 1 must be the point count")?;
    let pts = lines
        .enumerate()
        .map(|(i, l)| {
            let v: Vec<f64> = l
                .split_whitespace()
                .map(|t| t.parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| format!("line {}: expected \"x y\", got {l:?}", i + 2))?;
            match v[..] {
                [x, y] if x.is_finite() && y.is_finite() => Ok([x, y]),
                _ => Err(format!("line {}: expected \"x y\", got {l:?}", i + 2)),
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if pts.len() != n {
        return Err(format!(
            "line 1 says {n} points, the file has {}",
            pts.len()
        ));
    }
    Ok(pts)
}

impl CorpusReader for Lapa {
    fn format(&self) -> &'static str {
        "lapa"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&[])?;
        let map = ClassMap::resolve(spec, &LABELS, &["background"])?;
        let splits: Vec<&str> = match spec.split.as_deref() {
            Some(s) if SPLITS.contains(&s) => vec![s],
            Some(s) => {
                return Err(Error::Usage(format!(
                    "corpus {:?}: LaPa has no split {s:?} (train, val, test)",
                    spec.name
                )))
            }
            None => SPLITS
                .iter()
                .copied()
                .filter(|s| spec.path.join(s).is_dir())
                .collect(),
        };
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for split in &splits {
            let dir = spec.path.join(split);
            let images = dir.join("images");
            let labels = list_files(&dir.join("labels"), &["png"])
                .map_err(|e| Error::io(dir.join("labels"), e))?;
            for label in labels {
                let stem = super::files::stem(&label);
                let id = if spec.split.is_some() {
                    stem.clone()
                } else {
                    format!("{split}/{stem}")
                };
                let Some(image) = find_with_stem(&images, &stem, &["jpg", "jpeg", "png"]) else {
                    problems.push(Problem {
                        sample: id,
                        kind: "missing_image".into(),
                        message: format!("no image {stem}.jpg in {}", images.display()),
                    });
                    continue;
                };
                let landmarks = dir.join("landmarks").join(format!("{stem}.txt"));
                entries.push(Entry::for_files(
                    &spec.name,
                    id,
                    "lapa",
                    image,
                    vec![label, landmarks],
                ));
            }
        }
        if entries.is_empty() && problems.is_empty() {
            return Err(Error::file(
                &spec.path,
                "no LaPa layout here (expected <split>/labels/*.png with <split>/images/)",
            ));
        }
        Ok(Listing {
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                map,
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
    /// What one sample may cost (`[limits]`), checked before its canvas is allocated.
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let (label, landmarks) = (&e.files[0], &e.files[1]);
        let image = e.image.as_deref().unwrap_or(Path::new(""));
        let labels = index_label_for(label, image, &self.limits)?;
        if let Some(v) = labels.data.iter().find(|&&v| v as usize >= LABELS.len()) {
            return Err(LoadError::new(
                "unknown_label",
                format!("{}: value {v} is not a LaPa class (0..10)", label.display()),
            ));
        }
        // Landmarks are optional (only landmark-based face modules need them).
        let points = if landmarks.is_file() {
            read_landmarks(landmarks).map_err(|m| {
                LoadError::new("bad_landmarks", format!("{}: {m}", landmarks.display()))
            })?
        } else {
            Vec::new()
        };
        let (gt, void) = self.map.from_labels(&labels, None);
        Ok(Truth {
            size: (labels.h, labels.w),
            gt,
            void,
            landmarks: points,
            ..Default::default()
        })
    }
}
