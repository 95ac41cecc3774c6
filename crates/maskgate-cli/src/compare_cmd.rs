//! `maskgate compare`: gold labels vs precomputed predictions of two or more arms.

use crate::clock;
use anyhow::{bail, Context, Result};
use clap::Args;
use maskgate::pipeline::{evaluate, Plan};
use maskgate::predict::predictions::PredictionsFile;
use maskgate::predict::Arm;
use maskgate::read::{read_corpus, CorpusSpec};
use maskgate::report::{InputFile, RunMeta};
use maskgate::score::ScoreSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Score gold labels against the predictions of two or more arms and write the reports",
    after_help = "Examples:
  maskgate compare --gold gold.ndjson --pred baseline=base.jsonl --pred candidate=cand.jsonl \\
      --baseline baseline --out reports/ab
  maskgate compare --gold gold.ndjson --pred off=off.jsonl --pred on=on.jsonl --baseline off \\
      --grid 256 --pass-iou 0.8 --top 20 --run-id nightly --generated-at 2026-01-01T00:00:00Z --out r/

Writes metrics.csv, samples.jsonl, report.json and report.md into --out.
Exit status: 0 success, 2 bad input (the message names the file and line)."
)]
pub struct CompareArgs {
    /// Gold labels, NDJSON (one sample a line).
    #[arg(long)]
    gold: PathBuf,
    /// An arm's predictions, NAME=FILE (JSONL); give it once per arm.
    #[arg(long = "pred", value_name = "NAME=FILE", required = true)]
    preds: Vec<String>,
    /// The arm every other arm is compared with.
    #[arg(long)]
    baseline: String,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Corpus name (used in tables and sample hashes); default: the gold file's stem.
    #[arg(long)]
    corpus: Option<String>,
    /// Rasterise / resample every mask to N×N (nearest) before scoring.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16384))]
    grid: Option<u32>,
    /// IoU threshold τ for pass rates.
    #[arg(long, default_value_t = 0.5)]
    pass_iou: f64,
    /// How many regressions and improvements to rank.
    #[arg(long = "top", default_value_t = 20)]
    top_k: usize,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Pin the run id (default: derived from the timestamp).
    #[arg(long)]
    run_id: Option<String>,
    /// Pin the timestamp written into the reports (default: now, UTC).
    #[arg(long)]
    generated_at: Option<String>,
}

pub fn parse_pred(s: &str) -> Result<(String, PathBuf)> {
    match s.split_once('=') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
        _ => bail!("--pred expects NAME=FILE, got {s:?}"),
    }
}

pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        b = b.num_threads(n);
    }
    Ok(b.build()?)
}

pub fn run(a: CompareArgs) -> Result<u8> {
    if !(0.0..=1.0).contains(&a.pass_iou) {
        bail!("--pass-iou must be within [0, 1], got {}", a.pass_iou);
    }
    let arms_spec = a
        .preds
        .iter()
        .map(|s| parse_pred(s))
        .collect::<Result<Vec<_>>>()?;
    let mut names = BTreeSet::new();
    for (n, _) in &arms_spec {
        if !names.insert(n.clone()) {
            bail!("arm {n:?} is given twice");
        }
    }
    if !names.contains(&a.baseline) {
        bail!(
            "--baseline {:?} is not one of the arms ({})",
            a.baseline,
            names.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let pool = thread_pool(a.threads)?;
    let corpus_name = a.corpus.clone().unwrap_or_else(|| {
        a.gold
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "gold".into())
    });
    pool.install(|| {
        let spec = CorpusSpec {
            name: corpus_name,
            format: "gold-ndjson".into(),
            path: a.gold.clone(),
            ..Default::default()
        };
        let corpus = read_corpus(&spec).context("reading gold labels")?;
        let files = arms_spec
            .iter()
            .map(|(n, p)| {
                PredictionsFile::load(n, p)
                    .with_context(|| format!("reading predictions of arm {n:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let gold_ids: BTreeSet<&str> = corpus.samples.iter().map(|s| s.id.as_str()).collect();
        let unmatched: BTreeMap<String, Vec<String>> = files
            .iter()
            .map(|f| (f.name().to_string(), f.unmatched_ids(&gold_ids)))
            .collect();
        let mut inputs = vec![InputFile {
            role: "gold".into(),
            path: a.gold.display().to_string(),
            sha256: maskgate::sha256_file(&a.gold)?,
        }];
        for f in &files {
            inputs.push(InputFile {
                role: format!("predictions {}", f.name()),
                path: f.path.display().to_string(),
                sha256: maskgate::sha256_file(&f.path)?,
            });
        }
        let generated_at = a.generated_at.clone().unwrap_or_else(clock::now_rfc3339);
        let run_id = a
            .run_id
            .clone()
            .unwrap_or_else(|| clock::run_id_from(&generated_at));
        let arms: Vec<&dyn Arm> = files.iter().map(|f| f as &dyn Arm).collect();
        let corpora = [corpus];
        let report = evaluate(Plan {
            corpora: &corpora,
            arms: &arms,
            baseline: a.baseline.clone(),
            score: ScoreSettings {
                grid: a.grid,
                ..Default::default()
            },
            pass_iou: a.pass_iou,
            top_k: a.top_k,
            run: RunMeta {
                run_id,
                generated_at,
                inputs,
            },
            unmatched_predictions: unmatched,
        });
        let written = maskgate::export::write_all(&report, &a.out)?;
        for p in written {
            eprintln!("wrote {}", p.display());
        }
        Ok(0)
    })
}
