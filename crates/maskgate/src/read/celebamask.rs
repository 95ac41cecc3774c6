//! `celebamask-hq`: CelebAMask-HQ as released — `CelebA-HQ-img/{k}.jpg` (1024², not padded),
//! per-part masks `CelebAMask-HQ-mask-anno/{k // 2000}/{k:05}_{part}.png` (512², white on black,
//! a file only where the part is present), `CelebA-HQ-to-CelebA-mapping.txt` for the split.
//!
//! The label map is composed as the reference code does: parts painted in class order, later
//! parts over earlier ones. `order` (option) picks whose order: `celebamask` (g_mask.py: cloth
//! wins) or `bisenet` (face-parsing.PyTorch: hair and hat win). The official split
//! (g_partition.py) goes by the original CelebA index: val if 162771 ≤ idx < 182638, test if
//! idx ≥ 182638, else train. Photos are 1024² and masks 512², so predictions of the photo's
//! size are resampled (nearest) to 512 before scoring.

use super::classmap::ClassMap;
use super::files::list_files;
use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Problem, Truth};
use crate::error::{Error, Result};
use maskgate_core::LabelMap;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// g_mask.py's order (index 1..18).
pub const ORDER_CELEBAMASK: [&str; 18] = [
    "skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth",
    "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth",
];

/// face-parsing.PyTorch's order (index 1..18), the one BiSeNet `79999_iter.pth` predicts.
pub const ORDER_BISENET: [&str; 18] = [
    "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r", "nose",
    "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat",
];

pub const MASK_SIZE: u32 = 512;

pub struct CelebaMaskHq;

/// The split of a CelebA-HQ image by its original CelebA index (g_partition.py).
pub fn split_of(orig_idx: u64) -> &'static str {
    if orig_idx >= 182638 {
        "test"
    } else if orig_idx >= 162771 {
        "val"
    } else {
        "train"
    }
}

/// CelebA-HQ index → split, from the mapping file (`idx orig_idx orig_file`, header first).
fn read_mapping(path: &Path) -> Result<BTreeMap<u64, &'static str>> {
    let text = crate::limits::read_text(path)?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut cols = line.split_whitespace();
        let (Some(a), Some(b)) = (cols.next(), cols.next()) else {
            continue;
        };
        let (Ok(idx), Ok(orig)) = (a.parse::<u64>(), b.parse::<u64>()) else {
            return Err(Error::input(
                path,
                i + 1,
                format!("expected \"idx orig_idx …\", got {line:?}"),
            ));
        };
        out.insert(idx, split_of(orig));
    }
    Ok(out)
}

impl CorpusReader for CelebaMaskHq {
    fn format(&self) -> &'static str {
        "celebamask-hq"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&["order"])?;
        let order = [&ORDER_CELEBAMASK, &ORDER_BISENET]
            [spec.option_choice("order", &["celebamask", "bisenet"])?];
        let natives: Vec<&str> = std::iter::once("background")
            .chain(order.iter().copied())
            .collect();
        let map = ClassMap::resolve(spec, &natives, &["background"])?;
        let split_of_idx = match spec.split.as_deref() {
            None => None,
            Some(s @ ("train" | "val" | "test")) => {
                let p = spec.path.join("CelebA-HQ-to-CelebA-mapping.txt");
                Some((s, read_mapping(&p)?))
            }
            Some(s) => {
                return Err(Error::Usage(format!(
                    "corpus {:?}: CelebAMask-HQ has no split {s:?} (train, val, test)",
                    spec.name
                )))
            }
        };
        let img_dir = spec.path.join("CelebA-HQ-img");
        let anno = spec.path.join("CelebAMask-HQ-mask-anno");
        let images = list_files(&img_dir, &["jpg", "png"]).map_err(|e| Error::io(&img_dir, e))?;
        // One listing per folder of 2000 instead of 18 look-ups per image.
        let mut present: BTreeSet<String> = BTreeSet::new();
        if let Ok(folders) = std::fs::read_dir(&anno) {
            for f in folders.flatten() {
                if let Ok(files) = std::fs::read_dir(f.path()) {
                    let folder = f.file_name().to_string_lossy().into_owned();
                    for file in files.flatten() {
                        present.insert(format!("{folder}/{}", file.file_name().to_string_lossy()));
                    }
                }
            }
        } else {
            return Err(Error::file(
                &anno,
                "missing: per-part masks are expected here",
            ));
        }
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for image in images {
            let stem = super::files::stem(&image);
            let Ok(k) = stem.parse::<u64>() else {
                continue;
            };
            if let Some((want, mapping)) = &split_of_idx {
                match mapping.get(&k) {
                    Some(s) if s == want => {}
                    Some(_) => continue,
                    None => {
                        problems.push(Problem {
                            sample: stem,
                            kind: "not_in_mapping".into(),
                            message: format!("image {k} is not in CelebA-HQ-to-CelebA-mapping.txt"),
                        });
                        continue;
                    }
                }
            }
            let folder = k / 2000;
            let parts: Vec<std::path::PathBuf> = order
                .iter()
                .filter(|p| present.contains(&format!("{folder}/{k:05}_{p}.png")))
                .map(|p| {
                    anno.join(folder.to_string())
                        .join(format!("{k:05}_{p}.png"))
                })
                .collect();
            if parts.is_empty() {
                problems.push(Problem {
                    sample: stem,
                    kind: "missing_label".into(),
                    message: format!("no part mask {folder}/{k:05}_*.png"),
                });
                continue;
            }
            entries.push(Entry::for_files(
                &spec.name,
                stem,
                "celebamask-hq",
                image,
                parts,
            ));
        }
        Ok(Listing {
            version: None,
            classes: map.names(),
            entries,
            problems,
            loader: Box::new(Loader {
                map,
                order: order.to_vec(),
                limits: spec.limits,
            }),
            root: Some(spec.path.clone()),
            index_files: split_of_idx
                .is_some()
                .then(|| spec.path.join("CelebA-HQ-to-CelebA-mapping.txt"))
                .into_iter()
                .collect(),
        })
    }
}

struct Loader {
    map: ClassMap,
    order: Vec<&'static str>,
    /// What one part mask may cost (`[limits] max_file_bytes`).
    limits: crate::limits::Limits,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let mut labels = LabelMap::new(MASK_SIZE, MASK_SIZE, 0);
        // `files` are in class order already: paint, later over earlier.
        for path in &e.files {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            let part = name.split_once('_').map(|x| x.1).unwrap_or("");
            let idx = self.order.iter().position(|p| *p == part).unwrap_or(0) as u8 + 1;
            // The header first: a part mask of another size is refused before it is decoded.
            let unreadable = |m: String| LoadError::new("unreadable_label", m);
            let bytes = crate::limits::read_within(path, self.limits.max_file_bytes).map_err(
                |r| match r {
                    crate::limits::Refused::Unreadable(m) | crate::limits::Refused::TooLarge(m) => {
                        unreadable(m)
                    }
                },
            )?;
            let reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .map_err(|m| unreadable(format!("{}: {m}", path.display())))?;
            if let Ok((w, h)) = reader.into_dimensions() {
                if (w, h) != (MASK_SIZE, MASK_SIZE) {
                    return Err(LoadError::new(
                        "size_mismatch",
                        format!("{}: {w}x{h}, part masks are 512x512", path.display()),
                    ));
                }
            }
            let img = image::load_from_memory(&bytes)
                .map_err(|m| unreadable(format!("{}: {m}", path.display())))?
                .to_rgb8();
            if img.dimensions() != (MASK_SIZE, MASK_SIZE) {
                let (w, h) = img.dimensions();
                return Err(LoadError::new(
                    "size_mismatch",
                    format!("{}: {w}x{h}, part masks are 512x512", path.display()),
                ));
            }
            for (i, px) in img.pixels().enumerate() {
                if px.0.iter().any(|&c| c > 127) {
                    labels.data[i] = idx;
                }
            }
        }
        let (gt, void) = self.map.from_labels(&labels, None);
        Ok(Truth {
            size: (MASK_SIZE, MASK_SIZE),
            gt,
            void,
            fit_predictions: true,
            ..Default::default()
        })
    }
}
