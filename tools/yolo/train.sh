#!/usr/bin/env bash
# The crop team's training pipeline, end to end (about an hour on 2 cores): the pinned stack
# (tools/yolo/setup.sh), maskgate itself (its readers and `convert` make the dataset, its
# duplicate detection proves the gate's photos were not trained on), then tools/yolo/train.py:
# YOLOv8n-seg from its yaml, Ultralytics' ONNX export, the model card and the manifest.
# Usage: bash tools/yolo/train.sh [--epochs N] [--out models/crop-yolo] (train.py's flags)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh          # the gate's corpora (its database included): what must not be trained on
bash tools/yolo/setup.sh
cargo build --release --locked -q -p maskgate-cli
exec vendor/yolo/bin/python tools/yolo/train.py --maskgate target/release/maskgate "$@"
