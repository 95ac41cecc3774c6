//! Any readable corpus as gold NDJSON (COCO RLE per class): `maskgate convert`.

use crate::error::Result;
use crate::read::{read_corpus, CorpusSpec, Problem};
use maskgate_core::Rle;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What a conversion wrote: the sample count, and the samples left out with why.
pub struct Converted {
    pub written: usize,
    pub problems: Vec<Problem>,
}

/// Writes `spec`'s samples to `out` as gold NDJSON, atomically; `erode` px (square) shrinks every
/// class mask, `relative_to` rewrites image paths relative to that folder.
pub fn convert(
    spec: &CorpusSpec,
    out: &Path,
    erode: u32,
    relative_to: Option<&Path>,
) -> Result<Converted> {
    let corpus = read_corpus(spec)?;
    let mut problems = corpus.problems.clone();
    let mut written = 0usize;
    crate::persist::write_atomically(out, |w| {
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
            let image = s.image.as_ref().map(|p| match relative_to {
                Some(base) => relative(p, base),
                None => p.display().to_string(),
            });
            let line = json!({
                "id": s.id, "source": s.source, "image": image, "size": [s.size.0, s.size.1], "masks": masks,
            });
            serde_json::to_writer(&mut *w, &line)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(Converted { written, problems })
}

/// `path` relative to `base` when both are absolute or both relative (by components).
fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.display().to_string()
}
