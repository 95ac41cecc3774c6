"""Synthetic face-parsing-like corpus for the scoring benchmark: N samples of HxW label maps
with K classes (0 = background), as gold NDJSON + predictions JSONL with COCO RLE per class.

`unique` distinct (gt, pred) pairs are generated and repeated under new ids, so generation stays
fast; scoring cost does not depend on repetition.
"""
import json, sys
import numpy as np
from pycocotools import mask as mu

n, h, w, k, unique, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
# Optional 7th argument "2": also a second arm, pred2.jsonl, shifted the other way.
arms = int(sys.argv[7]) if len(sys.argv) > 7 else 1
rng = np.random.default_rng(7)
yy, xx = np.mgrid[0:h, 0:w]


def label_map(shift):
    lm = np.zeros((h, w), np.uint8)
    for c in range(1, k):
        cy, cx = rng.uniform(0.15, 0.85) * h, rng.uniform(0.15, 0.85) * w
        ry, rx = rng.uniform(0.05, 0.3) * h, rng.uniform(0.05, 0.3) * w
        lm[((yy - cy - shift) / ry) ** 2 + ((xx - cx + shift) / rx) ** 2 <= 1] = c
    return lm


def line(i, lm):
    masks = {}
    for c in range(k):
        r = mu.encode(np.asfortranarray((lm == c).astype(np.uint8)))
        masks[f"class{c:02d}"] = {"size": [h, w], "counts": r["counts"].decode()}
    return json.dumps({"id": f"s{i:05d}", "source": "synthetic", "size": [h, w], "masks": masks})


pairs = []
for u in range(unique):
    state = rng.bit_generator.state
    gt = label_map(0)
    rng.bit_generator.state = state  # same shapes, shifted: a realistic imperfect prediction
    pred = label_map(5)
    rng.bit_generator.state = state
    pred2 = label_map(-3)
    pairs.append((gt, pred, pred2))
with open(f"{out}/gold.ndjson", "w") as g, open(f"{out}/pred.jsonl", "w") as p:
    p2 = open(f"{out}/pred2.jsonl", "w") if arms > 1 else None
    for i in range(n):
        gt, pred, pred2 = pairs[i % unique]
        g.write(line(i, gt) + "\n")
        p.write(line(i, pred) + "\n")
        if p2:
            p2.write(line(i, pred2) + "\n")
    if p2:
        p2.close()
