"""Writes WORK/gold.ndjson, WORK/a.ndjson and WORK/b.ndjson: N samples x 19 classes of 32x32
masks (one run of pixels per class, in column-major order), the arms jittering the gold.
Usage: python3 bench/gen_classes.py WORK N"""
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
classes = [f"c{k:02d}" for k in range(19)]
files = {name: open(f"{work}/{name}.ndjson", "w") for name in ("gold", "a", "b")}
for i in range(n):
    sid = f"s{i:06d}"
    for name, f in files.items():
        masks = {}
        for c in classes:
            # One run of pixels in column-major order: a valid 32×32 mask; arms jitter the gold.
            start, length = rng.randrange(0, 600), rng.randrange(0, 400)
            if name != "gold":
                start, length = max(0, start + rng.randrange(-20, 21)), max(0, length + rng.randrange(-30, 31))
            masks[c] = {"size": [32, 32], "counts": [start, length, 1024 - start - length]}
        line = {"id": sid, "masks": masks}
        if name == "gold":
            line["size"] = [32, 32]
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
