#!/usr/bin/env bash
# Installs the crop team's training stack, pinned (tools/yolo/requirements.lock: ultralytics
# 8.4.190, torch 2.15.0 and the rest, resolved once from PyPI), into vendor/yolo. PyPI's torch is
# the CUDA build, about 6 GB with its NVIDIA wheels; it runs on CPU here. Idempotent: a second
# run checks the versions and returns.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=vendor/yolo/bin/python
want=$(grep -E '^(ultralytics|torch)==' tools/yolo/requirements.lock | sort | tr '\n' ' ')
if [ -x "$py" ] && [ "$("$py" -m pip freeze 2>/dev/null | grep -E '^(ultralytics|torch)==' | sort | tr '\n' ' ')" = "$want" ]; then
  echo "yolo setup: vendor/yolo has $want" >&2
  exit 0
fi
echo "yolo setup: installing $want(and their pins) into vendor/yolo; torch is about 6 GB" >&2
python3 -m venv vendor/yolo
"$py" -m pip install -q --disable-pip-version-check --no-input -r tools/yolo/requirements.lock
echo "yolo setup: ready ($("$py" -c 'import ultralytics, torch; print("ultralytics", ultralytics.__version__, "torch", torch.__version__)'))" >&2
