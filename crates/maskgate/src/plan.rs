//! One plan for every command. [`Plan::resolve`] turns a request (`run CONFIG` or `compare`),
//! the command line's [`Overrides`], the environment ([`Env`]) and the config file into one
//! validated plan, before any work; [`execute`] runs it through the whole flow and returns the
//! [`Outcome`]. Precedence, highest first: command line, environment, config file, criteria file
//! (for τ, seed and resamples), built-in default. The library neither prints nor reads the
//! process environment itself: the caller passes [`Env`] and an [`Observer`].

use crate::compare::CompareSettings;
use crate::config::{ArmSource, ArmSpec, RawVariants, RunConfig, VariantSet};
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::evaluation::{evaluate_scored, score_all, EvalInput, Scored};
use crate::limits::Limits;
use crate::observe::Observer;
use crate::pathnames;
use crate::predict::adapters;
use crate::predict::cache::PredictionCache;
use crate::predict::engine::{InferenceTurn, OrtMemory};
use crate::predict::model_arm::{ModelArm, ModelSource};
use crate::predict::predictions::PredictionsFile;
use crate::predict::saved::SavedPredictions;
use crate::predict::Arm;
use crate::read::{read_corpus, Corpus, CorpusSpec};
use crate::report::{InputFile, Report, ReportParts, RunMeta, Settings};
use crate::score::ScoreSettings;
use crate::shard::{ShardArg, ShardSpec};
use crate::source::source_for;
use crate::storage::{LocalStore, Store};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Built-in defaults, documented in the README.
pub const DEFAULT_RESAMPLES: usize = 2000;
pub const DEFAULT_TOP_K: usize = 20;
pub const DEFAULT_PASS_IOU: f64 = 0.5;
pub const DEFAULT_GALLERY: usize = 3;
pub const DEFAULT_OUT: &str = "reports/run";
pub const DEFAULT_CACHE: &str = ".maskgate-cache";

/// The environment variables a plan reads, in the order the README lists them.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("MASKGATE_OUT", "output folder (--out)"),
    ("MASKGATE_THREADS", "worker threads (--threads)"),
    ("MASKGATE_CACHE", "prediction cache folder ([run] cache)"),
    (
        "MASKGATE_NO_CACHE",
        "set to 1: no prediction cache (--no-cache)",
    ),
    (
        "MASKGATE_SAVE_PREDICTIONS",
        "set to 1: write model arms' masks as prediction JSONL (--save-predictions)",
    ),
    (
        "MASKGATE_FORMATS",
        "comma-separated report formats (--format)",
    ),
    ("MASKGATE_GALLERY", "gallery pictures per list (--gallery)"),
    (
        "MASKGATE_NETWORK_TIMEOUT",
        "seconds one network connect, request or reply may take ([run] network_timeout_s)",
    ),
    (
        "MASKGATE_MAX_FAILED_SHARE",
        "share of an arm's samples that may fail before the run ends with a warning (--max-failed-share)",
    ),
    ("MASKGATE_RUN_ID", "pinned run id (--run-id)"),
    ("MASKGATE_GENERATED_AT", "pinned timestamp (--generated-at)"),
    (
        "MASKGATE_ORT_LIB",
        "ONNX Runtime library, before the config's `onnxruntime`",
    ),
    (
        "ORT_DYLIB_PATH",
        "ONNX Runtime library (ort's own variable), after the config's",
    ),
    (
        "MASKGATE_SHARD_INDEX",
        "the shard index for --shard auto/N (first of the three)",
    ),
    (
        "JOB_COMPLETION_INDEX",
        "the shard index for --shard auto/N (Kubernetes Indexed Jobs)",
    ),
    (
        "SLURM_ARRAY_TASK_ID",
        "the shard index for --shard auto/N (Slurm job arrays)",
    ),
];

/// The variables a shard records for `merge`: they shape the reports. The others are where
/// and when this process runs (output, threads, cache, run id, the shard index).
const RECORDED_ENV: [&str; 3] = [
    "MASKGATE_FORMATS",
    "MASKGATE_GALLERY",
    "MASKGATE_SAVE_PREDICTIONS",
];

/// The environment as the plan sees it: only the variables in [`ENV_VARS`].
#[derive(Clone, Debug, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// This process's environment.
    pub fn from_process() -> Env {
        Env::from_pairs(ENV_VARS.iter().filter_map(|(k, _)| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        }))
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Env {
        Env(pairs.into_iter().collect())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    Error::Usage(format!(
                        "environment variable {key}={v:?} is not a valid {}",
                        std::any::type_name::<T>()
                    ))
                })
            })
            .transpose()
    }
}

/// What the command line sets; `None` = not given (the environment, config or default decides).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Overrides {
    pub out: Option<PathBuf>,
    pub threads: Option<usize>,
    pub intra_threads: Option<usize>,
    pub no_cache: bool,
    pub save_predictions: bool,
    pub gallery: Option<usize>,
    pub formats: Option<Vec<String>>,
    pub run_id: Option<String>,
    pub generated_at: Option<String>,
    pub grid: Option<u32>,
    pub pass_iou: Option<f64>,
    pub top_k: Option<usize>,
    pub seed: Option<u64>,
    pub bootstrap: Option<usize>,
    pub criteria: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub variants: Option<PathBuf>,
    /// Judges the finished run, shapes none of its numbers: never recorded for `merge`, and
    /// left out of the serialised record so plan hashes stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_share: Option<f64>,
    /// `--shard I/N` or `auto/N`: score one slice and commit it (see [`crate::shard`]).
    #[serde(skip)]
    pub shard: Option<ShardArg>,
}

/// Where the ground truth of a `compare` comes from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum GroundTruth {
    /// A gold NDJSON file; the corpus is named `name` (default: the file's stem); photos must
    /// lie under `image_root` (default: the gold file's folder).
    Gold {
        path: PathBuf,
        name: Option<String>,
        image_root: Option<PathBuf>,
    },
    /// A `[[corpus]]` of a config (`corpus` picks one when it has several).
    Config {
        path: PathBuf,
        corpus: Option<String>,
    },
}

/// What the user asked for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// `maskgate run CONFIG`: corpora, arms and settings from the config.
    Run { config: PathBuf },
    /// `maskgate compare`: ground truth against prediction files.
    Compare {
        truth: GroundTruth,
        preds: Vec<(String, PathBuf)>,
        baseline: String,
    },
}

/// Everything a run needs, resolved and checked.
pub struct Plan {
    /// The config file, when there is one (reported as an input).
    pub config: Option<PathBuf>,
    /// True when the ground truth is a gold file given on the command line.
    pub gold_file: bool,
    pub corpora: Vec<CorpusSpec>,
    pub arms: Vec<ArmSpec>,
    pub variants: VariantSet,
    pub variants_file: Option<PathBuf>,
    pub baseline: String,
    pub criteria: Option<CriteriaFile>,
    pub notes: Option<PathBuf>,
    /// The local folder reports are written to (for a bucket `--out`, the copy uploaded).
    pub out: PathBuf,
    /// A bucket `--out` (`s3://…`): the reports and shards go there.
    pub remote_out: Option<String>,
    /// Local copies of object-store inputs → the URL reports show.
    pub remote_names: BTreeMap<PathBuf, String>,
    /// The prediction cache: a folder, or a bucket prefix URL.
    pub cache: Option<PathBuf>,
    pub onnxruntime: Option<PathBuf>,
    /// ONNX Runtime intra-op threads per model (0 = automatic, see `engine::threading`).
    pub intra_threads: usize,
    /// ONNX Runtime's CPU memory arena and memory pattern (see [`OrtMemory`]).
    pub ort_memory: OrtMemory,
    /// Write each model arm's masks as prediction JSONL under `<out>/predictions/`.
    pub save_predictions: bool,
    /// Worker threads; `None` = every core (samples one at a time while a heavy model infers).
    pub threads: Option<usize>,
    pub score: ScoreSettings,
    pub compare: CompareSettings,
    pub gallery: usize,
    /// More than this share of an arm's samples failed: the run ends with a warning.
    pub max_failed_share: f64,
    /// Exporter names to write (every one by default).
    pub formats: Vec<String>,
    pub run_id: String,
    pub generated_at: String,
    /// What one input may cost (`[limits]`).
    pub limits: Limits,
    /// How long any server may keep this run waiting.
    pub network: crate::net::Network,
    /// The one slice this process scores, when sharded.
    pub shard: Option<ShardSpec>,
    /// The request as `merge` re-resolves it (see [`PlanRecord`]).
    pub record: PlanRecord,
}

/// What a shard keeps beside its rows so that `merge OUT` can resolve the same plan: the
/// request and the settings that shape the reports, paths made absolute. Where and when a
/// process runs (output, threads, cache, run id, timestamp, shard index) is not part of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanRecord {
    pub request: Request,
    pub overrides: Overrides,
    pub env: BTreeMap<String, String>,
}

impl PlanRecord {
    fn of(request: &Request, o: &Overrides, env: &Env) -> Result<PlanRecord> {
        let abs = |p: &PathBuf| -> Result<PathBuf> {
            if crate::storage::is_url(&p.to_string_lossy()) {
                return Ok(p.clone());
            }
            std::path::absolute(p)
                .map(|a| pathnames::normalize(&a))
                .map_err(|e| Error::io(p, e))
        };
        let opt = |p: &Option<PathBuf>| p.as_ref().map(abs).transpose();
        let request = match request {
            Request::Run { config } => Request::Run {
                config: abs(config)?,
            },
            Request::Compare {
                truth,
                preds,
                baseline,
            } => Request::Compare {
                truth: match truth {
                    GroundTruth::Gold {
                        path,
                        name,
                        image_root,
                    } => GroundTruth::Gold {
                        path: abs(path)?,
                        name: name.clone(),
                        image_root: opt(image_root)?,
                    },
                    GroundTruth::Config { path, corpus } => GroundTruth::Config {
                        path: abs(path)?,
                        corpus: corpus.clone(),
                    },
                },
                preds: preds
                    .iter()
                    .map(|(n, p)| Ok((n.clone(), abs(p)?)))
                    .collect::<Result<_>>()?,
                baseline: baseline.clone(),
            },
        };
        let overrides = Overrides {
            out: None,
            threads: None,
            no_cache: false,
            run_id: None,
            generated_at: None,
            shard: None,
            max_failed_share: None,
            criteria: opt(&o.criteria)?,
            notes: opt(&o.notes)?,
            variants: opt(&o.variants)?,
            ..o.clone()
        };
        let env = RECORDED_ENV
            .iter()
            .filter_map(|k| env.get(k).map(|v| (k.to_string(), v.to_string())))
            .collect();
        Ok(PlanRecord {
            request,
            overrides,
            env,
        })
    }
}

/// What a finished run returns: the report, the files written, and notices for the user
/// (the caller decides whether and where to show them).
pub struct Outcome {
    pub report: Report,
    pub written: Vec<PathBuf>,
    pub notices: Vec<String>,
    /// Arms that scored no sample, one line per cause (see [`crate::health::unscored_arms`]):
    /// the report is written for the record, but the run has failed.
    pub unscored: Vec<String>,
    /// Arms with more than `max_failed_share` of their samples failed, one line per cause.
    pub failed_share_warnings: Vec<String>,
}

fn problems_error(path: Option<&Path>, problems: Vec<String>) -> Error {
    match path {
        Some(p) => crate::config::problems_error(p, problems),
        None if problems.len() == 1 => Error::Usage(problems[0].clone()),
        None => Error::Usage(format!(
            "{} problems:\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        )),
    }
}

/// Where object-store inputs are kept: `objects/` of a local prediction cache, else of the
/// system's temporary folder.
fn downloads_dir(
    env: &Env,
    cfg: Option<&RunConfig>,
    base_dir: &dyn Fn(&str) -> PathBuf,
) -> PathBuf {
    env.get("MASKGATE_CACHE")
        .map(PathBuf::from)
        .or(cfg.and_then(|c| c.cache.clone()))
        .or(cfg.map(|_| base_dir(DEFAULT_CACHE)))
        .filter(|c| !crate::storage::is_url(&c.to_string_lossy()))
        .unwrap_or_else(|| std::env::temp_dir().join("maskgate-cache"))
        .join("objects")
}

/// `MASKGATE_NETWORK_TIMEOUT`, which must be at least a second (0 would fail every request).
fn network_timeout_of(env: &Env) -> Result<Option<u64>> {
    match env.parse("MASKGATE_NETWORK_TIMEOUT")? {
        Some(0) => Err(Error::Usage(
            "MASKGATE_NETWORK_TIMEOUT must be at least 1 (seconds)".into(),
        )),
        t => Ok(t),
    }
}

/// τ from the command line or run config, or the criteria file, which locks it.
fn pass_iou_of(given: Option<f64>, criteria: Option<&CriteriaFile>) -> Result<f64> {
    let t = match (given, criteria.and_then(|c| c.pass_iou)) {
        (Some(g), Some(file)) if g != file => {
            return Err(Error::Usage(format!(
                "pass_iou {g} contradicts pass_iou = {file} in the criteria file; τ is locked there"
            )))
        }
        (g, file) => g.or(file).unwrap_or(DEFAULT_PASS_IOU),
    };
    if !(0.0..=1.0).contains(&t) {
        return Err(Error::Usage(format!(
            "pass_iou must be within [0, 1], got {t}"
        )));
    }
    Ok(t)
}

/// The corpus of a `compare`'s ground truth.
fn truth_corpus(truth: &GroundTruth) -> Result<CorpusSpec> {
    match truth {
        GroundTruth::Gold {
            path,
            name,
            image_root,
        } => Ok(CorpusSpec {
            name: name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "gold".into())
            }),
            format: "gold-ndjson".into(),
            path: path.clone(),
            options: image_root
                .iter()
                .map(|r| {
                    let abs = std::path::absolute(r).unwrap_or_else(|_| r.clone());
                    ("image_root".to_string(), abs.to_string_lossy().into_owned())
                })
                .collect(),
            ..Default::default()
        }),
        GroundTruth::Config { path, corpus } => {
            let specs = crate::config::load_corpora(path)?;
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            match corpus {
                Some(n) => specs.iter().find(|s| s.name == *n).cloned().ok_or_else(|| {
                    Error::file(
                        path,
                        format!("no corpus named {n:?} (corpora: {})", names.join(", ")),
                    )
                }),
                None if specs.len() == 1 => Ok(specs[0].clone()),
                None => Err(Error::file(
                    path,
                    format!(
                        "{} corpora ({}); pick one with --corpus",
                        specs.len(),
                        names.join(", ")
                    ),
                )),
            }
        }
    }
}

/// The current time, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `20260212_020627706` from `2026-02-12T02:06:27.706Z`: the digits, date and time apart.
pub fn run_id_from(ts: &str) -> String {
    let digits: String = ts.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() >= 8 {
        format!("{}_{}", &digits[..8], &digits[8..])
    } else {
        digits
    }
}

impl Plan {
    /// Resolves a request into a plan; every problem found is reported at once.
    pub fn resolve(request: &Request, o: &Overrides, env: &Env) -> Result<Plan> {
        let mut problems = Vec::new();
        let (cfg, gold_file, corpora, arms, baseline) = match request {
            Request::Run { config } => {
                let (cfg, found) = RunConfig::load_with_problems(config)?;
                problems = found;
                let (corpora, arms, baseline) =
                    (cfg.corpora.clone(), cfg.arms.clone(), cfg.baseline.clone());
                (Some(cfg), false, corpora, arms, baseline)
            }
            Request::Compare {
                truth,
                preds,
                baseline,
            } => {
                let mut names = BTreeSet::new();
                for (n, _) in preds {
                    if n.trim().is_empty() {
                        return Err(Error::Usage(
                            "an arm name is empty (--pred NAME=FILE)".into(),
                        ));
                    }
                    if !names.insert(n.clone()) {
                        return Err(Error::Usage(format!("arm {n:?} is given twice")));
                    }
                }
                if !names.contains(baseline) {
                    return Err(Error::Usage(format!(
                        "--baseline {baseline:?} is not one of the arms ({})",
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    )));
                }
                let arms = preds
                    .iter()
                    .map(|(n, p)| ArmSpec {
                        name: n.clone(),
                        source: ArmSource::Predictions(p.clone()),
                    })
                    .collect();
                let gold = matches!(truth, GroundTruth::Gold { .. });
                (
                    None,
                    gold,
                    vec![truth_corpus(truth)?],
                    arms,
                    baseline.clone(),
                )
            }
        };
        let config_path = match request {
            Request::Run { config } => Some(config.clone()),
            Request::Compare {
                truth: GroundTruth::Config { path, .. },
                ..
            } => Some(path.clone()),
            _ => None,
        };
        let base_dir = |p: &str| match &config_path {
            Some(c) if matches!(request, Request::Run { .. }) => crate::tomlfile::resolve(c, p),
            _ => PathBuf::from(p),
        };
        let criteria_path = o
            .criteria
            .clone()
            .or(cfg.as_ref().and_then(|c| c.criteria.clone()));
        let notes = o
            .notes
            .clone()
            .or(cfg.as_ref().and_then(|c| c.notes.clone()));

        // Every network client of this run (object stores, databases) waits at most this long.
        let network = crate::net::Network::with_timeout_s(
            network_timeout_of(env)?
                .or(cfg.as_ref().and_then(|c| c.network_timeout_s))
                .unwrap_or(crate::net::DEFAULT_TIMEOUT_S),
        );
        let limits = cfg.as_ref().map(|c| c.limits).unwrap_or_default();

        // Object-store locations are fetched into a local folder kept by content hash (the
        // cache's `objects/`); reports name them by their URL.
        let downloads = downloads_dir(env, cfg.as_ref(), &base_dir);
        let mut remote_names: BTreeMap<PathBuf, String> = BTreeMap::new();
        let (mut corpora, mut arms) = (corpora, arms);
        // Fetches that failed, and whether a retry may cure each: their locations are still
        // URLs, which the existence checks below must not look for on the local disk.
        let mut failed_fetches: Vec<(PathBuf, bool)> = Vec::new();
        {
            let mut fetch = |p: &mut PathBuf, what: String| {
                let url = p.to_string_lossy().into_owned();
                if !crate::storage::is_url(&url) {
                    return;
                }
                match crate::storage::fetch(&url, &downloads, limits.max_file_bytes, network) {
                    Ok(local) => {
                        remote_names.insert(local.clone(), crate::storage::shown_url(&url));
                        *p = local;
                    }
                    Err(e) => {
                        failed_fetches.push((p.clone(), e.is_retryable()));
                        problems.push(format!("{what}: {e}"));
                    }
                }
            };
            for c in &mut corpora {
                fetch(&mut c.path, format!("corpus {:?}", c.name));
            }
            for a in &mut arms {
                match &mut a.source {
                    ArmSource::Predictions(p) => fetch(p, format!("arm {:?} predictions", a.name)),
                    ArmSource::Model { model, .. } => {
                        fetch(model, format!("arm {:?} model", a.name))
                    }
                }
            }
        }

        // Every file the plan names must be there: all missing ones are reported together with
        // the config's own problems.
        let not_fetched = |p: &Path| failed_fetches.iter().any(|(f, _)| f == p);
        let missing = |problems: &mut Vec<String>, what: String, p: &Path| {
            if not_fetched(p) {
                return;
            }
            if let Err(e) = std::fs::metadata(p) {
                let shown = pathnames::display(p);
                problems.push(format!("{what}: {}: {e}", crate::fmt::clip(&shown)));
            }
        };
        for c in corpora.iter().filter(|c| !not_fetched(&c.path)) {
            if let Err(e) = source_for(&c.path).and_then(|s| s.locate(&c.path)) {
                problems.push(format!("corpus {:?}: {e}", c.name));
            }
        }
        for a in &arms {
            match &a.source {
                ArmSource::Predictions(p) => {
                    missing(&mut problems, format!("arm {:?} predictions", a.name), p)
                }
                ArmSource::Model { model, .. } => {
                    missing(&mut problems, format!("arm {:?} model", a.name), model)
                }
            }
        }
        for (what, p) in [
            ("criteria", &criteria_path),
            ("notes", &notes),
            ("variants", &o.variants),
        ] {
            if let Some(p) = p {
                missing(&mut problems, what.into(), p);
            }
        }
        if !problems.is_empty() {
            // Only fetches that a retry may cure (a server down or slow): running again may pass.
            let only_retryable = problems.len() == failed_fetches.len()
                && failed_fetches.iter().all(|(_, retryable)| *retryable);
            let error = problems_error(config_path.as_deref(), problems);
            return Err(if only_retryable {
                Error::Retryable(error.to_string())
            } else {
                error
            });
        }

        let criteria = criteria_path
            .as_deref()
            .map(CriteriaFile::load)
            .transpose()?;
        let pass_iou = pass_iou_of(
            o.pass_iou.or(cfg.as_ref().and_then(|c| c.pass_iou)),
            criteria.as_ref(),
        )?;
        let arm_names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
        let variants = match (&o.variants, &cfg) {
            (Some(p), _) => RawVariants::load(p)?
                .resolve(&arm_names)
                .map_err(|e| Error::file(p, e))?,
            (None, Some(c)) => c.variants.clone(),
            (None, None) => VariantSet::default(),
        };
        let corpora: Vec<CorpusSpec> = corpora
            .into_iter()
            .map(|c| CorpusSpec {
                limits,
                network,
                ..c
            })
            .collect();
        let grid = o.grid.or(cfg.as_ref().and_then(|c| c.grid));
        match grid {
            Some(0) => return Err(Error::Usage("grid must be at least 1".into())),
            Some(g) if g > limits.max_grid => {
                return Err(Error::Usage(format!(
                    "grid {g} exceeds the limit of {} ([limits] max_grid)",
                    limits.max_grid
                )))
            }
            _ => {}
        }
        let formats = match o
            .formats
            .clone()
            .or(env
                .get("MASKGATE_FORMATS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect()))
            .or(cfg.as_ref().and_then(|c| c.formats.clone()))
        {
            Some(f) => {
                crate::export::check_formats(&f).map_err(Error::Usage)?;
                f
            }
            None => crate::export::exporters()
                .iter()
                .map(|e| e.name().to_string())
                .collect(),
        };
        let threads = o.threads.or(env.parse("MASKGATE_THREADS")?);
        if threads == Some(0) {
            return Err(Error::Usage("threads must be at least 1".into()));
        }
        let ceiling = max_threads();
        for (what, n) in [
            ("--threads / MASKGATE_THREADS", threads),
            (
                "intra_threads",
                o.intra_threads
                    .or(cfg.as_ref().and_then(|c| c.intra_threads)),
            ),
        ] {
            if let Some(n) = n.filter(|&n| n > ceiling) {
                return Err(Error::Usage(format!(
                    "{what} = {n} is above the ceiling of {ceiling} threads on this machine (64 per core, at most {THREADS_CEILING}); use at most {ceiling}"
                )));
            }
        }
        let no_cache = o.no_cache || env.get("MASKGATE_NO_CACHE").is_some_and(|v| v != "0");
        let cache = (!no_cache)
            .then(|| {
                env.get("MASKGATE_CACHE")
                    .map(PathBuf::from)
                    .or(cfg.as_ref().and_then(|c| c.cache.clone()))
                    .or(cfg.as_ref().map(|_| base_dir(DEFAULT_CACHE)))
            })
            .flatten();
        let out = o
            .out
            .clone()
            .or(env.get("MASKGATE_OUT").map(PathBuf::from))
            .or(cfg.as_ref().and_then(|c| c.out.clone()))
            .unwrap_or_else(|| base_dir(DEFAULT_OUT));
        // Reports for a bucket are written into a local folder first, then uploaded as a set.
        let (out, remote_out) = match out.to_string_lossy() {
            url if crate::storage::is_url(&url) => {
                crate::storage::open(&out, network)?;
                let digest = hex::encode(sha2::Sha256::digest(url.as_bytes()));
                (
                    downloads.join("out").join(&digest[..16]),
                    Some(url.into_owned()),
                )
            }
            _ => (out, None),
        };
        let onnxruntime = env
            .get("MASKGATE_ORT_LIB")
            .map(PathBuf::from)
            .or(cfg.as_ref().and_then(|c| c.onnxruntime.clone()))
            .or(env.get("ORT_DYLIB_PATH").map(PathBuf::from));
        let generated_at = o
            .generated_at
            .clone()
            .or(env.get("MASKGATE_GENERATED_AT").map(str::to_string))
            .unwrap_or_else(now_rfc3339);
        let run_id = o
            .run_id
            .clone()
            .or(env.get("MASKGATE_RUN_ID").map(str::to_string))
            .unwrap_or_else(|| run_id_from(&generated_at));
        let resamples = o
            .bootstrap
            .or(cfg.as_ref().and_then(|c| c.bootstrap))
            .or(criteria.as_ref().and_then(|c| c.resamples))
            .unwrap_or(DEFAULT_RESAMPLES);
        if resamples > limits.max_bootstrap_resamples {
            return Err(Error::Usage(format!(
                "{resamples} bootstrap resamples exceed the limit of {} ([limits] max_bootstrap_resamples)",
                limits.max_bootstrap_resamples
            )));
        }
        let max_failed_share = o
            .max_failed_share
            .or(env.parse("MASKGATE_MAX_FAILED_SHARE")?)
            .or(cfg.as_ref().and_then(|c| c.max_failed_share))
            .unwrap_or(crate::health::DEFAULT_MAX_FAILED_SHARE);
        if !(0.0..=1.0).contains(&max_failed_share) {
            return Err(Error::Usage(format!(
                "max_failed_share = {max_failed_share} must be within [0, 1] (a share: 0.1 = 10% of an arm's samples)"
            )));
        }
        Ok(Plan {
            config: cfg.as_ref().map(|c| c.path.clone()).or(config_path),
            gold_file,
            corpora,
            arms,
            variants,
            variants_file: o.variants.clone(),
            baseline,
            notes,
            out,
            remote_out,
            remote_names,
            cache,
            onnxruntime,
            intra_threads: o
                .intra_threads
                .or(cfg.as_ref().and_then(|c| c.intra_threads))
                .unwrap_or(0),
            ort_memory: OrtMemory {
                arena: cfg
                    .as_ref()
                    .and_then(|c| c.memory_arena)
                    .unwrap_or(OrtMemory::default().arena),
                pattern: cfg
                    .as_ref()
                    .and_then(|c| c.memory_pattern)
                    .unwrap_or(OrtMemory::default().pattern),
            },
            save_predictions: o.save_predictions
                || env
                    .get("MASKGATE_SAVE_PREDICTIONS")
                    .map(|v| v != "0")
                    .or(cfg.as_ref().and_then(|c| c.save_predictions))
                    .unwrap_or(false),
            threads,
            score: ScoreSettings {
                grid,
                ..Default::default()
            },
            compare: CompareSettings {
                top_k: o
                    .top_k
                    .or(cfg.as_ref().and_then(|c| c.top_k))
                    .unwrap_or(DEFAULT_TOP_K),
                pass_iou,
                resamples,
                seed: o
                    .seed
                    .or(cfg.as_ref().and_then(|c| c.seed))
                    .or(criteria.as_ref().and_then(|c| c.seed))
                    .unwrap_or(0),
            },
            gallery: o
                .gallery
                .or(env.parse("MASKGATE_GALLERY")?)
                .or(cfg.as_ref().and_then(|c| c.gallery))
                .unwrap_or(DEFAULT_GALLERY),
            max_failed_share,
            formats,
            run_id,
            generated_at,
            criteria,
            limits,
            network,
            shard: o
                .shard
                .map(|a| a.resolve(|k| env.get(k).map(str::to_string)))
                .transpose()?,
            record: PlanRecord::of(request, o, env)?,
        })
    }

    /// Names of the arms that are not variants.
    fn real_arms(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    /// A path as the report shows it: normalised, or the URL it was fetched from.
    fn shown(&self, p: &Path) -> String {
        self.remote_names
            .get(p)
            .cloned()
            .unwrap_or_else(|| pathnames::display(p))
    }

    /// Where shards and the uploaded reports live: the bucket, or the output folder.
    fn out_store(&self) -> Result<Box<dyn Store>> {
        match &self.remote_out {
            Some(url) => crate::storage::open(Path::new(url), self.network),
            None => Ok(Box::new(LocalStore::new(&self.out))),
        }
    }

    fn input(&self, role: String, p: &Path) -> Result<InputFile> {
        Ok(InputFile {
            role,
            path: self.shown(p),
            sha256: crate::sha256_file(p)?,
        })
    }
}

/// Merges a notes sidecar (`{"<id>": "<notes>"}`) into the corpora; returns a notice naming the
/// ids no corpus has (a sampled corpus legitimately lacks some; a typo should still be seen).
fn apply_notes(corpora: &mut [Corpus], path: &Path) -> Result<Option<String>> {
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

/// The arms whose comparisons get a gallery: every real arm, plus the recommended variant.
fn gallery_arms(real_arms: &[String], recommended: Option<&String>) -> Vec<String> {
    real_arms
        .iter()
        .cloned()
        .chain(recommended.cloned())
        .collect()
}

/// The most threads any setting may ask for, whatever the machine.
pub const THREADS_CEILING: usize = 1024;

/// The most threads a run may start here: 64 per core, at most [`THREADS_CEILING`]. More
/// only costs time creating threads (100,000 took 25 s before failing).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(64).min(THREADS_CEILING)
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))
}

/// Runs a plan: read → predict → score → aggregate → compare → decide → recommend → gallery →
/// report → export. A cancelled run (see [`Observer::cancelled`]) writes no report. A sharded
/// plan goes to [`execute_shard`].
pub fn execute(plan: &Plan, observer: &dyn Observer) -> Result<Outcome> {
    if let Some(spec) = plan.shard {
        return Err(Error::Usage(format!(
            "shard {}/{} of a plan: run it with execute_shard",
            spec.index, spec.count
        )));
    }
    pool(plan.threads)?.install(|| {
        let prepared = prepare(plan)?;
        let saved = prepared.saved(plan);
        let scored = {
            let arms = prepared.arms();
            score_all(&prepared.input(plan, &arms, saved.as_ref()), observer)
        };
        let mut prepared = prepared;
        prepared.after_scoring(plan, observer)?;
        finish(plan, prepared, scored, saved)
    })
}

/// What a shard process did.
#[derive(Debug)]
pub enum ShardOutcome {
    /// This process scored its slice and its marker is the committed one.
    Committed {
        marker: crate::shard::Marker,
        notices: Vec<String>,
    },
    /// The shard was committed before (a retry or a duplicate): nothing was scored or written.
    AlreadyCommitted(crate::shard::Marker),
    /// This process scored its slice, but another attempt committed first; its rows stand.
    LostRace(crate::shard::Marker),
}

/// Scores this plan's shard and commits its rows under `<out>/shards/`. A shard already
/// committed exits without scoring.
pub fn execute_shard(plan: &Plan, observer: &dyn Observer) -> Result<ShardOutcome> {
    let spec = plan
        .shard
        .ok_or_else(|| Error::Usage("the plan has no --shard".into()))?;
    pool(plan.threads)?.install(|| {
        let mut prepared = prepare(plan)?;
        let hash = plan_hash(plan, &prepared.inputs);
        let store = plan.out_store()?;
        let store = store.as_ref();
        if let Some(m) = crate::shard::committed(store, &hash, spec)? {
            return Ok(ShardOutcome::AlreadyCommitted(m));
        }
        // The inputs' hashes ride along (outside the hashed record) so a merge can name the
        // inputs that changed since.
        let record = serde_json::to_vec_pretty(&RecordWithInputs {
            record: &plan.record,
            inputs: &prepared.inputs,
        })
        .map_err(|e| Error::Usage(format!("cannot record the plan: {e}")))?;
        crate::shard::record_plan(store, &hash, &record)?;
        let total = prepared.slice(spec);
        let saved = prepared.saved(plan);
        let scored = {
            let arms = prepared.arms();
            score_all(&prepared.input(plan, &arms, saved.as_ref()), observer)
        };
        if observer.cancelled() {
            return Err(Error::Retryable(format!(
                "interrupted: shard {}/{} not committed; run it again",
                spec.index, spec.count
            )));
        }
        prepared.after_scoring(plan, observer)?;
        let rows = crate::shard::ShardRows {
            scores: scored.scores,
            problems: prepared
                .corpora
                .iter()
                .zip(scored.load_problems)
                .flat_map(|(c, problems)| problems.into_iter().map(|p| (c.name.clone(), p)))
                .collect(),
            predictions: saved
                .map(|s| {
                    s.lines()
                        .into_iter()
                        .map(|(corpus, arm, id, line)| crate::shard::SavedLine {
                            corpus,
                            arm,
                            id,
                            line,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let hardware =
            crate::shard::Hardware::of_this_host(crate::predict::engine::EXECUTION_PROVIDER);
        let run = crate::shard::RunStamp {
            run_id: plan.run_id.clone(),
            generated_at: plan.generated_at.clone(),
        };
        Ok(
            match crate::shard::commit(store, &hash, spec, total, &rows, hardware, run)? {
                crate::shard::Committed::Now(marker) => ShardOutcome::Committed {
                    marker,
                    notices: prepared.notices,
                },
                crate::shard::Committed::Earlier(m) => ShardOutcome::LostRace(m),
            },
        )
    })
}

/// What `maskgate merge OUT` takes besides the folder.
#[derive(Clone, Debug, Default)]
pub struct MergeRequest {
    pub out: PathBuf,
    /// The plan to merge when shards of several plans share the folder (a hash prefix).
    pub plan: Option<String>,
    pub run_id: Option<String>,
    pub generated_at: Option<String>,
    /// Refuse shards that ran on different execution providers or CPUs.
    pub strict_hardware: bool,
}

/// Merges the committed shards under `<out>/shards/` into the reports a single machine would
/// have written: the plan is resolved again from the shards' record, its inputs must hash as
/// they did, and the gathered rows go through the unchanged aggregation.
pub fn merge(request: &MergeRequest, env: &Env, observer: &dyn Observer) -> Result<Outcome> {
    // The bucket is read before the recorded plan (and its config's setting) is known.
    let network = network_timeout_of(env)?
        .map(crate::net::Network::with_timeout_s)
        .unwrap_or_default();
    let store = crate::storage::open(&request.out, network)?;
    let store = store.as_ref();
    let folders = crate::shard::plan_folders(store)?;
    let chosen: Vec<&String> = folders
        .iter()
        .filter(|f| {
            request
                .plan
                .as_ref()
                .is_none_or(|p| f.starts_with(p.as_str()) || p.starts_with(f.as_str()))
        })
        .collect();
    let folder = match chosen.as_slice() {
        [one] => *one,
        [] if folders.is_empty() => {
            return Err(Error::Retryable(format!(
                "{}: no shards to merge (run `maskgate run CONFIG --shard I/N --out {}` first)",
                store.describe(),
                store.describe()
            )))
        }
        [] => {
            return Err(Error::Usage(format!(
                "no shards of plan {:?} under {} (plans: {})",
                request.plan.as_deref().unwrap_or(""),
                store.describe(),
                folders.join(", ")
            )))
        }
        _ => {
            return Err(Error::Usage(format!(
                "shards of {} plans under {} ({}): choose one with --plan",
                chosen.len(),
                store.describe(),
                chosen
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let key = crate::shard::plan_record_key(folder);
    let bytes = store.get(&key)?.ok_or_else(|| {
        Error::Usage(format!(
            "{}/{key}: missing; the shards cannot be merged",
            store.describe()
        ))
    })?;
    let recorded_inputs = serde_json::from_slice::<RecordedInputs>(&bytes)
        .map(|r| r.inputs)
        .unwrap_or_default();
    let record: PlanRecord = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{}/{key}: not a plan record: {e}",
            store.describe()
        ))
    })?;
    let overrides = Overrides {
        out: Some(request.out.clone()),
        run_id: request.run_id.clone(),
        generated_at: request.generated_at.clone(),
        ..record.overrides.clone()
    };
    // The shards' report settings, and this process's own run metadata and runtime.
    let mut pairs: BTreeMap<String, String> = env
        .0
        .iter()
        .filter(|(k, _)| !RECORDED_ENV.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.extend(record.env.clone());
    // The run id and time: the command line's or the environment's, else the ones every shard
    // was given (so a merge stamps what the unsharded run would have), else now.
    let stamp_given = request.run_id.is_some()
        || request.generated_at.is_some()
        || env.get("MASKGATE_RUN_ID").is_some()
        || env.get("MASKGATE_GENERATED_AT").is_some();
    let mut plan = Plan::resolve(&record.request, &overrides, &Env::from_pairs(pairs))?;
    pool(plan.threads)?.install(|| {
        let mut prepared = prepare(&plan)?;
        let hash = plan_hash(&plan, &prepared.inputs);
        if !hash.starts_with(folder.as_str()) {
            return Err(Error::Usage(format!(
                "the plan's inputs changed since the shards ran: it hashes to {} now, the shards are of {folder} ({}); rerun the shards on the current inputs, or restore them",
                &hash[..16],
                changed_inputs(&recorded_inputs, &prepared.inputs)
            )));
        }
        let total = prepared.corpora.iter().map(|c| c.samples.len()).sum();
        let reading = std::time::Instant::now();
        let gathered = crate::shard::gather(
            store,
            &hash,
            total,
            total.saturating_mul(prepared.arms().len() + plan.variants.variants.len()),
            request.strict_hardware,
        )?;
        let read_seconds = reading.elapsed().as_secs_f64();
        if observer.cancelled() {
            return Err(Error::Usage("interrupted: no report written".into()));
        }
        prepared.notices.extend(gathered.notices);
        match gathered.run {
            Some(run) if !stamp_given => {
                plan.run_id = run.run_id;
                plan.generated_at = run.generated_at;
            }
            None if !stamp_given => prepared.notices.push(
                "the shards were given different run ids or times (or none): the merge stamps its own; pass --run-id and --generated-at to choose".into(),
            ),
            _ => {}
        }
        let rows = gathered.rows;
        let load_problems = prepared
            .corpora
            .iter()
            .map(|c| {
                rows.problems
                    .iter()
                    .filter(|(corpus, _)| *corpus == c.name)
                    .map(|(_, p)| p.clone())
                    .collect()
            })
            .collect();
        let mut scores = rows.scores;
        scores.sort_by(|a, b| (&a.arm, &a.corpus, &a.id).cmp(&(&b.arm, &b.corpus, &b.id)));
        let saved = prepared.saved(&plan);
        if let Some(saved) = &saved {
            for l in rows.predictions {
                saved.insert_line(&l.corpus, &l.arm, &l.id, l.line);
            }
        }
        prepared.notices.push(format!(
            "merged {} shards: {} scores over {total} samples (rows read and checked in {read_seconds:.2} s)",
            gathered.count,
            scores.len()
        ));
        finish(
            &plan,
            prepared,
            Scored {
                scores,
                load_problems,
            },
            saved,
        )
    })
}

/// The plan record as a shard stores it: the record, then the inputs' hashes beside it.
#[derive(Serialize)]
struct RecordWithInputs<'a> {
    #[serde(flatten)]
    record: &'a PlanRecord,
    inputs: &'a [InputFile],
}

/// The inputs a stored plan record names (none in a record written before they were kept).
#[derive(Deserialize)]
struct RecordedInputs {
    #[serde(default)]
    inputs: Vec<RecordedInput>,
}

#[derive(Deserialize)]
struct RecordedInput {
    role: String,
    sha256: String,
}

/// Which inputs differ between the shards' run (`then`) and now, by role: only those are
/// named, each path clipped, so a plan of many inputs gives a short message.
fn changed_inputs(then: &[RecordedInput], now: &[InputFile]) -> String {
    if then.is_empty() {
        return "the shards' plan record does not list its inputs' hashes".into();
    }
    let before: BTreeMap<&str, &str> = then
        .iter()
        .map(|i| (i.role.as_str(), i.sha256.as_str()))
        .collect();
    let mut changed: Vec<String> = now
        .iter()
        .filter_map(|i| match before.get(i.role.as_str()) {
            Some(&sha) if sha == i.sha256 => None,
            Some(_) => Some(format!("{} {} changed", i.role, crate::fmt::clip(&i.path))),
            None => Some(format!("{} {} is new", i.role, crate::fmt::clip(&i.path))),
        })
        .collect();
    changed.extend(
        then.iter()
            .filter(|t| !now.iter().any(|i| i.role == t.role))
            .map(|t| format!("{} is gone", t.role)),
    );
    if changed.is_empty() {
        return "no input file changed, so this maskgate's version or settings did".into();
    }
    const SHOWN: usize = 5;
    let more = changed.len().saturating_sub(SHOWN);
    changed.truncate(SHOWN);
    if more > 0 {
        changed.push(format!("and {more} more"));
    }
    changed.join(", ")
}

/// sha256 of what determines a shard's rows: the recorded request and every input's content.
/// Display paths are left out: the same files reached by another path are the same plan.
fn plan_hash(plan: &Plan, inputs: &[InputFile]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(&plan.record).unwrap_or_default());
    for i in inputs {
        h.update([b'\n']);
        h.update(i.role.as_bytes());
        h.update([0]);
        h.update(i.sha256.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A plan's corpora read and checked, its arms built and its inputs hashed: everything before
/// scoring that a whole run, a shard and a merge share.
struct Prepared {
    corpora: Vec<Corpus>,
    model_arms: Vec<ModelArm>,
    file_arms: Vec<PredictionsFile>,
    inputs: Vec<InputFile>,
    notices: Vec<String>,
    unmatched_predictions: BTreeMap<String, Vec<String>>,
    /// Removed when the run ends.
    _private_cache: Option<tempfile::TempDir>,
}

impl Prepared {
    fn arms(&self) -> Vec<&dyn Arm> {
        self.model_arms
            .iter()
            .map(|m| m as &dyn Arm)
            .chain(self.file_arms.iter().map(|f| f as &dyn Arm))
            .collect()
    }

    fn saved(&self, plan: &Plan) -> Option<SavedPredictions> {
        plan.save_predictions
            .then(|| SavedPredictions::new(self.model_arms.iter().map(|m| m.name.clone())))
    }

    fn input<'a>(
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
        }
    }

    /// Keeps only shard `spec`'s slice of the canonical list (corpora in plan order, each
    /// sorted by id); returns the whole list's length.
    fn slice(&mut self, spec: ShardSpec) -> usize {
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
    fn after_scoring(&mut self, plan: &Plan, observer: &dyn Observer) -> Result<()> {
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
                "arm {}: {} inferences ({:.2} s in the model), {} cached, {} failed",
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

fn taxonomy_of(plan: &Plan) -> &[crate::taxonomy::FailureClass] {
    plan.criteria
        .as_ref()
        .map(|c| c.taxonomy.as_slice())
        .unwrap_or(&[])
}

fn prepare(plan: &Plan) -> Result<Prepared> {
    let mut notices = Vec::new();
    let mut corpora = plan
        .corpora
        .iter()
        .map(read_corpus)
        .collect::<Result<Vec<_>>>()?;
    if let Some(p) = &plan.notes {
        notices.extend(apply_notes(&mut corpora, p)?);
    }
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
    // Without the user's cache, the run still keeps its own predictions in a private folder
    // (removed when the run ends), so the gallery reuses them instead of inferring again.
    let has_models = plan
        .arms
        .iter()
        .any(|a| matches!(a.source, ArmSource::Model { .. }));
    let private_cache = match plan.cache {
        None if has_models => Some(tempfile::tempdir().map_err(|e| {
            Error::Usage(format!("cannot create a temporary prediction folder: {e}"))
        })?),
        _ => None,
    };
    let cache_dir = plan
        .cache
        .as_deref()
        .or(private_cache.as_ref().map(|d| d.path()));
    // One cache for every model arm: a folder, or a bucket prefix the shards share.
    let cache = match cache_dir {
        Some(c) if crate::storage::is_url(&c.to_string_lossy()) => Some(PredictionCache::on(
            std::sync::Arc::from(crate::storage::open(c, plan.network)?),
        )),
        Some(c) => Some(PredictionCache::new(c)),
        None => None,
    };
    let mut model_arms: Vec<ModelArm> = Vec::new();
    let mut file_arms: Vec<PredictionsFile> = Vec::new();
    let mut inputs = Vec::new();
    if let Some(c) = &plan.config {
        inputs.push(plan.input("config".into(), c)?);
    }
    for spec in &plan.corpora {
        let source = source_for(&spec.path)?;
        let corpus = corpora
            .iter()
            .find(|c| c.name == spec.name)
            .expect("every spec was read");
        let role = if plan.gold_file {
            "gold".to_string()
        } else {
            format!("corpus {}", spec.name)
        };
        let files_sha256 = source.fingerprint(
            &spec.path,
            &corpus.files_read(&spec.path),
            &corpus.photo_sha256,
        )?;
        inputs.push(match &corpus.version {
            // A database corpus: its rows, its query and the files they name.
            Some(v) => InputFile {
                role,
                path: v.source.clone(),
                sha256: crate::source::fingerprint_of(vec![
                    ("files".into(), files_sha256),
                    ("query".into(), v.query_sha256.clone()),
                    ("rows".into(), v.rows_sha256.clone()),
                ]),
            },
            None => InputFile {
                role,
                path: plan.shown(&spec.path),
                sha256: files_sha256,
            },
        });
    }
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
                    sha256: sha256.clone(),
                });
                let source = ModelSource {
                    path: model.clone(),
                    sha256,
                    intra_threads: plan.intra_threads,
                    memory: plan.ort_memory,
                    runtime: plan.onnxruntime.clone(),
                    turn: turn.clone(),
                };
                let cache = cache.clone();
                model_arms
                    .push(ModelArm::new(&spec.name, source, seg, cache).map_err(Error::Usage)?);
            }
        }
    }
    for (role, p) in [
        ("criteria", plan.criteria.as_ref().map(|c| &c.path)),
        ("notes", plan.notes.as_ref()),
        ("variants", plan.variants_file.as_ref()),
    ] {
        if let Some(p) = p {
            inputs.push(plan.input(role.into(), p)?);
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
    Ok(Prepared {
        corpora,
        model_arms,
        file_arms,
        inputs,
        notices,
        unmatched_predictions,
        _private_cache: private_cache,
    })
}

/// From scores to the written report set: aggregate, compare, decide, recommend, gallery,
/// report, export; the set replaces the previous one at once.
fn finish(
    plan: &Plan,
    prepared: Prepared,
    scored: Scored,
    saved: Option<SavedPredictions>,
) -> Result<Outcome> {
    let arms = prepared.arms();
    let taxonomy = taxonomy_of(plan);
    let input = prepared.input(plan, &arms, saved.as_ref());
    let evaluation = evaluate_scored(&input, scored);
    let corpora = &prepared.corpora;
    let inputs = prepared.inputs.clone();
    let unmatched_predictions = prepared.unmatched_predictions.clone();
    let notices = prepared.notices.clone();
    let verdict = plan
        .criteria
        .as_ref()
        .map(|c| crate::decide::decide(&evaluation, &c.criteria));
    let groups = plan
        .variants
        .score
        .as_ref()
        .map(|spec| crate::recommend::score_groups(&evaluation, spec));
    let shown = gallery_arms(
        &plan.real_arms(),
        groups.as_ref().and_then(|g| g.recommended_group.as_ref()),
    );
    // Everything is written into a staging folder and swapped in as one set at the end.
    let staging = crate::persist::report_set::Staging::new(&plan.out)?;
    let gallery = crate::gallery::render(
        &evaluation,
        corpora,
        &arms,
        &plan.variants.variants,
        &shown,
        plan.gallery,
        staging.path(),
    )?;
    let arm_details = arms
        .iter()
        .map(|a| {
            // An arm names its file by the local copy; one fetched from a URL is shown by it.
            let mut d = a.describe();
            for key in ["model", "path"] {
                let url = d.get(key).and_then(|v| v.as_str()).and_then(|shown| {
                    plan.remote_names
                        .iter()
                        .find(|(local, _)| pathnames::display(local) == shown)
                        .map(|(_, url)| url.clone())
                });
                if let Some(url) = url {
                    d[key] = url.into();
                }
            }
            d
        })
        .chain(plan.variants.variants.iter().map(|v| v.describe()))
        .collect();
    let settings = Settings::new(
        &plan.baseline,
        &plan.score,
        &plan.compare,
        plan.criteria.as_ref().map(|c| pathnames::display(&c.path)),
        !taxonomy.is_empty(),
    );
    let report = Report::assemble(
        evaluation,
        ReportParts {
            run: RunMeta {
                run_id: plan.run_id.clone(),
                generated_at: plan.generated_at.clone(),
                inputs,
            },
            settings,
            arm_details,
            unmatched_predictions,
            verdict,
            groups,
            gallery,
            artifacts: crate::export::file_names(&plan.formats),
        },
    );
    let mut staged = crate::export::write_all(&report, staging.path(), &plan.formats)?;
    if let Some(saved) = &saved {
        staged.extend(saved.write(staging.path())?);
    }
    let staging_path = staging.path().to_path_buf();
    staging.commit(&report_set_names())?;
    if plan.remote_out.is_some() {
        crate::storage::publish(plan.out_store()?.as_ref(), &plan.out)?;
    }
    // Giving a heavy model's memory back takes a noticeable moment (0.2 s for ISNet's
    // arena) and nothing waits on it once the reports are written.
    drop(arms);
    let Prepared {
        model_arms,
        _private_cache: private_cache,
        ..
    } = prepared;
    // Should no thread be available, the refused closure drops the models right here.
    let _ = std::thread::Builder::new()
        .name("maskgate-release".into())
        .spawn(move || drop(model_arms));
    drop(private_cache);
    let written = staged
        .iter()
        .filter_map(|p| p.strip_prefix(staging_path.as_path()).ok())
        .map(|relative| match &plan.remote_out {
            Some(url) => PathBuf::from(format!(
                "{}/{}",
                crate::storage::shown_url(url).trim_end_matches('/'),
                relative.to_string_lossy()
            )),
            None => plan.out.join(relative),
        })
        .collect();
    let failures = crate::health::arm_failures(&report);
    Ok(Outcome {
        unscored: crate::health::unscored_arms(&failures),
        failed_share_warnings: crate::health::failed_share_warnings(
            &failures,
            plan.max_failed_share,
        ),
        report,
        written,
        notices,
    })
}

/// Every name a report set may hold in the output folder: what a commit replaces, or removes
/// when this run did not write it (files of other kinds there are never touched).
pub fn report_set_names() -> Vec<&'static str> {
    crate::export::exporters()
        .iter()
        .map(|e| e.file_name())
        .chain([
            crate::gallery::FOLDER,
            crate::predict::saved::FOLDER,
            crate::persist::report_set::MANIFEST,
        ])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold(dir: &Path) -> PathBuf {
        let p = dir.join("g.ndjson");
        std::fs::write(
            &p,
            "{\"id\":\"a\",\"size\":[2,2],\"masks\":{\"fg\":{\"size\":[2,2],\"counts\":[0,4]}}}\n",
        )
        .unwrap();
        p
    }

    fn compare_request(dir: &Path) -> Request {
        let g = gold(dir);
        Request::Compare {
            truth: GroundTruth::Gold {
                path: g.clone(),
                name: None,
                image_root: None,
            },
            preds: vec![("b".into(), g.clone()), ("c".into(), g)],
            baseline: "b".into(),
        }
    }

    #[test]
    fn command_line_beats_environment_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let req = compare_request(dir.path());
        let env = Env::from_pairs([
            ("MASKGATE_THREADS".to_string(), "3".to_string()),
            ("MASKGATE_RUN_ID".to_string(), "from-env".to_string()),
            ("MASKGATE_FORMATS".to_string(), "json, csv".to_string()),
        ]);
        let plan = Plan::resolve(&req, &Overrides::default(), &env).unwrap();
        assert_eq!(plan.threads, Some(3));
        assert_eq!(plan.run_id, "from-env");
        assert_eq!(plan.formats, ["json", "csv"]);
        assert_eq!(plan.compare.resamples, DEFAULT_RESAMPLES);
        assert_eq!(plan.compare.top_k, DEFAULT_TOP_K);
        let o = Overrides {
            threads: Some(1),
            run_id: Some("from-cli".into()),
            bootstrap: Some(7),
            ..Default::default()
        };
        let plan = Plan::resolve(&req, &o, &env).unwrap();
        assert_eq!(plan.threads, Some(1));
        assert_eq!(plan.run_id, "from-cli");
        assert_eq!(plan.compare.resamples, 7);
    }

    #[test]
    fn bad_settings_are_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let req = compare_request(dir.path());
        let env = Env::default();
        for (o, needle) in [
            (
                Overrides {
                    grid: Some(0),
                    ..Default::default()
                },
                "grid must be at least 1",
            ),
            (
                Overrides {
                    formats: Some(vec!["pdf".into()]),
                    ..Default::default()
                },
                "unknown format \"pdf\"",
            ),
            (
                Overrides {
                    pass_iou: Some(1.5),
                    ..Default::default()
                },
                "pass_iou must be within [0, 1]",
            ),
        ] {
            let err = Plan::resolve(&req, &o, &env)
                .err()
                .expect(needle)
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
        let env = Env::from_pairs([("MASKGATE_THREADS".to_string(), "many".to_string())]);
        let err = Plan::resolve(&req, &Overrides::default(), &env)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("MASKGATE_THREADS"), "{err}");
    }

    #[test]
    fn the_network_timeout_is_at_least_a_second() {
        let of = |v: &str| {
            network_timeout_of(&Env::from_pairs([(
                "MASKGATE_NETWORK_TIMEOUT".to_string(),
                v.to_string(),
            )]))
        };
        assert_eq!(of("5").unwrap(), Some(5));
        for bad in ["0", "soon", "-1"] {
            let e = of(bad).unwrap_err().to_string();
            assert!(e.contains("MASKGATE_NETWORK_TIMEOUT"), "{e}");
        }
        assert_eq!(network_timeout_of(&Env::default()).unwrap(), None);
    }

    #[test]
    fn every_variable_the_plan_reads_is_listed() {
        let source = include_str!("plan.rs");
        let code = &source[..source.find("#[cfg(test)]").unwrap()];
        // What follows the list: the code that reads the variables.
        let code = &code[code.find("pub struct Env").unwrap()..];
        let listed: Vec<&str> = ENV_VARS.iter().map(|(k, _)| *k).collect();
        let mut seen = 0;
        for (i, _) in code
            .match_indices("(\"MASKGATE_")
            .chain(code.match_indices("(\"ORT_"))
        {
            let name = code[i..].split('"').nth(1).unwrap();
            assert!(listed.contains(&name), "{name} is read but not in ENV_VARS");
            seen += 1;
        }
        // The shard index is read through `shard::INDEX_VARS`, each of them listed.
        for name in crate::shard::INDEX_VARS {
            assert!(listed.contains(&name), "{name} is read but not in ENV_VARS");
            seen += 1;
        }
        // Every listed variable is read somewhere.
        assert!(seen >= listed.len(), "{seen}");
    }

    #[test]
    fn run_ids_come_from_the_timestamp() {
        assert_eq!(
            run_id_from("2026-02-12T02:06:27.706Z"),
            "20260212_020627706"
        );
        let now = now_rfc3339();
        assert_eq!(now.len(), "2026-02-12T02:06:27.706Z".len(), "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
