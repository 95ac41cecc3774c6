#!/usr/bin/env bash
# Installs, from the registries, the real packages the parity tests run as references
# (crates/maskgate/tests/library/real_parity.rs): rembg 2.0.86 with Pillow 13.0.0 (and scipy
# 1.17.1, the statistics reference) in vendor/parity;
# Pillow 12.3.0 in vendor/pil12 (put first on PYTHONPATH, for production pinned to Pillow 12);
# MediaPipe 0.10.14, the last release with the legacy selfie segmentation, in vendor/parity-mp
# (its own venv: it needs numpy < 2). MediaPipe's declared dependencies include jax, which the
# legacy solutions never import, so it is installed without them plus the ones they do import;
# and @imgly/background-removal-node 1.4.5 from npm in vendor/imgly.
# ONNX Runtime is pinned to the version whose library maskgate loads (scripts/fetch_assets.py),
# so that both sides run the same kernels. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
ort=$(sed -n 's/^ORT_VERSION = "\(.*\)"/\1/p' scripts/fetch_assets.py)
py=vendor/parity/bin/python
# scipy comes with rembg; pinned here, it is also the reference for the paired tests' p-values
# (crates/maskgate-core/tests/scipy_reference.rs).
want="rembg==2.0.86 pillow==13.0.0 onnxruntime==$ort scipy==1.17.1"
if [ ! -x "$py" ] || ! "$py" -c "
from importlib.metadata import version as v
assert (v('rembg'), v('pillow'), v('onnxruntime'), v('scipy')) == ('2.0.86', '13.0.0', '$ort', '1.17.1')" 2>/dev/null; then
  rm -rf vendor/parity
  python3 -m venv vendor/parity
  # (here and below): Python compiles the modules a test imports when it first
  # imports them, rather than pip every file of every package while CI compiles beside it.
  "$py" -m pip install -q --disable-pip-version-check $want
fi
if ! PYTHONPATH=vendor/pil12 "$py" -c "import PIL; assert PIL.__version__ == '12.3.0'" 2>/dev/null; then
  rm -rf vendor/pil12
  "$py" -m pip install -q --disable-pip-version-check --no-deps --target vendor/pil12 pillow==12.3.0
fi
mp=vendor/parity-mp/bin/python
if [ ! -x "$mp" ] || ! "$mp" -c "
from importlib.metadata import version as v
import mediapipe.python.solutions.selfie_segmentation
assert v('mediapipe') == '0.10.14'" 2>/dev/null; then
  rm -rf vendor/parity-mp
  python3 -m venv vendor/parity-mp
  "$mp" -m pip install -q --disable-pip-version-check --no-deps mediapipe==0.10.14
  "$mp" -m pip install -q --disable-pip-version-check absl-py attrs flatbuffers "numpy<2" \
    "protobuf>=4.25.3,<5" "opencv-contrib-python<4.12" matplotlib sounddevice
fi
# IMG.LY's Node package, from the lock file in tools/imgly. onnxruntime-node's CPU library ships
# in the package; its install script would only fetch the CUDA one, from GitHub.
if ! cmp -s tools/imgly/package-lock.json vendor/imgly/package-lock.json \
   || [ ! -d vendor/imgly/node_modules/@imgly/background-removal-node ]; then
  rm -rf vendor/imgly
  mkdir -p vendor/imgly
  cp tools/imgly/package.json tools/imgly/package-lock.json vendor/imgly/
  (cd vendor/imgly && npm ci --silent --no-audit --no-fund --onnxruntime-node-install-cuda=skip)
fi
echo "setup_parity: ready (rembg 2.0.86, Pillow 13.0.0 and 12.3.0, onnxruntime $ort; mediapipe 0.10.14;
  @imgly/background-removal-node 1.4.5)" >&2
