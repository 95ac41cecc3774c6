#!/usr/bin/env bash
# Benchmark (issue: variants): a 12-variant sweep over 500 samples against a single variant,
# inference excluded (the source arm is a prediction file). Prints both times and the ratio,
# with the paired bootstrap on (the default) and off.
# Usage: bash bench/sweep_cost.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
work=bench/.work/sweep
mkdir -p "$work"
. bench/numpy_venv.sh
cargo build --release -q -p maskgate-cli
if [ ! -s "$work/gold.ndjson" ] || [ "$(wc -l < "$work/gold.ndjson")" != "$N" ]; then
  $py bench/gen_corpus.py "$N" 512 512 8 50 "$work"
fi
# The sweep the issue describes: clip one class by another, dilated by px, guarded by a kept
# share; and a heavier one that also opens every class (every class changes in every variant).
write() { # $1 file stem, $2 extra op
  cat > "$work/one$1.toml" <<TOML
[[variant]]
name = "v"
from = "base"
ops = [{ op = "remove_overlap", class = "class01", other = "class02", px = 4, min_kept_share = 0.2 }$2]
TOML
  cat > "$work/twelve$1.toml" <<TOML
[[sweep]]
name = "v_{px}_{share}"
from = "base"
ops = [{ op = "remove_overlap", class = "class01", other = "class02", px = "{px}", min_kept_share = "{share}" }$2]
grid = { px = [4, 8, 12, 16], share = [0.2, 0.25, 0.3] }
TOML
}
write "" ""
write "_open" ', { op = "open", class = "*", px = 1 }'
run() { # $1 variants file, $2 extra flags
  local s e
  s=$(date +%s.%N)
  ./target/release/maskgate compare --gold "$work/gold.ndjson" --pred base="$work/pred.jsonl" --baseline base \
    --variants "$1" --gallery 0 --out "$work/out" --run-id b --generated-at t $2 2>/dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
for kind in "" "_open"; do
  for flags in "" "--bootstrap 0"; do
    one=$(for i in 1 2; do run "$work/one$kind.toml" "$flags"; done | sort -n | head -1)
    twelve=$(for i in 1 2; do run "$work/twelve$kind.toml" "$flags"; done | sort -n | head -1)
    printf '%s samples 512x512, 8 classes, sweep %s, %s:\n  1 variant: %.2f s   12 variants: %.2f s   ratio %.2fx (target < 3x)\n' \
      "$N" "${kind:-clip}" "${flags:-bootstrap 2000}" "$one" "$twelve" "$(echo "$twelve / $one" | bc -l)"
  done
done
