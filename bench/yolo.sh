#!/usr/bin/env bash
# Benchmark (issue: the seed's YOLO-seg candidate): maskgate's yolov8-seg arm on the crop gate's
# own checkpoint (models/crop-yolo/best.onnx) over FASSEG's 70 photos, 3 rounds, against
#  1. the pure ONNX Runtime inference time of the same model on the same photos (session.run
#     alone, photo after photo, inputs prepared before the clock): target maskgate's whole
#     process wall <= 1.05x it;
#  2. Ultralytics' own `YOLO(best.onnx).predict(photo)`, photo by photo, end to end (model
#     loaded and warmed before the clock): target maskgate >= 1.5x faster per photo.
# The targets are read with the same ONNX Runtime threads everywhere: one intra-op thread per
# session (`--intra-threads 1`; maskgate then infers photos side by side, a session per busy
# worker, as a sequential predict loop cannot). The same rounds at every core (ONNX Runtime's
# default; maskgate's automatic one session on all cores) are printed beside them.
# maskgate's figure is the arm end to end: the whole `maskgate run` process (start, listing and
# reading the corpus, loading the model, decoding, inference, post-processing, scoring, and
# report.json and samples.jsonl), with the gate's extras that are not the arm's work off
# (`--bootstrap 0 --gallery 0 --format json,jsonl`); its second arm a prediction file so that only the YOLO arm
# infers. The whole gate's wall (intervals, gallery, every report) is printed beside it.
# Usage: bash bench/yolo.sh   (after bash scripts/setup.sh and bash tools/yolo/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
# Every side without ONNX Runtime's telemetry (maskgate turns it off itself).
export ORT_DISABLE_TELEMETRY=1
work=bench/.work/yolo
rm -rf "$work"; mkdir -p "$work"
py=vendor/yolo/bin/python
[ -x "$py" ] || { echo "bench: run bash tools/yolo/setup.sh first" >&2; exit 2; }
cargo build --release -q -p maskgate-cli
mg=./target/release/maskgate
model=models/crop-yolo/best.onnx
now() { date +%s.%N; }
median() { sort -n | sed -n 2p; }
photos=$(ls "$shared"/data/fasseg/V2/{Train,Test}_RGB/*.bmp)
n=$(echo "$photos" | wc -l)
cat > "$work/maskgate.toml" <<TOML
[run]
baseline = "truth"
[[corpus]]
name = "fasseg"
format = "fasseg"
path = "$shared/data/fasseg/V2"
classes = { foreground = ["hair", "skin", "eyes", "nose", "mouth"] }
[[arm]]
name = "yolo"
adapter = "yolov8-seg"
model = "$PWD/$model"
labels = ["foreground"]
[[arm]]
name = "truth"
predictions = "gold.ndjson"
TOML
# The second arm: the ground truth itself, as a prediction file (no inference).
$mg convert --config "$work/maskgate.toml" --corpus fasseg --out "$work/gold.ndjson" >/dev/null 2>&1
run_rounds() { # $1: ONNX Runtime intra-op threads (0: every core), $2: its label
  local pure=() ultra=() round p u s e m g scored mg_threads=()
  [ "$1" = 0 ] || mg_threads=(--intra-threads "$1")
  for round in 1 2 3; do
    p=$($py bench/yolo_reference.py pure "$model" "$1" $photos | tail -n 1)
    u=$($py bench/yolo_reference.py ultralytics "$model" "$1" $photos 2>/dev/null | tail -n 1)
    s=$(now); $mg run "$work/maskgate.toml" --no-cache "${mg_threads[@]}" --out "$work/gate" >/dev/null 2>&1; e=$(now)
    g=$(echo "$e - $s" | bc -l)
    s=$(now); $mg run "$work/maskgate.toml" --no-cache "${mg_threads[@]}" --bootstrap 0 --gallery 0 --format json,jsonl --out "$work/out" >/dev/null 2>&1; e=$(now)
    m=$(echo "$e - $s" | bc -l)
    # Work happened: every photo scored by the YOLO arm, none refused, instances found.
    scored=$($py -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; y=[x for x in r if x["arm"]=="yolo"]; assert len(y) == int(sys.argv[2]) and all(x["fail_reason"] is None for x in y); i = sum(x["instances"] for x in y); assert i > 0; print(len(y), i)' "$work/out/samples.jsonl" "$n")
    pure+=("$(echo "$m / $p" | bc -l)"); ultra+=("$(echo "$u / $m" | bc -l)")
    printf '%s, round %d: %d photos (yolo scored, instances: %s); pure ORT inference %.3f s, maskgate arm wall %.3f s (%.3fx the pure inference; the whole gate %.3f s); Ultralytics predict %.3f s (%.1f ms/photo) vs maskgate %.1f ms/photo: maskgate %.2fx faster\n' \
      "$2" "$round" "$n" "$scored" "$p" "$m" "$(echo "$m / $p" | bc -l)" "$g" "$u" "$(echo "$u * 1000 / $n" | bc -l)" "$(echo "$m * 1000 / $n" | bc -l)" "$(echo "$u / $m" | bc -l)"
  done
  printf '%s: maskgate wall / pure ORT inference: median %.3fx (target <= 1.05)\n' "$2" "$(printf '%s\n' "${pure[@]}" | median)"
  printf '%s: maskgate vs Ultralytics predict, per photo: median %.2fx faster (target >= 1.5)\n' "$2" "$(printf '%s\n' "${ultra[@]}" | median)"
}
run_rounds 1 "one intra-op thread per session"
run_rounds 0 "every core (ONNX Runtime's default)"
