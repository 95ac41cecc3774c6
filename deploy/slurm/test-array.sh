#!/usr/bin/env bash
# The Slurm recipe run for real: a single-node cluster from Debian's slurm-wlm and munge
# (local-cluster.sh), the two MediaPipe selfie models over FASSEG's 70 photos as a job array of
# 4 shards (2 at once) with the merge as a dependent job, through submit.sh exactly as a user
# runs it. The merged reports must equal an unsharded run byte for byte.
#   deploy/slurm/test-array.sh [MASKGATE_BINARY]   (default target/debug/maskgate)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin=$(realpath "${1:-$root/target/debug/maskgate}")
shared=$(realpath "${MASKGATE_SHARED:-$root/../shared}")
started=$(date +%s.%N)
work=$(mktemp -d /tmp/maskgate-slurm-test.XXXXXX)
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        for f in "$work"/sharded/*.out; do [[ -f "$f" ]] && { echo "== $f"; cat "$f"; } >&2; done
    fi
    "$root/deploy/slurm/local-cluster.sh" stop >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
# MinJobAge 5: `sbatch --wait` then polls every 2 s instead of backing off to 32 s.
SLURM_MIN_JOB_AGE=5 "$root/deploy/slurm/local-cluster.sh" start
cat >"$work/gate.toml" <<TOML
[run]
baseline = "selfie"
bootstrap = 200

[[corpus]]
name = "fasseg"
format = "fasseg"
path = "$shared/data/fasseg/V2"
classes = { foreground = ["hair", "skin", "eyes", "nose", "mouth"] }

[[arm]]
name = "selfie"
adapter = "mediapipe-selfie"
model = "$shared/models/mediapipe_selfie_segmentation_256.onnx"
class = "foreground"

[[arm]]
name = "landscape"
adapter = "mediapipe-selfie"
model = "$shared/models/mediapipe_selfie_segmentation_landscape_144x256.onnx"
class = "foreground"
TOML
export MASKGATE="$bin" MASKGATE_RUN_ID=slurm MASKGATE_GENERATED_AT=2026-01-01T00:00:00Z
export MASKGATE_CACHE="$work/cache"
submitted=$(date +%s.%N)
SLURM_WAIT=1 "$root/deploy/slurm/submit.sh" "$work/gate.toml" "$work/sharded" 4 2
finished=$(date +%s.%N)
ls "$work"/sharded/shards/*/of-4/ | grep -c commit.json | grep -qx 4
"$bin" run "$work/gate.toml" --no-cache --out "$work/single" 2>/dev/null
diff -r --exclude=shards --exclude='*.out' "$work/sharded" "$work/single"
awk -v a="$started" -v s="$submitted" -v f="$finished" -v b="$(date +%s.%N)" 'BEGIN {
  printf "slurm array test passed: 4 shards + merge in %.1f s under sbatch --wait, %.1f s in all (cluster start included); merged reports identical to the unsharded run\n", f - s, b - a }'
