//! A shard's run and the merge of every shard.

use super::{
    finish, network_timeout_of, pool, prepare, recorded_env, settings, Env, Outcome, Overrides,
    Plan, PlanRecord,
};
use crate::error::{Error, Result};
use crate::evaluation::{score_all, Scored};
use crate::observe::Observer;
use crate::report::InputFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
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
    /// The key that signs the merged verdict's attestation (else the environment's or config's).
    pub sign_key: Option<PathBuf>,
    /// The program merging, as the attestation names it.
    pub binary: crate::attest::statement::Binary,
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
        sign_key: request.sign_key.clone(),
        ..record.overrides.clone()
    };
    // The shards' report settings, and this process's own run metadata and runtime.
    let mut pairs: BTreeMap<String, String> = env
        .0
        .iter()
        .filter(|(k, _)| !recorded_env().any(|r| r == k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.extend(record.env.clone());
    // The run id and time: the command line's or the environment's, else the ones every shard
    // was given (so a merge stamps what the unsharded run would have), else now.
    let stamp_given = request.run_id.is_some()
        || request.generated_at.is_some()
        || [&settings::RUN_ID, &settings::GENERATED_AT]
            .iter()
            .any(|s| env.of(s).is_some());
    let mut plan = Plan::resolve(&record.request, &overrides, &Env::from_pairs(pairs))?;
    plan.binary = request.binary.clone();
    pool(plan.threads)?.install(|| {
        let mut prepared = prepare(&plan)?;
        let hash = plan_hash(&plan, &prepared.inputs);
        if !hash.starts_with(folder.as_str()) {
            return Err(Error::Usage(format!(
                "the plan's inputs changed since the shards ran: it hashes to {} now, the shards are of {folder} ({}); rerun the shards on the current inputs, or restore them",
                crate::fmt::hash_prefix(&hash),
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
            // Each shard timed its own photos, perhaps on its own host: no one-run cost.
            None,
        )
    })
}

/// The plan record as a shard stores it: the record, then the inputs' hashes beside it.
#[derive(Serialize)]
pub(super) struct RecordWithInputs<'a> {
    #[serde(flatten)]
    record: &'a PlanRecord,
    inputs: &'a [InputFile],
}

/// The inputs a stored plan record names (none in a record written before they were kept).
#[derive(Deserialize)]
pub(super) struct RecordedInputs {
    #[serde(default)]
    inputs: Vec<RecordedInput>,
}

#[derive(Deserialize)]
pub(super) struct RecordedInput {
    role: String,
    sha256: String,
}

/// Which inputs differ between the shards' run (`then`) and now, by role: only those are
/// named, each path clipped, so a plan of many inputs gives a short message.
pub(super) fn changed_inputs(then: &[RecordedInput], now: &[InputFile]) -> String {
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
pub(super) fn plan_hash(plan: &Plan, inputs: &[InputFile]) -> String {
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
