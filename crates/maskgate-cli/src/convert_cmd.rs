//! `maskgate convert`: write any readable corpus as gold NDJSON (COCO RLE per class).

use anyhow::{Context, Result};
use clap::Args;
use maskgate::read::{read_corpus, CorpusSpec};
use maskgate_core::Rle;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Convert a dataset into gold NDJSON (COCO RLE masks), e.g. to use as a prediction arm",
    after_help = "Example:
  maskgate convert --format fasseg --path ../shared/data/fasseg/V1 --out rough.ndjson
  maskgate convert --config maskgate.toml --corpus fasseg-v1 --out rough-modules.ndjson
      (a config's [[corpus]]: its class map, void and face modules apply)"
)]
pub struct ConvertArgs {
    /// Dataset format (fasseg, lapa, celebamask-hq, coco, yolo, voc, labelme, gold-ndjson).
    #[arg(long, required_unless_present = "config", requires = "path")]
    format: Option<String>,
    /// Dataset root (or file, for coco / yolo / gold-ndjson).
    #[arg(long, requires = "format")]
    path: Option<PathBuf>,
    /// Read the [[corpus]] named by --corpus from this run config instead.
    #[arg(long, conflicts_with_all = ["format", "path"])]
    config: Option<PathBuf>,
    /// Output NDJSON file.
    #[arg(long)]
    out: PathBuf,
    /// Corpus name (for sample hashes); with --config, the [[corpus]] to read.
    #[arg(long, default_value = "corpus")]
    corpus: String,
    /// Erode every class mask by N px (square): makes a "conservative annotator" arm from real labels.
    #[arg(long, default_value_t = 0)]
    erode: u32,
    /// Write image paths relative to this directory (default: as read).
    #[arg(long)]
    relative_to: Option<PathBuf>,
}

pub fn run(a: ConvertArgs) -> Result<()> {
    let spec = match &a.config {
        Some(cfg) => {
            let specs = maskgate::config::load_corpora(cfg)?;
            let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
            specs
                .into_iter()
                .find(|s| s.name == a.corpus)
                .with_context(|| {
                    format!(
                        "{}: no corpus named {:?} (corpora: {})",
                        cfg.display(),
                        a.corpus,
                        names.join(", ")
                    )
                })?
        }
        None => CorpusSpec {
            name: a.corpus.clone(),
            format: a.format.clone().unwrap_or_default(),
            path: a.path.clone().unwrap_or_default(),
            ..Default::default()
        },
    };
    let corpus = read_corpus(&spec)?;
    for p in &corpus.problems {
        eprintln!("warning: {}: {} ({})", p.sample, p.message, p.kind);
    }
    let mut written = 0usize;
    maskgate::persist::write_atomically(&a.out, |w| {
        for e in &corpus.samples {
            let s = match corpus.load(e) {
                Ok(s) => s,
                Err(p) => {
                    eprintln!("warning: {}: {} ({})", p.sample, p.message, p.kind);
                    continue;
                }
            };
            written += 1;
            let mut masks = serde_json::Map::new();
            for (class, m) in &s.gt {
                let mut mask = m.rasterize(None).map_err(std::io::Error::other)?;
                if a.erode > 0 {
                    mask = mask.erode_square(a.erode);
                }
                let rle = Rle::encode(&mask);
                masks.insert(
                    class.clone(),
                    json!({"size": [rle.h, rle.w], "counts": rle.to_compressed()}),
                );
            }
            let image = s.image.as_ref().map(|p| match &a.relative_to {
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
    eprintln!("wrote {} samples to {}", written, a.out.display());
    Ok(())
}

/// `path` relative to `base` when both are absolute or both relative (by components).
fn relative(path: &std::path::Path, base: &std::path::Path) -> String {
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
