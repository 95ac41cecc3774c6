#!/usr/bin/env bash
# Skin-module A/B on FASSEG: per-module IoU / leakage / coverage, region overlaps (forehead on
# hair, under-eye leaks), post-processing variants and a recommended one. No model involved.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-reports/skin-modules}"
mkdir -p "$out/inputs"
# MASKGATE_BIN: a maskgate already built, by a caller that has also run the setup
# (scripts/regen_examples.sh); without it, set up and build here.
if [ -z "${MASKGATE_BIN:-}" ]; then
  bash scripts/setup.sh
  cargo build --release -q -p maskgate-cli
fi
mg=${MASKGATE_BIN:-./target/release/maskgate}
cfg=examples/skin-modules/maskgate.toml
# The rough labels, modules derived, as a prediction arm (ids match the precise corpus).
$mg convert --config "$cfg" --corpus fasseg-rough --out "$out/inputs/rough.ndjson"
status=0
$mg compare --config "$cfg" --corpus fasseg --pred rough="$out/inputs/rough.ndjson" \
  --baseline rough --variants examples/skin-modules/variants.toml \
  --criteria examples/skin-modules/criteria.toml --out "$out" \
  ${MASKGATE_PIN:+--run-id demo --generated-at 2026-01-01T00:00:00Z} || status=$?
echo "report: $out/report.md"
# 0 = go, 1 = no-go / inconclusive: both are a finished gate. 2 = the run itself failed.
[ "$status" -le 1 ]
