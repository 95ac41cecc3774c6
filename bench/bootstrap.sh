#!/usr/bin/env bash
# Benchmark: the paired bootstrap of a many-class comparison. `maskgate compare` of two
# prediction files against gold (bench/gen_classes.py: N samples × 19 classes of 32×32 masks),
# once without intervals (--bootstrap 0) and once with the default 2,000 resamples; the
# difference is the bootstrap's cost: 20 rows (the summary and 19 classes) × 2 arms × 2,000
# draws × N samples. With OLD=path/to/an/older/maskgate, the older binary is timed the same way
# and the ratio of the two bootstrap costs is printed.
# Usage: bash bench/bootstrap.sh [SAMPLES]   (after bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
work=$PWD/bench/.work/bootstrap/$n
mkdir -p "$work"
[ -s "$work/b.ndjson" ] || python3 bench/gen_classes.py "$work" "$n"
cargo build --release -q -p maskgate-cli
run() { # binary, resamples: prints "seconds rss_kb"
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$1" compare --gold "$work/gold.ndjson" \
    --pred "a=$work/a.ndjson" --pred "b=$work/b.ndjson" --baseline a --gallery 0 \
    --bootstrap "$2" --out "$work/out" --run-id bench --generated-at 2026-01-01T00:00:00Z \
    >/dev/null 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
  cat "$work/time.txt"
}
report() { # label, binary: prints the times and sets $boot to the bootstrap's seconds
  read -r none_s none_kb < <(run "$2" 0)
  read -r full_s full_kb < <(run "$2" 2000)
  boot=$(echo "$full_s - $none_s" | bc -l)
  printf '%s: %7.1f s without intervals, %7.1f s with 2,000 resamples (bootstrap %6.1f s); peak RSS %d / %d MB\n' \
    "$1" "$none_s" "$full_s" "$boot" $((none_kb / 1024)) $((full_kb / 1024))
}
printf '%d samples × 2 arms × 19 classes\n' "$n"
report "this build" target/release/maskgate
new_boot=$boot
if [ -n "${OLD:-}" ]; then
  report "$OLD" "$OLD"
  printf 'bootstrap: %.1f× faster than %s\n' "$(echo "$boot / $new_boot" | bc -l)" "$OLD"
fi
