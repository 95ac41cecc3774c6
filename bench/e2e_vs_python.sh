#!/usr/bin/env bash
# Benchmark (issue: predict): end-to-end `maskgate run` against a sequential Python harness doing
# the same job with the same ONNX Runtime, plus maskgate's wall time against the pure inference
# time of heavy models, plus peak RSS at 1x and 10x the corpus. Prints every number and ratio.
# Usage: bash bench/e2e_vs_python.sh [--light-only | --heavy-only]   (after bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
# Both sides without ONNX Runtime's telemetry (maskgate turns it off itself).
export ORT_DISABLE_TELEMETRY=1
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

# Both sides timed from outside the process, interpreter start and imports included.
wall() { local s e; s=$(now); "$@" >/dev/null 2>&1 || true; e=$(now); echo "$e - $s" | bc -l; }
# The same, for a command that must succeed: a failed run is never timed as if it had worked.
wall_ok() {
  local s e; s=$(now)
  "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
  e=$(now); echo "$e - $s" | bc -l
}
median() { sort -n | sed -n 2p; }

if [ "${1:-}" != "--heavy-only" ]; then
echo "== light models: the two MediaPipe selfie models on 70 FASSEG photos, 3 rounds"
# The same job, or the times mean nothing: every round's three outputs are fresh and checked.
# Pillow's resizing is not MediaPipe's, so per-sample IoUs agree closely, not exactly.
check_round() {
$py - "$work" <<'PY'
import csv, json, sys
w = sys.argv[1]
py = {(r["arm"], r["id"]): float(r["iou"]) for r in csv.DictReader(open(f"{w}/python.csv"))}
mg = {}
for l in open(f"{w}/selfie/samples.jsonl"):
    d = json.loads(l)
    mg[(d["arm"], d["id"])] = d["classes"]["foreground"]["iou"]
assert py.keys() == mg.keys(), "different samples"
lean = {(r["arm"], r["id"]): float(r["iou"]) for r in csv.DictReader(open(f"{w}/python-lean.csv"))}
assert lean.keys() == mg.keys(), "the leanest harness scored different samples"
assert all(d["fail_reason"] is None for d in map(json.loads, open(f"{w}/selfie/samples.jsonl"))), "a refused sample"
lean_diff = sum(abs(lean[k] - mg[k]) for k in lean) / len(lean)
assert lean_diff < 0.005, f"the leanest harness disagrees: mean |diff| {lean_diff:.4f}"
diffs = [abs(py[k] - mg[k]) for k in py]
for arm in sorted({a for a, _ in py}):
    m = lambda d: sum(v for (a, _), v in d.items() if a == arm) / sum(1 for a, _ in d if a == arm)
    print(f"mean IoU {arm}: python {m(py):.4f}, maskgate {m(mg):.4f}")
print(f"per-sample IoU, python vs maskgate: mean |diff| {sum(diffs) / len(diffs):.4f}, max {max(diffs):.4f} over {len(py)} pairs")
assert sum(diffs) / len(diffs) < 0.005, "the two jobs disagree"
PY
}
ratios=(); leanest=()
for round in 1 2 3; do
  rm -rf "$work/selfie" "$work/python.csv" "$work/python-lean.csv"
  py_t=$(wall_ok $py bench/python_harness.py "$shared" "$work/python.csv")
  lean_t=$(wall_ok $py bench/python_harness.py --threshold-labels "$shared" "$work/python-lean.csv")
  mg_t=$(wall_ok $mg run examples/selfie-ab/maskgate.toml --no-cache --out "$work/selfie")
  r=$(echo "$py_t / $mg_t" | bc -l); l=$(echo "$lean_t / $mg_t" | bc -l)
  ratios+=("$r"); leanest+=("$l")
  printf 'round %d: lean python harness %.3f s (labels by background threshold: %.3f s), maskgate run (every report, CIs, gallery) %.3f s: %.2fx (%.2fx)\n' "$round" "$py_t" "$lean_t" "$mg_t" "$r" "$l"
  check_round
done
spread() { printf 'median %.2fx (min %.2fx, max %.2fx)' "$(printf '%s\n' "$@" | median)" "$(printf '%s\n' "$@" | sort -n | head -1)" "$(printf '%s\n' "$@" | sort -n | tail -1)"; }
echo "light-model gate speed-up: $(spread "${ratios[@]}")"
echo "against the leanest harness (background threshold labels): $(spread "${leanest[@]}")"
fi
[ "${1:-}" = "--light-only" ] && exit 0

echo "== heavy models: u2netp + ISNet on the demo's 16 photos, 3 rounds"
# The demo's seeded sample: its ids from a (cached) run.
$mg run examples/model-gate/maskgate.toml --out "$work/heavy" >/dev/null 2>&1 || true
ids=$($py -c 'import json,sys; print("\n".join(sorted({json.loads(l)["id"] for l in open(sys.argv[1])})))' "$work/heavy/samples.jsonl")
photos=$(for i in $ids; do echo "$shared/data/fasseg/V2/${i%%/*}_RGB/${i#*/}.bmp"; done)
for round in 1 2 3; do
  read -r pure_all pure_unique < <($py bench/python_harness.py --pure-inference vendor/models/u2netp.onnx vendor/models/isnet_quint8.onnx -- $photos)
  t=$(wall $mg run examples/model-gate/maskgate.toml --no-cache --out "$work/heavy")
  printf 'round %d: pure inference (python ORT, session.run only) %.2f s over %d photos, %.2f s over distinct photos; maskgate process wall %.2f s: wall / pure %.3f (distinct photos: %.3f)\n' \
    "$round" "$pure_all" "$(echo "$photos" | wc -l)" "$pure_unique" "$t" "$(echo "$t / $pure_all" | bc -l)" "$(echo "$t / $pure_unique" | bc -l)"
done

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
