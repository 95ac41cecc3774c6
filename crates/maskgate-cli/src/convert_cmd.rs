//! `maskgate convert`: write any readable corpus as gold NDJSON (COCO RLE per class).

use anyhow::{Context, Result};
use clap::Args;
use maskgate::read::CorpusSpec;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Convert a dataset into gold NDJSON (COCO RLE masks), e.g. to use as a prediction arm",
    after_help = "Examples:
  maskgate convert --format fasseg --path ../shared/data/fasseg/V1 --out rough.ndjson
  maskgate convert --config maskgate.toml --corpus fasseg-v1 --out rough-modules.ndjson
      (a config's [[corpus]]: its class map, void and face modules apply)"
)]
pub struct ConvertArgs {
    /// Dataset format (fasseg, lapa, celebamask-hq, coco, yolo, voc, labelme, gold-ndjson; a sql
    /// corpus needs its url and query: give it as a [[corpus]] through --config).
    #[arg(long, required_unless_present = "config", requires = "path")]
    format: Option<String>,
    /// Dataset root (or file, for coco / yolo / gold-ndjson).
    #[arg(long, requires = "format")]
    path: Option<PathBuf>,
    /// Read the [[corpus]] named by --corpus from this run config instead.
    #[arg(long, conflicts_with_all = ["format", "path"])]
    config: Option<PathBuf>,
    /// Output NDJSON file (its folder is created if needed).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Corpus name, used in sample hashes (default: "corpus"); with --config, the [[corpus]] to
    /// read (needed when the config has several).
    #[arg(long, value_name = "NAME")]
    corpus: Option<String>,
    /// Erode every class mask by N px (square): makes a "conservative annotator" arm from real labels.
    #[arg(long, value_name = "PX", default_value_t = 0)]
    erode: u32,
    /// Write image paths relative to this folder (default: the output file's folder, which is
    /// where a gold file's relative image paths are resolved from).
    #[arg(long, value_name = "DIR")]
    relative_to: Option<PathBuf>,
}

pub fn run(a: ConvertArgs) -> Result<()> {
    let spec = match &a.config {
        Some(cfg) => {
            let specs = maskgate::config::load_corpora(cfg)?;
            let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
            match &a.corpus {
                Some(n) => specs.into_iter().find(|s| s.name == *n).with_context(|| {
                    format!(
                        "{}: no corpus named {n:?} (corpora: {})",
                        cfg.display(),
                        names.join(", ")
                    )
                })?,
                None if specs.len() == 1 => specs.into_iter().next().unwrap_or_default(),
                None => anyhow::bail!(
                    "{}: {} corpora ({}); pick one with --corpus",
                    cfg.display(),
                    names.len(),
                    names.join(", ")
                ),
            }
        }
        None => CorpusSpec {
            name: a.corpus.clone().unwrap_or_else(|| "corpus".into()),
            format: a.format.clone().unwrap_or_default(),
            path: a.path.clone().unwrap_or_default(),
            ..Default::default()
        },
    };
    let done = maskgate::convert::convert(&spec, &a.out, a.erode, a.relative_to.as_deref())?;
    for p in &done.problems {
        eprintln!("warning: {}: {} ({})", p.sample, p.message, p.kind);
    }
    eprintln!("wrote {} samples to {}", done.written, a.out.display());
    if let Some(root) = &done.image_root {
        // compare reads a gold file's photos only inside its image root, which the file's
        // header now declares.
        eprintln!(
            "note: its photos lie outside {}: the file declares their folder {} as its image root, so compare reads them as written",
            a.out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .display(),
            root.display()
        );
    }
    Ok(())
}
