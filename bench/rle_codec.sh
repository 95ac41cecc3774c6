#!/usr/bin/env bash
# Benchmark (issue 16, item 6): maskgate's COCO RLE codec against pycocotools on 1,000
# real-shaped 1000x1000 masks: encode, decode, compressed-string round trip and IoU, with
# identical strings and IoUs asserted; prints each ratio. Usage: bash bench/rle_codec.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
work=bench/.work/rle
mkdir -p "$work"
. bench/numpy_venv.sh
cargo build --release -q -p maskgate-core --example rle_bench
$py bench/rle_codec.py "$work" target/release/examples/rle_bench "$N"
