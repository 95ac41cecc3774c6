//! `Plan::resolve`: request, overrides, environment and config → one checked plan.

use super::{
    max_threads, now_rfc3339, problems_error, run_id_from, Env, GroundTruth, Overrides, Plan,
    PlanRecord, Request, DEFAULT_CACHE, DEFAULT_GALLERY, DEFAULT_OUT, DEFAULT_PASS_IOU,
    DEFAULT_RESAMPLES, DEFAULT_TOP_K, THREADS_CEILING,
};
use crate::compare::CompareSettings;
use crate::config::{ArmSource, ArmSpec, RawVariants, RunConfig, VariantSet};
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::pathnames;
use crate::predict::engine::OrtMemory;
use crate::read::CorpusSpec;
use crate::score::ScoreSettings;
use crate::source::source_for;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
/// Where object-store inputs are kept: `objects/` of a local prediction cache, else of the
/// system's temporary folder.
pub(super) fn downloads_dir(
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
