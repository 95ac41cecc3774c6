//! How a setting's value is chosen among the layers, and where each value came from.

use super::settings::{Setting, SETTINGS};
use super::Env;
use crate::error::Result;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a resolved value came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Default,
    /// The caller's overrides: a command-line flag, or a Python keyword.
    Given(&'static str),
    Env(&'static str),
    Config {
        path: PathBuf,
        key: &'static str,
    },
    Criteria {
        path: PathBuf,
        key: &'static str,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Given(flag) => write!(f, "--{flag}"),
            Source::Env(var) => f.write_str(var),
            Source::Config { path, key } => {
                write!(f, "[run] {key} in {}", crate::pathnames::display(path))
            }
            Source::Criteria { path, key } => {
                write!(
                    f,
                    "{key} in the criteria file {}",
                    crate::pathnames::display(path)
                )
            }
        }
    }
}

/// One resolved setting as `--explain` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

impl fmt::Display for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}  (from {})", self.name, self.value, self.source)
    }
}

/// A value as `--explain` shows it.
pub trait Shown {
    fn shown(&self) -> String;
}

macro_rules! shown_by_display {
    ($($t:ty),*) => {$(impl Shown for $t {
        fn shown(&self) -> String { self.to_string() }
    })*};
}
shown_by_display!(usize, u32, u64, f64, bool, String);

impl Shown for PathBuf {
    fn shown(&self) -> String {
        crate::pathnames::display(self)
    }
}

impl Shown for Vec<String> {
    fn shown(&self) -> String {
        self.join(",")
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        self.as_ref().map_or_else(|| "none".into(), Shown::shown)
    }
}

/// The layers a setting's value is taken from, highest first: the caller's overrides, the
/// environment, the config, the criteria file, the default. Every value picked is recorded
/// with its source. Pure: nothing is read but the values handed in.
pub struct Layers<'a> {
    env: &'a Env,
    config: Option<&'a Path>,
    /// Owned: the criteria file is read after the layers are made.
    criteria: Option<PathBuf>,
    resolved: Vec<Resolved>,
}

impl<'a> Layers<'a> {
    pub(super) fn new(env: &'a Env, config: Option<&'a Path>) -> Layers<'a> {
        Layers {
            env,
            config,
            criteria: None,
            resolved: Vec::new(),
        }
    }

    pub(super) fn with_criteria(&mut self, path: Option<&Path>) {
        self.criteria = path.map(Path::to_path_buf);
    }

    /// The setting's variable, parsed (an error names the variable and its value).
    pub(super) fn env<T: std::str::FromStr>(&self, s: &Setting) -> Result<Option<T>> {
        self.env.parse_of(s)
    }

    /// The setting's variable as a switch: set and not "0" is on.
    pub(super) fn env_switch(&self, s: &Setting) -> Option<bool> {
        self.env.of(s).map(|v| v != "0")
    }

    /// The setting's variable as text.
    pub(super) fn env_text(&self, s: &Setting) -> Option<String> {
        self.env.of(s).map(str::to_string)
    }

    /// The first value given, highest layer first, else `default`; recorded with its source.
    pub(super) fn pick<T: Shown>(
        &mut self,
        s: &'static Setting,
        given: Option<T>,
        env: Option<T>,
        config: Option<T>,
        criteria: Option<T>,
        default: impl FnOnce() -> T,
    ) -> T {
        let from_config = |key| {
            self.config.map(|path| Source::Config {
                path: path.to_path_buf(),
                key,
            })
        };
        let from_criteria = |key| {
            self.criteria.as_ref().map(|path| Source::Criteria {
                path: path.clone(),
                key,
            })
        };
        let (value, source) = if let Some(v) = given {
            (v, Source::Given(s.long()))
        } else if let (Some(v), Some(var)) = (env, s.env) {
            (v, Source::Env(var))
        } else if let (Some(v), Some(src)) = (config, s.config.and_then(from_config)) {
            (v, src)
        } else if let (Some(v), Some(src)) = (criteria, s.criteria.and_then(from_criteria)) {
            (v, src)
        } else {
            (default(), Source::Default)
        };
        self.record(s, &value, source);
        value
    }

    /// Records a value resolved outside [`Layers::pick`] (a special precedence).
    pub(super) fn record<T: Shown>(&mut self, s: &'static Setting, value: &T, source: Source) {
        self.resolved.push(Resolved {
            name: s.name,
            value: value.shown(),
            source,
        });
    }

    pub(super) fn config_source(&self, s: &Setting) -> Source {
        match (self.config, s.config) {
            (Some(path), Some(key)) => Source::Config {
                path: path.to_path_buf(),
                key,
            },
            _ => Source::Default,
        }
    }

    /// Everything picked, in [`SETTINGS`] order.
    pub(super) fn into_resolved(self) -> Vec<Resolved> {
        let mut r = self.resolved;
        r.sort_by_key(|x| SETTINGS.iter().position(|s| s.name == x.name));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::settings::{GALLERY, SEED, TOP};

    #[test]
    fn layers_pick_the_highest_and_say_where_from() {
        let env = Env::from_pairs([("MASKGATE_GALLERY".to_string(), "5".to_string())]);
        let config = Path::new("gate.toml");
        let mut l = Layers::new(&env, Some(config));
        let from_env: Option<usize> = l.env(&GALLERY).unwrap();
        assert_eq!(l.pick(&GALLERY, None, from_env, Some(4), None, || 3), 5);
        assert_eq!(l.pick(&GALLERY, Some(1), from_env, Some(4), None, || 3), 1);
        assert_eq!(l.pick(&TOP, None, None, Some(7usize), None, || 20), 7);
        assert_eq!(
            l.pick(&SEED, None, None, None, Some(9u64), || 0),
            0,
            "no criteria file"
        );
        l.with_criteria(Some(Path::new("c.toml")));
        assert_eq!(l.pick(&SEED, None, None, None, Some(9u64), || 0), 9);
        let lines: Vec<String> = l.resolved.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            lines,
            [
                "gallery = 5  (from MASKGATE_GALLERY)",
                "gallery = 1  (from --gallery)",
                "top = 7  (from [run] top in gate.toml)",
                "seed = 0  (from default)",
                "seed = 9  (from [bootstrap] seed in the criteria file c.toml)",
            ]
        );
    }
}
