//! The environment as the plan sees it.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

use super::reference;
use super::settings::{self, Setting};

/// The settings whose variables a shard records for `merge`: they shape the reports. The
/// others are where and when this process runs (output, threads, cache, run id, the shard
/// index).
const RECORDED: [&Setting; 6] = [
    &settings::FORMATS,
    &settings::GALLERY,
    &settings::SAVE_PREDICTIONS,
    &settings::NOISE_EPSILON,
    &settings::STRICT,
    &settings::EXCLUDE_SUSPECTS,
];

/// The variables of the settings a shard records for `merge`.
pub(super) fn recorded_env() -> impl Iterator<Item = &'static str> {
    RECORDED.into_iter().filter_map(|s| s.env)
}

/// The environment as the plan sees it: only the variables of the settings table
/// (`reference::env_vars`).
#[derive(Clone, Debug, Default)]
pub struct Env(pub(super) BTreeMap<String, String>);

impl Env {
    /// This process's environment.
    pub fn from_process() -> Env {
        Env::from_pairs(reference::env_vars().into_iter().filter_map(|k| {
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

    /// A setting's variable, as text.
    pub(super) fn of(&self, s: &Setting) -> Option<&str> {
        s.env.and_then(|var| self.get(var))
    }

    /// A setting's variable, parsed (an error names the variable and its value).
    pub(super) fn parse_of<T: std::str::FromStr>(&self, s: &Setting) -> Result<Option<T>> {
        match s.env {
            Some(var) => self.parse(var),
            None => Ok(None),
        }
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
