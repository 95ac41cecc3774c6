//! `maskgate run CONFIG`: the main job — corpora and arms (models and/or prediction files) from
//! a config, through the whole flow to reports and verdict.

use crate::common::{execute_request, CiOutputs, CommonArgs};
use anyhow::Result;
use clap::Args;
use maskgate::plan::Request;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Run the arms of a config (models and/or prediction files) over its corpora, score, compare and decide",
    after_help = "Example:
  maskgate run examples/model-gate/maskgate.toml --threads 2 --run-id nightly

Config (relative paths are taken from the config's folder; docs/formats.md has every key):
  [run]      out, baseline, criteria, notes, cache, formats, gallery, pass_iou, grid, top, seed,
             bootstrap, onnxruntime, intra_threads, memory_arena, memory_pattern,
             save_predictions, max_failed_share
  [[corpus]] name, format, path, classes = { fg = [\"skin\", ...] }, ignore, split, sample_seed,
             limit, [corpus.options], [corpus.modules]
             formats: fasseg | lapa | celebamask-hq | coco | yolo | voc | labelme | gold-ndjson
  [[arm]]    name, adapter, model, and the adapter's keys:
               rembg: class, threshold, session, pillow   imgly-isnet: class, threshold
               mediapipe-selfie: class, threshold    sigmoid: class, threshold, mean, std, logits
               yolov8-seg: labels, classes, conf, iou, mask_mode
               semantic-argmax: labels, classes, mean, std
             or name, predictions = \"file.jsonl\"
  [[variant]], [[sweep]], [score]: post-processing variants and the composite score

Precedence: command line, then environment (MASKGATE_OUT, MASKGATE_THREADS, MASKGATE_CACHE,
MASKGATE_NO_CACHE, MASKGATE_SAVE_PREDICTIONS, MASKGATE_FORMATS, MASKGATE_GALLERY, MASKGATE_MAX_FAILED_SHARE, MASKGATE_RUN_ID, MASKGATE_GENERATED_AT), then the config,
then the criteria file, then built-in defaults.

Sharded (--shard I/N, or auto/N under Kubernetes or Slurm), then `maskgate merge OUT`:
  maskgate run /abs/gate.toml --shard auto/8 --out s3://bucket/gate"
)]
pub struct RunArgs {
    /// The run config (TOML).
    config: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// ONNX Runtime intra-op threads per model (default: [run] intra_threads, else automatic:
    /// every core for heavy models, one for light ones).
    #[arg(long, value_name = "N")]
    intra_threads: Option<usize>,
    /// Neither read nor fill the prediction cache.
    #[arg(long)]
    no_cache: bool,
    /// Also write each model arm's masks as prediction JSONL under OUT/predictions/<corpus>/
    /// (default: [run] save_predictions, or MASKGATE_SAVE_PREDICTIONS).
    #[arg(long)]
    save_predictions: bool,
}

pub fn run(a: RunArgs) -> Result<u8> {
    let mut overrides = a.common.overrides();
    overrides.intra_threads = a.intra_threads;
    overrides.no_cache = a.no_cache;
    overrides.save_predictions = a.save_predictions;
    execute_request(
        Request::Run { config: a.config },
        overrides,
        CiOutputs::new(a.common.junit.clone())?,
    )
}
