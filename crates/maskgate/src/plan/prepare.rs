//! Everything before scoring that a whole run, a shard and a merge share.

use super::{problems_error, taxonomy_of, Plan};
use crate::config::ArmSource;
use crate::error::{Error, Result};
use crate::evaluation::EvalInput;
use crate::observe::Observer;
use crate::pathnames;
use crate::predict::adapters;
use crate::predict::cache::PredictionCache;
use crate::predict::engine::InferenceTurn;
use crate::predict::model_arm::{ModelArm, ModelSource};
use crate::predict::predictions::PredictionsFile;
use crate::predict::saved::SavedPredictions;
use crate::predict::Arm;
use crate::read::{read_corpus, Corpus};
use crate::report::InputFile;
use crate::shard::ShardSpec;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::Ordering;
/// Merges a notes sidecar (`{"<id>": "<notes>"}`) into the corpora; returns a notice naming the
/// ids no corpus has (a sampled corpus legitimately lacks some; a typo should still be seen).
pub(super) fn apply_notes(corpora: &mut [Corpus], path: &Path) -> Result<Option<String>> {
    let text = crate::limits::read_text(path)?;
    let map: BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| Error::file(path, format!("expected a JSON object of id → notes: {e}")))?;
    let known: BTreeSet<&str> = corpora
        .iter()
        .flat_map(|c| c.samples.iter().map(|s| s.id.as_str()))
        .collect();
    let unknown: Vec<&String> = map
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .collect();
    let notice = (!unknown.is_empty()).then(|| {
        const SHOWN: usize = 5;
        let more = if unknown.len() > SHOWN { ", …" } else { "" };
        format!(
            "{}: {} of {} ids are in no corpus (sampled out or misspelt): {}{more}",
            pathnames::display(path),
            unknown.len(),
            map.len(),
            unknown
                .iter()
                .take(SHOWN)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    for c in corpora.iter_mut() {
        for s in &mut c.samples {
            if let Some(n) = map.get(&s.id) {
                s.notes = Some(n.clone());
            }
        }
    }
    Ok(notice)
}

/// A plan's corpora read and checked, its arms built and its inputs hashed: everything before
/// scoring that a whole run, a shard and a merge share.
pub(super) struct Prepared {
    pub(super) corpora: Vec<Corpus>,
    pub(super) model_arms: Vec<ModelArm>,
    pub(super) file_arms: Vec<PredictionsFile>,
    pub(super) inputs: Vec<InputFile>,
    /// The corpora's samples with their files' hashes (the attestation's dataset manifest).
    pub(super) dataset: crate::attest::dataset::DatasetManifest,
    pub(super) notices: Vec<String>,
    pub(super) unmatched_predictions: BTreeMap<String, Vec<String>>,
    pub(super) shared_photos: crate::read::shared::SharedPhotos,
}

impl Prepared {
    pub(super) fn arms(&self) -> Vec<&dyn Arm> {
        self.model_arms
            .iter()
            .map(|m| m as &dyn Arm)
            .chain(self.file_arms.iter().map(|f| f as &dyn Arm))
            .collect()
    }

    pub(super) fn saved(&self, plan: &Plan) -> Option<SavedPredictions> {
        plan.save_predictions
            .then(|| SavedPredictions::new(self.model_arms.iter().map(|m| m.name.clone())))
    }

    pub(super) fn input<'a>(
        &'a self,
        plan: &'a Plan,
        arms: &'a [&'a dyn Arm],
        saved: Option<&'a SavedPredictions>,
    ) -> EvalInput<'a> {
        EvalInput {
            corpora: &self.corpora,
            arms,
            variants: &plan.variants.variants,
            baseline: &plan.baseline,
            score: plan.score,
            compare: plan.compare,
            taxonomy: taxonomy_of(plan),
            saved,
            suspects: plan.suspects,
            slices: plan.slices,
        }
    }

    /// Keeps only shard `spec`'s slice of the canonical list (corpora in plan order, each
    /// sorted by id); returns the whole list's length.
    pub(super) fn slice(&mut self, spec: ShardSpec) -> usize {
        let total = self.corpora.iter().map(|c| c.samples.len()).sum();
        let range = spec.range(total);
        let mut first = 0;
        for c in &mut self.corpora {
            let n = c.samples.len();
            let lo = range.start.clamp(first, first + n) - first;
            let hi = range.end.clamp(first, first + n) - first;
            c.samples.truncate(hi);
            c.samples.drain(..lo);
            first += n;
        }
        total
    }

    /// After scoring: a cancelled run is an error, as is a model that would not load; the
    /// arms' counts become notices.
    pub(super) fn after_scoring(&mut self, plan: &Plan, observer: &dyn Observer) -> Result<()> {
        if observer.cancelled() {
            return Err(Error::Usage(format!(
                "interrupted: no report written; finished predictions are kept in {} — run again to resume",
                plan.cache
                    .as_deref()
                    .map(pathnames::display)
                    .unwrap_or_else(|| "(no cache)".into())
            )));
        }
        // A model first needed mid-run that would not load is the run's error, as it would
        // have been before any work had the cache not served the earlier samples.
        if let Some(e) = self.model_arms.iter().find_map(ModelArm::load_error) {
            return Err(Error::Usage(e.to_string()));
        }
        for m in &self.model_arms {
            self.notices.extend(
                m.first_failures
                    .lock()
                    .map(|v| v.clone())
                    .unwrap_or_default(),
            );
            self.notices.push(format!(
                "arm {}: {} inferences ({:.2} s in the model's sessions), {} cached, {} failed",
                m.name,
                m.inferences.load(Ordering::Relaxed),
                m.loaded()
                    .map_or(0, |model| model.inference_nanos.load(Ordering::Relaxed))
                    as f64
                    / 1e9,
                m.cache_hits.load(Ordering::Relaxed),
                m.failures.load(Ordering::Relaxed)
            ));
        }
        Ok(())
    }
}

/// The arms: prediction files read, model arms built and their models loaded side by side,
/// with the input files they name, in the plan's order.
fn build_arms(
    plan: &Plan,
    cache: Option<&PredictionCache>,
    host: &str,
    run: &str,
    turn: &InferenceTurn,
) -> Result<(Vec<ModelArm>, Vec<PredictionsFile>, Vec<InputFile>)> {
    let mut model_arms: Vec<ModelArm> = Vec::new();
    let mut file_arms: Vec<PredictionsFile> = Vec::new();
    let mut inputs = Vec::new();
    for spec in &plan.arms {
        match &spec.source {
            ArmSource::Predictions(p) => {
                let file = PredictionsFile::load(&spec.name, p).map_err(|e| {
                    Error::Usage(format!("reading predictions of arm {:?}: {e}", spec.name))
                })?;
                file_arms.push(file.with_limits(plan.limits));
                inputs.push(plan.input(format!("predictions {}", spec.name), p)?);
            }
            ArmSource::Model {
                adapter,
                model,
                settings,
            } => {
                if !model.is_file() {
                    return Err(Error::Usage(format!(
                        "arm {:?}: {}: cannot load model: no such file",
                        spec.name,
                        model.display()
                    )));
                }
                let sha256 = crate::sha256_file(model)
                    .map_err(|e| Error::Usage(format!("arm {:?}: {e}", spec.name)))?;
                let seg = adapters::build(adapter, settings).map_err(Error::Usage)?;
                inputs.push(InputFile {
                    role: format!("model {}", spec.name),
                    path: plan.shown(model),
                    named: plan.named(model),
                    sha256: sha256.clone(),
                });
                // A checkpoint runs as the ONNX Ultralytics exports from it.
                let exported = match crate::predict::checkpoint::is_checkpoint(model) {
                false => None,
                true if adapter != "yolov8-seg" => {
                    return Err(Error::Usage(format!(
                        "arm {:?}: {} is a PyTorch checkpoint, which maskgate exports with Ultralytics for the yolov8-seg adapter only; give adapter = \"yolov8-seg\", or export it to ONNX yourself",
                        spec.name,
                        plan.shown(model)
                    )))
                }
                true => {
                    let local_cache = plan
                        .cache
                        .as_deref()
                        .filter(|c| !crate::storage::is_url(&c.to_string_lossy()));
                    let python = plan.python.as_path();
                    let e = crate::predict::checkpoint::export(
                        model,
                        plan.shown(model),
                        &sha256,
                        python,
                        local_cache,
                    )
                    .map_err(|e| Error::Usage(format!("arm {:?}: {e}", spec.name)))?;
                    Some(e)
                }
            };
                let (path, sha256) = match &exported {
                    Some(e) => (
                        e.onnx.clone(),
                        crate::sha256_file(&e.onnx)
                            .map_err(|e| Error::Usage(format!("arm {:?}: {e}", spec.name)))?,
                    ),
                    None => (model.clone(), sha256),
                };
                let source = ModelSource {
                    path,
                    sha256,
                    exported,
                    intra_threads: plan.intra_threads,
                    memory: plan.ort_memory,
                    runtime: plan.onnxruntime.clone(),
                    turn: turn.clone(),
                    // Only a verdict reads the pixels near a decision (the noise check): a run
                    // or shard without criteria does not find them.
                    noise_epsilon: match plan.criteria {
                        Some(_) => plan.noise.epsilon,
                        None => 0.0,
                    },
                    host: host.to_string(),
                    run: run.to_string(),
                    measure_cost: plan.cost.measure,
                };
                let cache = cache.cloned();
                model_arms.push(ModelArm::new(&spec.name, source, seg, cache));
            }
        }
    }
    // Each model that a cache miss will need, loaded side by side, unless the run measures
    // cost: a load's time and memory rise are then its own. The first failure in the arms'
    // order is the error.
    let loaded: Vec<std::result::Result<(), String>> = match plan.cost.measure {
        true => model_arms.iter().map(ModelArm::preload).collect(),
        false => model_arms.par_iter().map(ModelArm::preload).collect(),
    };
    loaded
        .into_iter()
        .collect::<std::result::Result<(), String>>()
        .map_err(Error::Usage)?;
    Ok((model_arms, file_arms, inputs))
}

/// The most bytes of predictions a run without a cache keeps for its gallery: thousands of
/// masks, far less than the models themselves hold.
const PRIVATE_CACHE_BYTES: usize = 256 << 20;

pub(super) fn prepare(plan: &Plan) -> Result<Prepared> {
    let mut notices = Vec::new();
    let read_corpora = || {
        plan.corpora
            .iter()
            .map(read_corpus)
            .collect::<Result<Vec<_>>>()
    };
    let has_models = plan
        .arms
        .iter()
        .any(|a| matches!(a.source, ArmSource::Model { .. }));
    // Loading ONNX Runtime (a 20 MB library, and its environment) takes a light gate's 20 ms
    // and needs nothing read: done while the corpora are listed and their photos hashed, when
    // no prediction cache may spare the models. Its error, cached with it, is the first model
    // load's to report. A run that measures cost keeps loads apart from other work (see
    // `build_arms`).
    let mut corpora = match has_models && !plan.cost.measure && plan.cache.is_none() {
        true => {
            rayon::join(read_corpora, || {
                crate::predict::engine::init_runtime(plan.onnxruntime.as_deref())
            })
            .0
        }
        false => read_corpora(),
    }?;
    if let Some(p) = &plan.notes {
        notices.extend(apply_notes(&mut corpora, p)?);
    }
    // Photos two corpora share, or the training set holds: found before any work, so that
    // `overlap = "refuse"` stops a run early and `"drop"` changes what every shard scores.
    let training = match &plan.training_manifest {
        Some(p) => Some(crate::read::shared::read_training_set(
            p,
            plan.shown(p),
            &plan.limits,
        )?),
        None => None,
    };
    let mut shared = crate::read::shared::find(&corpora, training.as_ref());
    crate::read::shared::apply(plan.overlap, &mut corpora, &mut shared)?;
    let corpus_classes: BTreeMap<String, Vec<String>> = corpora
        .iter()
        .map(|k| (k.name.clone(), k.classes.clone()))
        .collect();
    let all_classes: Vec<String> = corpora.iter().flat_map(|c| c.classes.clone()).collect();
    let overlaps: Vec<String> = corpora
        .iter()
        .flat_map(|c| c.overlaps().iter().map(|o| o.name.clone()))
        .collect();
    let variants_origin = plan
        .variants_file
        .as_deref()
        .or(plan.config.as_deref())
        .unwrap_or(Path::new("variants"));
    plan.variants
        .check_classes(&all_classes, &overlaps)
        .map_err(|e| Error::file(variants_origin, e))?;
    let mut arm_names = plan.real_arms();
    arm_names.extend(plan.variants.variants.iter().map(|v| v.name.clone()));
    if let Some(c) = &plan.criteria {
        c.validate(&arm_names, &plan.baseline, &corpus_classes)?;
    }
    // An arm's class must be a class of every corpus it is scored on.
    let mut problems = Vec::new();
    // Model arms need photos: a database query without an `image` column would score every
    // sample as unreadable.
    if plan
        .arms
        .iter()
        .any(|a| matches!(a.source, ArmSource::Model { .. }))
    {
        for c in &corpora {
            if c.format == "sql"
                && !c.samples.is_empty()
                && c.samples.iter().all(|s| s.image.is_none())
            {
                problems.push(format!(
                    "corpus {:?} names no photo for any sample, and model arms need them (a sql corpus: select the photo's path as `image`)",
                    c.name
                ));
            }
        }
    }
    for a in &plan.arms {
        if let ArmSource::Model { settings, .. } = &a.source {
            if let Some(class) = &settings.class {
                for (corpus, classes) in &corpus_classes {
                    if !classes.contains(class) {
                        problems.push(format!(
                            "arm {:?}: class {class:?} is not a class of corpus {corpus:?} ({})",
                            a.name,
                            classes.join(", ")
                        ));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems_error(plan.config.as_deref(), problems));
    }
    crate::export::check_out_dir(&plan.out)?;

    // The arms: prediction files and models.
    let turn = InferenceTurn::default();
    // Without the user's cache, the run still keeps its own predictions, in memory up to a
    // budget, so the gallery reuses them instead of inferring again (writing them to a
    // temporary folder cost a light gate a fifth of its time).
    // One cache for every model arm: a folder, or a bucket prefix the shards share.
    let cache = match plan.cache.as_deref() {
        Some(c) if crate::storage::is_url(&c.to_string_lossy()) => Some(PredictionCache::on(
            std::sync::Arc::from(crate::storage::open(c, plan.network)?),
        )),
        Some(c) => Some(PredictionCache::new(c)),
        None if has_models => Some(PredictionCache::on(std::sync::Arc::new(
            crate::storage::MemoryStore::new(PRIVATE_CACHE_BYTES),
        ))),
        None => None,
    };
    // Cached predictions keep the host and run their latency was measured in.
    let host = crate::cost::Host::of_this_host(
        crate::predict::engine::EXECUTION_PROVIDER,
        crate::predict::engine::ORT_VERSION,
    )
    .key();
    let run = crate::cost::run_nonce();
    let mut inputs = Vec::new();
    let mut dataset = crate::attest::dataset::DatasetManifest::default();
    if let Some(c) = &plan.config {
        inputs.push(plan.input("config".into(), c)?);
    }
    if let Some(t) = &training {
        let path = plan.training_manifest.as_deref().unwrap_or(Path::new(""));
        inputs.push(InputFile {
            role: "training manifest".into(),
            path: t.shown.clone(),
            named: plan.named(path),
            sha256: t.fingerprint(),
        });
    }
    // Hashing the corpora's files and loading the models are independent, and each takes a
    // light gate's tens of milliseconds: done side by side.
    let hash_corpus = |spec: &crate::read::CorpusSpec| -> Result<_> {
        let corpus = corpora
            .iter()
            .find(|c| c.name == spec.name)
            .expect("every spec was read");
        let role = if plan.gold_file {
            "gold".to_string()
        } else {
            format!("corpus {}", spec.name)
        };
        // Every corpus is local by now (a remote one was fetched when the plan resolved).
        let named = crate::source::local::named_hashes(
            &spec.path,
            &corpus.files_read(&spec.path),
            &corpus.photo_sha256,
        )?;
        let files_sha256 = crate::source::fingerprint_of(named.values().cloned().collect());
        let input = match &corpus.version {
            // A database corpus: its rows, its query and the files they name.
            Some(v) => InputFile {
                role,
                path: v.source.clone(),
                named: v.source.clone(),
                sha256: crate::source::fingerprint_of(vec![
                    ("files".into(), files_sha256),
                    ("query".into(), v.query_sha256.clone()),
                    ("rows".into(), v.rows_sha256.clone()),
                ]),
            },
            None => InputFile {
                role,
                path: plan.shown(&spec.path),
                named: plan.named(&spec.path),
                sha256: files_sha256,
            },
        };
        let manifest = crate::attest::dataset::CorpusManifest::new(
            &corpus.name,
            input.named.clone(),
            input.sha256.clone(),
            corpus
                .version
                .as_ref()
                .map(|v| (v.query_sha256.clone(), v.rows_sha256.clone())),
            &named,
            corpus
                .samples
                .iter()
                .map(|e| crate::attest::dataset::SamplePaths {
                    id: &e.id,
                    photo: e.image.as_ref(),
                    labels: &e.files,
                }),
        );
        Ok((input, manifest))
    };
    let hash_corpora = || plan.corpora.par_iter().map(hash_corpus).collect::<Vec<_>>();
    let build = || build_arms(plan, cache.as_ref(), &host, &run, &turn);
    let (hashed, built) = match plan.cost.measure {
        true => (hash_corpora(), build()),
        false => rayon::join(hash_corpora, build),
    };
    for corpus in hashed {
        let (input, manifest) = corpus?;
        dataset.corpora.push(manifest);
        inputs.push(input);
    }
    let (model_arms, file_arms, arm_inputs) = built?;
    inputs.extend(arm_inputs);
    for (role, p) in [
        ("criteria", plan.criteria.as_ref().map(|c| &c.path)),
        ("notes", plan.notes.as_ref()),
        ("variants", plan.variants_file.as_ref()),
    ] {
        if let Some(p) = p {
            let input = plan.input(role.into(), p)?;
            // The criteria decide with what was read (and pinned) when the plan resolved.
            if let Some(c) = plan.criteria.as_ref().filter(|_| role == "criteria") {
                if input.sha256 != c.sha256 {
                    return Err(Error::file(
                        p,
                        "changed while the run started (its sha256 differs from the criteria read a moment ago): run again",
                    ));
                }
            }
            inputs.push(input);
        }
    }
    let gold_ids: BTreeSet<&str> = corpora
        .iter()
        .flat_map(|c| c.samples.iter().map(|s| s.id.as_str()))
        .collect();
    let unmatched_predictions = file_arms
        .iter()
        .map(|f| (f.name().to_string(), f.unmatched_ids(&gold_ids)))
        .collect();
    // `compare --config` reads the config's corpora only: when its [run] table names criteria
    // or τ that this plan did not take, the numbers would differ from `run`'s without a word.
    if let (Some(judging), Some(config), None) =
        (&plan.compare_config_judging, &plan.config, &plan.criteria)
    {
        let unread: Vec<String> = [
            (judging.criteria.as_ref())
                .map(|c| format!("criteria {}", crate::pathnames::display(c))),
            (judging.pass_iou)
                .filter(|t| *t != plan.compare.pass_iou)
                .map(|t| format!("pass_iou {t}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !unread.is_empty() {
            let from = |name: &str| {
                (plan.sources.iter())
                    .find(|r| r.name == name)
                    .map_or_else(String::new, |r| format!(" (from {})", r.source))
            };
            notices.push(format!(
                "compared with τ = {}{} and seed {}{}: compare reads only the corpora of {}, not its [run] {} (pass --criteria FILE or --pass-iou to judge as run does)",
                crate::fmt::num(plan.compare.pass_iou),
                from(super::settings::PASS_IOU.name),
                plan.compare.seed,
                from(super::settings::SEED.name),
                crate::pathnames::display(config),
                unread.join(" or ")
            ));
        }
    }
    let gold_classes: BTreeSet<&str> = corpora
        .iter()
        .flat_map(|c| c.classes.iter().map(String::as_str))
        .collect();
    notices.extend(
        file_arms
            .iter()
            .filter_map(|f| f.foreign_classes(&gold_classes)),
    );
    // Photos the image-root guard kept out are recorded per sample; say so where a person
    // reads, since slices' photo properties and model arms go without them.
    for c in &corpora {
        let outside = (c.problems.iter())
            .filter(|p| p.kind == "image_outside_root")
            .count();
        if outside > 0 {
            notices.push(format!(
                "corpus {}: {outside} photo{} outside the image root were not read (scored without them; no photo properties for weak slices): pass --image-root DIR (compare) or set [corpus.options] image_root to the folder that holds them",
                c.name,
                if outside == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(Prepared {
        corpora,
        model_arms,
        file_arms,
        inputs,
        dataset,
        notices,
        unmatched_predictions,
        shared_photos: shared,
    })
}
