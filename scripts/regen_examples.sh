#!/usr/bin/env bash
# Regenerates the example reports under docs/examples/ with pinned run metadata, from the
# example scripts and configs the manual documents (docs/src/examples.md). Needs the models
# (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# One picture per list keeps the committed galleries small.
export MASKGATE_PIN=1 MASKGATE_RUN_ID=demo MASKGATE_GENERATED_AT=2026-01-01T00:00:00Z MASKGATE_GALLERY=1
bash scripts/setup.sh
cargo build --release -q -p maskgate-cli
mg=./target/release/maskgate
copy() { # copy SRC DEST FILE... : the files and the gallery, replacing the old set
  local src=$1 dst=$2; shift 2
  mkdir -p "$dst"
  for f in "$@"; do cp "$src/$f" "$dst/$f"; done
  rm -rf "$dst/gallery"
  if [ -d "$src/gallery" ]; then cp -r "$src/gallery" "$dst/gallery"; fi
}
bash scripts/demo.sh >/dev/null
copy reports/crop-gate docs/examples/crop-gate report.md report.html report.json metrics.csv
$mg run examples/model-gate/maskgate.toml >/dev/null 2>&1 || true
copy reports/demo docs/examples/model-gate report.md report.html report.json metrics.csv
CRITERIA=examples/fasseg-gate/criteria-go.toml bash examples/fasseg-gate/run.sh reports/fasseg-gate-go >/dev/null
bash examples/fasseg-gate/run.sh reports/fasseg-gate >/dev/null
copy reports/fasseg-gate docs/examples/fasseg-gate report.md report.html metrics.csv
cp reports/fasseg-gate-go/report.md docs/examples/fasseg-gate/report-go.md
bash examples/fasseg-sweep/run.sh reports/fasseg-sweep >/dev/null
copy reports/fasseg-sweep docs/examples/fasseg-sweep report.md report.html metrics.csv
bash examples/skin-modules/run.sh reports/skin-modules >/dev/null
copy reports/skin-modules docs/examples/skin-modules report.md report.html metrics.csv
$mg run examples/voc-labelme/maskgate.toml --gallery 0 >/dev/null 2>&1 || true
copy reports/voc-labelme docs/examples/voc-labelme report.md report.html metrics.csv
rm -rf docs/examples/voc-labelme/gallery
# Trends across the archived example runs, and the demo's report as a browser shows it.
$mg trend docs/examples --out docs/examples/trend >/dev/null
vendor/py/bin/python tools/browser_check.py docs/examples/crop-gate/report.html \
  --screenshot docs/src/crop-gate-report.png >/dev/null
git status --short docs | head -40
