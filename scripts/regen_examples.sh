#!/usr/bin/env bash
# Regenerates the example reports under docs/examples/ with pinned run metadata, from the
# example scripts and configs the manual documents (docs/src/examples.md). Needs the models (scripts/setup.sh).
#
#   bash scripts/regen_examples.sh           rewrite docs/examples/ (and the demo screenshot)
#   bash scripts/regen_examples.sh --check   regenerate into a scratch copy and fail, naming
#                                            each example and file, when a committed one differs
#
# MASKGATE_BIN=path/to/maskgate uses that binary instead of building the release one (CI passes
# the debug binary its tests already built; the reports do not depend on the build profile); the
# example scripts then skip their own setup, which this script has done once.
#
# Every model arm is served from docs/examples/prediction-cache/, committed beside the examples:
# ONNX Runtime's kernels differ by CPU (AVX-512 or not, the vendor's), so the same model on
# another host moves a few mask pixels (9,953 against 9,955 near pixels in the crop gate), and
# the check compares the code's reports, not two hosts' floating point. A model arm missing from
# the cache is inferred and added to it; to rebuild it (a model or a photo changed), delete the
# folder and run this script. Inference itself is checked against the real packages by the
# parity tests and run for real by the crop-gate test.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: bash scripts/regen_examples.sh [--check]" >&2; exit 2 ;;
esac
# One picture per list keeps the committed galleries small.
export MASKGATE_PIN=1 MASKGATE_RUN_ID=demo MASKGATE_GENERATED_AT=2026-01-01T00:00:00Z MASKGATE_GALLERY=1
bash scripts/setup.sh
if [ -z "${MASKGATE_BIN:-}" ]; then
  cargo build --release -q -p maskgate-cli
  MASKGATE_BIN=./target/release/maskgate
fi
MASKGATE_BIN=$(realpath "$MASKGATE_BIN")
export MASKGATE_BIN
mg=$MASKGATE_BIN
# Where the fresh examples go: docs/examples itself, or a scratch copy of the checkout's layout
# (the trend names its inputs by the path it is given, so that path stays docs/examples).
cache=$PWD/docs/examples/prediction-cache
if [ "$check" = 1 ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  # Empty: a committed file that is no longer made shows as missing, never as equal to itself.
  mkdir -p "$scratch/docs/examples"
  dest=$scratch/docs/examples
  # A copy, so a check never writes into the committed cache.
  if [ -d "$cache" ]; then cp -r "$cache" "$scratch/cache"; fi
  cache=$scratch/cache
else
  dest=docs/examples
fi
export MASKGATE_CACHE=$cache
copy() { # copy SRC DEST FILE... : the files and the gallery, replacing the old set
  local src=$1 dst=$2; shift 2
  mkdir -p "$dst"
  for f in "$@"; do cp "$src/$f" "$dst/$f"; done
  rm -rf "$dst/gallery"
  if [ -d "$src/gallery" ]; then cp -r "$src/gallery" "$dst/gallery"; fi
}
# A run that fails must stop this script, not leave an older report behind to be copied: every
# report folder starts empty, and a gate may only end in go or no-go (0 or 1).
rm -rf reports/crop-gate reports/demo reports/fasseg-gate reports/fasseg-gate-go \
  reports/fasseg-sweep reports/skin-modules reports/voc-labelme
gate() { # gate COMMAND... : stdout dropped, stderr kept, exit 0 or 1 accepted
  local rc=0
  "$@" >/dev/null || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "regen_examples: \`$*\` failed with exit status $rc" >&2
    exit "$rc"
  fi
}
bash scripts/demo.sh >/dev/null
copy reports/crop-gate "$dest/crop-gate" report.md report.html report.json metrics.csv
gate "$mg" run examples/model-gate/maskgate.toml
copy reports/demo "$dest/model-gate" report.md report.html report.json metrics.csv
CRITERIA=examples/fasseg-gate/criteria-go.toml bash examples/fasseg-gate/run.sh reports/fasseg-gate-go >/dev/null
bash examples/fasseg-gate/run.sh reports/fasseg-gate >/dev/null
copy reports/fasseg-gate "$dest/fasseg-gate" report.md report.html metrics.csv
cp reports/fasseg-gate-go/report.md "$dest/fasseg-gate/report-go.md"
bash examples/fasseg-sweep/run.sh reports/fasseg-sweep >/dev/null
copy reports/fasseg-sweep "$dest/fasseg-sweep" report.md report.html metrics.csv
bash examples/skin-modules/run.sh reports/skin-modules >/dev/null
copy reports/skin-modules "$dest/skin-modules" report.md report.html metrics.csv
gate "$mg" run examples/voc-labelme/maskgate.toml --gallery 0
copy reports/voc-labelme "$dest/voc-labelme" report.md report.html metrics.csv
# Trends across the archived example runs.
(cd "$dest/../.." && "$mg" trend docs/examples --out docs/examples/trend >/dev/null)
if [ "$check" = 1 ]; then
  # Every committed file must come out the same, and no fresh file may be missing from git.
  # diff: 0 same, 1 different, 2 trouble (which must not read as "the same").
  rc=0
  stale=$(diff -rq -x prediction-cache docs/examples "$dest") || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
  stale=$(echo "$stale" | sed -e "s|$scratch/docs/examples|(fresh run)|g")
  if [ -n "$stale" ]; then
    echo "regen_examples: committed examples differ from a fresh run:" >&2
    echo "$stale" | while IFS= read -r line; do
      case "$line" in
        Files\ *) f=${line#Files docs/examples/}; f=${f%% and *}
                  echo "  example ${f%%/*}: ${f#*/} differs" >&2 ;;
        *) echo "  $line" >&2 ;;
      esac
    done
    echo "run \`bash scripts/regen_examples.sh\` and commit docs/examples/" >&2
    exit 1
  fi
  echo "regen_examples: every committed example matches a fresh run" >&2
  exit 0
fi
# The demo's report as a browser shows it (pixels vary by browser build, so --check skips it).
vendor/py/bin/python tools/browser_check.py docs/examples/crop-gate/report.html \
  --screenshot docs/src/crop-gate-report.png >/dev/null
git status --short docs | head -40
