//! One plan for every command. [`Plan::resolve`] turns a request (`run CONFIG` or `compare`),
//! the command line's [`Overrides`], the environment ([`Env`]) and the config file into one
//! validated plan, before any work; [`execute`] runs it through the whole flow and returns the
//! [`Outcome`]. Precedence, highest first: command line, environment, config file, criteria file
//! (for τ, seed and resamples), built-in default. The library neither prints nor reads the
//! process environment itself: the caller passes [`Env`] and an [`Observer`](crate::observe::Observer).
//!
//! Every setting is declared once in [`settings::SETTINGS`]; each resolved value records its
//! [`Source`], and [`explain`] lists them without doing any work. The files: `settings.rs` (the
//! table), `reference.rs` (the variables a plan reads, and the docs' table, from it),
//! `layers.rs` (`Layers`, `Source`), `resolve.rs` (pure resolution), `values.rs` (each setting
//! picked from its layers and checked), `fetch.rs` (downloads and existence checks),
//! `prepare.rs`, `execute.rs`, `shards.rs` (shards and merge), `record.rs`, `env.rs`.

mod env;
mod execute;
mod fetch;
mod layers;
mod prepare;
mod record;
mod reference;
mod resolve;
pub mod settings;
mod shards;
mod values;

pub use env::Env;
pub use execute::execute;
pub use layers::{Resolved, Source};
pub use record::PlanRecord;
pub use resolve::explain;
pub use settings::SETTINGS;
pub use shards::{execute_shard, merge, MergeRequest, ShardOutcome};

use env::recorded_env;
use execute::finish;
use prepare::{prepare, Prepared};
use resolve::network_timeout_of;

use crate::compare::CompareSettings;
use crate::config::{ArmSpec, VariantSet};
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::pathnames;
use crate::predict::engine::OrtMemory;
use crate::read::CorpusSpec;
use crate::report::{InputFile, Report};
use crate::score::ScoreSettings;
use crate::shard::{ShardArg, ShardSpec};
use crate::storage::{LocalStore, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Built-in defaults. Each setting's `default` text in `settings.rs` states its value too; a
/// test there resolves with nothing set and compares the two.
pub const DEFAULT_RESAMPLES: usize = 2000;
pub const DEFAULT_TOP_K: usize = 20;
pub const DEFAULT_PASS_IOU: f64 = 0.5;
pub const DEFAULT_GALLERY: usize = 3;
/// The noise check's ε: above ONNX Runtime's differences across CPUs and versions (1e-4–1e-6).
pub const DEFAULT_NOISE_EPSILON: f64 = 1e-3;
pub const DEFAULT_OUT: &str = "reports/run";
pub const DEFAULT_CACHE: &str = ".maskgate-cache";

/// How the run measures cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostSettings {
    /// Asked for (`--cost`), or needed by a cost criterion.
    pub measure: bool,
    pub warmup: usize,
    pub repeat: usize,
    /// `[cost] price_per_hour` of the run config: what an hour of this host costs.
    pub price_per_hour: Option<f64>,
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
    /// Skipped when false, so plans recorded before it hash as they did.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclude_suspects: bool,
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
    /// Left out of the serialised record when not given, so plan hashes stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_manifest: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    pub variants: Option<PathBuf>,
    /// Never recorded for `merge` (where a key lives is the signer's business): a merge takes
    /// its own.
    #[serde(skip)]
    pub sign_key: Option<PathBuf>,
    /// Judges the finished run, shapes none of its numbers: never recorded for `merge`, and
    /// left out of the serialised record so plan hashes stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_share: Option<f64>,
    /// Left out of the serialised record when not given, so plan hashes stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_epsilon: Option<f64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// Cost is a measurement: it shapes no shard's rows, so a shard's record never holds it.
    #[serde(skip)]
    pub cost: bool,
    #[serde(skip)]
    pub cost_warmup: Option<usize>,
    #[serde(skip)]
    pub cost_repeat: Option<usize>,
    /// `--shard I/N` or `auto/N`: score one slice and commit it (see [`crate::shard`]).
    #[serde(skip)]
    pub shard: Option<ShardArg>,
    /// How a run is watched, not what it computes: never recorded.
    #[serde(skip)]
    pub progress_s: Option<u64>,
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
    /// `compare --config`: what the config's `[run]` says about judging, which compare leaves
    /// aside (it reads only the corpora).
    pub compare_config_judging: Option<crate::config::RunJudging>,
    /// What every path in the reports is relative to.
    pub paths_base: PathsBase,
    pub corpora: Vec<CorpusSpec>,
    pub arms: Vec<ArmSpec>,
    pub variants: VariantSet,
    pub variants_file: Option<PathBuf>,
    pub baseline: String,
    pub criteria: Option<CriteriaFile>,
    /// The criteria's pre-registered hash and where it was pinned (checked when resolving).
    pub criteria_pin: Option<crate::decide::criteria::CriteriaPin>,
    /// The key that signs the attestation (read and checked when resolving, again when used).
    pub sign_key: Option<PathBuf>,
    /// The program that runs the plan, as the attestation names it (the CLI sets its digest).
    pub binary: crate::attest::statement::Binary,
    pub notes: Option<PathBuf>,
    /// The photos the candidate was trained on (a folder, or a list of their hashes).
    pub training_manifest: Option<PathBuf>,
    /// The Python that exports `.pt` checkpoint arms (a bare name is looked up on PATH).
    pub python: PathBuf,
    /// What a sample whose photo another corpus or the training set holds does to the run.
    pub overlap: crate::read::shared::Policy,
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
    pub suspects: crate::suspects::SuspectSettings,
    pub slices: crate::slices::SliceSettings,
    /// The inference-noise check: ε for model arms, and whether a check it could flip is
    /// inconclusive.
    pub noise: crate::decide::Noise,
    /// Measuring what each model arm costs (see [`crate::cost`]).
    pub cost: CostSettings,
    pub gallery: usize,
    /// More than this share of an arm's samples failed: the run ends with a warning.
    pub max_failed_share: f64,
    /// Seconds between progress lines where no terminal shows a bar (0: none).
    pub progress_s: u64,
    /// Every setting's value and where it came from, as `--explain` prints them.
    pub sources: Vec<Resolved>,
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

/// The folder every path in a report is relative to, and the words the report names it by.
#[derive(Clone, Debug)]
pub struct PathsBase {
    /// Absolute and normalised.
    pub folder: PathBuf,
    pub named: String,
}

impl Plan {
    /// Names of the arms that are not variants.
    fn real_arms(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    /// A path as the report shows it: relative to the paths' base, or the URL it was fetched
    /// from.
    fn shown(&self, p: &Path) -> String {
        self.remote_names
            .get(p)
            .cloned()
            .unwrap_or_else(|| pathnames::relative_to(&self.paths_base.folder, p))
    }

    /// A path as the attestation names it: from the working folder, where `verify --root`
    /// looks it up (or the URL it was fetched from).
    fn named(&self, p: &Path) -> String {
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
            named: self.named(p),
            sha256: crate::sha256_file(p)?,
        })
    }
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

fn taxonomy_of(plan: &Plan) -> &[crate::taxonomy::FailureClass] {
    plan.criteria
        .as_ref()
        .map(|c| c.taxonomy.as_slice())
        .unwrap_or(&[])
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
            crate::attest::dataset::FILE,
            crate::attest::FILE,
            crate::export::cost::FILE,
            crate::persist::report_set::MANIFEST,
        ])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
