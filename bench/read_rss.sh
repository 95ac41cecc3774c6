#!/usr/bin/env bash
# Reading is streamed: peak RSS of `maskgate inspect` (every sample loaded, face modules
# derived, class pixels counted) on FASSEG V2 (70 photos) and on the same folder repeated 10×
# (700 photos, hard links), with the same thread count. Prints both and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${MASKGATE_SHARED:-../shared}"
cargo build --release -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for k in $(seq 1 10); do
  for split in Train Test; do
    for kind in RGB Labels; do
      mkdir -p "$work/x10/${split}_$kind"
      for f in "$shared/data/fasseg/V2/${split}_$kind"/*.bmp; do
        ln "$f" "$work/x10/${split}_$kind/${k}_$(basename "$f")" 2>/dev/null || cp "$f" "$work/x10/${split}_$kind/${k}_$(basename "$f")"
      done
    done
  done
done
write_cfg() {
  cat > "$work/$1.toml" <<TOML
[[corpus]]
name = "$1"
format = "fasseg"
path = "$2"
classes = { skin = ["skin", "nose"], eyes = ["eyes"], hair = ["hair"] }
[corpus.modules]
TOML
}
write_cfg x1 "$(cd "$shared/data/fasseg/V2" && pwd)"
write_cfg x10 "$work/x10"
rss() { /usr/bin/time -f "%M" ./target/release/maskgate inspect "$work/$1.toml" --json 2>&1 >/dev/null | tail -1; }
a=$(rss x1); b=$(rss x10)
echo "peak RSS, inspect with face modules: 70 samples ${a} KiB, 700 samples ${b} KiB, ratio $(python3 -c "print(round($b/$a, 2))")"
