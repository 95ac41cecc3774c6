#!/usr/bin/env bash
# Benchmark (issue: scale-out): merging a sharded run. 100,000 samples × 2 arms × 19 classes
# (a gold NDJSON and two prediction files, 32×32 masks), scored as 100 shards (2 at a time) and
# merged. Prints the merge's wall time and peak RSS against the unsharded run's, and checks that
# the merged reports equal the unsharded ones byte for byte. Prediction files are the cheapest
# scoring there is (no inference), so the merge's share here is an upper bound: with a model at
# 2 s a photo, scoring 100,000 photos × 2 arms is about 111 hours of CPU.
# Absolute paths: a merge resolves the plan the shards recorded, whose paths are absolute.
# Usage: bash bench/merge.sh [SAMPLES] [SHARDS]   (after bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
shards=${2:-100}
work=$PWD/bench/.work/merge
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p maskgate-cli
mg=$PWD/target/release/maskgate
python3 bench/gen_classes.py "$work" "$n"
common=(compare --gold "$work/gold.ndjson" --pred "a=$work/a.ndjson" --pred "b=$work/b.ndjson"
  --baseline a --gallery 0 --run-id bench --generated-at 2026-01-01T00:00:00Z)
measure() { # label, command...: prints "seconds rss_kb" of the command
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "${@:2}" >/dev/null 2>"$work/$1.log" || {
    cat "$work/$1.log" >&2; exit 1; }
  cat "$work/time.txt"
}
read -r single_s single_kb < <(measure single "$mg" "${common[@]}" --out "$work/single")
start=$(date +%s.%N)
seq 0 $((shards - 1)) | xargs -P 2 -I{} "$mg" "${common[@]}" --shard "{}/$shards" --out "$work/sharded" 2>/dev/null
shards_s=$(echo "$(date +%s.%N) - $start" | bc -l)
read -r merge_s merge_kb < <(measure merge "$mg" merge "$work/sharded" --run-id bench --generated-at 2026-01-01T00:00:00Z)
for f in metrics.csv samples.jsonl report.json report.md report.html; do
  cmp -s "$work/single/$f" "$work/sharded/$f" || { echo "merge: $f differs from the unsharded run" >&2; exit 1; }
done
data_mb=$(du -sm "$work/sharded/shards" | cut -f1)
read_s=$(sed -n 's/.*rows read and checked in \([0-9.]*\) s.*/\1/p' "$work/merge.log")
printf '%d samples × 2 arms × 19 classes, %d shards (%d MB of shard rows)\n' "$n" "$shards" "$data_mb"
printf 'unsharded run:     %6.1f s, peak RSS %5d MB\n' "$single_s" $((single_kb / 1024))
printf '%3d shards (2 at once): %6.1f s wall\n' "$shards" "$shards_s"
printf 'merge:             %6.1f s, peak RSS %5d MB (reading and checking the rows: %.2f s; the rest is the\n' "$merge_s" $((merge_kb / 1024)) "$read_s"
printf '                   aggregation, bootstrap and exports the unsharded run also does)\n'
printf 'merge / unsharded run: %.2f of the time, %.2f of the memory; rows read / unsharded run: %.3f\n' \
  "$(echo "$merge_s / $single_s" | bc -l)" "$(echo "$merge_kb / $single_kb" | bc -l)" "$(echo "$read_s / $single_s" | bc -l)"
echo "merged reports byte-identical to the unsharded run"
