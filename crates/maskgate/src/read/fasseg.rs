//! `fasseg`: FASSEG frontal01/02 (V1, V2) and multipose01 (V3) as in the GitHub repository:
//! `<split>_RGB/[<pose>/]<name>.bmp` paired with `<split>_Labels/...` (V3: `_labels`), colour
//! labels mapped to the nearest of the six palette colours (2–3% of pixels are near-colours).

use super::classmap::ClassMap;
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use maskgate_core::LabelMap;
use std::path::{Path, PathBuf};

/// The FASSEG palette (RGB), in label-index order.
pub const PALETTE: [(&str, [u8; 3]); 6] = [
    ("background", [255, 0, 0]),
    ("hair", [127, 0, 0]),
    ("skin", [255, 255, 0]),
    ("eyes", [0, 0, 255]),
    ("nose", [0, 255, 255]),
    ("mouth", [0, 255, 0]),
];

/// A pixel farther than this (squared RGB distance) from every palette colour is "unknown";
/// it is still mapped to the nearest colour, and the share of such pixels is reported.
pub const UNKNOWN_COLOUR_DIST2: u32 = 3 * 48 * 48;

pub struct Fasseg;

/// Index of the nearest palette colour (ties go to the earlier index) and its squared distance.
pub fn nearest_palette(rgb: [u8; 3]) -> (u8, u32) {
    let mut best = (0u8, u32::MAX);
    for (i, (_, c)) in PALETTE.iter().enumerate() {
        let d: u32 = (0..3)
            .map(|k| (rgb[k] as i32 - c[k] as i32).pow(2) as u32)
            .sum();
        if d < best.1 {
            best = (i as u8, d);
        }
    }
    best
}

/// A decoded FASSEG label: indices into [`PALETTE`] and the share of unknown colours.
pub struct DecodedLabel {
    pub labels: LabelMap,
    pub unknown_share: f64,
}

pub fn decode_label(
    path: &Path,
    limits: &crate::limits::Limits,
) -> std::result::Result<DecodedLabel, String> {
    let bytes = crate::limits::read_within(path, limits.max_file_bytes).map_err(|r| match r {
        crate::limits::Refused::Unreadable(m) | crate::limits::Refused::TooLarge(m) => m,
    })?;
    let (w, h, rgb) = match maskgate_core::bmp::decode_rgb(&bytes, |w, h| limits.check_image(w, h))
    {
        Some(decoded) => decoded?,
        None => {
            let (w, h) = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .map_err(|e| e.to_string())?
                .into_dimensions()
                .map_err(|e| e.to_string())?;
            limits.check_image(w, h)?;
            let img = image::load_from_memory(&bytes)
                .map_err(|e| e.to_string())?
                .to_rgb8();
            (img.width(), img.height(), img.into_raw())
        }
    };
    let mut labels = LabelMap::new(h, w, 0);
    let unknown = maskgate_core::palette::index_by_colour(&rgb, &mut labels.data, &mut |px| {
        let (idx, d) = nearest_palette(px);
        (idx, d > UNKNOWN_COLOUR_DIST2)
    });
    let total = (h as u64 * w as u64).max(1);
    Ok(DecodedLabel {
        labels,
        unknown_share: unknown as f64 / total as f64,
    })
}

/// (image path, label path, id) for every RGB file of the layout, sorted by id.
fn pairs(root: &Path, splits: &[&str]) -> Result<Vec<(PathBuf, PathBuf, String)>> {
    let mut out = Vec::new();
    for split in splits {
        let rgb = root.join(format!("{split}_RGB"));
        if !rgb.is_dir() {
            continue;
        }
        let labels = ["Labels", "labels"]
            .iter()
            .map(|s| root.join(format!("{split}_{s}")))
            .find(|p| p.is_dir())
            .unwrap_or_else(|| root.join(format!("{split}_Labels")));
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let dir = rgb.join(&rel);
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let name = PathBuf::from(entry.file_name());
                let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
                if ft.is_dir() {
                    stack.push(rel.join(name));
                } else if name
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("bmp"))
                {
                    let rel_file = rel.join(&name);
                    let stem = rel.join(name.file_stem().unwrap_or_default());
                    let id = format!("{split}/{}", stem.to_string_lossy().replace('\\', "/"));
                    out.push((rgb.join(&rel_file), labels.join(&rel_file), id));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::file(
            root,
            "no FASSEG layout here (expected Train_RGB/ or Test_RGB/ with .bmp files)",
        ));
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    Ok(out)
}

impl CorpusReader for Fasseg {
    fn format(&self) -> &'static str {
        "fasseg"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&[])?;
        let natives: Vec<&str> = PALETTE.iter().map(|(n, _)| *n).collect();
        let map = ClassMap::resolve(spec, &natives, &["background"])?;
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let splits: &[&str] = match spec.split.as_deref() {
            None => &["Train", "Test"],
            Some("train") => &["Train"],
            Some("test") => &["Test"],
            Some(s) => {
                return Err(Error::Usage(format!(
                    "corpus {:?}: FASSEG has no split {s:?} (train, test)",
                    spec.name
                )))
            }
        };
        for (img, lbl, id) in pairs(&spec.path, splits)? {
            if !lbl.is_file() {
                problems.push(Problem {
                    sample: id,
                    kind: "missing_label".into(),
                    message: format!("{} not found", lbl.display()),
                });
                continue;
            }
            entries.push(Entry::for_files(&spec.name, id, "fasseg", img, vec![lbl]));
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
        let (img, lbl) = (e.image.as_deref().unwrap_or(Path::new("")), &e.files[0]);
        let decoded = decode_label(lbl, &self.limits)
            .map_err(|m| LoadError::new("unreadable_label", format!("{}: {m}", lbl.display())))?;
        let (h, w) = (decoded.labels.h, decoded.labels.w);
        super::files::check_image_size(img, (h, w))?;
        if decoded.unknown_share > 0.05 {
            return Err(LoadError::new(
                "unknown_colours",
                format!(
                    "{:.1}% of label pixels are far from every palette colour",
                    decoded.unknown_share * 100.0
                ),
            ));
        }
        let (gt, void) = self.map.from_labels(&decoded.labels, None);
        Ok(Truth {
            size: (h, w),
            gt,
            void,
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_colours_map_to_nearest() {
        assert_eq!(nearest_palette([255, 0, 0]).0, 0);
        assert_eq!(nearest_palette([125, 1, 1]).0, 1);
        assert_eq!(nearest_palette([255, 255, 1]).0, 2);
        assert_eq!(nearest_palette([0, 0, 0]).0, 1); // (127,0,0) is nearest to black
        assert!(nearest_palette([128, 128, 128]).1 > UNKNOWN_COLOUR_DIST2);
    }
}
