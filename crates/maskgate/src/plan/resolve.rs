//! `Plan::resolve`: request, overrides, environment and config → one checked plan.

use super::fetch;
use super::settings::{self, Layers, Resolved, Source};
use super::{
    max_threads, now_rfc3339, problems_error, run_id_from, Env, GroundTruth, Overrides, Plan,
    PlanRecord, Request, DEFAULT_CACHE, DEFAULT_GALLERY, DEFAULT_OUT, DEFAULT_PASS_IOU,
    DEFAULT_RESAMPLES, DEFAULT_TOP_K, THREADS_CEILING,
};
use crate::compare::CompareSettings;
use crate::config::{ArmSource, ArmSpec, RawVariants, RunConfig, VariantSet};
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::predict::engine::OrtMemory;
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

/// `MASKGATE_NETWORK_TIMEOUT`, which must be at least a second (0 would fail every request).
pub(super) fn network_timeout_of(env: &Env) -> Result<Option<u64>> {
    match env.parse("MASKGATE_NETWORK_TIMEOUT")? {
        Some(0) => Err(Error::Usage(
            "MASKGATE_NETWORK_TIMEOUT must be at least 1 (seconds)".into(),
        )),
        t => Ok(t),
    }
}

/// τ from the command line or run config, or the criteria file, which locks it.
pub(super) fn pass_iou_of(given: Option<f64>, criteria: Option<&CriteriaFile>) -> Result<f64> {
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
pub(super) fn truth_corpus(truth: &GroundTruth) -> Result<CorpusSpec> {
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
    is_run: bool,
}

impl Draft {
    fn load(request: &Request) -> Result<Draft> {
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
        Ok(Draft {
            cfg,
            problems,
            gold_file,
            corpora,
            arms,
            baseline,
            config_path,
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
    notes: Option<PathBuf>,
    variants: Option<PathBuf>,
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
    let notes = l.pick(
        &settings::NOTES,
        o.notes.clone().map(Some),
        None,
        cfg.and_then(|c| c.notes.clone()).map(Some),
        None,
        || None,
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
        notes,
        variants,
        network: crate::net::Network::with_timeout_s(timeout),
    })
}

/// The settings that shape the work, each resolved through the layers and checked. Pure:
/// the criteria file is the only file it is given, already read.
struct Values {
    pass_iou: f64,
    grid: Option<u32>,
    formats: Vec<String>,
    threads: Option<usize>,
    intra_threads: usize,
    cache: Option<PathBuf>,
    out: PathBuf,
    onnxruntime: Option<PathBuf>,
    generated_at: String,
    run_id: String,
    resamples: usize,
    top_k: usize,
    seed: u64,
    gallery: usize,
    save_predictions: bool,
    ort_memory: OrtMemory,
    shard: Option<crate::shard::ShardSpec>,
}

fn values(
    d: &Draft,
    o: &Overrides,
    env: &Env,
    criteria: Option<&CriteriaFile>,
    l: &mut Layers<'_>,
) -> Result<Values> {
    let cfg = d.cfg.as_ref();
    let limits = cfg.map(|c| c.limits).unwrap_or_default();
    // τ given anywhere must agree with the criteria file's, which locks it.
    pass_iou_of(o.pass_iou.or(cfg.and_then(|c| c.pass_iou)), criteria)?;
    let pass_iou = l.pick(
        &settings::PASS_IOU,
        o.pass_iou,
        None,
        cfg.and_then(|c| c.pass_iou),
        criteria.and_then(|c| c.pass_iou),
        || DEFAULT_PASS_IOU,
    );
    let grid = l.pick(
        &settings::GRID,
        o.grid.map(Some),
        None,
        cfg.map(|c| c.grid).filter(Option::is_some),
        None,
        || None,
    );
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
    let formats = l.pick(
        &settings::FORMATS,
        o.formats.clone(),
        l.env_text(&settings::FORMATS)
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
        cfg.and_then(|c| c.formats.clone()),
        None,
        || {
            crate::export::exporters()
                .iter()
                .map(|e| e.name().to_string())
                .collect()
        },
    );
    crate::export::check_formats(&formats).map_err(Error::Usage)?;
    let env_threads = l.env(&settings::THREADS)?;
    let threads = l.pick(
        &settings::THREADS,
        o.threads.map(Some),
        env_threads.map(Some),
        None,
        None,
        || None,
    );
    if threads == Some(0) {
        return Err(Error::Usage("threads must be at least 1".into()));
    }
    let given_intra = o.intra_threads.or(cfg.and_then(|c| c.intra_threads));
    let ceiling = max_threads();
    for (what, n) in [
        ("--threads / MASKGATE_THREADS", threads),
        ("intra_threads", given_intra),
    ] {
        if let Some(n) = n.filter(|&n| n > ceiling) {
            return Err(Error::Usage(format!(
                "{what} = {n} is above the ceiling of {ceiling} threads on this machine (64 per core, at most {THREADS_CEILING}); use at most {ceiling}"
            )));
        }
    }
    let intra_threads = l.pick(
        &settings::INTRA_THREADS,
        o.intra_threads,
        None,
        cfg.and_then(|c| c.intra_threads),
        None,
        || 0,
    );
    let no_cache = l.pick(
        &settings::NO_CACHE,
        o.no_cache.then_some(true),
        l.env_switch(&settings::NO_CACHE).filter(|&on| on),
        None,
        None,
        || false,
    );
    let cache = if no_cache {
        l.record(
            &settings::CACHE,
            &None::<PathBuf>,
            Source::Given(settings::NO_CACHE.long()),
        );
        None
    } else {
        l.pick(
            &settings::CACHE,
            None,
            l.env_text(&settings::CACHE).map(|v| Some(PathBuf::from(v))),
            cfg.and_then(|c| c.cache.clone()).map(Some),
            None,
            || cfg.map(|_| d.base_dir(DEFAULT_CACHE)),
        )
    };
    let out = l.pick(
        &settings::OUT,
        o.out.clone(),
        l.env_text(&settings::OUT).map(PathBuf::from),
        cfg.and_then(|c| c.out.clone()),
        None,
        || d.base_dir(DEFAULT_OUT),
    );
    let onnxruntime = match (
        l.env_text(&settings::ONNXRUNTIME),
        cfg.and_then(|c| c.onnxruntime.clone()),
        settings::ONNXRUNTIME
            .env_after_config
            .and_then(|v| env.get(v).map(|p| (v, p))),
    ) {
        (Some(p), _, _) => Some((
            PathBuf::from(p),
            Source::Env(settings::ONNXRUNTIME.env.unwrap_or_default()),
        )),
        (None, Some(p), _) => Some((p, l.config_source(&settings::ONNXRUNTIME))),
        (None, None, Some((var, p))) => Some((PathBuf::from(p), Source::Env(var))),
        (None, None, None) => None,
    };
    let onnxruntime = match onnxruntime {
        Some((p, source)) => {
            l.record(&settings::ONNXRUNTIME, &p, source);
            Some(p)
        }
        None => {
            l.record(&settings::ONNXRUNTIME, &None::<PathBuf>, Source::Default);
            None
        }
    };
    let generated_at = l.pick(
        &settings::GENERATED_AT,
        o.generated_at.clone(),
        l.env_text(&settings::GENERATED_AT),
        None,
        None,
        now_rfc3339,
    );
    let run_id = l.pick(
        &settings::RUN_ID,
        o.run_id.clone(),
        l.env_text(&settings::RUN_ID),
        None,
        None,
        || run_id_from(&generated_at),
    );
    let resamples = l.pick(
        &settings::BOOTSTRAP,
        o.bootstrap,
        None,
        cfg.and_then(|c| c.bootstrap),
        criteria.and_then(|c| c.resamples),
        || DEFAULT_RESAMPLES,
    );
    if resamples > limits.max_bootstrap_resamples {
        return Err(Error::Usage(format!(
            "{resamples} bootstrap resamples exceed the limit of {} ([limits] max_bootstrap_resamples)",
            limits.max_bootstrap_resamples
        )));
    }
    let top_k = l.pick(
        &settings::TOP,
        o.top_k,
        None,
        cfg.and_then(|c| c.top_k),
        None,
        || DEFAULT_TOP_K,
    );
    let seed = l.pick(
        &settings::SEED,
        o.seed,
        None,
        cfg.and_then(|c| c.seed),
        criteria.and_then(|c| c.seed),
        || 0,
    );
    let env_gallery = l.env(&settings::GALLERY)?;
    let gallery = l.pick(
        &settings::GALLERY,
        o.gallery,
        env_gallery,
        cfg.and_then(|c| c.gallery),
        None,
        || DEFAULT_GALLERY,
    );
    let save_predictions = l.pick(
        &settings::SAVE_PREDICTIONS,
        o.save_predictions.then_some(true),
        l.env_switch(&settings::SAVE_PREDICTIONS),
        cfg.and_then(|c| c.save_predictions),
        None,
        || false,
    );
    let default_memory = OrtMemory::default();
    let ort_memory = OrtMemory {
        arena: l.pick(
            &settings::MEMORY_ARENA,
            None,
            None,
            cfg.and_then(|c| c.memory_arena),
            None,
            || default_memory.arena,
        ),
        pattern: l.pick(
            &settings::MEMORY_PATTERN,
            None,
            None,
            cfg.and_then(|c| c.memory_pattern),
            None,
            || default_memory.pattern,
        ),
    };
    let shard = o
        .shard
        .map(|a| a.resolve(|k| env.get(k).map(str::to_string)))
        .transpose()?;
    l.record(
        &settings::SHARD,
        &shard.map(|s| format!("{}/{}", s.index, s.count)),
        if shard.is_some() {
            Source::Given(settings::SHARD.long())
        } else {
            Source::Default
        },
    );
    Ok(Values {
        pass_iou,
        grid,
        formats,
        threads,
        intra_threads,
        cache,
        out,
        onnxruntime,
        generated_at,
        run_id,
        resamples,
        top_k,
        seed,
        gallery,
        save_predictions,
        ort_memory,
        shard,
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
    let criteria = files
        .criteria
        .as_deref()
        .map(CriteriaFile::load)
        .transpose()?;
    layers.with_criteria(criteria.as_ref().map(|c| c.path.as_path()));
    values(&draft, o, env, criteria.as_ref(), &mut layers)?;
    Ok(layers.into_resolved())
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

        let criteria = files
            .criteria
            .as_deref()
            .map(CriteriaFile::load)
            .transpose()?;
        let criteria_path = criteria.as_ref().map(|c| c.path.clone());
        layers.with_criteria(criteria_path.as_deref());
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
        let v = values(&draft, o, env, criteria.as_ref(), &mut layers)?;
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
            config: draft.cfg.as_ref().map(|c| c.path.clone()).or(config_path),
            gold_file: draft.gold_file,
            corpora,
            arms,
            variants,
            variants_file: files.variants,
            baseline: draft.baseline.clone(),
            notes: files.notes,
            out,
            remote_out,
            remote_names,
            cache: v.cache,
            onnxruntime: v.onnxruntime,
            intra_threads: v.intra_threads,
            ort_memory: v.ort_memory,
            save_predictions: v.save_predictions,
            threads: v.threads,
            score: ScoreSettings {
                grid: v.grid,
                ..Default::default()
            },
            compare: CompareSettings {
                top_k: v.top_k,
                pass_iou: v.pass_iou,
                resamples: v.resamples,
                seed: v.seed,
            },
            gallery: v.gallery,
            formats: v.formats,
            run_id: v.run_id,
            generated_at: v.generated_at,
            criteria,
            limits,
            network,
            shard: v.shard,
            record: PlanRecord::of(request, o, env)?,
            resolved: layers.into_resolved(),
        })
    }
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
}
