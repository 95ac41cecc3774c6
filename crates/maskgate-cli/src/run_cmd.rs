//! `maskgate run CONFIG`: the main job — corpora and arms (models and/or prediction files) from
//! a config, through the whole flow to reports and verdict.

use crate::common::CommonArgs;
use anyhow::Result;
use clap::Args;
use maskgate::plan::{settings, Request};
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Run the arms of a config (models and/or prediction files) over its corpora, score, compare and decide",
    after_help = after_help()
)]
pub struct RunArgs {
    /// The run config (TOML).
    config: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long = settings::INTRA_THREADS.long(), value_name = "N", help = settings::INTRA_THREADS.help)]
    intra_threads: Option<usize>,
    #[arg(long = settings::NO_CACHE.long(), help = settings::NO_CACHE.help)]
    no_cache: bool,
    #[arg(long = settings::SAVE_PREDICTIONS.long(), help = settings::SAVE_PREDICTIONS.help)]
    save_predictions: bool,
    #[arg(long = settings::NOISE_EPSILON.long(), value_name = "EPS", help = settings::NOISE_EPSILON.help)]
    noise_epsilon: Option<f64>,
    #[arg(long = settings::STRICT.long(), help = settings::STRICT.help)]
    strict: bool,
    #[arg(long = settings::COST.long(), help = settings::COST.help)]
    cost: bool,
    #[arg(long = settings::COST_WARMUP.long(), value_name = "K", help = settings::COST_WARMUP.help)]
    cost_warmup: Option<usize>,
    #[arg(long = settings::COST_REPEAT.long(), value_name = "R", help = settings::COST_REPEAT.help)]
    cost_repeat: Option<usize>,
}

/// The `[run]` keys: `baseline` (the request's own) and every setting's config key, wrapped
/// under the label, so a new setting is listed without touching the help.
fn run_keys() -> String {
    let keys =
        std::iter::once("baseline").chain(settings::SETTINGS.iter().filter_map(|s| s.config));
    let mut lines = vec![String::new()];
    for key in keys {
        let last = lines.last_mut().expect("one line");
        // Room for ", ", the key and the comma that may end the line.
        if !last.is_empty() && last.len() + key.len() + 3 > 80 {
            last.push(',');
            lines.push(String::new());
        }
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() {
            last.push_str(", ");
        }
        last.push_str(key);
    }
    lines.join("\n             ")
}

fn after_help() -> String {
    format!(
        "Example:
  maskgate run examples/model-gate/maskgate.toml --threads 2 --run-id nightly

Config (relative paths are taken from the config's folder; docs/src/formats.md has every key):
  [run]      {}
  [[corpus]] name, format, path, classes = {{ fg = [\"skin\", ...] }}, ignore, split, sample_seed,
             limit, [corpus.options], [corpus.modules]
             formats: fasseg | lapa | celebamask-hq | coco | yolo | voc | labelme | gold-ndjson | sql
  [[arm]]    name, adapter, model, and the adapter's keys:
{}
             or name, predictions = \"file.jsonl\"
  [[variant]], [[sweep]], [score]: post-processing variants and the composite score

Precedence: command line, then environment, then the config, then the criteria file, then
built-in defaults; --explain prints every setting with its value and where it came from
(docs/src/configuration.md lists every setting and variable).

Sharded (--shard I/N, or auto/N under Kubernetes or Slurm), then `maskgate merge OUT`:
  maskgate run /abs/gate.toml --shard auto/8 --out s3://bucket/gate",
        run_keys(),
        adapter_keys()
    )
}

/// Each adapter's keys, one line each, from the adapters' own table.
fn adapter_keys() -> String {
    maskgate::predict::adapters::ADAPTERS
        .iter()
        .map(|a| format!("               {}: {}", a.name, a.keys.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(a: RunArgs, binary: &maskgate::attest::statement::Binary) -> Result<u8> {
    let mut overrides = a.common.overrides();
    overrides.intra_threads = a.intra_threads;
    overrides.no_cache = a.no_cache;
    overrides.save_predictions = a.save_predictions;
    overrides.noise_epsilon = a.noise_epsilon;
    overrides.strict = a.strict;
    overrides.cost = a.cost;
    overrides.cost_warmup = a.cost_warmup;
    overrides.cost_repeat = a.cost_repeat;
    let request = Request::Run { config: a.config };
    a.common.explain_or_execute(request, overrides, binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_run_key() {
        let help = after_help();
        let block = help
            .split("[run]")
            .nth(1)
            .and_then(|rest| rest.split("[[corpus]]").next())
            .unwrap();
        let keys: Vec<&str> = block
            .split([',', ' ', '\n'])
            .filter(|k| !k.is_empty())
            .collect();
        let declared: Vec<&str> = std::iter::once("baseline")
            .chain(settings::SETTINGS.iter().filter_map(|s| s.config))
            .collect();
        assert_eq!(keys, declared, "{help}");
        // The wrapped lines, with the label's indent, stay within a terminal's width.
        assert!(
            block.lines().all(|l| "  [run]".len() + l.len() <= 100),
            "{help}"
        );
    }
}
