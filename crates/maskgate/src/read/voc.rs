//! `voc`: PASCAL VOC segmentation — `SegmentationClass/<id>.png` (palette PNG whose indices are
//! class ids; 255 is void, the "difficult" border) with `JPEGImages/<id>.jpg`. Class names come
//! from `class_names.txt` when the folder has one (labelme's export writes it), else the 21 VOC
//! names. `split` reads `ImageSets/Segmentation/<split>.txt`.

use super::classmap::ClassMap;
use super::files::{find_with_stem, index_label_for, list_files};
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use std::path::Path;

pub const VOC_CLASSES: [&str; 21] = [
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
];

pub const VOID: u8 = 255;

pub struct Voc;

impl CorpusReader for Voc {
    fn format(&self) -> &'static str {
        "voc"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&[])?;
        let names_file = spec.path.join("class_names.txt");
        let natives: Vec<String> = if names_file.is_file() {
            crate::limits::read_text(&names_file)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        } else {
            VOC_CLASSES.iter().map(|s| s.to_string()).collect()
        };
        if natives.len() > VOID as usize {
            return Err(Error::file(&names_file, "more than 255 classes"));
        }
        let refs: Vec<&str> = natives.iter().map(String::as_str).collect();
        let map = ClassMap::resolve(spec, &refs, &["background", "_background_"])?;
        let labels_dir = spec.path.join("SegmentationClass");
        let ids: Vec<String> = match &spec.split {
            Some(split) => {
                let p = spec
                    .path
                    .join("ImageSets/Segmentation")
                    .join(format!("{split}.txt"));
                crate::limits::read_text(&p)?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            }
            None => list_files(&labels_dir, &["png"])
                .map_err(|e| Error::io(&labels_dir, e))?
                .iter()
                .map(|p| super::files::stem(p))
                .collect(),
        };
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let images = spec.path.join("JPEGImages");
        for id in ids {
            let label = labels_dir.join(format!("{id}.png"));
            let missing = |what: &str, p: &Path| Problem {
                sample: id.clone(),
                kind: format!("missing_{what}"),
                message: format!("{} not found", p.display()),
            };
            if !label.is_file() {
                problems.push(missing("label", &label));
                continue;
            }
            let Some(image) = find_with_stem(&images, &id, &["jpg", "jpeg", "png"]) else {
                problems.push(missing("image", &images.join(format!("{id}.jpg"))));
                continue;
            };
            entries.push(Entry::for_files(&spec.name, id, "voc", image, vec![label]));
        }
        Ok(Listing {
            version: None,
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                map,
                n: natives.len(),
                limits: spec.limits,
            }),
            root: Some(spec.path.clone()),
            index_files: std::iter::once(names_file)
                .chain(spec.split.as_ref().map(|s| {
                    spec.path
                        .join("ImageSets/Segmentation")
                        .join(format!("{s}.txt"))
                }))
                .filter(|p| p.is_file())
                .collect(),
        })
    }
}

struct Loader {
    map: ClassMap,
    n: usize,
    /// What one sample may cost (`[limits]`), checked before its canvas is allocated.
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let label = &e.files[0];
        let image = e.image.as_deref().unwrap_or(Path::new(""));
        let labels = index_label_for(label, image, &self.limits)?;
        if let Some(v) = labels
            .data
            .iter()
            .find(|&&v| v != VOID && v as usize >= self.n)
        {
            return Err(LoadError::new(
                "unknown_label",
                format!("{}: index {v} but {} classes", label.display(), self.n),
            ));
        }
        let (gt, void) = self.map.from_labels(&labels, Some(VOID));
        Ok(Truth {
            size: (labels.h, labels.w),
            gt,
            void,
            ..Default::default()
        })
    }
}
