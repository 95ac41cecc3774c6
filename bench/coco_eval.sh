#!/usr/bin/env bash
# Benchmark (issue: instance metrics): maskgate's COCOeval (maskgate_core::cocoeval, from the
# compressed RLE strings to the 12 numbers) against pycocotools 2.0.11's COCOeval(gt, dt,
# "segm") evaluate + accumulate + summarize on N images (default 5,000) x 20 instances on
# 640x480, 3 runs each; the 12 numbers must be equal bit for bit; prints the ratio.
# Usage: bash bench/coco_eval.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
work=bench/.work/coco
mkdir -p "$work"
py=bench/.work/venv-coco/bin/python
if [ ! -x "$py" ]; then
  python3 -m venv bench/.work/venv-coco
  "$py" -m pip install -q --disable-pip-version-check numpy==2.3.5 pycocotools==2.0.11
fi
cargo build --release -q -p maskgate-core --example cocoeval_bench
"$py" bench/coco_eval.py gen "$work" "$N"
py_out=$("$py" bench/coco_eval.py time "$work")
mg_out=$(target/release/examples/cocoeval_bench "$work/instances.txt")
echo "$py_out" | grep -v '^stats'
echo "$mg_out" | grep -v '^stats'
[ "$(echo "$py_out" | grep '^stats')" = "$(echo "$mg_out" | grep '^stats')" ] \
  || { echo "bench: the 12 numbers differ" >&2; echo "$py_out" "$mg_out" | grep stats >&2; exit 1; }
echo "the 12 numbers are equal bit for bit"
median() { sort -n | sed -n 2p; }
p=$(echo "$py_out" | awk '/^pycocotools/ {print $2}' | median)
m=$(echo "$mg_out" | awk '/^maskgate/ {print $2}' | median)
printf 'COCOeval segm, %s images: pycocotools median %.2f s, maskgate median %.2f s: %.1fx\n' "$N" "$p" "$m" "$(echo "$p / $m" | bc -l)"
