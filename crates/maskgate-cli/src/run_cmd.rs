//! `maskgate run CONFIG`: the main job — corpora and arms (models or prediction files) from a
//! config, through the whole flow to reports and verdict.

use crate::clock;
use crate::compare_cmd::{apply_notes_all, pass_iou_of, thread_pool};
use anyhow::{bail, Context, Result};
use clap::Args;
use maskgate::compare::CompareSettings;
use maskgate::config::{ArmSource, RunConfig};
use maskgate::decide::criteria::CriteriaFile;
use maskgate::pipeline::{evaluate, Plan, INTERRUPTED};
use maskgate::predict::cache::PredictionCache;
use maskgate::predict::engine::Model;
use maskgate::predict::model_arm::ModelArm;
use maskgate::predict::predictions::PredictionsFile;
use maskgate::predict::{adapters, Arm};
use maskgate::read::read_corpus;
use maskgate::report::{InputFile, RunMeta};
use maskgate::score::ScoreSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

#[derive(Args)]
#[command(
    about = "Run the arms of a config (models and/or prediction files) over its corpora, score, compare and decide",
    after_help = "Example:
  maskgate run examples/selfie-ab/maskgate.toml --threads 2 --run-id nightly

Config shape (relative paths are taken from the config's folder):
  [run]     out, baseline, pass_iou, grid, top, seed, bootstrap, criteria, notes, cache, onnxruntime, intra_threads
  [[corpus]] name, format (gold-ndjson | fasseg), path, classes = { fg = [\"skin\", ...] }, sample_seed, limit
  [[arm]]   name, adapter (rembg | imgly-isnet | mediapipe-selfie | yolov8-seg | semantic-argmax | sigmoid),
            model, class, threshold, session, labels, classes, mean, std, logits, conf, iou
            — or name, predictions = \"file.jsonl\"

Exit status: 0 go (or no criteria), 1 no-go or inconclusive, 2 error."
)]
pub struct RunArgs {
    /// The run config (TOML).
    config: PathBuf,
    /// Output directory (overrides [run] out).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads for decoding, pre-processing and scoring (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// ONNX Runtime intra-op threads per model (overrides [run] intra_threads; 0 = its default).
    #[arg(long)]
    intra_threads: Option<usize>,
    /// Ignore and do not fill the prediction cache.
    #[arg(long)]
    no_cache: bool,
    /// Overlay pictures for the top N regressions and N improvements of each comparison
    /// (real arms and the recommended variant); 0 = none.
    #[arg(long, default_value_t = 3)]
    gallery: usize,
    #[arg(long)]
    run_id: Option<String>,
    #[arg(long)]
    generated_at: Option<String>,
}

pub fn input(role: &str, p: &std::path::Path) -> Result<InputFile> {
    Ok(InputFile {
        role: role.into(),
        path: p.display().to_string(),
        sha256: if p.is_file() {
            maskgate::sha256_file(p)?
        } else {
            maskgate::sha256_tree(p)?
        },
    })
}

pub fn run(a: RunArgs) -> Result<u8> {
    let cfg = RunConfig::load(&a.config)?;
    let criteria = cfg
        .criteria
        .as_deref()
        .map(CriteriaFile::load)
        .transpose()?;
    let pass_iou = pass_iou_of(cfg.pass_iou, criteria.as_ref())?;
    let pool = thread_pool(a.threads)?;
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!(
            "\nmaskgate: interrupted — finishing samples in flight (Ctrl-C again to quit now)"
        );
    });
    pool.install(|| {
        let mut corpora = cfg
            .corpora
            .iter()
            .map(|spec| read_corpus(spec).with_context(|| format!("reading corpus {:?}", spec.name)))
            .collect::<Result<Vec<_>>>()?;
        if let Some(p) = &cfg.notes {
            apply_notes_all(&mut corpora, p)?;
        }
        let mut arm_names: Vec<String> = cfg.arms.iter().map(|x| x.name.clone()).collect();
        arm_names.extend(cfg.variants.variants.iter().map(|v| v.name.clone()));
        let all_classes: Vec<String> = corpora.iter().flat_map(|c| c.classes.iter().cloned()).collect();
        let overlaps: Vec<String> = corpora.iter().flat_map(|c| c.overlaps().iter().map(|o| o.name.clone())).collect();
        cfg.variants.check_classes(&all_classes, &overlaps).map_err(|e| anyhow::anyhow!("{}: {e}", cfg.path.display()))?;
        if let Some(c) = &criteria {
            let classes: BTreeMap<String, Vec<String>> = corpora.iter().map(|k| (k.name.clone(), k.classes.clone())).collect();
            c.validate(&arm_names, &cfg.baseline, &classes)?;
        }
        let cache_dir = (!a.no_cache).then(|| cfg.cache.clone()).flatten();
        let intra = a.intra_threads.unwrap_or(cfg.intra_threads);
        let mut model_arms: Vec<ModelArm> = Vec::new();
        let mut file_arms: Vec<PredictionsFile> = Vec::new();
        let mut inputs = vec![input("config", &cfg.path)?];
        for spec in &cfg.arms {
            match &spec.source {
                ArmSource::Predictions(p) => {
                    file_arms.push(PredictionsFile::load(&spec.name, p).with_context(|| format!("arm {:?}", spec.name))?);
                    inputs.push(input(&format!("predictions {}", spec.name), p)?);
                }
                ArmSource::Model { adapter, model, settings } => {
                    let m = Model::load(model, intra, cfg.onnxruntime.as_deref()).with_context(|| format!("arm {:?}", spec.name))?;
                    let seg = adapters::build(adapter, settings).map_err(anyhow::Error::msg)?;
                    inputs.push(InputFile {
                        role: format!("model {}", spec.name),
                        path: model.display().to_string(),
                        sha256: m.sha256.clone(),
                    });
                    model_arms.push(ModelArm::new(&spec.name, m, seg, cache_dir.as_deref().map(PredictionCache::new)).map_err(anyhow::Error::msg)?);
                }
            }
        }
        for c in &cfg.corpora {
            inputs.push(input(&format!("corpus {}", c.name), &c.path)?);
        }
        for (role, p) in [("criteria", &cfg.criteria), ("notes", &cfg.notes)] {
            if let Some(p) = p {
                inputs.push(input(role, p)?);
            }
        }
        let gold_ids: BTreeSet<&str> = corpora.iter().flat_map(|c| c.samples.iter().map(|s| s.id.as_str())).collect();
        let unmatched = file_arms.iter().map(|f| (f.name().to_string(), f.unmatched_ids(&gold_ids))).collect();
        let arms: Vec<&dyn Arm> = model_arms.iter().map(|m| m as &dyn Arm).chain(file_arms.iter().map(|f| f as &dyn Arm)).collect();
        let generated_at = a.generated_at.clone().unwrap_or_else(clock::now_rfc3339);
        let run_id = a.run_id.clone().unwrap_or_else(|| clock::run_id_from(&generated_at));
        let started = std::time::Instant::now();
        // A heavy model already keeps every core busy during its inference; on a small machine
        // a second worker decoding the next photo only slows that inference down (measured on
        // 2 cores: u2netp + ISNet wall 57.6 s with two workers, 52.3 s with one). So without an
        // explicit --threads, heavy models on up to 4 cores run with one worker.
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let heavy = model_arms.iter().any(|m| m.model.is_heavy());
        let workers = match a.threads {
            Some(n) => n,
            None if heavy && cores <= 4 => 1,
            None => cores,
        };
        let eval_pool = thread_pool(Some(workers))?;
        let report = eval_pool.install(|| evaluate(Plan {
            corpora: &corpora,
            arms: &arms,
            baseline: cfg.baseline.clone(),
            score: ScoreSettings { grid: cfg.grid, ..Default::default() },
            compare: CompareSettings {
                top_k: cfg.top_k,
                pass_iou,
                resamples: cfg.bootstrap.or(criteria.as_ref().and_then(|c| c.resamples)).unwrap_or(2000),
                seed: cfg.seed.or(criteria.as_ref().and_then(|c| c.seed)).unwrap_or(0),
            },
            criteria: criteria.as_ref(),
            variants: &cfg.variants.variants,
            group_score: cfg.variants.score.as_ref(),
            run: RunMeta { run_id, generated_at, inputs },
            unmatched_predictions: unmatched,
        }));
        if INTERRUPTED.load(Ordering::Relaxed) {
            bail!(
                "interrupted: no report written; finished predictions are kept in {} — run again to resume",
                cache_dir.map(|d| d.display().to_string()).unwrap_or_else(|| "(no cache: --no-cache)".into())
            );
        }
        for m in &model_arms {
            eprintln!(
                "arm {}: {} inferences ({:.2} s in the model), {} cached, {} failed",
                m.name,
                m.inferences.load(Ordering::Relaxed),
                m.model.inference_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                m.cache_hits.load(Ordering::Relaxed),
                m.failures.load(Ordering::Relaxed)
            );
        }
        eprintln!("scored in {:.2} s", started.elapsed().as_secs_f64());
        let out = a.out.clone().unwrap_or(cfg.out.clone());
        let mut report = report;
        let real: Vec<String> = cfg.arms.iter().map(|x| x.name.clone()).collect();
        let shown = crate::compare_cmd::gallery_arms(&report, &real);
        report.gallery = maskgate::gallery::render(&report, &corpora, &arms, &cfg.variants.variants, &shown, a.gallery, &out)?;
        crate::compare_cmd::finish(&report, &out)
    })
}
