#!/usr/bin/env bash
# Benchmark (issue: core scoring): maskgate scoring 2,000 samples of 512x512 with 19 classes
# vs a numpy reference of the same computation (pycocotools decode + numpy bincount confusion).
# Prints both wall times and the ratio. Usage: bash bench/score_vs_numpy.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
work=bench/.work/score
mkdir -p "$work"
. bench/numpy_venv.sh
cargo build --release -q -p maskgate-cli
if [ ! -s "$work/gold.ndjson" ] || [ "$(wc -l < "$work/gold.ndjson")" != "$N" ]; then
  echo "generating $N samples..." >&2
  $py bench/gen_corpus.py "$N" 512 512 19 100 "$work"
fi
# Warm the page cache for both contenders.
cat "$work/gold.ndjson" "$work/pred.jsonl" > /dev/null
ref=$($py bench/numpy_reference.py "$work/gold.ndjson" "$work/pred.jsonl" 2> "$work/ref_means.json")
start=$(date +%s.%N)
./target/release/maskgate compare --gold "$work/gold.ndjson" --pred cand="$work/pred.jsonl" \
  --baseline cand --out "$work/out" --run-id bench --generated-at 2026-01-01T00:00:00Z 2> /dev/null
end=$(date +%s.%N)
mg=$(echo "$end - $start" | bc -l)
# The two must agree before their times mean anything: compare per-class mean IoU.
$py - "$work" <<'PY'
import csv, json, sys
w = sys.argv[1]
ref = json.load(open(f"{w}/ref_means.json"))
rows = {r["class"]: float(r["iou_mean"]) for r in csv.DictReader(open(f"{w}/out/metrics.csv")) if r["group_by"] == "all"}
worst = max(abs(rows[c] - v) for c, v in ref.items())
assert worst < 1e-9, f"per-class mean IoU differs from the reference by {worst}"
print(f"per-class mean IoU agrees with the reference (max |diff| {worst:.1e})")
PY
echo "samples: $N (512x512, 19 classes), cores: $(nproc)"
echo "numpy reference (decode + bincount, IoU/Dice/P/R): ${ref} s"
printf 'maskgate compare (all metrics incl. Boundary IoU, bbox IoU, all reports): %.3f s\n' "$mg"
printf 'ratio (reference / maskgate): %.1fx\n' "$(echo "$ref / $mg" | bc -l)"
