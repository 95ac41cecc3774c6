#!/usr/bin/env bash
# Benchmark (issue: predict): end-to-end `maskgate run` against a sequential Python harness doing
# the same job with the same ONNX Runtime, plus maskgate's wall time against the pure inference
# time of heavy models, plus peak RSS at 1x and 10x the corpus. Prints every number and ratio.
# Usage: bash bench/e2e_vs_python.sh   (after bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
work=bench/.work/e2e
mkdir -p "$work"
venv=bench/.work/venv-e2e
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pillow==12.0.0 numpy==2.3.5 onnxruntime==1.31.1
fi
py="$venv/bin/python"
cargo build --release -q -p maskgate-cli
mg=./target/release/maskgate
now() { date +%s.%N; }
best_of() { sort -n | head -1; }

echo "== light models: the two MediaPipe selfie models on 70 FASSEG photos (best of 3)"
py_t=$(for i in 1 2 3; do $py bench/python_harness.py "$shared" "$work/python.csv"; done | best_of)
mg_t=$(for i in 1 2 3; do s=$(now); $mg run examples/selfie-ab/maskgate.toml --no-cache --out "$work/selfie" 2>/dev/null; e=$(now); echo "$e - $s" | bc -l; done | best_of)
printf 'python harness (sequential, PIL+numpy): %.3f s\nmaskgate run (all reports, CIs): %.3f s\nspeed-up: %.2fx\n' "$py_t" "$mg_t" "$(echo "$py_t / $mg_t" | bc -l)"
# Same numbers from both, or the times mean nothing.
$py - "$work" <<'PY'
import csv, json, sys
w = sys.argv[1]
py = {(r["arm"], r["id"]): float(r["iou"]) for r in csv.DictReader(open(f"{w}/python.csv"))}
mg = {}
for l in open(f"{w}/selfie/samples.jsonl"):
    d = json.loads(l)
    mg[(d["arm"], d["id"])] = d["classes"]["foreground"]["iou"]
diff = max(abs(py[k] - mg[k]) for k in py)
print(f"per-sample IoU, python vs maskgate: max |diff| {diff:.2e} over {len(py)} pairs")
PY

echo "== heavy models: u2netp + ISNet on the demo's 16 photos"
$mg run examples/model-gate/maskgate.toml --no-cache --out "$work/heavy" 2> "$work/heavy.log" || true
grep -E "^arm |scored" "$work/heavy.log"
photos=$($py - <<'PY'
import json
r = json.load(open("bench/.work/e2e/heavy/report.json"))
ids = sorted({s["id"] for s in [json.loads(l) for l in open("bench/.work/e2e/heavy/samples.jsonl")]})
import os
root = os.path.realpath(os.path.join("examples/model-gate", "../../../shared/data/fasseg/V2"))
print(" ".join(os.path.join(root, i.replace("/", "_RGB/", 1) + ".bmp") for i in ids))
PY
)
pure=$($py bench/python_harness.py --pure-inference vendor/models/u2netp.onnx vendor/models/isnet_quint8.onnx -- $photos)
wall=$(grep -oE "scored in [0-9.]+" "$work/heavy.log" | grep -oE "[0-9.]+")
printf 'pure inference (python ORT, session.run only, sequential): %.2f s\nmaskgate wall (read, decode, pre/post-process, infer, score, compare): %.2f s\nwall / pure inference: %.3f\n' "$pure" "$wall" "$(echo "$wall / $pure" | bc -l)"

echo "== peak RSS, selfie pair, 1x and 10x the corpus (gold NDJSON, --no-cache)"
$mg convert --format fasseg --corpus fasseg --path "$shared/data/fasseg/V2" --out "$work/gold1.ndjson"
$py - "$work" <<'PY'
import json, sys
w = sys.argv[1]
lines = [json.loads(l) for l in open(f"{w}/gold1.ndjson")]
with open(f"{w}/gold10.ndjson", "w") as f:
    for k in range(10):
        for d in lines:
            d = dict(d, id=f"{d['id']}#{k}")
            # one foreground class, as the selfie arms predict
            f.write(json.dumps(d) + "\n")
PY
for n in 1 10; do
  cat > "$work/rss$n.toml" <<TOML
[run]
baseline = "selfie"
[[corpus]]
name = "fasseg"
format = "gold-ndjson"
path = "gold$n.ndjson"
options = { image_root = "$shared" }
[[arm]]
name = "selfie"
adapter = "mediapipe-selfie"
model = "$shared/models/mediapipe_selfie_segmentation_256.onnx"
class = "skin"
[[arm]]
name = "landscape"
adapter = "mediapipe-selfie"
model = "$shared/models/mediapipe_selfie_segmentation_landscape_144x256.onnx"
class = "skin"
TOML
  /usr/bin/time -f "%M" -o "$work/rss$n.txt" $mg run "$work/rss$n.toml" --no-cache --out "$work/rss$n" 2>/dev/null || true
  printf 'corpus %2dx (%4d samples): peak RSS %d MiB\n' "$n" "$((70 * n))" "$(( $(cat "$work/rss$n.txt") / 1024 ))"
done
