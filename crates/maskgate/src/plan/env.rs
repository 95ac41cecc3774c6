//! The environment as the plan sees it.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

use super::reference;

/// The variables a shard records for `merge`: they shape the reports. The others are where
/// and when this process runs (output, threads, cache, run id, the shard index).
pub(super) const RECORDED_ENV: [&str; 3] = [
    "MASKGATE_FORMATS",
    "MASKGATE_GALLERY",
    "MASKGATE_SAVE_PREDICTIONS",
];

/// The environment as the plan sees it: only the variables in [`reference::env_vars`].
#[derive(Clone, Debug, Default)]
pub struct Env(pub(super) BTreeMap<String, String>);

impl Env {
    /// This process's environment.
    pub fn from_process() -> Env {
        Env::from_pairs(reference::env_vars().into_iter().filter_map(|(k, _)| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_variables_are_declared() {
        let declared: Vec<&str> = reference::env_vars().into_iter().map(|(k, _)| k).collect();
        for name in RECORDED_ENV {
            assert!(
                declared.contains(&name),
                "{name} is recorded but not declared"
            );
        }
    }
}
