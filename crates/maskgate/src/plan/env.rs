//! The environment as the plan sees it.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
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
pub(super) const RECORDED_ENV: [&str; 3] = [
    "MASKGATE_FORMATS",
    "MASKGATE_GALLERY",
    "MASKGATE_SAVE_PREDICTIONS",
];

/// The environment as the plan sees it: only the variables in [`ENV_VARS`].
#[derive(Clone, Debug, Default)]
pub struct Env(pub(super) BTreeMap<String, String>);

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

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub(super) fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
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
