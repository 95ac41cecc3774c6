//! What a shard records so that `merge` can resolve the same plan.

use super::{recorded_env, Env, GroundTruth, Overrides, Request};
use crate::error::{Error, Result};
use crate::pathnames;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
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
    pub(super) fn of(request: &Request, o: &Overrides, env: &Env) -> Result<PlanRecord> {
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
            criteria: opt(&o.criteria)?,
            notes: opt(&o.notes)?,
            training_manifest: opt(&o.training_manifest)?,
            variants: opt(&o.variants)?,
            sign_key: None,
            max_failed_share: None,
            ..o.clone()
        };
        let env = recorded_env()
            .filter_map(|k| env.get(k).map(|v| (k.to_string(), v.to_string())))
            .collect();
        Ok(PlanRecord {
            request,
            overrides,
            env,
        })
    }
}
