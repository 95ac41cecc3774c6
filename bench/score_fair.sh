#!/usr/bin/env bash
# Benchmark (issue 16, item 1): `maskgate compare` with every metric (Boundary IoU and bbox IoU
# included) and the default 2,000-resample CIs, against the fair per-class numpy reference
# (bench/numpy_per_class.py: pycocotools decode, np.count_nonzero per class, single-threaded):
# 600 samples of 512x512, 19 classes, 2 arms. Checks that both give the same per-class mean IoU,
# then prints both times and the ratio, RUNS times (default 3) for the spread.
# Usage: bash bench/score_fair.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-600}
RUNS=${2:-3}
work=bench/.work/fair
mkdir -p "$work"
. bench/numpy_venv.sh
cargo build --release -q -p maskgate-cli
if [ ! -s "$work/pred2.jsonl" ] || [ "$(wc -l < "$work/gold.ndjson")" != "$N" ]; then
  echo "generating $N samples..." >&2
  $py bench/gen_corpus.py "$N" 512 512 19 100 "$work" 2
fi
cat "$work/gold.ndjson" "$work/pred.jsonl" "$work/pred2.jsonl" > /dev/null
echo "samples: $N (512x512, 19 classes, 2 arms), cores: $(nproc)"
for run in $(seq "$RUNS"); do
  ref=$($py bench/numpy_per_class.py "$work/gold.ndjson" "$work/pred.jsonl" "$work/pred2.jsonl" 2> "$work/ref_means.json")
  start=$(date +%s.%N)
  ./target/release/maskgate compare --gold "$work/gold.ndjson" --pred a="$work/pred.jsonl" \
    --pred b="$work/pred2.jsonl" --baseline a --out "$work/out" --run-id bench \
    --generated-at 2026-01-01T00:00:00Z 2> /dev/null
  end=$(date +%s.%N)
  mg=$(echo "$end - $start" | bc -l)
  $py - "$work" <<'PY'
import csv, json, sys
w = sys.argv[1]
ref = json.load(open(f"{w}/ref_means.json"))
rows = {(r["arm"], r["class"]): float(r["iou_mean"]) for r in csv.DictReader(open(f"{w}/out/metrics.csv")) if r["group_by"] == "all"}
worst = max(abs(rows[(arm, c)] - v) for arm, means in zip("ab", ref) for c, v in means.items())
assert worst < 1e-9, f"per-class mean IoU differs from the reference by {worst}"
PY
  printf 'run %s: numpy per class %.2f s, maskgate %.2f s, ratio %.1fx (per-class mean IoU agrees)\n' \
    "$run" "$ref" "$mg" "$(echo "$ref / $mg" | bc -l)"
done
