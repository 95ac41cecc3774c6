#!/usr/bin/env bash
# The gold-AB workflow on real photos: 9 post-processing variants (3 single, 2 sweeps) of the
# rough FASSEG labels against the precise ones, a composite score, a recommended variant, and a
# gallery of the worst regressions and best improvements. Reports in reports/fasseg-sweep/.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${MASKGATE_SHARED:-../shared}"
out="${1:-reports/fasseg-sweep}"
work="$out/inputs"
mkdir -p "$work"
# MASKGATE_BIN: a maskgate already built (scripts/regen_examples.sh passes it).
[ -n "${MASKGATE_BIN:-}" ] || cargo build --release -q -p maskgate-cli
mg=${MASKGATE_BIN:-./target/release/maskgate}
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V2" --out "$work/precise.ndjson" --relative-to "$work"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V1" --out "$work/rough.ndjson" --relative-to "$work"
$mg compare --corpus fasseg --gold "$work/precise.ndjson" --image-root "$shared" --pred rough="$work/rough.ndjson" --baseline rough \
  --variants examples/fasseg-sweep/variants.toml --out "$out" --run-id sweep --generated-at 2026-01-01T00:00:00Z
echo "report: $out/report.md"
