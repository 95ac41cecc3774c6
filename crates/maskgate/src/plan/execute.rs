//! A whole run: prepare, score, finish.

use super::{gallery_arms, pool, prepare, report_set_names, taxonomy_of, Outcome, Plan, Prepared};
use crate::error::{Error, Result};
use crate::evaluation::{evaluate_scored, score_all, Scored};
use crate::observe::Observer;
use crate::pathnames;
use crate::predict::saved::SavedPredictions;
use crate::report::{Report, ReportParts, RunMeta, Settings};
use std::path::PathBuf;
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
        let cost = measured_cost(plan, &prepared);
        finish(plan, prepared, scored, saved, cost)
    })
}

/// What the model arms cost, from their meters (see [`crate::cost`]); with `cost_repeat`, a
/// seeded subset of photos is timed again first.
fn measured_cost(plan: &Plan, prepared: &Prepared) -> Option<crate::cost::CostReport> {
    if !plan.cost.measure {
        return None;
    }
    if plan.cost.repeat > 0 {
        time_again(plan, prepared);
    }
    let host = crate::cost::Host::of_this_host(
        crate::predict::engine::EXECUTION_PROVIDER,
        crate::predict::engine::ORT_VERSION,
    );
    let how = crate::cost::Summarise {
        host: &host,
        warmup: plan.cost.warmup,
        seed: plan.compare.seed,
        price_per_hour: plan.cost.price_per_hour,
    };
    let arms = prepared
        .model_arms
        .iter()
        .filter_map(|a| a.cost())
        .map(|raw| crate::cost::summarise(&raw, how))
        .collect();
    Some(crate::cost::CostReport {
        kind:
            "measurements: they vary from run to run and are kept out of the deterministic reports",
        host,
        warmup: plan.cost.warmup,
        threads: plan.threads,
        price_per_hour: plan.cost.price_per_hour,
        arms,
    })
}

/// Photos of the run's first corpus timed again, up to this many.
const REPEAT_PHOTOS: usize = 8;

/// `--cost-repeat R`: a seeded subset of the first corpus's photos timed R more times per
/// model arm, each round one list of latencies, for the run-to-run spread.
fn time_again(plan: &Plan, prepared: &Prepared) {
    let Some(corpus) = prepared.corpora.first() else {
        return;
    };
    let n = corpus.samples.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = maskgate_core::stats::Rng::keyed(plan.compare.seed, "cost repeat");
    for i in 0..n.min(REPEAT_PHOTOS) {
        let j = i + rng.below(n - i);
        order.swap(i, j);
    }
    let photos: Vec<crate::predict::image::SamplePhoto> = order[..n.min(REPEAT_PHOTOS)]
        .iter()
        .filter_map(|&i| corpus.load(&corpus.samples[i]).ok())
        .map(|s| crate::predict::image::SamplePhoto::of(s.image.as_deref(), corpus))
        .collect();
    for _ in 0..plan.cost.repeat {
        for arm in &prepared.model_arms {
            if let Some(meter) = &arm.meter {
                meter.repeated(
                    photos
                        .iter()
                        .filter_map(|p| arm.time_inference(p).ok())
                        .collect(),
                );
            }
        }
    }
}

/// From scores to the written report set: aggregate, compare, decide, recommend, gallery,
/// report, export; the set replaces the previous one at once.
pub(super) fn finish(
    plan: &Plan,
    prepared: Prepared,
    scored: Scored,
    saved: Option<SavedPredictions>,
    cost: Option<crate::cost::CostReport>,
) -> Result<Outcome> {
    let arms = prepared.arms();
    let taxonomy = taxonomy_of(plan);
    let input = prepared.input(plan, &arms, saved.as_ref());
    // The failure counts read the samples of this run that would not load; the report's
    // problem lists also hold listing problems of samples `limit` or `dedupe` left out.
    let unloaded = scored.load_problems.clone();
    let evaluation = evaluate_scored(&input, scored);
    let corpora = &prepared.corpora;
    let inputs = prepared.inputs.clone();
    let unmatched_predictions = prepared.unmatched_predictions.clone();
    let notices = prepared.notices.clone();
    let verdict = plan
        .criteria
        .as_ref()
        .map(|c| crate::decide::decide(&evaluation, &c.criteria, &plan.noise, cost.as_ref()));
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
            // An arm names its file by the local copy; the report shows it from the paths' base,
            // or by the URL it was fetched from.
            let mut d = a.describe();
            for key in ["model", "path"] {
                let shown = d.get(key).and_then(|v| v.as_str()).map(|named| {
                    plan.remote_names
                        .iter()
                        .find(|(local, _)| pathnames::display(local) == named)
                        .map_or_else(
                            || plan.shown(std::path::Path::new(named)),
                            |(_, url)| url.clone(),
                        )
                });
                if let Some(shown) = shown {
                    d[key] = shown.into();
                }
            }
            d
        })
        .chain(plan.variants.variants.iter().map(|v| v.describe()))
        .collect();
    let settings = Settings {
        suspects: plan.suspects,
        slices: plan.slices,
        ..Settings::new(
            &plan.baseline,
            &plan.score,
            &plan.compare,
            plan.criteria.as_ref().map(|c| plan.shown(&c.path)),
            taxonomy,
        )
    }
    .pinned(plan.criteria_pin.clone());
    let decides = verdict.is_some();
    let mut artifacts = crate::export::file_names(&plan.formats);
    if cost.is_some() {
        artifacts.push(crate::export::cost::FILE.to_string());
    }
    if decides {
        artifacts.extend([
            crate::attest::dataset::FILE.to_string(),
            crate::attest::FILE.to_string(),
        ]);
    }
    let report = Report::assemble(
        evaluation,
        ReportParts {
            run: RunMeta {
                run_id: plan.run_id.clone(),
                generated_at: plan.generated_at.clone(),
                paths_relative_to: plan.paths_base.named.clone(),
                inputs,
            },
            settings,
            arm_details,
            unmatched_predictions,
            verdict,
            groups,
            gallery,
            artifacts,
            cost,
            shared_photos: prepared.shared_photos.clone(),
        },
    );
    let mut staged = crate::export::write_all(&report, staging.path(), &plan.formats)?;
    if report.cost.is_some() {
        let path = staging.path().join(crate::export::cost::FILE);
        crate::persist::write_atomically(&path, |w| {
            crate::export::Exporter::write(&crate::export::cost::CostJson, &report, w)
        })?;
        staged.push(path);
    }
    if let Some(saved) = &saved {
        staged.extend(saved.write(staging.path())?);
    }
    // A run that decides attests its verdict: the dataset manifest, then the statement over
    // every staged file, signed when a key is set.
    if decides {
        let dataset = staging.path().join(crate::attest::dataset::FILE);
        let bytes = prepared.dataset.to_bytes();
        crate::persist::write_atomically(&dataset, |w| w.write_all(&bytes))?;
        staged.push(dataset);
        let statement = crate::attest::statement::statement(&crate::attest::statement::Attested {
            report: &report,
            set_dir: staging.path(),
            binary: &plan.binary,
            pin: plan.criteria_pin.as_ref(),
            required_approvals: plan.criteria.as_ref().map_or(0, |c| c.requires_approval),
        })?;
        if let Some(statement) = statement {
            let key = plan
                .sign_key
                .as_deref()
                .map(crate::attest::keys::PrivateKey::load)
                .transpose()?;
            staged.push(crate::attest::write(
                staging.path(),
                &statement,
                key.as_ref(),
            )?);
        }
    }
    let staging_path = staging.path().to_path_buf();
    staging.commit(&report_set_names())?;
    if plan.remote_out.is_some() {
        crate::storage::publish(plan.out_store()?.as_ref(), &plan.out)?;
    }
    // Giving a heavy model's memory back takes a noticeable moment (0.2 s for ISNet's
    // arena) and nothing waits on it once the reports are written.
    drop(arms);
    let Prepared { model_arms, .. } = prepared;
    // Should no thread be available, the refused closure drops the models right here.
    let _ = std::thread::Builder::new()
        .name("maskgate-release".into())
        .spawn(move || drop(model_arms));
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
    let failures = crate::health::arm_failures(&report, &unloaded);
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
