#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions each (default 1,000,000) with cargo-fuzz
# (libFuzzer, nightly toolchain) and prints each target's execution count and outcome.
# Crashing inputs land in fuzz/artifacts/<target>/; each one found so far is a regression test
# in crates/maskgate-cli/tests/reliability/ or crates/maskgate/tests.
# Usage: bash fuzz/run.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
runs="${1:-1000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(rle_compressed ndjson_line polygon image_decode toml_config yolo labelme_json coco_json
    dsse_envelope)
fi
mkdir -p corpus
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  start=$(date +%s)
  if cargo +nightly fuzz run "$t" "corpus/$t" -- -runs="$runs" -rss_limit_mb=2048 -max_len=4096 \
       > "corpus/$t.log" 2>&1; then
    result=ok
  else
    result="FAILED (see fuzz/corpus/$t.log and fuzz/artifacts/$t/)"
  fi
  done_line=$(grep -E "^Done [0-9]+ runs" "corpus/$t.log" | tail -1 || true)
  echo "$t: ${done_line:-no summary} in $(( $(date +%s) - start )) s: $result"
done
