#!/usr/bin/env bash
# The main job: sets up, then runs maskgate on real labelled photos and writes the reports.
# FASSEG's 70 frontal faces: precise labels (V2) are the ground truth; the rough labels (V1) of
# the same photos are the baseline arm, and the rough labels eroded by 2 px the candidate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
shared="${MASKGATE_SHARED:-../shared}"
out="${1:-reports/demo}"
work="$out/inputs"
mkdir -p "$work"
cargo build --release -q -p maskgate-cli
mg=./target/release/maskgate
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V2" --out "$work/precise.ndjson" --relative-to "$work"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V1" --out "$work/rough.ndjson" --relative-to "$work"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V1" --out "$work/rough_eroded.ndjson" --relative-to "$work" --erode 2
$mg compare --corpus fasseg --gold "$work/precise.ndjson" \
  --pred rough="$work/rough.ndjson" --pred rough_eroded="$work/rough_eroded.ndjson" \
  --baseline rough --out "$out" ${MASKGATE_PIN:+--run-id demo --generated-at 2026-01-01T00:00:00Z}
echo "report: $out/report.md"
