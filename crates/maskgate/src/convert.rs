//! Any readable corpus as gold NDJSON (COCO RLE per class): `maskgate convert`.

use crate::error::Result;
use crate::read::{read_corpus, CorpusSpec, Problem};
use maskgate_core::Rle;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What a conversion wrote: the sample count, the samples left out with why, and, when some
/// photo lies outside the output's folder, the folder that holds them all, which the file's
/// header line names as its image root (so `compare` reads them as written).
pub struct Converted {
    pub written: usize,
    pub problems: Vec<Problem>,
    pub image_root: Option<PathBuf>,
}

/// Writes `spec`'s samples to `out` as gold NDJSON, atomically; `erode` px (square) shrinks every
/// class mask. Image paths are written relative to `relative_to`, by default the output file's
/// folder, which is where a gold file's relative paths are resolved from.
pub fn convert(
    spec: &CorpusSpec,
    out: &Path,
    erode: u32,
    relative_to: Option<&Path>,
) -> Result<Converted> {
    // Before any reading: the output must be a regular file or absent.
    crate::persist::check_replaceable(out)?;
    let corpus = read_corpus(spec)?;
    let mut problems = corpus.problems.clone();
    let out_dir = out.parent().unwrap_or(Path::new(""));
    let base = relative_to.unwrap_or(out_dir);
    let mut written = 0usize;
    // The deepest folder holding every photo, when one lies outside `base`: the file declares
    // it in its header, so the reader's image root admits them.
    let mut photo_root: Option<PathBuf> = None;
    let mut outside = false;
    for p in corpus.samples.iter().filter_map(|e| e.image.as_ref()) {
        outside |= crate::pathnames::relative_to(base, p).starts_with("..");
        let folder = crate::pathnames::absolute(p)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        photo_root = Some(match photo_root.take() {
            None => folder,
            Some(r) => common_ancestor(&r, &folder),
        });
    }
    let image_root = photo_root.filter(|_| outside);
    crate::persist::write_atomically(out, |w| {
        if let Some(root) = &image_root {
            let header = json!({
                crate::read::ndjson::HEADER_KEY: "gold-ndjson",
                "image_root": crate::pathnames::relative_to(out_dir, root),
            });
            serde_json::to_writer(&mut *w, &header)?;
            w.write_all(b"\n")?;
        }
        for e in &corpus.samples {
            let s = match corpus.load(e) {
                Ok(s) => s,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            written += 1;
            let mut masks = serde_json::Map::new();
            for (class, m) in &s.gt {
                let mut mask = m.rasterize(None).map_err(std::io::Error::other)?;
                if erode > 0 {
                    mask = mask.erode_square(erode);
                }
                let rle = Rle::encode(&mask);
                masks.insert(
                    class.clone(),
                    json!({"size": [rle.h, rle.w], "counts": rle.to_compressed()}),
                );
            }
            let image = s
                .image
                .as_ref()
                .map(|p| crate::pathnames::relative_to(base, p));
            let mut line = json!({
                "id": s.id, "source": s.source, "image": image, "size": [s.size.0, s.size.1], "masks": masks,
            });
            // What the corpus says of the sample travels with it.
            if let Some(n) = &s.notes {
                line["notes"] = json!(n);
            }
            if !s.meta.is_empty() {
                line["meta"] = serde_json::Value::Object(s.meta.clone());
            }
            serde_json::to_writer(&mut *w, &line)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(Converted {
        written,
        problems,
        image_root,
    })
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}
