//! `gold-ndjson`: human gold labels, one sample a line (see [`super::ndjson`]). Listing reads
//! each line once for its id and byte offset; loading reads that line again, so the masks of a
//! large gold file are never all in memory.
//!
//! A line's `image` is resolved relative to the gold file and must lie inside the image root:
//! `[corpus.options] image_root` (relative to the gold file's folder; `compare --image-root`),
//! else the one the file's header line declares (`maskgate convert` writes it), else the gold
//! file's folder. A photo outside it is never read: the sample is scored without its
//! photo (a model arm records `IMAGE_UNREADABLE`) and the corpus lists an `image_outside_root`
//! problem for it.

use super::{CorpusReader, CorpusSpec, Entry, Listing, LoadError, LoadTruth, Truth};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub struct GoldNdjson;

impl CorpusReader for GoldNdjson {
    fn format(&self) -> &'static str {
        "gold-ndjson"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(&["image_root"])?;
        spec.refuse_split()?;
        if !spec.ignore.is_empty() || !spec.classes.is_empty() {
            return Err(Error::Usage(format!(
                "corpus {:?}: gold-ndjson masks are already in evaluation classes; `classes` and `ignore` do not apply",
                spec.name
            )));
        }
        let path = &spec.path;
        let gold_dir = path.parent().unwrap_or(std::path::Path::new("."));
        // The setting (config or `--image-root`) first, then the root the file declares.
        let declared = super::ndjson::header(path)?.and_then(|h| h.image_root);
        let image_root =
            super::paths::resolved(
                &match spec.options.get("image_root").or(declared.as_ref()) {
                    Some(r) => gold_dir.join(r),
                    None => gold_dir.to_path_buf(),
                },
            );
        let mut outside = Vec::new();
        let mut entries = Vec::new();
        let mut classes = BTreeSet::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        super::ndjson::for_each_line(path, |line| {
            if let Some(first) = seen.insert(line.id.clone(), line.line_no) {
                return Err(Error::input(
                    path,
                    line.line_no,
                    format!("duplicate id {:?} (first on line {first})", line.id),
                ));
            }
            // Listing reads only sizes and class names; masks are decoded when a sample loads.
            line_size(&line).map_err(|m| Error::input(path, line.line_no, m))?;
            classes.extend(line.masks.keys().cloned());
            classes.extend(
                (line.instances.iter())
                    .flat_map(|l| l.iter().flatten())
                    .map(|i| i.class.clone()),
            );
            let mut e = Entry::new(&spec.name, line.id);
            e.source = line.source;
            e.image = line.image.map(|p| {
                let p = PathBuf::from(p);
                match (p.is_relative(), path.parent()) {
                    (true, Some(dir)) => dir.join(p),
                    _ => p,
                }
            });
            if let Some(img) = &e.image {
                if let Err(err) = super::paths::check_inside(&image_root, img) {
                    let message = format!(
                        "{}; scored without its photo (set image_root to allow)",
                        err.message
                    );
                    e.image_dropped = Some(message.clone());
                    outside.push(super::Problem {
                        sample: e.id.clone(),
                        kind: "image_outside_root".into(),
                        message,
                    });
                    e.image = None;
                }
            }
            e.notes = line.notes;
            e.meta = crate::model::Meta::new(line.meta);
            e.at = line.offset;
            entries.push(e);
            Ok(())
        })?;
        Ok(Listing {
            classes: classes.into_iter().collect(),
            entries,
            problems: outside,
            loader: Box::new(Loader { path: path.clone() }),
            root: None,
            index_files: Vec::new(),
            version: None,
        })
    }
}

/// The sample size every mask and instance of a line agrees on (`size`, else the first mask's or
/// instance's), checked without decoding anything.
fn line_size(line: &super::ndjson::Line) -> std::result::Result<(u32, u32), String> {
    let mut masks = Vec::with_capacity(line.masks.len());
    for (class, mask) in &line.masks {
        masks.push((class, mask.as_ref().map_err(Clone::clone)?));
    }
    let listed = match &line.instances {
        Some(list) => list.as_ref().map_err(Clone::clone)?.as_slice(),
        None => &[],
    };
    let size = (line.size)
        .or_else(|| masks.first().map(|(_, m)| m.size()))
        .or_else(|| listed.first().map(|i| i.mask.size()))
        .ok_or("no \"size\" and no mask to take it from")?;
    if let Some((class, m)) = masks.iter().find(|(_, m)| m.size() != size) {
        let (h, w) = m.size();
        return Err(format!(
            "class {class:?} is {h}x{w} but the sample is {}x{}",
            size.0, size.1
        ));
    }
    if let Some((n, i)) = (listed.iter().enumerate()).find(|(_, i)| i.mask.size() != size) {
        let (h, w) = i.mask.size();
        return Err(format!(
            "instance {} ({:?}): its mask is {h}x{w} but the sample is {}x{}",
            n + 1,
            i.class,
            size.0,
            size.1
        ));
    }
    Ok(size)
}

/// A line's masks with the sample size they agree on, and its instances, decoded. A line with
/// `instances` and no `masks` has each class's mask as the union of its instances.
fn check_line(line: &super::ndjson::Line) -> std::result::Result<Truth, String> {
    let size = line_size(line)?;
    let mut gt = BTreeMap::new();
    for (class, mask) in &line.masks {
        gt.insert(class.clone(), mask.clone()?);
    }
    let listed = match &line.instances {
        Some(list) => Some(list.clone()?),
        None => None,
    };
    let instances = match listed {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            let derive = gt.is_empty();
            let mut unions: BTreeMap<String, maskgate_core::Mask> = BTreeMap::new();
            for (n, i) in list.into_iter().enumerate() {
                let at = |m: String| format!("instance {} ({:?}): {m}", n + 1, i.class);
                let mask = i.mask.rasterize(None).map_err(at)?;
                let region = maskgate_core::cocoeval::Region::of(&mask);
                if derive {
                    unions
                        .entry(i.class.clone())
                        .or_insert_with(|| maskgate_core::Mask::new(size.0, size.1))
                        .union_in_place(&mask);
                }
                out.push(crate::model::GtInstance {
                    id: i.id.unwrap_or(n as u64 + 1),
                    area: i.area.unwrap_or(region.area() as f64),
                    class: i.class,
                    region,
                    crowd: i.crowd,
                });
            }
            gt.extend(
                unions
                    .into_iter()
                    .map(|(c, m)| (c, crate::model::MaskData::Mask(m))),
            );
            Some(crate::model::GtInstances {
                image_id: None,
                class_order: None,
                categories: None,
                list: out,
            })
        }
    };
    Ok(Truth {
        size,
        gt,
        instances,
        ..Default::default()
    })
}

struct Loader {
    path: PathBuf,
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let io =
            |m: String| LoadError::new("unreadable_label", format!("{}: {m}", self.path.display()));
        let text = super::ndjson::line_at(&self.path, e.at).map_err(io)?;
        let line = super::ndjson::parse_line(&text, 0).map_err(|m| {
            io(format!(
                "byte {}: {m} (was the file changed during the run?)",
                e.at
            ))
        })?;
        if line.id != e.id {
            return Err(io(format!(
                "byte {} holds id {:?}, not {:?} (was the file changed during the run?)",
                e.at, line.id, e.id
            )));
        }
        check_line(&line).map_err(|m| LoadError::new("bad_mask", m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_photo_outside_the_root_is_marked_dropped() {
        let d = tempfile::tempdir().unwrap();
        let gold = d.path().join("gold.ndjson");
        let mask = r#"{"fg": {"size": [2, 4], "counts": [0, 3, 5]}}"#;
        std::fs::write(
            &gold,
            format!(
                "{{\"id\": \"in\", \"image\": \"a.png\", \"masks\": {mask}}}\n\
                 {{\"id\": \"none\", \"masks\": {mask}}}\n\
                 {{\"id\": \"out\", \"image\": \"../b.png\", \"masks\": {mask}}}\n"
            ),
        )
        .unwrap();
        let spec = CorpusSpec {
            name: "g".into(),
            format: "gold-ndjson".into(),
            path: gold,
            ..CorpusSpec::default()
        };
        let listing = GoldNdjson.open(&spec).unwrap();
        let dropped: Vec<(&str, bool)> = listing
            .entries
            .iter()
            .map(|e| (e.id.as_str(), e.image_dropped.is_some()))
            .collect();
        assert_eq!(dropped, [("in", false), ("none", false), ("out", true)]);
        let out = &listing.entries[2];
        assert_eq!(out.image, None);
        assert_eq!(
            out.image_dropped.as_deref(),
            Some(listing.problems[0].message.as_str())
        );
        assert_eq!(listing.problems[0].kind, "image_outside_root");
    }
}
