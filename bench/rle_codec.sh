#!/usr/bin/env bash
# Benchmark (issue 16, item 6): maskgate's COCO RLE codec against pycocotools on 1,000
# real-shaped 1000x1000 masks: encode, decode, compressed-string round trip and IoU, with
# identical strings and IoUs asserted; prints each ratio. Usage: bash bench/rle_codec.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
work=bench/.work/rle
mkdir -p "$work"
if [ ! -x bench/.work/venv/bin/python ]; then
  python3 -m venv bench/.work/venv
  bench/.work/venv/bin/pip install -q numpy==2.3.5 pycocotools==2.0.10
fi
cargo build --release -q -p maskgate-core --example rle_bench
bench/.work/venv/bin/python bench/rle_codec.py "$work" target/release/examples/rle_bench "$N"
