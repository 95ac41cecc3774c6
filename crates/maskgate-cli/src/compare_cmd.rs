//! `maskgate compare`: gold labels (or a config's corpus) vs precomputed predictions of two or
//! more arms.

use crate::common::CommonArgs;
use anyhow::{bail, Result};
use clap::Args;
use maskgate::plan::{settings, GroundTruth, Request};
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Score gold labels against the predictions of one or more arms, compare each with the baseline, and write the reports",
    after_help = "Examples:
  maskgate compare --gold gold.ndjson --pred baseline=base.jsonl --pred candidate=cand.jsonl \\
      --baseline baseline --out reports/ab
  maskgate compare --gold gold.ndjson --pred off=off.jsonl --pred on=on.jsonl --baseline off \\
      --grid 256 --pass-iou 0.8 --top 20 --run-id nightly --generated-at 2026-01-01T00:00:00Z --out r/
  maskgate compare --gold gold.ndjson --pred rembg=rembg.jsonl --pred yolo=yolo.jsonl --baseline rembg \\
      --criteria examples/crop-gate/criteria.toml --notes notes.json --out r/
  maskgate compare --config maskgate.toml --corpus fasseg-v2 --pred off=off.jsonl --pred on=on.jsonl \\
      --baseline off --out r/     (ground truth from a [[corpus]] of the config, any format)

Writes metrics.csv, samples.jsonl, report.json, report.md, report.html, gallery/ and
report-set.json (the manifest, written last) into --out."
)]
pub struct CompareArgs {
    /// Gold labels, NDJSON (one sample a line). Or give --config for a [[corpus]] in any format.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    gold: Option<PathBuf>,
    /// Take the ground truth from a [[corpus]] of this run config instead of --gold (any
    /// format; pick it with --corpus when the config has several).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An arm's predictions, NAME=FILE (JSONL, or a COCO results file against a COCO corpus); give it once per arm (one arm alone is scored
    /// without a comparison).
    #[arg(long = "pred", value_name = "NAME=FILE", required = true)]
    preds: Vec<String>,
    /// The arm every other arm is compared with.
    #[arg(long, value_name = "NAME")]
    baseline: String,
    /// With --gold: the corpus name (used in tables and sample hashes; default: the gold file's
    /// stem). With --config: which [[corpus]] to read.
    #[arg(long, value_name = "NAME")]
    corpus: Option<String>,
    /// With --gold: the folder the gold file's photos must lie in (default: the one the gold
    /// file's header line declares, as `convert` writes it, else the gold file's folder); a
    /// photo outside it is never read.
    #[arg(long, value_name = "DIR", requires = "gold")]
    image_root: Option<PathBuf>,
    #[arg(long = settings::VARIANTS.long(), value_name = "FILE", help = settings::VARIANTS.help)]
    variants: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

fn parse_pred(s: &str) -> Result<(String, PathBuf)> {
    match s.split_once('=') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
        _ => bail!("--pred expects NAME=FILE, got {s:?}"),
    }
}

pub fn run(a: CompareArgs, binary: &maskgate::attest::statement::Binary) -> Result<u8> {
    let preds = a
        .preds
        .iter()
        .map(|s| parse_pred(s))
        .collect::<Result<Vec<_>>>()?;
    let truth = match (a.gold, a.config) {
        (Some(path), _) => GroundTruth::Gold {
            path,
            name: a.corpus,
            image_root: a.image_root,
        },
        (None, Some(path)) => GroundTruth::Config {
            path,
            corpus: a.corpus,
        },
        (None, None) => {
            bail!("give the ground truth: --gold FILE, or --config FILE [--corpus NAME]")
        }
    };
    let mut overrides = a.common.overrides();
    overrides.variants = a.variants;
    let request = Request::Compare {
        truth,
        preds,
        baseline: a.baseline,
    };
    a.common.explain_or_execute(request, overrides, binary)
}
