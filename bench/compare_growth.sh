#!/usr/bin/env bash
# Benchmark (issue 16, item 7): `maskgate compare` (one arm against gold, every metric, default
# bootstrap) at 1k, 10k and 100k samples of 512x512 with 4 classes: wall time and peak RSS, the
# time per sample (linear growth keeps it flat) and the memory growth per sample between sizes.
# Usage: bash bench/compare_growth.sh [SIZES...]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
. bench/numpy_venv.sh
cargo build --release -q -p maskgate-cli
prev_n=""; prev_kb=""
for n in "${sizes[@]}"; do
  work=bench/.work/growth/$n
  mkdir -p "$work"
  [ -s "$work/pred.jsonl" ] || $py bench/gen_corpus.py "$n" 512 512 4 100 "$work"
  read -r kb secs < <(/usr/bin/time -f "%M %e" ./target/release/maskgate compare \
    --gold "$work/gold.ndjson" --pred cand="$work/pred.jsonl" --baseline cand \
    --out "$work/out" --run-id bench --generated-at 2026-01-01T00:00:00Z 2>&1 >/dev/null | tail -1)
  line=$(printf '%6d samples: %7.2f s (%.3f ms per sample), peak RSS %d KiB' "$n" "$secs" \
    "$(echo "$secs * 1000 / $n" | bc -l)" "$kb")
  if [ -n "$prev_n" ]; then
    line+=$(printf ', growth %.0f bytes per sample since %d' \
      "$(echo "($kb - $prev_kb) * 1024 / ($n - $prev_n)" | bc -l)" "$prev_n")
  fi
  echo "$line"
  prev_n=$n; prev_kb=$kb
done
