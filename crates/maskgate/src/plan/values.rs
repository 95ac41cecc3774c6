//! The settings that shape the work: each taken from its layers (see [`super::layers`]),
//! recorded with its source, and checked. Pure: the config and criteria file come read.

use super::layers::{Layers, Source};
use super::settings;
use super::{
    max_threads, now_rfc3339, run_id_from, Env, Overrides, DEFAULT_CACHE, DEFAULT_GALLERY,
    DEFAULT_NOISE_EPSILON, DEFAULT_OUT, DEFAULT_PASS_IOU, DEFAULT_RESAMPLES, DEFAULT_TOP_K,
    THREADS_CEILING,
};
use crate::config::RunConfig;
use crate::decide::criteria::CriteriaFile;
use crate::error::{Error, Result};
use crate::predict::engine::OrtMemory;
use std::path::PathBuf;

/// τ given on the command line or in the run config must agree with the criteria file's,
/// which locks it.
fn check_pass_iou_lock(given: Option<f64>, criteria: Option<&CriteriaFile>) -> Result<()> {
    match (given, criteria.and_then(|c| c.pass_iou)) {
        (Some(g), Some(file)) if g != file => Err(Error::Usage(format!(
            "pass_iou {g} contradicts pass_iou = {file} in the criteria file; τ is locked there"
        ))),
        _ => Ok(()),
    }
}

/// The settings that shape the work, each resolved through the layers and checked. Pure:
/// the criteria file is the only file it is given, already read.
pub(super) struct Values {
    pub(super) pass_iou: f64,
    pub(super) noise_epsilon: f64,
    pub(super) strict: bool,
    pub(super) cost: bool,
    pub(super) cost_warmup: usize,
    pub(super) cost_repeat: usize,
    pub(super) grid: Option<u32>,
    pub(super) formats: Vec<String>,
    pub(super) threads: Option<usize>,
    pub(super) intra_threads: usize,
    pub(super) cache: Option<PathBuf>,
    pub(super) out: PathBuf,
    pub(super) onnxruntime: Option<PathBuf>,
    pub(super) generated_at: String,
    pub(super) run_id: String,
    pub(super) resamples: usize,
    pub(super) top_k: usize,
    pub(super) seed: u64,
    pub(super) gallery: usize,
    pub(super) max_failed_share: f64,
    pub(super) save_predictions: bool,
    pub(super) ort_memory: OrtMemory,
    pub(super) shard: Option<crate::shard::ShardSpec>,
    pub(super) suspects: crate::suspects::SuspectSettings,
    pub(super) slices: crate::slices::SliceSettings,
    pub(super) overlap: crate::read::shared::Policy,
    pub(super) progress_s: u64,
}

pub(super) fn values(
    cfg: Option<&RunConfig>,
    base_dir: &dyn Fn(&str) -> PathBuf,
    o: &Overrides,
    env: &Env,
    criteria: Option<&CriteriaFile>,
    l: &mut Layers<'_>,
) -> Result<Values> {
    let limits = cfg.map(|c| c.limits).unwrap_or_default();
    check_pass_iou_lock(o.pass_iou.or(cfg.and_then(|c| c.pass_iou)), criteria)?;
    let pass_iou = l.pick(
        &settings::PASS_IOU,
        o.pass_iou,
        None,
        cfg.and_then(|c| c.pass_iou),
        criteria.and_then(|c| c.pass_iou),
        || DEFAULT_PASS_IOU,
    );
    if !(0.0..=1.0).contains(&pass_iou) {
        return Err(Error::Usage(format!(
            "pass_iou must be within [0, 1], got {pass_iou}"
        )));
    }
    let env_noise_epsilon = l.env(&settings::NOISE_EPSILON)?;
    let noise_epsilon = l.pick(
        &settings::NOISE_EPSILON,
        o.noise_epsilon,
        env_noise_epsilon,
        cfg.and_then(|c| c.noise_epsilon),
        criteria.and_then(|c| c.noise_epsilon),
        || DEFAULT_NOISE_EPSILON,
    );
    if !(0.0..=0.5).contains(&noise_epsilon) {
        return Err(Error::Usage(format!(
            "noise_epsilon must be within [0, 0.5] (0 turns the noise check off), got {noise_epsilon}"
        )));
    }
    let strict = l.pick(
        &settings::STRICT,
        o.strict.then_some(true),
        l.env_switch(&settings::STRICT),
        cfg.and_then(|c| c.strict),
        criteria.and_then(|c| c.strict),
        || false,
    );
    let cost = l.pick(
        &settings::COST,
        o.cost.then_some(true),
        l.env_switch(&settings::COST),
        cfg.and_then(|c| c.cost),
        // A cost criterion needs the measurements.
        criteria
            .filter(|f| (f.criteria.iter()).any(|c| crate::cost::metric(&c.metric.name).is_some()))
            .map(|_| true),
        || false,
    );
    let env_cost_warmup = l.env(&settings::COST_WARMUP)?;
    let cost_warmup = l.pick(
        &settings::COST_WARMUP,
        o.cost_warmup,
        env_cost_warmup,
        cfg.and_then(|c| c.cost_warmup),
        None,
        || 3,
    );
    let cost_repeat = l.pick(
        &settings::COST_REPEAT,
        o.cost_repeat,
        None,
        cfg.and_then(|c| c.cost_repeat),
        None,
        || 0,
    );
    if cost_repeat > 100 {
        return Err(Error::Usage(format!(
            "cost_repeat = {cost_repeat}: at most 100 repeats"
        )));
    }
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
    let threads_named = format!(
        "--{} / {}",
        settings::THREADS.long(),
        settings::THREADS.env.unwrap_or_default()
    );
    for (what, n) in [
        (threads_named.as_str(), threads),
        (settings::INTRA_THREADS.name, given_intra),
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
            || cfg.map(|_| base_dir(DEFAULT_CACHE)),
        )
    };
    let out = l.pick(
        &settings::OUT,
        o.out.clone(),
        l.env_text(&settings::OUT).map(PathBuf::from),
        cfg.and_then(|c| c.out.clone()),
        None,
        || base_dir(DEFAULT_OUT),
    );
    // ONNX Runtime's own variable comes after the config's key: a precedence of its own.
    let (onnxruntime, source) = match (
        l.env_text(&settings::ONNXRUNTIME),
        cfg.and_then(|c| c.onnxruntime.clone()),
        settings::ONNXRUNTIME
            .env_after_config
            .and_then(|v| env.get(v).map(|p| (v, p))),
    ) {
        (Some(p), _, _) => (
            Some(PathBuf::from(p)),
            Source::Env(settings::ONNXRUNTIME.env.unwrap_or_default()),
        ),
        (None, Some(p), _) => (Some(p), l.config_source(&settings::ONNXRUNTIME)),
        (None, None, Some((var, p))) => (Some(PathBuf::from(p)), Source::Env(var)),
        (None, None, None) => (None, Source::Default),
    };
    l.record(&settings::ONNXRUNTIME, &onnxruntime, source);
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
    let env_progress = l.env(&settings::PROGRESS)?;
    let progress_s = l.pick(
        &settings::PROGRESS,
        o.progress_s,
        env_progress,
        cfg.and_then(|c| c.progress_s),
        None,
        || 30,
    );
    if progress_s > 86_400 {
        return Err(Error::Usage(format!(
            "progress_s = {progress_s} is more than a day (86,400 s); 0 turns the lines off"
        )));
    }
    let env_max_failed_share = l.env(&settings::MAX_FAILED_SHARE)?;
    let max_failed_share = l.pick(
        &settings::MAX_FAILED_SHARE,
        o.max_failed_share,
        env_max_failed_share,
        cfg.and_then(|c| c.max_failed_share),
        None,
        || crate::health::DEFAULT_MAX_FAILED_SHARE,
    );
    if !(0.0..=1.0).contains(&max_failed_share) {
        return Err(Error::Usage(format!(
            "max_failed_share = {max_failed_share} must be within [0, 1] (a share: 0.1 = 10% of an arm's samples)"
        )));
    }
    let save_predictions = l.pick(
        &settings::SAVE_PREDICTIONS,
        o.save_predictions.then_some(true),
        l.env_switch(&settings::SAVE_PREDICTIONS),
        cfg.and_then(|c| c.save_predictions),
        None,
        || false,
    );
    let share = |name: &str, v: f64| -> Result<f64> {
        match (0.0..=1.0).contains(&v) {
            true => Ok(v),
            false => Err(Error::Usage(format!(
                "{name} = {v} must be within [0, 1] (a mask IoU)"
            ))),
        }
    };
    let suspects = crate::suspects::SuspectSettings {
        agreement: share(
            "suspect_agreement",
            l.pick(
                &settings::SUSPECT_AGREEMENT,
                None,
                None,
                cfg.and_then(|c| c.suspect_agreement),
                criteria.and_then(|c| c.suspect_agreement),
                || crate::suspects::DEFAULT_AGREEMENT,
            ),
        )?,
        truth_iou: share(
            "suspect_truth_iou",
            l.pick(
                &settings::SUSPECT_TRUTH_IOU,
                None,
                None,
                cfg.and_then(|c| c.suspect_truth_iou),
                criteria.and_then(|c| c.suspect_truth_iou),
                || crate::suspects::DEFAULT_TRUTH_IOU,
            ),
        )?,
        exclude: l.pick(
            &settings::EXCLUDE_SUSPECTS,
            o.exclude_suspects.then_some(true),
            l.env_switch(&settings::EXCLUDE_SUSPECTS),
            cfg.and_then(|c| c.exclude_suspects),
            criteria.and_then(|c| c.exclude_suspects),
            || false,
        ),
    };
    let slices = crate::slices::SliceSettings {
        bins: l.pick(
            &settings::SLICE_BINS,
            None,
            None,
            cfg.and_then(|c| c.slice_bins),
            criteria.and_then(|c| c.slice_bins),
            || crate::slices::DEFAULT_BINS,
        ),
        worst: l.pick(
            &settings::SLICE_WORST,
            None,
            None,
            cfg.and_then(|c| c.slice_worst),
            None,
            || crate::slices::DEFAULT_WORST,
        ),
    };
    if slices.bins < 2 {
        if let Some(c) = criteria.and_then(|f| {
            f.criteria.iter().find(|c| {
                let per = match &c.per {
                    Some(crate::decide::criteria::Per::Group(g)) => g.as_str(),
                    _ => "",
                };
                crate::slices::is_grouping(per) || crate::slices::is_grouping(&c.group_by)
            })
        }) {
            return Err(Error::Usage(format!(
                "criterion {:?} checks slice bins, but slice_bins = {}: set slice_bins to 2 or more (default 4), or drop the criterion",
                c.id, slices.bins
            )));
        }
    }
    let overlap = l.pick(
        &settings::OVERLAP,
        o.overlap.clone(),
        None,
        cfg.and_then(|c| c.overlap.clone()),
        None,
        || "keep".to_string(),
    );
    let overlap = crate::read::shared::Policy::parse(&overlap).ok_or_else(|| {
        Error::Usage(format!(
            "overlap = {overlap:?} is not one of {}",
            crate::read::shared::Policy::NAMES
                .map(|n| format!("{n:?}"))
                .join(", ")
        ))
    })?;
    if slices.bins > crate::slices::MAX_BINS {
        return Err(Error::Usage(format!(
            "slice_bins = {} exceeds {}: each bin is a group with its own bootstrap, and bins of a few samples say nothing",
            slices.bins,
            crate::slices::MAX_BINS
        )));
    }
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
        noise_epsilon,
        strict,
        cost,
        cost_warmup,
        cost_repeat,
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
        max_failed_share,
        save_predictions,
        ort_memory,
        shard,
        suspects,
        slices,
        overlap,
        progress_s,
    })
}
