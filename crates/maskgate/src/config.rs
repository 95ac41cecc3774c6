//! The run config (`maskgate run CONFIG`, TOML): `[run]`, `[[corpus]]`, `[[arm]]`. Relative
//! paths are taken from the config file's folder. Every missing or inconsistent piece is
//! reported at once, before any work starts.

use crate::error::{Error, Result};
use crate::predict::adapters::{AdapterSettings, ADAPTERS};
use crate::read::CorpusSpec;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRun {
    out: Option<String>,
    baseline: Option<String>,
    pass_iou: Option<f64>,
    grid: Option<u32>,
    top: Option<usize>,
    seed: Option<u64>,
    bootstrap: Option<usize>,
    criteria: Option<String>,
    notes: Option<String>,
    cache: Option<String>,
    onnxruntime: Option<String>,
    intra_threads: Option<usize>,
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
    mean: Option<[f64; 3]>,
    std: Option<[f64; 3]>,
    #[serde(default)]
    logits: bool,
    conf: Option<f64>,
    iou: Option<f64>,
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
    variant: Vec<crate::predict::variants::RawVariant>,
    #[serde(default)]
    sweep: Vec<crate::predict::variants::RawSweep>,
    score: Option<crate::recommend::GroupScoreSpec>,
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
    pub out: PathBuf,
    pub baseline: String,
    pub pass_iou: Option<f64>,
    pub grid: Option<u32>,
    pub top_k: usize,
    pub seed: Option<u64>,
    pub bootstrap: Option<usize>,
    pub criteria: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub onnxruntime: Option<PathBuf>,
    pub intra_threads: usize,
    pub corpora: Vec<CorpusSpec>,
    pub arms: Vec<ArmSpec>,
    pub variants: crate::predict::variants::VariantSet,
}

impl RunConfig {
    pub fn load(path: &Path) -> Result<RunConfig> {
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
        if let Some(t) = r.pass_iou {
            if !(0.0..=1.0).contains(&t) {
                problems.push(format!("[run] pass_iou must be within [0, 1], got {t}"));
            }
        }
        let check_file = |problems: &mut Vec<String>, what: String, p: &Path| {
            if !p.exists() {
                problems.push(format!("{what}: {} does not exist", p.display()));
            }
        };
        let corpora = corpus_specs(&raw.corpus, &rel, &mut problems);
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
            let Some(name) = &a.name else {
                problems.push(format!("{label}: missing name"));
                continue;
            };
            if !arm_names.insert(name.clone()) {
                problems.push(format!("{label}: arm name {name:?} is used twice"));
            }
            let source = match (&a.adapter, &a.model, &a.predictions) {
                (_, _, Some(p)) if a.model.is_none() && a.adapter.is_none() => {
                    let p = rel(p);
                    check_file(&mut problems, format!("{label} predictions"), &p);
                    ArmSource::Predictions(p)
                }
                (Some(adapter), Some(m), None) => {
                    if !ADAPTERS.contains(&adapter.as_str()) {
                        problems.push(format!(
                            "{label}: unknown adapter {adapter:?} (known: {})",
                            ADAPTERS.join(", ")
                        ));
                    }
                    let m = rel(m);
                    check_file(&mut problems, format!("{label} model"), &m);
                    let settings = AdapterSettings {
                        class: a.class.clone(),
                        threshold: a.threshold,
                        labels: a.labels.clone(),
                        classes: a.classes.clone(),
                        variant: a.session.clone(),
                        mean: a.mean,
                        std: a.std,
                        logits: a.logits,
                        conf: a.conf,
                        iou: a.iou,
                    };
                    if let Err(e) = crate::predict::adapters::build(adapter, &settings) {
                        problems.push(format!("{label}: {e}"));
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
        let variants = match (crate::predict::variants::RawVariants {
            variant: raw.variant,
            sweep: raw.sweep,
            score: raw.score,
        })
        .resolve(&arm_list)
        {
            Ok(v) => v,
            Err(e) => {
                problems.push(e);
                crate::predict::variants::VariantSet {
                    variants: vec![],
                    score: None,
                }
            }
        };
        let criteria = r.criteria.as_deref().map(rel);
        let notes = r.notes.as_deref().map(rel);
        for (what, p) in [("[run] criteria", &criteria), ("[run] notes", &notes)] {
            if let Some(p) = p {
                check_file(&mut problems, what.to_string(), p);
            }
        }
        if !problems.is_empty() {
            return Err(Error::file(
                path,
                format!(
                    "{} problem(s):\n  - {}",
                    problems.len(),
                    problems.join("\n  - ")
                ),
            ));
        }
        Ok(RunConfig {
            path: path.to_path_buf(),
            out: rel(r.out.as_deref().unwrap_or("reports/run")),
            baseline: r.baseline.clone().unwrap_or_default(),
            pass_iou: r.pass_iou,
            grid: r.grid,
            top_k: r.top.unwrap_or(20),
            seed: r.seed,
            bootstrap: r.bootstrap,
            criteria,
            notes,
            cache: Some(rel(r.cache.as_deref().unwrap_or(".maskgate-cache"))),
            onnxruntime: r.onnxruntime.as_deref().map(rel),
            intra_threads: r.intra_threads.unwrap_or(0),
            corpora,
            arms,
            variants,
        })
    }
}

/// The `[[corpus]]` tables as specs, with every problem appended to `problems`.
fn corpus_specs(
    raw: &[RawCorpus],
    rel: &dyn Fn(&str) -> PathBuf,
    problems: &mut Vec<String>,
) -> Vec<CorpusSpec> {
    let mut corpora = Vec::new();
    let mut names = BTreeSet::new();
    for (i, c) in raw.iter().enumerate() {
        let label = format!("[[corpus]] #{}", i + 1);
        let (Some(name), Some(format), Some(p)) = (&c.name, &c.format, &c.path) else {
            let missing: Vec<&str> = [
                ("name", c.name.is_none()),
                ("format", c.format.is_none()),
                ("path", c.path.is_none()),
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
        if !path.exists() {
            problems.push(format!("{label} path: {} does not exist", path.display()));
        }
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
            options: c.options.clone(),
        });
    }
    corpora
}

/// Only the corpora of a config (for `maskgate inspect`): arms and the baseline may be absent.
pub fn load_corpora(path: &Path) -> Result<Vec<CorpusSpec>> {
    let (raw, _): (RawConfig, _) = crate::tomlfile::load(path)?;
    let rel = |p: &str| crate::tomlfile::resolve(path, p);
    let mut problems = Vec::new();
    if raw.corpus.is_empty() {
        problems.push("no [[corpus]]".to_string());
    }
    let corpora = corpus_specs(&raw.corpus, &rel, &mut problems);
    if !problems.is_empty() {
        return Err(Error::file(
            path,
            format!(
                "{} problem(s):\n  - {}",
                problems.len(),
                problems.join("\n  - ")
            ),
        ));
    }
    Ok(corpora)
}
