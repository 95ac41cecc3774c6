#!/usr/bin/env bash
# Runs the crop-model gate through Bazel: installs Debian's bazel-bootstrap (Bazel 4.2.3, which
# builds genrules offline) when missing, then `bazel run //tools:eval_crop_model`. Arguments go to
# `maskgate run`. Exit status is the gate's: 0 go, 1 no-go or inconclusive, 2 error.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bazel >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends bazel-bootstrap >&2
  else
    echo "bazel_gate: needs Debian's bazel-bootstrap (apt-get install bazel-bootstrap)" >&2
    exit 2
  fi
fi
exec bazel run //tools:eval_crop_model -- "$@"
