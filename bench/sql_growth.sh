#!/usr/bin/env bash
# Memory of a database corpus: peak RSS of `maskgate run` on an SQLite table of 1,000 and of
# 100,000 flagged rows (each a 64×64 PNG mask blob, a note and a JSON source, scored against a
# predictions arm and a copy of itself, default 2,000-resample bootstrap), and the growth per
# sample between the two. Rows stream from the database and masks go to a spill file, so what
# grows is the listing (id, note, meta) and the per-sample scores. Also prints `inspect` (every
# sample loaded, no scoring) for the listing alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p maskgate-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, sqlite3, struct, sys, zlib
from pathlib import Path
work = Path(sys.argv[1])

def png(w, h, on):
    raw = b"".join(b"\0" + bytes(255 if on(x, y) else 0 for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

mask = png(64, 64, lambda x, y: 16 <= x < 48 and 16 <= y < 48)
for n in (1000, 100000):
    d = work / str(n)
    d.mkdir()
    db = sqlite3.connect(d / "app.db")
    db.executescript("CREATE TABLE crop_run (id integer PRIMARY KEY, source text, notes text, mask BLOB);")
    db.executemany("INSERT INTO crop_run VALUES (?, ?, ?, ?)",
                   ((i, json.dumps({"type": "human", "backend": "rembg"}), f"glare on item {i}", mask)
                    for i in range(n)))
    db.commit()
    with open(d / "pred.jsonl", "w") as f:
        for i in range(n):
            # The ground-truth square itself, as COCO RLE (column-major): IoU 1 everywhere.
            counts = [1040] + [32, 32] * 31 + [32, 1040]
            f.write(json.dumps({"id": str(i), "masks": {"foreground": {"size": [64, 64], "counts": counts}}}) + "\n")
    for name, arms in (("run", True), ("inspect", False)):
        text = f"""[run]
baseline = "copy"
out = "{d}/out"
[[corpus]]
name = "flagged"
format = "sql"
url = "sqlite:app.db"
query = "SELECT id, mask, notes, source AS meta FROM crop_run WHERE source ->> 'type' = 'human'"
"""
        if arms:
            text += '[[arm]]\nname = "copy"\npredictions = "pred.jsonl"\n[[arm]]\nname = "again"\npredictions = "pred.jsonl"\n'
        (d / f"{name}.toml").write_text(text)
PY
peak() { /usr/bin/time -f "%M %e" "$@" 2>&1 >/dev/null | tail -1; }
for cmd in run inspect; do
  read -r a ta < <(peak ./target/release/maskgate $cmd "$work/1000/$cmd.toml")
  read -r b tb < <(peak ./target/release/maskgate $cmd "$work/100000/$cmd.toml")
  python3 - "$cmd" "$a" "$b" "$ta" "$tb" <<'PY'
import sys
cmd, a, b, ta, tb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
per = (b - a) * 1024 / 99000
print(f"{cmd}: peak RSS 1k rows {a} KiB ({ta:.2f} s), 100k rows {b} KiB ({tb:.2f} s); growth {per:.0f} bytes per sample")
PY
done
