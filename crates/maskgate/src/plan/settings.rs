//! Every setting of `run` and `compare`, declared once: its config key, command-line flag,
//! environment variable and Python keyword, its type, default, limits, help and commands.
//! The CLI's flags take their names and help from here, [`super::ENV_VARS`] and the docs'
//! settings table are built from it, and tests prove the config keys and Python keywords agree.
//! Adding a setting: one `Setting` constant and one line in [`SETTINGS`], then its use in
//! `resolve.rs` (one `Layers::pick`).

use super::Env;
use crate::error::Result;
use std::fmt;
use std::path::{Path, PathBuf};

/// One setting. `None` in a place means the setting cannot be given there.
#[derive(Debug)]
pub struct Setting {
    /// The name `--explain` shows.
    pub name: &'static str,
    /// Its key in the config's `[run]` table.
    pub config: Option<&'static str>,
    /// Its key in the criteria file, which comes after the config.
    pub criteria: Option<&'static str>,
    /// Its long flag, without the dashes.
    pub flag: Option<&'static str>,
    /// The environment variable, which comes before the config.
    pub env: Option<&'static str>,
    /// A second variable read after the config (ONNX Runtime's own).
    pub env_after_config: Option<&'static str>,
    /// The keyword in the Python module's `options`.
    pub python: Option<&'static str>,
    pub kind: &'static str,
    pub default: &'static str,
    pub limits: &'static str,
    /// The flag's help (and the docs' description).
    pub help: &'static str,
    /// The commands that take it.
    pub commands: &'static [&'static str],
}

impl Setting {
    /// The long flag for clap; a setting without a flag never reaches clap.
    pub const fn long(&self) -> &'static str {
        match self.flag {
            Some(f) => f,
            None => self.name,
        }
    }
}

const BOTH: &[&str] = &["run", "compare"];
const RUN: &[&str] = &["run"];
const COMPARE: &[&str] = &["compare"];

const NONE: Setting = Setting {
    name: "",
    config: None,
    criteria: None,
    flag: None,
    env: None,
    env_after_config: None,
    python: None,
    kind: "",
    default: "",
    limits: "",
    help: "",
    commands: BOTH,
};

pub const OUT: Setting = Setting {
    name: "out",
    config: Some("out"),
    flag: Some("out"),
    env: Some("MASKGATE_OUT"),
    python: Some("out"),
    kind: "folder or bucket URL",
    default: "run: reports/run beside the config; compare: reports/run",
    help: "Output folder for the reports (run: default [run] out, else reports/run beside the config; compare: default reports/run)",
    ..NONE
};
pub const FORMATS: Setting = Setting {
    name: "formats",
    config: Some("formats"),
    flag: Some("format"),
    env: Some("MASKGATE_FORMATS"),
    python: Some("formats"),
    kind: "list",
    default: "every format",
    limits: "csv, jsonl, json, md, html",
    help: "Report formats to write, comma-separated: csv, jsonl, json, md, html (default: all)",
    ..NONE
};
pub const CRITERIA: Setting = Setting {
    name: "criteria",
    config: Some("criteria"),
    flag: Some("criteria"),
    python: Some("criteria"),
    kind: "file",
    default: "none (no verdict)",
    help: "Success criteria (TOML): τ, failure-class taxonomy, criteria → go / no-go verdict",
    ..NONE
};
pub const NOTES: Setting = Setting {
    name: "notes",
    config: Some("notes"),
    flag: Some("notes"),
    python: Some("notes"),
    kind: "file",
    default: "none",
    help: "Reporter notes sidecar: a JSON object mapping sample id → notes (for failure classes)",
    ..NONE
};
pub const VARIANTS: Setting = Setting {
    name: "variants",
    flag: Some("variants"),
    python: Some("variants"),
    kind: "file",
    default: "none (run: the config's own [[variant]] tables)",
    help: "Post-processing variants, sweeps and the composite score (TOML: [[variant]], [[sweep]], [score]); variants are scored as arms",
    commands: COMPARE,
    ..NONE
};
pub const GRID: Setting = Setting {
    name: "grid",
    config: Some("grid"),
    flag: Some("grid"),
    python: Some("grid"),
    kind: "integer",
    default: "none (each mask at its own size)",
    limits: "1 to [limits] max_grid (default 16384)",
    help: "Rasterise / resample every mask to N×N (nearest) before scoring (1 to [limits] max_grid, default 16384)",
    ..NONE
};
pub const PASS_IOU: Setting = Setting {
    name: "pass_iou",
    config: Some("pass_iou"),
    criteria: Some("pass_iou"),
    flag: Some("pass-iou"),
    python: Some("pass_iou"),
    kind: "number",
    default: "0.5",
    limits: "0 to 1; a criteria file's value locks it",
    help: "IoU threshold τ for pass rates (default: [run] pass_iou, else 0.5; a criteria file's pass_iou locks it, and a different value anywhere else is an error)",
    ..NONE
};
pub const TOP: Setting = Setting {
    name: "top",
    config: Some("top"),
    flag: Some("top"),
    python: Some("top"),
    kind: "integer",
    default: "20",
    help: "How many regressions and improvements to rank (default 20)",
    ..NONE
};
pub const SEED: Setting = Setting {
    name: "seed",
    config: Some("seed"),
    criteria: Some("seed"),
    flag: Some("seed"),
    python: Some("seed"),
    kind: "integer",
    default: "0",
    help: "Seed of the paired bootstrap (default: the config's, else the criteria file's, else 0)",
    ..NONE
};
pub const BOOTSTRAP: Setting = Setting {
    name: "bootstrap",
    config: Some("bootstrap"),
    criteria: Some("resamples"),
    flag: Some("bootstrap"),
    python: Some("bootstrap"),
    kind: "integer",
    default: "2000",
    limits: "0 (no intervals) to [limits] max_bootstrap_resamples",
    help: "Paired bootstrap resamples for the 95% CIs (default: the config's, else the criteria file's, else 2000; 0 = no intervals)",
    ..NONE
};
pub const GALLERY: Setting = Setting {
    name: "gallery",
    config: Some("gallery"),
    flag: Some("gallery"),
    env: Some("MASKGATE_GALLERY"),
    python: Some("gallery"),
    kind: "integer",
    default: "3",
    limits: "0 = none",
    help: "Overlay pictures for the top N regressions and N improvements of each comparison (real arms and the recommended variant); 0 = none (default 3)",
    ..NONE
};
pub const THREADS: Setting = Setting {
    name: "threads",
    flag: Some("threads"),
    env: Some("MASKGATE_THREADS"),
    python: Some("threads"),
    kind: "integer",
    default: "every core",
    limits: "1 to 64 per core, at most 1,024",
    help: "Worker threads (default: all cores; one with heavy models on up to 4 cores; at most 64 per core and 1,024 in all). Results do not depend on it",
    ..NONE
};
pub const RUN_ID: Setting = Setting {
    name: "run_id",
    flag: Some("run-id"),
    env: Some("MASKGATE_RUN_ID"),
    python: Some("run_id"),
    kind: "text",
    default: "derived from the timestamp",
    help: "Pin the run id written into the reports (default: derived from the timestamp)",
    ..NONE
};
pub const GENERATED_AT: Setting = Setting {
    name: "generated_at",
    flag: Some("generated-at"),
    env: Some("MASKGATE_GENERATED_AT"),
    python: Some("generated_at"),
    kind: "RFC 3339 time",
    default: "now, UTC",
    help: "Pin the timestamp written into the reports (default: now, UTC, RFC 3339)",
    ..NONE
};
pub const INTRA_THREADS: Setting = Setting {
    name: "intra_threads",
    config: Some("intra_threads"),
    flag: Some("intra-threads"),
    python: Some("intra_threads"),
    kind: "integer",
    default: "0 = automatic",
    limits: "at most 64 per core and 1,024",
    help: "ONNX Runtime intra-op threads per model (default: [run] intra_threads, else automatic: every core for heavy models, one for light ones)",
    commands: RUN,
    ..NONE
};
pub const NO_CACHE: Setting = Setting {
    name: "no_cache",
    flag: Some("no-cache"),
    env: Some("MASKGATE_NO_CACHE"),
    python: Some("no_cache"),
    kind: "switch (variable: 1)",
    default: "off",
    help: "Neither read nor fill the prediction cache",
    commands: RUN,
    ..NONE
};
pub const SAVE_PREDICTIONS: Setting = Setting {
    name: "save_predictions",
    config: Some("save_predictions"),
    flag: Some("save-predictions"),
    env: Some("MASKGATE_SAVE_PREDICTIONS"),
    python: Some("save_predictions"),
    kind: "switch (variable: 1)",
    default: "off",
    help: "Also write each model arm's masks as prediction JSONL under OUT/predictions/<corpus>/ (default: [run] save_predictions, or MASKGATE_SAVE_PREDICTIONS)",
    commands: RUN,
    ..NONE
};
pub const CACHE: Setting = Setting {
    name: "cache",
    config: Some("cache"),
    env: Some("MASKGATE_CACHE"),
    kind: "folder or bucket URL",
    default: ".maskgate-cache beside the config",
    help: "The prediction cache: a folder, or a bucket prefix shards share",
    commands: RUN,
    ..NONE
};
pub const ONNXRUNTIME: Setting = Setting {
    name: "onnxruntime",
    config: Some("onnxruntime"),
    env: Some("MASKGATE_ORT_LIB"),
    env_after_config: Some("ORT_DYLIB_PATH"),
    kind: "file",
    default: "the library under vendor/, else the system's",
    help: "The ONNX Runtime library (MASKGATE_ORT_LIB before the config's key, ORT_DYLIB_PATH after it)",
    commands: RUN,
    ..NONE
};
pub const MEMORY_ARENA: Setting = Setting {
    name: "memory_arena",
    config: Some("memory_arena"),
    kind: "boolean",
    default: "true",
    help: "ONNX Runtime's CPU memory arena",
    commands: RUN,
    ..NONE
};
pub const MEMORY_PATTERN: Setting = Setting {
    name: "memory_pattern",
    config: Some("memory_pattern"),
    kind: "boolean",
    default: "false",
    help: "ONNX Runtime's memory pattern",
    commands: RUN,
    ..NONE
};
pub const NETWORK_TIMEOUT: Setting = Setting {
    name: "network_timeout_s",
    config: Some("network_timeout_s"),
    env: Some("MASKGATE_NETWORK_TIMEOUT"),
    kind: "seconds",
    default: "30",
    limits: "at least 1",
    help: "Seconds a connect or a wait for a server's answer may take: an object-store or HTTP request whole, a PostgreSQL connect, statement or batch",
    ..NONE
};
pub const SHARD: Setting = Setting {
    name: "shard",
    flag: Some("shard"),
    kind: "I/N or auto/N",
    default: "none (the whole run)",
    limits: "N at most 100,000",
    help: "Score only shard I of N (the slice [⌊I·n/N⌋, ⌊(I+1)·n/N⌋) of the id-sorted samples) and commit its rows under OUT/shards/ for `maskgate merge OUT`; auto/N takes I from MASKGATE_SHARD_INDEX, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID",
    ..NONE
};

/// Every setting, in the order `--explain` and the docs list them.
pub const SETTINGS: &[&Setting] = &[
    &OUT,
    &FORMATS,
    &CRITERIA,
    &NOTES,
    &VARIANTS,
    &GRID,
    &PASS_IOU,
    &TOP,
    &SEED,
    &BOOTSTRAP,
    &GALLERY,
    &THREADS,
    &RUN_ID,
    &GENERATED_AT,
    &INTRA_THREADS,
    &NO_CACHE,
    &SAVE_PREDICTIONS,
    &CACHE,
    &ONNXRUNTIME,
    &MEMORY_ARENA,
    &MEMORY_PATTERN,
    &NETWORK_TIMEOUT,
    &SHARD,
];

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
                write!(f, "{key} in {}", crate::pathnames::display(path))
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
    criteria: Option<&'a Path>,
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

    pub(super) fn with_criteria(&mut self, path: Option<&'a Path>) {
        self.criteria = path;
    }

    /// The setting's variable, parsed (an error names the variable and its value).
    pub(super) fn env<T: std::str::FromStr>(&self, s: &Setting) -> Result<Option<T>> {
        match s.env {
            Some(var) => self.env.parse(var),
            None => Ok(None),
        }
    }

    /// The setting's variable as a switch: set and not "0" is on.
    pub(super) fn env_switch(&self, s: &Setting) -> Option<bool> {
        s.env.and_then(|var| self.env.get(var)).map(|v| v != "0")
    }

    /// The setting's variable as text.
    pub(super) fn env_text(&self, s: &Setting) -> Option<String> {
        s.env.and_then(|var| self.env.get(var)).map(str::to_string)
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
            self.criteria.map(|path| Source::Criteria {
                path: path.to_path_buf(),
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

/// Every environment variable a plan reads, with what it sets: each setting's, then the
/// shard index's (see [`crate::shard::INDEX_VARS`]).
pub fn env_vars() -> Vec<(&'static str, String)> {
    let mut vars: Vec<(&'static str, String)> = Vec::new();
    for s in SETTINGS {
        if let Some(v) = s.env {
            vars.push((v, format!("{} ({})", s.name, s.help)));
        }
        if let Some(v) = s.env_after_config {
            vars.push((v, format!("{}, after the config's key", s.name)));
        }
    }
    for v in crate::shard::INDEX_VARS {
        vars.push((
            v,
            "the shard index for --shard auto/N, first set wins".into(),
        ));
    }
    vars
}

/// The docs' settings table (`docs/src/configuration.md`, between the `settings` markers).
pub fn docs_table() -> String {
    let code = |x: Option<String>| x.map_or_else(|| "—".to_string(), |x| format!("`{x}`"));
    let mut t = String::from(
        "| setting | `[run]` key | flag | variable | Python | type | default | limits | commands | what it does |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let env = match (s.env, s.env_after_config) {
            (Some(a), Some(b)) => Some(format!("{a}` / `{b}")),
            (a, _) => a.map(str::to_string),
        };
        let config = match (s.config, s.criteria) {
            (Some(c), Some(k)) => Some(format!("{c}` (criteria file: `{k}")),
            (c, _) => c.map(str::to_string),
        };
        t.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.name,
            code(config),
            code(s.flag.map(|f| format!("--{f}"))),
            code(env),
            code(s.python.map(str::to_string)),
            s.kind,
            s.default,
            if s.limits.is_empty() { "—" } else { s.limits },
            s.commands.join(", "),
            s.help.replace('|', "\\|"),
        ));
    }
    t
}
