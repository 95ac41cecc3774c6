//! `Plan::resolve`: request, overrides, environment and config → one checked plan.

use super::fetch;
use super::layers::{Layers, Resolved};
use super::settings;
use super::values::{values, Values};
use super::{
    problems_error, Env, GroundTruth, Overrides, Plan, PlanRecord, Request, DEFAULT_CACHE,
};
use crate::compare::CompareSettings;
use crate::config::{ArmSource, ArmSpec, RawVariants, RunConfig, VariantSet};
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::read::CorpusSpec;
use crate::score::ScoreSettings;
use sha2::Digest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where object-store inputs are kept: `objects/` of a local prediction cache, else of the
/// system's temporary folder.
pub(super) fn downloads_dir(
    env: &Env,
    cfg: Option<&RunConfig>,
    base_dir: &dyn Fn(&str) -> PathBuf,
) -> PathBuf {
    settings::CACHE
        .env
        .and_then(|v| env.get(v))
        .map(PathBuf::from)
        .or(cfg.and_then(|c| c.cache.clone()))
        .or(cfg.map(|_| base_dir(DEFAULT_CACHE)))
        .filter(|c| !crate::storage::is_url(&c.to_string_lossy()))
        .unwrap_or_else(|| std::env::temp_dir().join("maskgate-cache"))
        .join("objects")
}

/// The network timeout's variable, which must be at least a second (0 would fail every
/// request). Read here for the plan and for `merge`, which opens its bucket before any plan.
pub(super) fn network_timeout_of(env: &Env) -> Result<Option<u64>> {
    let s = &settings::NETWORK_TIMEOUT;
    match env.parse_of(s)? {
        Some(0) => Err(Error::Usage(format!(
            "{} must be at least 1 (seconds)",
            s.env.unwrap_or(s.name)
        ))),
        t => Ok(t),
    }
}

/// The corpus of a `compare`'s ground truth.
/// The ground truth's corpus, and for a config's corpus the judging its `[run]` names (which
/// `compare` does not take).
pub(super) fn truth_corpus(
    truth: &GroundTruth,
) -> Result<(CorpusSpec, Option<crate::config::RunJudging>)> {
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
        })
        .map(|spec| (spec, None)),
        GroundTruth::Config { path, corpus } => {
            let (specs, judging) = crate::config::load_corpora_and_judging(path)?;
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            let spec = match corpus {
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
            }?;
            Ok((spec, Some(judging)))
        }
    }
}

/// What the request names, before any setting: the config (with its problems, reported later
/// with the missing files), the corpora, arms and baseline.
struct Draft {
    cfg: Option<RunConfig>,
    problems: Vec<String>,
    gold_file: bool,
    corpora: Vec<CorpusSpec>,
    arms: Vec<ArmSpec>,
    baseline: String,
    /// The run config, or the config a `compare --config` takes its corpus from.
    config_path: Option<PathBuf>,
    /// That config's `[run]` judging, which `compare --config` leaves aside.
    config_judging: Option<crate::config::RunJudging>,
    is_run: bool,
}

impl Draft {
    fn load(request: &Request) -> Result<Draft> {
        let mut problems = Vec::new();
        let mut config_judging = None;
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
                let (corpus, judging) = truth_corpus(truth)?;
                config_judging = judging;
                (None, gold, vec![corpus], arms, baseline.clone())
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
        Ok(Draft {
            cfg,
            problems,
            gold_file,
            corpora,
            arms,
            baseline,
            config_path,
            config_judging,
            is_run: matches!(request, Request::Run { .. }),
        })
    }

    /// A default path: beside the run config, else as given (from the working folder).
    fn base_dir(&self, p: &str) -> PathBuf {
        match &self.config_path {
            Some(c) if self.is_run => crate::tomlfile::resolve(c, p),
            _ => PathBuf::from(p),
        }
    }

    /// The run config's path, where its `[run]` values come from.
    fn run_config(&self) -> Option<&Path> {
        self.cfg.as_ref().map(|c| c.path.as_path())
    }
}

/// The files a plan reads besides its corpora and arms, and how long a server may keep it
/// waiting: what the fetch and check step needs.
struct Files {
    criteria: Option<PathBuf>,
    criteria_sha256: Option<String>,
    sign_key: Option<PathBuf>,
    notes: Option<PathBuf>,
    training_manifest: Option<PathBuf>,
    variants: Option<PathBuf>,
    python: PathBuf,
    network: crate::net::Network,
}

fn files(d: &Draft, o: &Overrides, env: &Env, l: &mut Layers<'_>) -> Result<Files> {
    let cfg = d.cfg.as_ref();
    let criteria = l.pick(
        &settings::CRITERIA,
        o.criteria.clone().map(Some),
        None,
        cfg.and_then(|c| c.criteria.clone()).map(Some),
        None,
        || None,
    );
    let criteria_sha256 = l.pick(
        &settings::CRITERIA_SHA256,
        None,
        None,
        cfg.and_then(|c| c.criteria_sha256.clone()).map(Some),
        None,
        || None,
    );
    let sign_key = l.pick(
        &settings::SIGN_KEY,
        o.sign_key.clone().map(Some),
        env.of(&settings::SIGN_KEY).map(|v| Some(PathBuf::from(v))),
        cfg.and_then(|c| c.sign_key.clone()).map(Some),
        None,
        || None,
    );
    let notes = l.pick(
        &settings::NOTES,
        o.notes.clone().map(Some),
        None,
        cfg.and_then(|c| c.notes.clone()).map(Some),
        None,
        || None,
    );
    let training_manifest = l.pick(
        &settings::TRAINING_MANIFEST,
        o.training_manifest.clone().map(Some),
        None,
        cfg.and_then(|c| c.training_manifest.clone()).map(Some),
        None,
        || None,
    );
    let python = l.pick(
        &settings::PYTHON,
        None,
        env.of(&settings::PYTHON).map(PathBuf::from),
        cfg.and_then(|c| c.python.clone()),
        None,
        || PathBuf::from("python3"),
    );
    let variants = l.pick(
        &settings::VARIANTS,
        o.variants.clone().map(Some),
        None,
        None,
        None,
        || None,
    );
    // Every network client of this run (object stores, databases) waits at most this long.
    let env_timeout = network_timeout_of(env)?;
    let timeout = l.pick(
        &settings::NETWORK_TIMEOUT,
        None,
        env_timeout,
        cfg.and_then(|c| c.network_timeout_s),
        None,
        || crate::net::DEFAULT_TIMEOUT_S,
    );
    Ok(Files {
        criteria,
        criteria_sha256,
        sign_key,
        notes,
        training_manifest,
        variants,
        python,
        network: crate::net::Network::with_timeout_s(timeout),
    })
}

/// Every setting of the plan `request` resolves to, with its value and where it came from,
/// in [`settings::SETTINGS`] order. Reads the config and the criteria file only: nothing is
/// fetched, checked for existence or hashed, and nothing is written.
pub fn explain(request: &Request, o: &Overrides, env: &Env) -> Result<Vec<Resolved>> {
    let draft = Draft::load(request)?;
    if !draft.problems.is_empty() {
        return Err(problems_error(
            draft.config_path.as_deref(),
            draft.problems.clone(),
        ));
    }
    let mut layers = Layers::new(env, draft.run_config());
    let files = files(&draft, o, env, &mut layers)?;
    criteria_and_values(&draft, o, env, files.criteria.as_deref(), &mut layers)?;
    Ok(layers.into_resolved())
}

/// Reads the criteria file (a fetched one's local copy) and resolves every value after it:
/// the steps [`explain`] and [`Plan::resolve`] share once the files are known.
fn criteria_and_values(
    draft: &Draft,
    o: &Overrides,
    env: &Env,
    criteria: Option<&Path>,
    layers: &mut Layers<'_>,
) -> Result<(Option<CriteriaFile>, Values)> {
    let criteria = criteria.map(CriteriaFile::load).transpose()?;
    layers.with_criteria(criteria.as_ref().map(|c| c.path.as_path()));
    let v = values(
        draft.cfg.as_ref(),
        &|p| draft.base_dir(p),
        o,
        env,
        criteria.as_ref(),
        layers,
    )?;
    Ok((criteria, v))
}

/// The lock file that pre-registers the criteria when the config has no `criteria_sha256`.
pub const CRITERIA_LOCK: &str = "criteria.lock";

/// The criteria's pin: `[run] criteria_sha256`, else a `criteria.lock` beside the config (its
/// first word: the hex sha256, as `sha256sum` writes it). A criteria file whose hash differs
/// is refused here, before any work, naming both hashes. A lock file is named from `base`, as
/// every path of the report is.
fn pin_criteria(
    criteria: Option<&CriteriaFile>,
    configured: Option<&str>,
    config: Option<&Path>,
    base: &Path,
) -> Result<Option<crate::decide::criteria::CriteriaPin>> {
    let lock = config
        .and_then(Path::parent)
        .map(|d| d.join(CRITERIA_LOCK))
        .filter(|p| p.is_file());
    if let (Some(h), Some(lock)) = (configured, &lock) {
        let text = crate::limits::read_text(lock)?;
        let locked = text.split_whitespace().next().unwrap_or("");
        if !locked.eq_ignore_ascii_case(h.trim()) {
            return Err(Error::file(
                lock,
                format!(
                    "pins the criteria to {}, and [run] criteria_sha256 to {}: keep one pin",
                    crate::fmt::clip(locked),
                    crate::fmt::clip(h.trim())
                ),
            ));
        }
    }
    let (pinned, source, at) = match (configured, &lock) {
        (Some(h), _) => (
            h.trim().to_ascii_lowercase(),
            "[run] criteria_sha256".to_string(),
            config.map(Path::to_path_buf),
        ),
        (None, Some(lock)) => {
            let text = crate::limits::read_text(lock)?;
            let first = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            (
                first,
                crate::pathnames::relative_to(base, lock),
                Some(lock.clone()),
            )
        }
        (None, None) => return Ok(None),
    };
    let at = at.unwrap_or_default();
    if pinned.len() != 64 || !pinned.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::file(
            &at,
            format!("{source} must be the criteria file's sha256 in hex (64 characters; `sha256sum CRITERIA` prints it)"),
        ));
    }
    let Some(c) = criteria else {
        return Err(Error::file(
            &at,
            format!("{source} pins criteria, but the run has no criteria file: give --criteria or [run] criteria"),
        ));
    };
    if c.sha256 != pinned {
        return Err(Error::file(
            &c.path,
            format!(
                "the criteria changed after they were pre-registered: the file's sha256 is {}, {source} pins {pinned}; restore the registered criteria, or register the new ones deliberately (a new pin, in review)",
                c.sha256
            ),
        ));
    }
    Ok(Some(crate::decide::criteria::CriteriaPin {
        sha256: pinned,
        source,
    }))
}

/// The folder a report's paths are relative to, and how the report names it: the config's
/// folder, or for `compare --gold` the gold file's, else the working folder. The same inputs
/// then read the same from any working folder, and a merge names them as its shards did.
fn paths_base(draft: &Draft) -> super::PathsBase {
    let of = |file: &Path, what: &str| super::PathsBase {
        folder: crate::pathnames::absolute(file.parent().unwrap_or(Path::new(""))),
        named: format!(
            "the folder of the {what} {}",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    };
    let gold = draft
        .corpora
        .first()
        .filter(|c| draft.gold_file && !crate::storage::is_url(&c.path.to_string_lossy()));
    match (&draft.config_path, gold) {
        (Some(c), _) => of(c, "config"),
        (None, Some(g)) => of(&g.path, "gold file"),
        (None, None) => super::PathsBase {
            folder: crate::pathnames::absolute(Path::new("")),
            named: "the working folder".into(),
        },
    }
}

impl Plan {
    /// Resolves a request into a plan: the settings (pure), then the fetch and check of every
    /// input ([`super::fetch`]); every problem found is reported at once.
    pub fn resolve(request: &Request, o: &Overrides, env: &Env) -> Result<Plan> {
        let mut draft = Draft::load(request)?;
        let run_config = draft.run_config().map(Path::to_path_buf);
        let mut layers = Layers::new(env, run_config.as_deref());
        let files = files(&draft, o, env, &mut layers)?;
        let limits = draft.cfg.as_ref().map(|c| c.limits).unwrap_or_default();
        let network = files.network;
        let paths_base = paths_base(&draft);

        // Object-store locations are fetched into a local folder kept by content hash (the
        // cache's `objects/`); reports name them by their URL.
        let downloads = downloads_dir(env, draft.cfg.as_ref(), &|p| draft.base_dir(p));
        let config_path = draft.config_path.clone();
        let mut corpora = std::mem::take(&mut draft.corpora);
        let mut arms = std::mem::take(&mut draft.arms);
        let remote_names = fetch::fetch_and_check(
            fetch::Inputs {
                corpora: &mut corpora,
                arms: &mut arms,
                files: [
                    ("criteria", &files.criteria),
                    ("notes", &files.notes),
                    ("variants", &files.variants),
                ]
                .into_iter()
                .filter_map(|(what, p)| p.as_deref().map(|p| (what, p)))
                .collect(),
                problems: std::mem::take(&mut draft.problems),
                config: config_path.as_deref(),
            },
            &downloads,
            limits,
            network,
        )?;

        let (criteria, v) =
            criteria_and_values(&draft, o, env, files.criteria.as_deref(), &mut layers)?;
        let sources = layers.into_resolved();
        let criteria_pin = pin_criteria(
            criteria.as_ref(),
            files.criteria_sha256.as_deref(),
            run_config.as_deref(),
            &paths_base.folder,
        )?;
        // A key that cannot sign fails the run now, not after hours of inference.
        if let Some(key) = &files.sign_key {
            crate::attest::keys::PrivateKey::load(key)?;
        }
        let arm_names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
        let variants = match (&files.variants, &draft.cfg) {
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
        // Reports for a bucket are written into a local folder first, then uploaded as a set.
        let (out, remote_out) = match v.out.to_string_lossy() {
            url if crate::storage::is_url(&url) => {
                crate::storage::open(&v.out, network)?;
                let digest = hex::encode(sha2::Sha256::digest(url.as_bytes()));
                (
                    downloads.join("out").join(&digest[..16]),
                    Some(url.into_owned()),
                )
            }
            _ => (v.out.clone(), None),
        };
        Ok(Plan {
            paths_base,
            config: draft.cfg.as_ref().map(|c| c.path.clone()).or(config_path),
            compare_config_judging: draft.config_judging.clone(),
            gold_file: draft.gold_file,
            corpora,
            arms,
            variants,
            variants_file: files.variants,
            baseline: draft.baseline.clone(),
            notes: files.notes,
            training_manifest: files.training_manifest,
            python: files.python,
            overlap: v.overlap,
            out,
            remote_out,
            remote_names,
            cache: v.cache,
            onnxruntime: v.onnxruntime,
            intra_threads: v.intra_threads,
            ort_memory: v.ort_memory,
            save_predictions: v.save_predictions,
            threads: v.threads,
            suspects: v.suspects,
            slices: v.slices,
            score: ScoreSettings {
                grid: v.grid,
                ..Default::default()
            },
            compare: CompareSettings {
                top_k: v.top_k,
                pass_iou: v.pass_iou,
                resamples: v.resamples,
                seed: v.seed,
                keep_draws: criteria.as_ref().is_some_and(|f| {
                    f.criteria
                        .iter()
                        .any(|c| c.basis == crate::decide::criteria::Basis::Ci)
                }),
            },
            cost: super::CostSettings {
                measure: v.cost,
                warmup: v.cost_warmup,
                repeat: v.cost_repeat,
                price_per_hour: draft.cfg.as_ref().and_then(|c| c.price_per_hour),
            },
            noise: crate::decide::Noise {
                epsilon: v.noise_epsilon,
                strict: v.strict,
            },
            gallery: v.gallery,
            max_failed_share: v.max_failed_share,
            progress_s: v.progress_s,
            sources,
            formats: v.formats,
            run_id: v.run_id,
            generated_at: v.generated_at,
            criteria,
            criteria_pin,
            sign_key: files.sign_key,
            binary: Default::default(),
            limits,
            network,
            shard: v.shard,
            record: PlanRecord::of(request, o, env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DEFAULT_RESAMPLES, DEFAULT_TOP_K};

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
    fn slice_and_suspect_settings_come_from_the_criteria_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let req = compare_request(dir.path());
        let criteria = dir.path().join("criteria.toml");
        let write = |text: &str| std::fs::write(&criteria, text).unwrap();
        let with = |o: Overrides| Overrides {
            criteria: Some(criteria.clone()),
            ..o
        };
        write("[suspects]\nagreement = 0.8\nexclude = true\n[slices]\nbins = 5\n");
        let plan = Plan::resolve(&req, &with(Overrides::default()), &Env::default()).unwrap();
        assert_eq!(plan.suspects.agreement, 0.8);
        assert_eq!(plan.suspects.truth_iou, crate::suspects::DEFAULT_TRUTH_IOU);
        assert!(plan.suspects.exclude);
        assert_eq!(plan.slices.bins, 5);
        write("[suspects]\nagreement = 1.5\n");
        let err = Plan::resolve(&req, &with(Overrides::default()), &Env::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("suspect_agreement = 1.5 must be within [0, 1]"),
            "{err}"
        );
        // A criterion on slice bins with slicing off is refused before any work.
        write("[slices]\nbins = 0\n[[criterion]]\nid = \"dark\"\nmetric = \"iou.mean\"\narm = \"c\"\nper = \"slice:luminance\"\nmax_drop = 0.02\n");
        let err = Plan::resolve(&req, &with(Overrides::default()), &Env::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("criterion \"dark\" checks slice bins, but slice_bins = 0"),
            "{err}"
        );
        // Slices are judged per sample, not per class.
        write("[[criterion]]\nid = \"dark\"\nmetric = \"iou.mean\"\narm = \"c\"\nclass = \"a\"\nper = \"slice:luminance\"\nmax_drop = 0.02\n");
        let err = Plan::resolve(&req, &with(Overrides::default()), &Env::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("slice bins are judged on the per-sample summaries"),
            "{err}"
        );
        write("[slices]\nbins = 50\n");
        let err = Plan::resolve(&req, &with(Overrides::default()), &Env::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("slice_bins = 50 exceeds 20"), "{err}");
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
}
