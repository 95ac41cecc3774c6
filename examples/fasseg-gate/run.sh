#!/usr/bin/env bash
# The annotation gate: maskgate compare on real labelled photos, no model involved. FASSEG's 70 frontal faces: precise labels (V2) are the ground truth; the rough labels
# (V1) of the same photos are the baseline arm, the rough labels eroded by 2 px the candidate.
# Criteria, failure classes and reporter notes: examples/fasseg-gate/.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${MASKGATE_SHARED:-../shared}"
out="${1:-reports/fasseg-gate}"
criteria="${CRITERIA:-examples/fasseg-gate/criteria-nogo.toml}"
work="$out/inputs"
mkdir -p "$work"
# MASKGATE_BIN: a maskgate already built, by a caller that has also run the setup
# (scripts/regen_examples.sh); without it, set up and build here.
if [ -z "${MASKGATE_BIN:-}" ]; then
  bash scripts/setup.sh
  cargo build --release -q -p maskgate-cli
fi
mg=${MASKGATE_BIN:-./target/release/maskgate}
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V2" --out "$work/precise.ndjson" --relative-to "$work"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V1" --out "$work/rough.ndjson" --relative-to "$work"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V1" --out "$work/rough_eroded.ndjson" --relative-to "$work" --erode 2
status=0
# The gold file's photos are the shared FASSEG ones: allow that folder as the image root.
$mg compare --corpus fasseg --gold "$work/precise.ndjson" --image-root "$shared" \
  --pred rough="$work/rough.ndjson" --pred rough_eroded="$work/rough_eroded.ndjson" \
  --baseline rough --criteria "$criteria" --notes examples/fasseg-gate/notes.json --out "$out" \
  ${MASKGATE_PIN:+--run-id demo --generated-at 2026-01-01T00:00:00Z} || status=$?
echo "report: $out/report.md"
# 0 = go, 1 = no-go / inconclusive: both are a finished gate. 2 = the run itself failed.
[ "$status" -le 1 ]
