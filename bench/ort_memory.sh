#!/usr/bin/env bash
# Benchmark (issue: speed and memory, item 5): peak RSS and wall time of ISNet (1024² input) under
# ONNX Runtime's CPU memory arena and memory pattern, each on or off, through `maskgate run`
# (`[run] memory_arena`, `memory_pattern`), then the demo gate (u2netp + ISNet) with the old
# setting (both on) and the default (arena on, pattern off). Peak RSS from /usr/bin/time, wall
# from outside the process; per-sample IoUs are checked identical across settings.
# Usage: bash bench/ort_memory.sh   (after bash scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
work="$PWD/bench/.work/ort-memory"
rm -rf "$work" && mkdir -p "$work"
cargo build --release -q -p maskgate-cli
mg=./target/release/maskgate
config() { # config NAME ARENA PATTERN LIMIT ARMS...
  local name=$1 arena=$2 pattern=$3 limit=$4; shift 4
  {
    printf '[run]\nbaseline = "%s"\nmemory_arena = %s\nmemory_pattern = %s\n' "$1" "$arena" "$pattern"
    printf '[[corpus]]\nname = "fasseg"\nformat = "fasseg"\npath = "%s/data/fasseg/V2"\n' "$shared"
    printf 'classes = { foreground = ["hair", "skin", "eyes", "nose", "mouth"] }\nsample_seed = "model-gate-v1"\nlimit = %s\n' "$limit"
    for arm in "$@"; do
      case $arm in
        isnet | isnet_again) printf '[[arm]]\nname = "%s"\nadapter = "imgly-isnet"\nmodel = "%s/vendor/models/isnet_quint8.onnx"\nclass = "foreground"\n' "$arm" "$PWD" ;;
        u2netp) printf '[[arm]]\nname = "u2netp"\nadapter = "rembg"\nsession = "u2netp"\nmodel = "%s/vendor/models/u2netp.onnx"\nclass = "foreground"\n' "$PWD" ;;
      esac
    done
  } > "$work/$name.toml"
}
measure() { # measure NAME: prints "seconds peak_MiB"
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$1.rss" $mg run "$work/$1.toml" --no-cache --gallery 0 --out "$work/$1" >/dev/null 2>&1 || true
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc -l) $(( $(tail -1 "$work/$1.rss") / 1024 ))"
}
same_scores() { cmp -s <(grep -v '"run' "$work/$1/samples.jsonl") <(grep -v '"run' "$work/$2/samples.jsonl"); }

echo "== ISNet alone, 4 photos"
for arena in true false; do
  for pattern in true false; do
    name="isnet-arena_$arena-pattern_$pattern"
    # A run compares two arms: the second is the same model, served by the first's predictions.
    config "$name" "$arena" "$pattern" 4 isnet isnet_again
    read -r t m < <(measure "$name")
    same_scores "$name" "isnet-arena_true-pattern_true" || { echo "scores differ under $name"; exit 1; }
    printf 'arena %-5s pattern %-5s: %6.2f s, peak RSS %5d MiB\n' "$arena" "$pattern" "$t" "$m"
  done
done

echo "== the demo gate, u2netp + ISNet, 16 photos"
config demo-before true true 16 u2netp isnet
config demo-after true false 16 u2netp isnet
read -r tb mb < <(measure demo-before)
read -r ta ma < <(measure demo-after)
same_scores demo-before demo-after || { echo "scores differ"; exit 1; }
printf 'before (arena + pattern): %6.2f s, peak RSS %5d MiB\n' "$tb" "$mb"
printf 'after (arena, no pattern): %6.2f s, peak RSS %5d MiB\n' "$ta" "$ma"
printf 'peak RSS after / before: %.2f; time after / before: %.3f\n' "$(echo "$ma / $mb" | bc -l)" "$(echo "$ta / $tb" | bc -l)"
