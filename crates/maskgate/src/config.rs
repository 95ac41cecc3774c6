//! The run config (`maskgate run CONFIG`, TOML): `[run]`, `[[corpus]]`, `[[arm]]`. Relative
//! paths are taken from the config file's folder. Every missing or inconsistent piece is
//! reported at once, before any work starts. Whether the files it names exist is the plan's
//! question (`crate::plan`), asked of the source that serves each of them.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::predict::adapters::{check_keys, AdapterSettings};
use crate::predict::variants::{RawSweep, RawVariant, Variant};
use crate::read::CorpusSpec;
use crate::recommend::GroupScoreSpec;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRun {
    out: Option<String>,
    baseline: Option<String>,
    pass_iou: Option<f64>,
    noise_epsilon: Option<f64>,
    strict: Option<bool>,
    cost: Option<bool>,
    cost_warmup: Option<usize>,
    cost_repeat: Option<usize>,
    grid: Option<u32>,
    top: Option<usize>,
    seed: Option<u64>,
    bootstrap: Option<usize>,
    criteria: Option<String>,
    notes: Option<String>,
    training_manifest: Option<String>,
    overlap: Option<String>,
    sign_key: Option<String>,
    criteria_sha256: Option<String>,
    cache: Option<String>,
    onnxruntime: Option<String>,
    python: Option<String>,
    intra_threads: Option<usize>,
    memory_arena: Option<bool>,
    memory_pattern: Option<bool>,
    save_predictions: Option<bool>,
    gallery: Option<usize>,
    exclude_suspects: Option<bool>,
    suspect_agreement: Option<f64>,
    suspect_truth_iou: Option<f64>,
    slice_bins: Option<usize>,
    slice_worst: Option<usize>,
    formats: Option<Vec<String>>,
    network_timeout_s: Option<u64>,
    max_failed_share: Option<f64>,
    progress_s: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorpus {
    name: Option<String>,
    format: Option<String>,
    path: Option<String>,
    #[serde(default)]
    classes: BTreeMap<String, Vec<String>>,
    sample_seed: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    ignore: Vec<String>,
    split: Option<String>,
    modules: Option<crate::read::modules::ModulesSpec>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    /// A database corpus (`format = "sql"`): where, what to ask, and where its files are.
    url: Option<String>,
    query: Option<String>,
    query_file: Option<String>,
    images: Option<String>,
    mask_class: Option<String>,
    /// `"keep-first"`: count each photo once (byte-identical photos: the first id stays).
    dedupe: Option<String>,
    /// A held-out split: photos it shares with another corpus or the training set are a
    /// warning on the verdict.
    #[serde(default)]
    held_out: bool,
    /// Where ground-truth instances come from: `"source"` (the format's own) or `"classes"`
    /// (each class's mask is one instance).
    instances: Option<String>,
}

impl RawCorpus {
    /// The database keys given, as the `sql` reader's options (other formats refuse them by
    /// name, as they refuse any option they do not know).
    fn database_options(&self) -> impl Iterator<Item = (String, String)> + '_ {
        [
            ("url", &self.url),
            ("query", &self.query),
            ("query_file", &self.query_file),
            ("images", &self.images),
            ("mask_class", &self.mask_class),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArm {
    name: Option<String>,
    adapter: Option<String>,
    model: Option<String>,
    predictions: Option<String>,
    class: Option<String>,
    threshold: Option<f64>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    classes: BTreeMap<String, Vec<String>>,
    session: Option<String>,
    pillow: Option<String>,
    mean: Option<[f64; 3]>,
    std: Option<[f64; 3]>,
    logits: Option<bool>,
    conf: Option<f64>,
    iou: Option<f64>,
    max_det: Option<usize>,
    agnostic_nms: Option<bool>,
    mask_mode: Option<String>,
    instances: Option<String>,
    decode: Option<String>,
}

impl RawArm {
    /// The adapter keys this table sets (to refuse the ones its adapter does not read).
    fn adapter_keys_given(&self) -> Vec<&'static str> {
        [
            ("class", self.class.is_some()),
            ("threshold", self.threshold.is_some()),
            ("labels", !self.labels.is_empty()),
            ("classes", !self.classes.is_empty()),
            ("session", self.session.is_some()),
            ("pillow", self.pillow.is_some()),
            ("mean", self.mean.is_some()),
            ("std", self.std.is_some()),
            ("logits", self.logits.is_some()),
            ("conf", self.conf.is_some()),
            ("iou", self.iou.is_some()),
            ("max_det", self.max_det.is_some()),
            ("agnostic_nms", self.agnostic_nms.is_some()),
            ("mask_mode", self.mask_mode.is_some()),
            ("instances", self.instances.is_some()),
            ("decode", self.decode.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| k)
        .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    corpus: Vec<RawCorpus>,
    #[serde(default)]
    arm: Vec<RawArm>,
    #[serde(default)]
    variant: Vec<RawVariant>,
    #[serde(default)]
    sweep: Vec<RawSweep>,
    score: Option<GroupScoreSpec>,
    #[serde(default)]
    limits: Limits,
    cost: Option<RawCostTable>,
}

/// `[cost]`: what the host costs, for the cost per 1,000 photos.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCostTable {
    price_per_hour: Option<f64>,
    /// Used instead when the models run on a GPU (the `cuda` build).
    price_per_gpu_hour: Option<f64>,
}

#[derive(Clone, Debug)]
pub enum ArmSource {
    Model {
        adapter: String,
        model: PathBuf,
        settings: Box<AdapterSettings>,
    },
    Predictions(PathBuf),
}

#[derive(Clone, Debug)]
pub struct ArmSpec {
    pub name: String,
    pub source: ArmSource,
}

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub path: PathBuf,
    pub out: Option<PathBuf>,
    pub baseline: String,
    pub pass_iou: Option<f64>,
    /// The inference-noise check's ε, and whether a check it could flip is inconclusive.
    pub noise_epsilon: Option<f64>,
    pub strict: Option<bool>,
    /// Measure each model arm's cost; its warm-up and repeats.
    pub cost: Option<bool>,
    pub cost_warmup: Option<usize>,
    pub cost_repeat: Option<usize>,
    /// `[cost] price_per_hour`: what an hour of the host costs, for the cost per 1,000 photos.
    pub price_per_hour: Option<f64>,
    pub grid: Option<u32>,
    pub top_k: Option<usize>,
    pub seed: Option<u64>,
    pub bootstrap: Option<usize>,
    pub criteria: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub training_manifest: Option<PathBuf>,
    pub overlap: Option<String>,
    /// The Ed25519 key (PKCS#8 PEM) the attestation is signed with.
    pub sign_key: Option<PathBuf>,
    /// The sha256 the criteria file must have (pre-registered criteria).
    pub criteria_sha256: Option<String>,
    pub cache: Option<PathBuf>,
    pub onnxruntime: Option<PathBuf>,
    /// The Python that exports `.pt` checkpoints: a path (relative to the config) or a name
    /// looked up on PATH.
    pub python: Option<PathBuf>,
    pub intra_threads: Option<usize>,
    /// ONNX Runtime's CPU memory arena (default on).
    pub memory_arena: Option<bool>,
    /// ONNX Runtime's memory pattern (default off).
    pub memory_pattern: Option<bool>,
    /// Write each model arm's masks as prediction JSONL beside the reports.
    pub save_predictions: Option<bool>,
    /// Seconds one network connect, request or reply may take (`net::timeout` bounds each wait with it).
    pub network_timeout_s: Option<u64>,
    /// More than this share of an arm's samples failed: the run ends with a warning.
    pub max_failed_share: Option<f64>,
    pub progress_s: Option<u64>,
    pub gallery: Option<usize>,
    pub exclude_suspects: Option<bool>,
    pub suspect_agreement: Option<f64>,
    pub suspect_truth_iou: Option<f64>,
    pub slice_bins: Option<usize>,
    pub slice_worst: Option<usize>,
    pub formats: Option<Vec<String>>,
    pub corpora: Vec<CorpusSpec>,
    pub arms: Vec<ArmSpec>,
    /// `[limits]`: what one input may cost.
    pub limits: Limits,
    pub variants: VariantSet,
}

impl RunConfig {
    /// Loads a config; every problem in it is one error listing them all.
    pub fn load(path: &Path) -> Result<RunConfig> {
        let (cfg, problems) = RunConfig::load_with_problems(path)?;
        if !problems.is_empty() {
            return Err(problems_error(path, problems));
        }
        Ok(cfg)
    }

    /// Loads a config and lists its problems without failing on them, so a caller can add its
    /// own (missing files) and report all at once. Only unreadable or malformed TOML fails.
    pub fn load_with_problems(path: &Path) -> Result<(RunConfig, Vec<String>)> {
        let (raw, _): (RawConfig, _) = crate::tomlfile::load(path)?;
        let rel = |p: &str| crate::tomlfile::resolve(path, p);
        let mut problems: Vec<String> = Vec::new();
        let r = &raw.run;
        if r.baseline.is_none() {
            problems.push(
                "[run] baseline is missing (the arm every other arm is compared with)".into(),
            );
        }
        if raw.corpus.is_empty() {
            problems.push("no [[corpus]]".into());
        }
        if raw.arm.len() < 2 {
            problems.push(format!(
                "{} [[arm]] given; a comparison needs at least two",
                raw.arm.len()
            ));
        }
        for price in (raw.cost.iter()).flat_map(|c| [c.price_per_hour, c.price_per_gpu_hour]) {
            if price.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                problems.push("[cost] prices must be numbers ≥ 0 (per hour)".into());
            }
        }
        if let Some(t) = r.pass_iou {
            if !(0.0..=1.0).contains(&t) {
                problems.push(format!("[run] pass_iou must be within [0, 1], got {t}"));
            }
        }
        if let Some(t) = r.max_failed_share {
            if !(0.0..=1.0).contains(&t) {
                problems.push(format!(
                    "[run] max_failed_share must be within [0, 1], got {t}"
                ));
            }
        }
        if let Err(e) = raw.limits.validate() {
            problems.push(e);
        }
        let corpora = corpus_specs(&raw.corpus, &rel, &raw.limits, &mut problems);
        let mut arms = Vec::new();
        let mut arm_names = BTreeSet::new();
        for (i, a) in raw.arm.iter().enumerate() {
            let label = format!(
                "[[arm]] #{} {}",
                i + 1,
                a.name
                    .as_deref()
                    .map(|n| format!("{n:?}"))
                    .unwrap_or_default()
            );
            let Some(name) = a.name.as_ref().filter(|n| !n.trim().is_empty()) else {
                problems.push(format!("{label}: missing or empty name"));
                continue;
            };
            if !arm_names.insert(name.clone()) {
                problems.push(format!("{label}: arm name {name:?} is used twice"));
            }
            let source = match (&a.adapter, &a.model, &a.predictions) {
                (_, _, Some(p)) if a.model.is_none() && a.adapter.is_none() => {
                    if let Some(k) = a.adapter_keys_given().first() {
                        problems.push(format!(
                            "{label}: `{k}` means nothing for a predictions file (it is an adapter setting)"
                        ));
                    }
                    ArmSource::Predictions(rel(p))
                }
                (Some(adapter), Some(m), None) => {
                    if let Err(e) = check_keys(adapter, &a.adapter_keys_given()) {
                        problems.push(format!("{label}: {e}"));
                    }
                    let m = rel(m);
                    let settings = AdapterSettings {
                        class: a.class.clone(),
                        threshold: a.threshold,
                        labels: a.labels.clone(),
                        classes: a.classes.clone(),
                        variant: a.session.clone(),
                        pillow: a.pillow.clone(),
                        mean: a.mean,
                        std: a.std,
                        logits: a.logits.unwrap_or(false),
                        conf: a.conf,
                        iou: a.iou,
                        max_det: a.max_det,
                        agnostic_nms: a.agnostic_nms,
                        mask_mode: a.mask_mode.clone(),
                        instances: a.instances.clone(),
                        decode: a.decode.clone(),
                    };
                    // Only when the keys fit: otherwise the same cause would be reported twice.
                    if check_keys(adapter, &a.adapter_keys_given()).is_ok() {
                        if let Err(e) = crate::predict::adapters::build(adapter, &settings) {
                            problems.push(format!("{label}: {e}"));
                        }
                    }
                    ArmSource::Model {
                        adapter: adapter.clone(),
                        model: m,
                        settings: Box::new(settings),
                    }
                }
                _ => {
                    problems.push(format!(
                        "{label}: give either `adapter` and `model`, or `predictions`"
                    ));
                    continue;
                }
            };
            arms.push(ArmSpec {
                name: name.clone(),
                source,
            });
        }
        if let Some(b) = &r.baseline {
            if !arm_names.contains(b) && !arm_names.is_empty() {
                problems.push(format!(
                    "[run] baseline {b:?} is not an arm ({})",
                    arm_names.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let arm_list: Vec<String> = arm_names.iter().cloned().collect();
        let variants = match (RawVariants {
            variant: raw.variant,
            sweep: raw.sweep,
            score: raw.score,
        })
        .resolve(&arm_list)
        {
            Ok(v) => v,
            Err(e) => {
                problems.push(e);
                VariantSet::default()
            }
        };
        let criteria = r.criteria.as_deref().map(rel);
        let notes = r.notes.as_deref().map(rel);
        if r.grid == Some(0) {
            problems.push("[run] grid must be at least 1".into());
        }
        if r.network_timeout_s == Some(0) {
            problems.push("[run] network_timeout_s must be at least 1".into());
        }
        let cfg = RunConfig {
            path: path.to_path_buf(),
            out: r.out.as_deref().map(rel),
            baseline: r.baseline.clone().unwrap_or_default(),
            pass_iou: r.pass_iou,
            noise_epsilon: r.noise_epsilon,
            strict: r.strict,
            cost: r.cost,
            cost_warmup: r.cost_warmup,
            cost_repeat: r.cost_repeat,
            price_per_hour: raw.cost.as_ref().and_then(|c| {
                match crate::predict::engine::EXECUTION_PROVIDER == "cpu" {
                    true => c.price_per_hour,
                    false => c.price_per_gpu_hour.or(c.price_per_hour),
                }
            }),
            grid: r.grid,
            top_k: r.top,
            seed: r.seed,
            bootstrap: r.bootstrap,
            criteria,
            notes,
            training_manifest: r.training_manifest.as_deref().map(rel),
            overlap: r.overlap.clone(),
            sign_key: r.sign_key.as_deref().map(rel),
            criteria_sha256: r.criteria_sha256.clone(),
            cache: r.cache.as_deref().map(rel),
            onnxruntime: r.onnxruntime.as_deref().map(rel),
            python: r.python.as_deref().map(|p| match p.contains('/') {
                true => rel(p),
                false => PathBuf::from(p),
            }),
            intra_threads: r.intra_threads,
            memory_arena: r.memory_arena,
            memory_pattern: r.memory_pattern,
            save_predictions: r.save_predictions,
            network_timeout_s: r.network_timeout_s,
            max_failed_share: r.max_failed_share,
            progress_s: r.progress_s,
            gallery: r.gallery,
            exclude_suspects: r.exclude_suspects,
            suspect_agreement: r.suspect_agreement,
            suspect_truth_iou: r.suspect_truth_iou,
            slice_bins: r.slice_bins,
            slice_worst: r.slice_worst,
            formats: r.formats.clone(),
            corpora,
            arms,
            variants,
            limits: raw.limits,
        };
        Ok((cfg, problems))
    }
}

/// One error listing every problem found in `path`.
pub fn problems_error(path: &Path, problems: Vec<String>) -> Error {
    let text = if problems.len() == 1 {
        problems[0].clone()
    } else {
        format!(
            "{} problems:\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        )
    };
    Error::file(path, text)
}

/// The `[[corpus]]` tables as specs, with every problem appended to `problems`.
fn corpus_specs(
    raw: &[RawCorpus],
    rel: &dyn Fn(&str) -> PathBuf,
    limits: &Limits,
    problems: &mut Vec<String>,
) -> Vec<CorpusSpec> {
    let mut corpora = Vec::new();
    let mut names = BTreeSet::new();
    for (i, c) in raw.iter().enumerate() {
        let label = format!("[[corpus]] #{}", i + 1);
        // A database corpus has a `url` instead of a `path`; its relative files (images, query
        // file, an SQLite database) are taken from the config's folder.
        let path = c.path.as_deref().or(c.url.as_ref().map(|_| "."));
        let (Some(name), Some(format), Some(p)) = (&c.name, &c.format, path) else {
            let missing: Vec<&str> = [
                ("name", c.name.is_none()),
                ("format", c.format.is_none()),
                ("path (or url)", path.is_none()),
            ]
            .iter()
            .filter(|x| x.1)
            .map(|x| x.0)
            .collect();
            problems.push(format!("{label}: missing {}", missing.join(", ")));
            continue;
        };
        if !names.insert(name.clone()) {
            problems.push(format!("{label}: corpus name {name:?} is used twice"));
        }
        let known: Vec<&str> = crate::read::readers().iter().map(|r| r.format()).collect();
        if !known.contains(&format.as_str()) {
            problems.push(format!(
                "{label}: unknown format {format:?} (known: {})",
                known.join(", ")
            ));
        }
        let path = rel(p);
        let dedupe = match c.dedupe.as_deref() {
            None | Some("none") => false,
            Some("keep-first") => true,
            Some(other) => {
                problems.push(format!(
                    "{label}: dedupe = {other:?} is not one of \"keep-first\", \"none\""
                ));
                false
            }
        };
        let class_instances = match c.instances.as_deref() {
            None | Some("source") => false,
            Some("classes") => true,
            Some(other) => {
                problems.push(format!(
                    "{label}: instances = {other:?} is not one of \"source\", \"classes\""
                ));
                false
            }
        };
        corpora.push(CorpusSpec {
            name: name.clone(),
            format: format.clone(),
            path,
            classes: c.classes.clone(),
            sample_seed: c.sample_seed.clone(),
            limit: c.limit,
            ignore: c.ignore.clone(),
            split: c.split.clone(),
            modules: c.modules.clone(),
            options: c
                .options
                .clone()
                .into_iter()
                .chain(c.database_options())
                .collect(),
            limits: *limits,
            dedupe,
            // Set with the rest of the plan (`[run] network_timeout_s`).
            network: Default::default(),
            held_out: c.held_out,
            class_instances,
        });
    }
    corpora
}

/// Only the corpora of a config (for `maskgate inspect`): arms and the baseline may be absent.
pub fn load_corpora(path: &Path) -> Result<Vec<CorpusSpec>> {
    load_corpora_and_judging(path).map(|(corpora, _)| corpora)
}

/// What a config's `[run]` table says about judging: what `compare --config`, which reads the
/// config's corpora only, leaves aside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunJudging {
    pub criteria: Option<PathBuf>,
    pub pass_iou: Option<f64>,
}

/// [`load_corpora`], with the `[run]` table's judging keys from the same read.
pub fn load_corpora_and_judging(path: &Path) -> Result<(Vec<CorpusSpec>, RunJudging)> {
    let (raw, _): (RawConfig, _) = crate::tomlfile::load(path)?;
    let rel = |p: &str| crate::tomlfile::resolve(path, p);
    let mut problems = Vec::new();
    if raw.corpus.is_empty() {
        problems.push("no [[corpus]]".to_string());
    }
    if let Err(e) = raw.limits.validate() {
        problems.push(e);
    }
    let corpora = corpus_specs(&raw.corpus, &rel, &raw.limits, &mut problems);
    if !problems.is_empty() {
        return Err(problems_error(path, problems));
    }
    let judging = RunJudging {
        criteria: raw.run.criteria.as_deref().map(rel),
        pass_iou: raw.run.pass_iou,
    };
    Ok((corpora, judging))
}

/// The `[[variant]]`, `[[sweep]]` and `[score]` tables of a run config or a variants file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawVariants {
    #[serde(default)]
    pub variant: Vec<RawVariant>,
    #[serde(default)]
    pub sweep: Vec<RawSweep>,
    pub score: Option<GroupScoreSpec>,
}

/// Post-processing variants and how to score and recommend a group (arm or variant).
#[derive(Clone, Debug, Default)]
pub struct VariantSet {
    pub variants: Vec<Variant>,
    pub score: Option<GroupScoreSpec>,
}

impl RawVariants {
    pub fn resolve(self, arms: &[String]) -> Result<VariantSet, String> {
        Ok(VariantSet {
            variants: crate::predict::variants::resolve(self.variant, self.sweep, arms)?,
            score: self.score,
        })
    }

    pub fn load(path: &Path) -> Result<RawVariants> {
        crate::tomlfile::load(path).map(|(v, _)| v)
    }
}

impl VariantSet {
    /// Op and score-term classes must be corpus classes (or class sets, or `*`).
    pub fn check_classes(&self, classes: &[String], overlaps: &[String]) -> Result<(), String> {
        crate::predict::variants::check_classes(&self.variants, classes)?;
        if let Some(s) = &self.score {
            let mut names = classes.to_vec();
            names.extend(s.class_sets.keys().cloned());
            s.validate(&names, overlaps)?;
        }
        Ok(())
    }
}
