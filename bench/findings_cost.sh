#!/usr/bin/env bash
# Benchmark (issue 32): what finding weak slices costs against the model run it rides on. The
# crop gate (2 arms: rembg/u2netp and IMG.LY's ISNet, 2 corpora, 2,000 bootstrap resamples)
# runs once with an empty prediction cache (the model run: its wall time and the seconds the
# models took), then 3 rounds of the same gate served from that cache with slices on (the
# default, 4 bins of 7 properties: photo statistics, binning, 28 more bootstrapped groups per
# arm and corpus, Holm) and off (slice_bins = 0). Prints, per round, the extra seconds slices
# take and their share of the model run's wall time; the target is well under 5%. Every run
# must have scored every sample (checked from samples.jsonl), or the figures are refused.
# Usage: bash bench/findings_cost.sh   (after bash scripts/setup.sh; builds the release binary)
set -euo pipefail
unset MASKGATE_CACHE
cd "$(dirname "$0")/.."
work=bench/.work/findings
rm -rf "$work"
mkdir -p "$work"
cargo build --release -q -p maskgate-cli
mg=target/release/maskgate
config() { # config NAME EXTRA: the crop gate's config writing to $work/NAME, with EXTRA in [run]
  sed -e "s#^\[run\]#[run]\n$2#" -e "s#^out = .*#out = \"../../$work/$1\"#" \
    -e "s#^cache = .*#cache = \"../../$work/cache\"#" examples/crop-gate/maskgate.toml \
    >"examples/crop-gate/.bench-$1.toml"
}
config on ""
config off "slice_bins = 0"
trap 'rm -f examples/crop-gate/.bench-*.toml' EXIT
timed() { # timed NAME: wall seconds of one gate run; its reports under $work/NAME
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  "$mg" run "examples/crop-gate/.bench-$1.toml" --run-id bench \
    --generated-at 2026-01-01T00:00:00Z >/dev/null 2>"$work/$1.log" || rc=$?
  t1=$(date +%s.%N)
  [ "$rc" -le 1 ] || { cat "$work/$1.log" >&2; exit "$rc"; }
  python3 - "$work/$1/samples.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) >= 90, f"only {len(rows)} scores"
failed = [r for r in rows if r["fail_reason"]]
assert not failed, f"{len(failed)} samples refused: {failed[0]['fail_reason']}"
PY
  echo "$t1 - $t0" | bc -l
}
model_wall=$(timed on)
model_s=$(sed -n 's/.* (\([0-9.]*\) s in the model.s sessions).*/\1/p' "$work/on.log" | paste -sd+ | bc -l)
inferences=$(sed -n 's/.*: \([0-9]*\) inferences.*/\1/p' "$work/on.log" | paste -sd+ | bc)
[ "$inferences" -gt 0 ] || { echo "the model run inferred nothing: the cache was not empty" >&2; exit 1; }
printf 'model run: %.1f s wall, %.1f s in the models, %d inferences\n' "$model_wall" "$model_s" "$inferences"
for round in 1 2 3; do
  on=$(timed on)
  off=$(timed off)
  python3 - "$on" "$off" "$model_wall" "$round" <<'PY'
import sys
on, off, model, r = map(float, sys.argv[1:])
print(f"round {int(r)}: cached gate {on:.2f} s with slices, {off:.2f} s without: "
      f"slices cost {on - off:+.2f} s = {100 * (on - off) / model:.2f}% of the model run")
PY
done
grep -q 'slice:luminance' "$work/on/metrics.csv" && echo "slices present in the measured report"
