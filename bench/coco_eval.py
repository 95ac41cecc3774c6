"""The Python half of bench/coco_eval.sh: writes a seeded corpus of N images (640x480) x 20
ground-truth instances over 3 categories (some crowds) with about 22 detections each (shifted
copies, misses, false positives, scores with ties), as COCO JSON for pycocotools and as lines
for the Rust half; then times pycocotools 2.0.11's COCOeval(gt, dt, "segm") evaluate +
accumulate + summarize (files already loaded), 3 runs, and prints its stats as bit patterns.

Usage: python coco_eval.py gen WORK N | python coco_eval.py time WORK"""
import contextlib
import io
import json
import random
import struct
import sys
import time

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

H, W = 480, 640


def shape(rng):
    m = np.zeros((H, W), np.uint8)
    side = int(rng.choice([20, 40, 80, 150, 250]) * rng.uniform(0.7, 1.3))
    bh, bw = min(H - 2, max(3, int(side * rng.uniform(0.6, 1.4)))), min(W - 2, max(3, int(side * rng.uniform(0.6, 1.4))))
    y, x = rng.randrange(0, H - bh), rng.randrange(0, W - bw)
    if rng.random() < 0.5:
        m[y : y + bh, x : x + bw] = 1
    else:
        yy, xx = np.ogrid[0:H, 0:W]
        m[(((yy - y - bh / 2) / (bh / 2)) ** 2 + ((xx - x - bw / 2) / (bw / 2)) ** 2) <= 1] = 1
    return m


def enc(m):
    r = mask_utils.encode(np.asfortranarray(m))
    r["counts"] = r["counts"].decode()
    return r


def gen(work, n):
    rng = random.Random(20261207)
    images = [{"id": i + 1, "height": H, "width": W} for i in range(n)]
    cats = [{"id": c, "name": str(c)} for c in (1, 2, 3)]
    anns, dts, lines = [], [], []
    for img in images:
        for _ in range(20):
            m = shape(rng)
            cat = rng.choice((1, 2, 3))
            crowd = int(rng.random() < 0.03)
            r = enc(m)
            area = float(mask_utils.area(r))
            aid = len(anns) + 1
            anns.append({"id": aid, "image_id": img["id"], "category_id": cat, "segmentation": r, "area": area, "iscrowd": crowd})
            lines.append(f"g {img['id'] - 1} {cat - 1} {aid} {crowd} {area!r} 0 {H} {W} {r['counts']}")
            if rng.random() < 0.85:
                d = np.roll(m, (rng.randint(-8, 8), rng.randint(-8, 8)), axis=(0, 1))
                dts.append((img["id"], cat if rng.random() < 0.9 else rng.choice((1, 2, 3)), enc(d), rng.choice([0.5, round(rng.random(), 3)])))
        for _ in range(rng.randint(2, 6)):
            dts.append((img["id"], rng.choice((1, 2, 3)), enc(shape(rng)), round(rng.random(), 3)))
    for image_id, cat, r, score in dts:
        lines.append(f"d {image_id - 1} {cat - 1} 0 0 0 {score!r} {H} {W} {r['counts']}")
    json.dump({"images": images, "categories": cats, "annotations": anns}, open(f"{work}/gt.json", "w"))
    json.dump([{"image_id": i, "category_id": c, "segmentation": r, "score": s} for i, c, r, s in dts], open(f"{work}/dt.json", "w"))
    open(f"{work}/instances.txt", "w").write("\n".join(lines) + "\n")
    print(f"{n} images, {len(anns)} ground-truth instances, {len(dts)} detections")


def time_it(work):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(f"{work}/gt.json")
        dt = gt.loadRes(f"{work}/dt.json")
    for run in range(3):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            e = COCOeval(gt, dt, "segm")
            e.evaluate()
            e.accumulate()
            e.summarize()
        s = time.perf_counter() - t
        print(f"pycocotools {s:.3f}")
    print("stats " + " ".join(str(struct.unpack("<Q", struct.pack("<d", float(v)))[0]) for v in e.stats))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
    else:
        time_it(sys.argv[2])
