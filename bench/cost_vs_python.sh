#!/usr/bin/env bash
# Benchmark (issue: cost in the gate, item 6): is maskgate's measured latency what a user timing
# the same model with ONNX Runtime in Python would see? maskgate runs the gate's arms (rembg's
# u2netp and MediaPipe's selfie model) over N FASSEG photos with --cost --no-cache --threads 1
# (one photo at a time: nothing else competes for the cores), and reads each arm's p50 from
# cost.json; Python times `InferenceSession.run` in a loop on the same photos, with the same
# session settings (intra-op threads as cost.json reports them, the memory arena on and the
# memory pattern off as maskgate sets them, only the outputs maskgate reads) and the same
# warm-up, timed just before and just after each maskgate run (their mean brackets the host's
# drift on a shared machine). Prints both p50s and their ratio per run, 3 runs; fails when a ratio is outside
# 0.9–1.1.
# Usage: bash bench/cost_vs_python.sh [N]   (after bash scripts/setup.sh and scripts/setup_parity.sh)
#        MASKGATE_BIN=target/debug/maskgate bash bench/cost_vs_python.sh   (skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-24}
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
work="$PWD/bench/.work/cost-vs-python"
rm -rf "$work" && mkdir -p "$work"
if [ -z "${MASKGATE_BIN:-}" ]; then
  cargo build --release -q -p maskgate-cli
  MASKGATE_BIN=./target/release/maskgate
fi
python=vendor/parity/bin/python
[ -x "$python" ] || { echo "run bash scripts/setup_parity.sh first (onnxruntime for Python)"; exit 2; }
cat > "$work/gate.toml" <<TOML
[run]
baseline = "selfie"
[[corpus]]
name = "fasseg"
format = "fasseg"
path = "$shared/data/fasseg/V2"
classes = { foreground = ["hair", "skin", "eyes", "nose", "mouth"] }
sample_seed = "cost-bench"
limit = $n
[[arm]]
name = "selfie"
adapter = "mediapipe-selfie"
model = "$shared/models/mediapipe_selfie_segmentation_256.onnx"
class = "foreground"
[[arm]]
name = "u2netp"
adapter = "rembg"
session = "u2netp"
model = "$PWD/vendor/models/u2netp.onnx"
class = "foreground"
TOML
# Python's side: times each arm's model on the photos maskgate scored, with the session settings
# cost.json reports; prints {arm: p50_ms}.
cat > "$work/time_python.py" <<'PY'
import json, os, sys, time
import numpy as np, onnxruntime as ort
from PIL import Image
out, root, selfie, u2netp = sys.argv[1:5]
cost = json.load(open(os.path.join(out, "cost.json")))
# The photos maskgate scored (ids are Test/12 → Test_RGB/12.bmp).
ids = sorted({json.loads(l)["id"] for l in open(os.path.join(out, "samples.jsonl"))})
photos = [os.path.join(root, i.split("/")[0] + "_RGB", i.split("/")[1] + ".bmp") for i in ids]
models = {
    "selfie": (selfie, 256, lambda a: a / 255.0),
    "u2netp": (u2netp, 320, lambda a: (a / max(a.max(), 1e-6) - 0.45) / 0.225),
}
p50 = {}
for arm in cost["arms"]:
    path, size, norm = models[arm["arm"]]
    so = ort.SessionOptions()
    so.intra_op_num_threads = arm["intra_threads"]
    so.enable_mem_pattern = False
    so.enable_cpu_mem_arena = True
    if not arm["exclusive"]:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    first_output = [sess.get_outputs()[0].name]
    lat = []
    for p in photos:
        img = Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR)
        x = norm(np.asarray(img, dtype=np.float32)).transpose(2, 0, 1)[None].astype(np.float32)
        t = time.perf_counter_ns()
        sess.run(first_output, {inp.name: x})
        lat.append(time.perf_counter_ns() - t)
    p50[arm["arm"]] = float(np.percentile(np.array(lat[cost["warmup"]:], dtype=np.float64) / 1e6, 50))
print(json.dumps(p50))
PY
py() { "$python" "$work/time_python.py" "$1" "$shared/data/fasseg/V2" \
  "$shared/models/mediapipe_selfie_segmentation_256.onnx" "$PWD/vendor/models/u2netp.onnx"; }
mg() { "$MASKGATE_BIN" run "$work/gate.toml" --cost --no-cache --threads 1 --gallery 0 \
  --format json,jsonl --out "$1" > /dev/null 2>&1; }
# A first maskgate run only to know the photos and session settings Python must use.
mg "$work/first"
fail=0
for run in 1 2 3; do
  # Python, maskgate, Python: the host's drift between the timings is bracketed.
  before=$(py "$work/first")
  mg "$work/run$run"
  after=$(py "$work/first")
  "$python" - "$work/run$run/cost.json" "$before" "$after" "$run" <<'PY' || fail=1
import json, sys
cost, before, after, run = json.load(open(sys.argv[1])), json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
bad = False
for arm in cost["arms"]:
    name = arm["arm"]
    mg, py = arm["latency"]["p50_ms"], (before[name] + after[name]) / 2
    ratio = mg / py
    print(f"run {run}: {name:7s} maskgate p50 {mg:8.2f} ms ({arm['measured']} photos)   Python p50 {py:8.2f} ms (mean of {before[name]:.2f} before, {after[name]:.2f} after)   ratio {ratio:.3f}   intra_threads {arm['intra_threads']}")
    bad |= not 0.9 <= ratio <= 1.1
sys.exit(1 if bad else 0)
PY
done
[ "$fail" = 0 ] && echo "maskgate's p50 is within 10% of Python's on every run" || { echo "a ratio fell outside 0.9–1.1"; exit 1; }
