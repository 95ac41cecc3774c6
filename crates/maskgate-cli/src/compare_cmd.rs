//! `maskgate compare`: gold labels vs precomputed predictions of two or more arms.

use crate::clock;
use anyhow::{bail, Context, Result};
use clap::Args;
use maskgate::compare::CompareSettings;
use maskgate::decide::criteria::CriteriaFile;
use maskgate::pipeline::{evaluate, Plan};
use maskgate::predict::predictions::PredictionsFile;
use maskgate::predict::variants::{RawVariants, VariantSet};
use maskgate::predict::Arm;
use maskgate::read::Corpus;
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

  maskgate compare --gold gold.ndjson --pred rembg=rembg.jsonl --pred yolo=yolo.jsonl --baseline rembg \
      --criteria examples/crop-gate/criteria.toml --notes notes.json --out r/

  maskgate compare --config maskgate.toml --corpus fasseg-v2 --pred off=off.jsonl --pred on=on.jsonl \
      --baseline off --out r/     (ground truth from a [[corpus]] of the config, any format)

Writes metrics.csv, samples.jsonl, report.json and report.md into --out.
Exit status: 0 success (go, with --criteria), 1 no-go or inconclusive, 2 bad input
(the message names the file and line)."
)]
pub struct CompareArgs {
    /// Gold labels, NDJSON (one sample a line).
    #[arg(long, required_unless_present = "config", conflicts_with = "config")]
    gold: Option<PathBuf>,
    /// Take the ground truth from a [[corpus]] of this config instead (any format; pick it with
    /// --corpus when the config has several).
    #[arg(long)]
    config: Option<PathBuf>,
    /// An arm's predictions, NAME=FILE (JSONL); give it once per arm.
    #[arg(long = "pred", value_name = "NAME=FILE", required = true)]
    preds: Vec<String>,
    /// The arm every other arm is compared with.
    #[arg(long)]
    baseline: String,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// With --gold: the corpus name (used in tables and sample hashes; default: the gold file's
    /// stem). With --config: which [[corpus]] to read.
    #[arg(long)]
    corpus: Option<String>,
    /// Rasterise / resample every mask to N×N (nearest) before scoring.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16384))]
    grid: Option<u32>,
    /// IoU threshold τ for pass rates (default 0.5, or the criteria file's pass_iou).
    #[arg(long)]
    pass_iou: Option<f64>,
    /// Success criteria (TOML): τ, failure-class taxonomy, criteria → go / no-go verdict.
    #[arg(long)]
    criteria: Option<PathBuf>,
    /// Post-processing variants, sweeps and the composite score (TOML: [[variant]], [[sweep]],
    /// [score]); variants are scored as arms.
    #[arg(long)]
    variants: Option<PathBuf>,
    /// Reporter notes sidecar: a JSON object mapping sample id → notes (for failure classes).
    #[arg(long)]
    notes: Option<PathBuf>,
    /// Seed of the paired bootstrap (default: the criteria file's, else 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Paired bootstrap resamples for the 95% CIs (default: the criteria file's, else 2000; 0 = off).
    #[arg(long)]
    bootstrap: Option<usize>,
    /// How many regressions and improvements to rank.
    #[arg(long = "top", default_value_t = 20)]
    top_k: usize,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Pin the run id (default: derived from the timestamp).
    /// Overlay pictures for the top N regressions and N improvements of each comparison
    /// (real arms and the recommended variant); 0 = none.
    #[arg(long, default_value_t = 3)]
    gallery: usize,
    #[arg(long)]
    run_id: Option<String>,
    /// Pin the timestamp written into the reports (default: now, UTC).
    #[arg(long)]
    generated_at: Option<String>,
}

/// The ground-truth corpus of a compare (gold NDJSON or a config's [[corpus]]) and the input
/// files to fingerprint in the report.
fn corpus_spec(a: &CompareArgs) -> Result<(CorpusSpec, Vec<InputFile>)> {
    if let Some(config) = &a.config {
        let specs = maskgate::config::load_corpora(config)?;
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let spec = match &a.corpus {
            Some(n) => specs
                .iter()
                .find(|s| s.name == *n)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: no corpus named {n:?} (corpora: {})",
                        config.display(),
                        names.join(", ")
                    )
                })?,
            None if specs.len() == 1 => specs[0].clone(),
            None => bail!(
                "{} has {} corpora ({}); pick one with --corpus",
                config.display(),
                specs.len(),
                names.join(", ")
            ),
        };
        let inputs = vec![
            crate::run_cmd::input("config", config)?,
            crate::run_cmd::input(&format!("corpus {}", spec.name), &spec.path)?,
        ];
        return Ok((spec, inputs));
    }
    let gold = a.gold.clone().context("give --gold or --config")?;
    let name = a.corpus.clone().unwrap_or_else(|| {
        gold.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "gold".into())
    });
    let input = InputFile {
        role: "gold".into(),
        path: gold.display().to_string(),
        sha256: maskgate::sha256_file(&gold)?,
    };
    let spec = CorpusSpec {
        name,
        format: "gold-ndjson".into(),
        path: gold,
        ..Default::default()
    };
    Ok((spec, vec![input]))
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
    let criteria = a.criteria.as_deref().map(CriteriaFile::load).transpose()?;
    let pass_iou = pass_iou_of(a.pass_iou, criteria.as_ref())?;
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
    pool.install(|| {
        let (spec, gt_input) = corpus_spec(&a)?;
        let mut corpus = read_corpus(&spec).context("reading the ground truth")?;
        if let Some(p) = &a.notes {
            apply_notes_all(std::slice::from_mut(&mut corpus), p)?;
        }
        let mut arm_names: Vec<String> = arms_spec.iter().map(|(n, _)| n.clone()).collect();
        let variant_set = match &a.variants {
            Some(p) => {
                let set = RawVariants::load(p)?
                    .resolve(&arm_names)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                let overlaps: Vec<String> =
                    corpus.overlaps().iter().map(|o| o.name.clone()).collect();
                set.check_classes(&corpus.classes, &overlaps)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                set
            }
            None => VariantSet {
                variants: vec![],
                score: None,
            },
        };
        arm_names.extend(variant_set.variants.iter().map(|v| v.name.clone()));
        if let Some(c) = &criteria {
            let classes = BTreeMap::from([(corpus.name.clone(), corpus.classes.clone())]);
            c.validate(&arm_names, &a.baseline, &classes)?;
        }
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
        let mut inputs = gt_input;
        for (role, p) in [
            ("criteria", &a.criteria),
            ("notes", &a.notes),
            ("variants", &a.variants),
        ] {
            if let Some(p) = p {
                inputs.push(InputFile {
                    role: role.into(),
                    path: p.display().to_string(),
                    sha256: maskgate::sha256_file(p)?,
                });
            }
        }
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
            compare: CompareSettings {
                top_k: a.top_k,
                pass_iou,
                resamples: a
                    .bootstrap
                    .or(criteria.as_ref().and_then(|c| c.resamples))
                    .unwrap_or(2000),
                seed: a
                    .seed
                    .or(criteria.as_ref().and_then(|c| c.seed))
                    .unwrap_or(0),
            },
            criteria: criteria.as_ref(),
            variants: &variant_set.variants,
            group_score: variant_set.score.as_ref(),
            run: RunMeta {
                run_id,
                generated_at,
                inputs,
            },
            unmatched_predictions: unmatched,
        });
        let mut report = report;
        let shown = gallery_arms(
            &report,
            &arms_spec.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        );
        report.gallery = maskgate::gallery::render(
            &report,
            &corpora,
            &arms,
            &variant_set.variants,
            &shown,
            a.gallery,
            &a.out,
        )?;
        finish(&report, &a.out)
    })
}

/// τ from the command line or run config, or the criteria file — which locks it.
pub fn pass_iou_of(given: Option<f64>, criteria: Option<&CriteriaFile>) -> Result<f64> {
    let t = match (given, criteria.and_then(|c| c.pass_iou)) {
        (Some(g), Some(file)) if g != file => {
            bail!("pass_iou {g} contradicts pass_iou = {file} in the criteria file; τ is locked there")
        }
        (g, file) => g.or(file).unwrap_or(0.5),
    };
    if !(0.0..=1.0).contains(&t) {
        bail!("pass_iou must be within [0, 1], got {t}");
    }
    Ok(t)
}

/// Writes the reports and turns the verdict into the exit code.
pub fn finish(report: &maskgate::report::Report, out: &std::path::Path) -> Result<u8> {
    let written = maskgate::export::write_all(report, out)?;
    for p in written {
        eprintln!("wrote {}", p.display());
    }
    Ok(match report.recommendation {
        Some(r) => {
            eprintln!("recommendation: {}", r.as_str());
            r.exit_code()
        }
        None => 0,
    })
}

/// Merges a notes sidecar (`{"<id>": "<notes>"}`) into the corpora. Ids no corpus has are
/// listed on stderr (a sampled corpus legitimately lacks some; a typo should still be seen).
pub fn apply_notes_all(corpora: &mut [Corpus], path: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let map: BTreeMap<String, String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON object of id → notes", path.display()))?;
    let known: BTreeSet<&str> = corpora
        .iter()
        .flat_map(|c| c.samples.iter().map(|s| s.id.as_str()))
        .collect();
    let unknown: Vec<&String> = map
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "maskgate: {}: {} of {} ids are in no corpus (sampled out or misspelt): {}",
            path.display(),
            unknown.len(),
            map.len(),
            unknown
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for c in corpora.iter_mut() {
        for s in &mut c.samples {
            if let Some(n) = map.get(&s.id) {
                s.notes = Some(n.clone());
            }
        }
    }
    Ok(())
}

/// The arms whose comparisons get a gallery: every real arm, plus the recommended variant.
pub fn gallery_arms(report: &maskgate::report::Report, real_arms: &[String]) -> Vec<String> {
    let mut shown = real_arms.to_vec();
    if let Some(g) = report
        .groups
        .as_ref()
        .and_then(|g| g.recommended_group.clone())
    {
        shown.push(g);
    }
    shown
}
