//! Every setting of `run` and `compare`, declared once: its config key, command-line flag,
//! environment variable and Python keyword, its type, default, limits, help and commands.
//! The CLI's flags take their names and help from here, the variables a plan reads and the
//! docs' settings table are built from it, and tests prove the config keys and Python keywords
//! agree.
//!
//! Adding a setting: one `Setting` constant and one line in [`SETTINGS`]; in `values.rs` one
//! `Layers::pick` (and its check and `Values` field), and the `Plan` field `resolve.rs` sets.
//! With a flag, also its `Overrides` field, the CLI's clap field (named and helped from here)
//! and the line copying it into `Overrides`; with a `[run]` key, its field in `config.rs`'s
//! `RawRun` and `RunConfig`; with a Python keyword, its line in maskgate-py's `overrides_from`
//! (and its docstrings' keyword list); a line in `record.rs` clearing it from a shard's record
//! when it does not shape the reports (a variable that does is in `env.rs`'s `RECORDED`). Then
//! regenerate the docs' table (`MASKGATE_BLESS=1`). The tests here fail on a config key or
//! Python keyword the table lacks.

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
    default: "reports/run (run: beside the config)",
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
pub const TRAINING_MANIFEST: Setting = Setting {
    name: "training_manifest",
    config: Some("training_manifest"),
    flag: Some("training-manifest"),
    python: Some("training_manifest"),
    kind: "file or folder",
    default: "none",
    help: "The photos the candidate was trained on: a folder of them, or their sha256 one a line (`sha256sum` output) or as a JSON array; an evaluated photo among them is reported as leakage",
    ..NONE
};
pub const PYTHON: Setting = Setting {
    name: "python",
    config: Some("python"),
    env: Some("MASKGATE_PYTHON"),
    kind: "program",
    default: "python3",
    help: "The Python that exports a `.pt` checkpoint arm to ONNX with Ultralytics (it needs `ultralytics`, with torch)",
    commands: RUN,
    ..NONE
};
pub const OVERLAP: Setting = Setting {
    name: "overlap",
    config: Some("overlap"),
    flag: Some("overlap"),
    python: Some("overlap"),
    kind: "keep, drop or refuse",
    default: "keep",
    help: "Samples whose photo another corpus or the training manifest also holds: keep (scored and reported), drop (left out of every corpus but the first holding it, and of every corpus when it is in the training manifest) or refuse (stop before any work)",
    ..NONE
};
pub const CRITERIA_SHA256: Setting = Setting {
    name: "criteria_sha256",
    config: Some("criteria_sha256"),
    kind: "sha256 (hex)",
    default: "none (a criteria.lock beside the config, else not pinned)",
    help: "Pre-registers the criteria: the run is refused, before any work, unless the criteria file has this sha256",
    ..NONE
};
pub const SIGN_KEY: Setting = Setting {
    name: "sign_key",
    config: Some("sign_key"),
    flag: Some("sign-key"),
    env: Some("MASKGATE_SIGN_KEY"),
    python: Some("sign_key"),
    kind: "file",
    default: "none (the attestation is written unsigned)",
    help: "Ed25519 private key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` or `maskgate keygen` writes it) that signs the verdict's attestation",
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
pub const NOISE_EPSILON: Setting = Setting {
    name: "noise_epsilon",
    config: Some("noise_epsilon"),
    criteria: Some("[noise] epsilon"),
    flag: Some("noise-epsilon"),
    env: Some("MASKGATE_NOISE_EPSILON"),
    python: Some("noise_epsilon"),
    kind: "number",
    default: "0.001",
    limits: "0 (no noise check) to 0.5",
    help: "Inference-noise check: model arms' pixels within this ε of a decision are flipped against the candidate (for the baseline) and every criterion is decided again (default 0.001; 0 turns the check off; a run without criteria skips it)",
    commands: RUN,
    ..NONE
};
pub const STRICT: Setting = Setting {
    name: "strict",
    config: Some("strict"),
    criteria: Some("[noise] strict"),
    flag: Some("strict"),
    env: Some("MASKGATE_STRICT"),
    python: Some("strict"),
    kind: "switch (variable: 1)",
    default: "false",
    help: "A check that inference noise of ε could flip is inconclusive (default: reported, the check keeps its status)",
    commands: RUN,
    ..NONE
};
pub const COST: Setting = Setting {
    name: "cost",
    config: Some("cost"),
    criteria: Some("a criterion on a cost metric"),
    flag: Some("cost"),
    env: Some("MASKGATE_COST"),
    python: Some("cost"),
    kind: "switch (variable: 1)",
    default: "false (on when a criterion names a cost metric)",
    help: "Measure each model arm's cost (latency per photo, throughput, load time, memory, size) into cost.json and the reports' Cost section; the deterministic files are unchanged",
    commands: RUN,
    ..NONE
};
pub const COST_WARMUP: Setting = Setting {
    name: "cost_warmup",
    config: Some("cost_warmup"),
    flag: Some("cost-warmup"),
    env: Some("MASKGATE_COST_WARMUP"),
    python: Some("cost_warmup"),
    kind: "integer",
    default: "3",
    help: "Inferences of each arm left out of its latencies as warm-up (default 3)",
    commands: RUN,
    ..NONE
};
pub const COST_REPEAT: Setting = Setting {
    name: "cost_repeat",
    config: Some("cost_repeat"),
    flag: Some("cost-repeat"),
    python: Some("cost_repeat"),
    kind: "integer",
    default: "0",
    limits: "0 to 100",
    help: "Time a seeded subset of photos again R times after the run, to report the run-to-run spread of each arm's p50 (default 0: not repeated)",
    commands: RUN,
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
    criteria: Some("[bootstrap] seed"),
    flag: Some("seed"),
    python: Some("seed"),
    kind: "integer",
    default: "0",
    help: "Seed of the paired bootstrap (default: the config's, else the criteria file's, else 0)",
    ..NONE
};
pub const EXCLUDE_SUSPECTS: Setting = Setting {
    name: "exclude_suspects",
    config: Some("exclude_suspects"),
    criteria: Some("[suspects] exclude"),
    flag: Some("exclude-suspects"),
    env: Some("MASKGATE_EXCLUDE_SUSPECTS"),
    python: Some("exclude_suspects"),
    kind: "boolean",
    default: "false",
    help: "Leave suspect labels (every arm agrees, all disagree with the ground truth) out of the aggregates and the verdict; they are listed either way (default: [run] exclude_suspects, else the criteria file's [suspects] exclude)",
    ..NONE
};
pub const SUSPECT_AGREEMENT: Setting = Setting {
    name: "suspect_agreement",
    config: Some("suspect_agreement"),
    criteria: Some("[suspects] agreement"),
    kind: "number",
    default: "0.9",
    limits: "0–1",
    help: "A suspect label's arms agree: every pair's mask IoU is at least this",
    ..NONE
};
pub const SUSPECT_TRUTH_IOU: Setting = Setting {
    name: "suspect_truth_iou",
    config: Some("suspect_truth_iou"),
    criteria: Some("[suspects] truth_iou"),
    kind: "number",
    default: "0.5",
    limits: "0–1",
    help: "A suspect label's arms all disagree with it: each arm's mIoU against the ground truth is at most this",
    ..NONE
};
pub const SLICE_BINS: Setting = Setting {
    name: "slice_bins",
    config: Some("slice_bins"),
    criteria: Some("[slices] bins"),
    kind: "integer",
    default: "4",
    limits: "0–20 (0 or 1: no slices)",
    help: "Quantile bins per sample property (luminance, contrast, sharpness, size, aspect, foreground share, ground-truth components), each a group of `slice:<property>`",
    ..NONE
};
pub const SLICE_WORST: Setting = Setting {
    name: "slice_worst",
    config: Some("slice_worst"),
    kind: "integer",
    default: "5",
    help: "How many of the weakest slice bins the report lists per arm and corpus",
    ..NONE
};
pub const BOOTSTRAP: Setting = Setting {
    name: "bootstrap",
    config: Some("bootstrap"),
    criteria: Some("[bootstrap] resamples"),
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
pub const MAX_FAILED_SHARE: Setting = Setting {
    name: "max_failed_share",
    config: Some("max_failed_share"),
    flag: Some("max-failed-share"),
    env: Some("MASKGATE_MAX_FAILED_SHARE"),
    kind: "number",
    default: "0.1",
    limits: "0 to 1",
    help: "Share of an arm's samples that may fail before the run ends with a warning summary, one line per cause (default 0.1)",
    ..NONE
};
pub const THREADS: Setting = Setting {
    name: "threads",
    flag: Some("threads"),
    env: Some("MASKGATE_THREADS"),
    python: Some("threads"),
    kind: "integer",
    default: "none (every core)",
    limits: "1 to 64 per core, at most 1,024",
    help: "Worker threads (default: all cores; one with heavy models on up to 4 cores; at most 64 per core and 1,024 in all). Results do not depend on it",
    ..NONE
};
pub const PROGRESS: Setting = Setting {
    name: "progress_s",
    config: Some("progress_s"),
    flag: Some("progress"),
    env: Some("MASKGATE_PROGRESS_S"),
    kind: "seconds",
    default: "30",
    limits: "0 (no lines) to 86,400",
    help: "When stderr is not a terminal (a log file, a CI job), print a progress line this often: samples done, rate, ETA and each arm's time per sample",
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
    help: "ONNX Runtime intra-op threads per model (default: [run] intra_threads, else automatic: every core for heavy models, one for light ones; a model heavy by its fixed input size whose first warm inference takes under 0.2 s of CPU turns light)",
    commands: RUN,
    ..NONE
};
pub const NO_CACHE: Setting = Setting {
    name: "no_cache",
    flag: Some("no-cache"),
    env: Some("MASKGATE_NO_CACHE"),
    python: Some("no_cache"),
    kind: "switch (variable: 1)",
    default: "false",
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
    default: "false",
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
    default: "none (the library under vendor/, else the system's)",
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
    &TRAINING_MANIFEST,
    &OVERLAP,
    &CRITERIA_SHA256,
    &SIGN_KEY,
    &VARIANTS,
    &GRID,
    &PASS_IOU,
    &NOISE_EPSILON,
    &STRICT,
    &COST,
    &COST_WARMUP,
    &COST_REPEAT,
    &TOP,
    &SEED,
    &BOOTSTRAP,
    &GALLERY,
    &EXCLUDE_SUSPECTS,
    &SUSPECT_AGREEMENT,
    &SUSPECT_TRUTH_IOU,
    &SLICE_BINS,
    &SLICE_WORST,
    &MAX_FAILED_SHARE,
    &THREADS,
    &PROGRESS,
    &RUN_ID,
    &GENERATED_AT,
    &INTRA_THREADS,
    &NO_CACHE,
    &SAVE_PREDICTIONS,
    &CACHE,
    &ONNXRUNTIME,
    &PYTHON,
    &MEMORY_ARENA,
    &MEMORY_PATTERN,
    &NETWORK_TIMEOUT,
    &SHARD,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo_file;

    #[test]
    fn names_flags_variables_and_keywords_are_each_used_once() {
        for (what, of) in [
            (
                "name",
                (|s: &Setting| Some(s.name)) as fn(&Setting) -> Option<&'static str>,
            ),
            ("config key", |s| s.config),
            ("flag", |s| s.flag),
            ("variable", |s| s.env),
            ("Python keyword", |s| s.python),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for s in SETTINGS {
                if let Some(x) = of(s) {
                    assert!(seen.insert(x), "{what} {x:?} is declared twice");
                }
            }
        }
        for s in SETTINGS {
            assert!(
                !s.help.is_empty() && !s.kind.is_empty() && !s.default.is_empty(),
                "{s:?}"
            );
            assert!(
                s.commands.iter().all(|c| ["run", "compare"].contains(c)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_format_list_names_every_exporter() {
        for e in crate::export::exporters() {
            assert!(
                FORMATS.help.contains(e.name()),
                "--format's help lacks {}",
                e.name()
            );
            assert!(
                FORMATS.limits.contains(e.name()),
                "formats' limits lack {}",
                e.name()
            );
        }
    }

    /// Every `[run]` key the config accepts is a setting's, and every setting's key is
    /// accepted: an unknown key is refused by name, a known one is not.
    #[test]
    fn every_config_key_is_a_setting() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |key: &str, value: &str| -> bool {
            let p = dir.path().join("c.toml");
            std::fs::write(&p, format!("[run]\n{key} = {value}\n")).unwrap();
            match crate::config::RunConfig::load_with_problems(&p) {
                Ok(_) => false,
                Err(e) => e.to_string().contains(&format!("unknown field `{key}`")),
            }
        };
        assert!(refused("no_such_key", "1"), "the probe sees an unknown key");
        for s in SETTINGS {
            if let Some(key) = s.config {
                assert!(
                    !refused(key, "\"x\"") || !refused(key, "1"),
                    "[run] {key} is refused"
                );
            }
        }
        // The keys the config's [run] table holds besides settings: the request's own.
        let source = std::fs::read_to_string(repo_file("crates/maskgate/src/config.rs")).unwrap();
        let raw = &source[source.find("struct RawRun {").unwrap()..];
        let raw = &raw[..raw.find('}').unwrap()];
        for line in raw.lines().skip(1) {
            let key = line.trim().split(':').next().unwrap_or("").trim();
            if key.is_empty() || key == "baseline" {
                continue;
            }
            assert!(
                SETTINGS.iter().any(|s| s.config == Some(key)),
                "[run] {key} is read by the config but not declared in SETTINGS"
            );
        }
    }

    /// Each default is stated twice, as the value the code falls back to and as the table's
    /// text: resolved with nothing set, every value from the default reads as its text (or
    /// as its text's first words, before an explanation in brackets or after "=").
    #[test]
    fn every_default_is_the_value_resolved_when_nothing_is_set() {
        use crate::plan::{explain, Env, GroundTruth, Overrides, Request, Source};
        let dir = tempfile::tempdir().unwrap();
        let gold = dir.path().join("g.ndjson");
        let request = Request::Compare {
            truth: GroundTruth::Gold {
                path: gold.clone(),
                name: None,
                image_root: None,
            },
            preds: vec![("b".into(), gold.clone()), ("c".into(), gold)],
            baseline: "b".into(),
        };
        let resolved = explain(&request, &Overrides::default(), &Env::default()).unwrap();
        // Computed when the plan resolves: from the clock, the exporters, the config's folder.
        let computed = ["run_id", "generated_at", "formats", "cache"];
        let mut checked = 0;
        for r in &resolved {
            assert_eq!(r.source, Source::Default, "nothing was set: {r}");
            if computed.contains(&r.name) {
                continue;
            }
            let s = SETTINGS.iter().find(|s| s.name == r.name).unwrap();
            let v = &r.value;
            assert!(
                s.default == v
                    || s.default.starts_with(&format!("{v} ("))
                    || s.default.starts_with(&format!("{v} = ")),
                "{}: resolves to {v:?} by default, the table says {:?}",
                s.name,
                s.default
            );
            checked += 1;
        }
        assert_eq!(checked + computed.len(), SETTINGS.len(), "{resolved:?}");
        assert!(CACHE.default.starts_with(crate::plan::DEFAULT_CACHE));
    }

    /// The Python module's `options` keywords are the table's.
    #[test]
    fn the_python_keywords_agree() {
        let source = std::fs::read_to_string(repo_file("crates/maskgate-py/src/lib.rs")).unwrap();
        let start = source.find("fn overrides_from").unwrap();
        let body = &source[start..];
        let body = &body[..body.find("other =>").unwrap()];
        let found: std::collections::BTreeSet<&str> = body
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .filter_map(|l| l.split('"').next())
            .collect();
        let declared: std::collections::BTreeSet<&str> =
            SETTINGS.iter().filter_map(|s| s.python).collect();
        assert_eq!(found, declared, "maskgate-py's overrides_from vs SETTINGS");
    }
}
