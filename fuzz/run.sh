#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions each (default 1,000,000) with cargo-fuzz
# (libFuzzer, nightly toolchain) and prints each target's execution count and outcome.
# Crashing inputs land in fuzz/artifacts/<target>/; each one found so far is a regression test
# in crates/maskgate-cli/tests/reliability/ or crates/maskgate/tests.
# Usage: bash fuzz/run.sh [RUNS] [TARGET...]; SEEDS=DIR adds DIR's files to image_decode's corpus.
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
  # The photo decoder's C code (libjpeg-turbo, built by cmake) is instrumented too: clang with
  # ASan, the sanitizer the Rust side runs under, and libFuzzer's coverage, so the fuzzer is
  # guided inside libjpeg as well. Seeded with small real JPEG, PNG and BMP files (SEEDS).
  c_env=()
  if [ "$t" = image_decode ]; then
    cc=$(command -v clang || command -v clang-14) || { echo "fuzz: image_decode needs clang with its sanitizer runtime (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
    c_env=(CC="$cc" CFLAGS=-fsanitize=address,fuzzer-no-link)
    if [ -n "${SEEDS:-}" ]; then cp -n "$SEEDS"/* "corpus/$t/" 2>/dev/null || true; fi
  fi
  if env "${c_env[@]}" cargo +nightly fuzz run "$t" "corpus/$t" -- -runs="$runs" -rss_limit_mb=2048 -max_len=4096 \
       > "corpus/$t.log" 2>&1; then
    result=ok
  else
    result="FAILED (see fuzz/corpus/$t.log and fuzz/artifacts/$t/)"
  fi
  done_line=$(grep -E "^Done [0-9]+ runs" "corpus/$t.log" | tail -1 || true)
  echo "$t: ${done_line:-no summary} in $(( $(date +%s) - start )) s: $result"
done
