"""Golden vectors for maskgate_core::cocoeval: what pycocotools 2.0.11's
`COCOeval(gt, dt, "segm")` gives (the 12 `stats`, for every category together and for each on its
own, as `params.catIds = [c]` evaluates it; each as its IEEE 754 bit pattern) on:

- `labelme`: the labelme sdist's COCO export (3 PASCAL VOC photos, 12 polygons, their `area`s
  as the file gives them) against detections made from it: each instance shifted, eroded or
  dilated, some dropped, some duplicated, false positives added, scores seeded;
- `generated-N`: seeded corpora of rectangles and ellipses over 3 categories on 160×120 images,
  sized to fall in every area range, with crowd regions, images without ground truth or without
  detections, tied scores, more than 100 detections on one image, and a category with no
  ground truth at all.

Masks are stored as COCO's uncompressed RLE (column-major counts, background first).
Usage: vendor/wheel-test/bin/python tools/cocoeval_vectors.py tests/fixtures/cocoeval_vectors.json
(the wheel tests' venv, which scripts/test.sh makes with pycocotools==2.0.11 and numpy==2.3.5;
deterministic)."""

import contextlib
import io
import json
import random
import struct
import sys
from pathlib import Path

import numpy as np

from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parents[1]


def counts(m):
    flat = np.asfortranarray(m.astype(np.uint8)).reshape(-1, order="F")
    out, cur, n = [], 0, 0
    for v in flat.tolist():
        if v == cur:
            n += 1
        else:
            out.append(n)
            cur, n = v, 1
    out.append(n)
    return out


def evaluate(gt_doc, dts):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_doc
        gt.createIndex()
        dt = gt.loadRes(dts) if dts else COCO()
        if not dts:
            dt.dataset = {"images": gt_doc["images"], "categories": gt_doc["categories"], "annotations": []}
            dt.createIndex()
        stats = {}
        for cats in [None] + [[c["id"]] for c in gt_doc["categories"]]:
            e = COCOeval(gt, dt, "segm")
            if cats is not None:
                e.params.catIds = cats
            e.evaluate()
            e.accumulate()
            e.summarize()
            # As bit patterns: a JSON reader need not round decimal text back to the same double.
            stats["all" if cats is None else str(cats[0])] = [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in e.stats]
    return stats


def case(name, gt_doc, dts):
    """Flattens masks to the fixture's form, in the evaluation's image and category order."""
    images = sorted(i["id"] for i in gt_doc["images"])
    cats = sorted(c["id"] for c in gt_doc["categories"])
    size = {i["id"]: (i["height"], i["width"]) for i in gt_doc["images"]}
    gts = []
    for a in gt_doc["annotations"]:
        h, w = size[a["image_id"]]
        seg = a["segmentation"]
        rle = mask_utils.frPyObjects(seg, h, w) if isinstance(seg, list) else seg
        if isinstance(rle, list):
            rle = mask_utils.merge(rle)
        if isinstance(rle.get("counts"), list):
            rle = mask_utils.frPyObjects(rle, h, w)
        m = mask_utils.decode(rle)
        gts.append({"id": a["id"], "image": images.index(a["image_id"]), "category": cats.index(a["category_id"]),
                    "size": [h, w], "counts": counts(m), "area": float(a["area"]), "crowd": bool(a.get("iscrowd", 0))})
    out_dts = []
    for d in dts:
        h, w = size[d["image_id"]]
        m = mask_utils.decode(d["segmentation"])
        out_dts.append({"image": images.index(d["image_id"]), "category": cats.index(d["category_id"]),
                        "size": [h, w], "counts": counts(m), "score": d["score"]})
    return {"name": name, "images": len(images), "categories": len(cats), "gts": gts, "dts": out_dts,
            "stats": evaluate(gt_doc, dts)}


def encode(m):
    r = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    r["counts"] = r["counts"].decode()
    return r


def labelme_case(rng):
    return case("labelme", *labelme_corpus(rng))


def labelme_corpus(rng, root=ROOT):
    """The labelme COCO export and detections made from it: (COCO document, detections)."""
    doc = json.loads((root / "vendor/data/coco/annotations.json").read_text())
    size = {i["id"]: (i["height"], i["width"]) for i in doc["images"]}
    dts = []
    for a in doc["annotations"]:
        h, w = size[a["image_id"]]
        m = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], h, w)))
        for copy in range(rng.choice([0, 1, 1, 1, 2])):
            k = rng.choice(["shift", "erode", "dilate", "same"])
            d = m.copy()
            if k == "shift":
                d = np.roll(d, (rng.randint(-12, 12), rng.randint(-12, 12)), axis=(0, 1))
            elif k in ("erode", "dilate"):
                r = rng.randint(1, 6)
                pad = np.pad(d, r)
                acc = np.ones_like(d) if k == "erode" else np.zeros_like(d)
                for dy in range(-r, r + 1):
                    for dx in range(-r, r + 1):
                        win = pad[r + dy : r + dy + h, r + dx : r + dx + w]
                        acc = acc & win if k == "erode" else acc | win
                d = acc
            dts.append({"image_id": a["image_id"], "category_id": a["category_id"], "segmentation": encode(d),
                        "score": round(rng.random(), 2)})
    for img in doc["images"]:
        h, w = img["height"], img["width"]
        for _ in range(3):
            d = np.zeros((h, w), np.uint8)
            y, x = rng.randrange(h - 40), rng.randrange(w - 40)
            d[y : y + rng.randint(5, 40), x : x + rng.randint(5, 40)] = 1
            cat = rng.choice([c["id"] for c in doc["categories"]])
            dts.append({"image_id": img["id"], "category_id": cat, "segmentation": encode(d), "score": round(rng.random(), 2)})
    return doc, dts


def shape(rng, h, w, area):
    """A rectangle or an ellipse of roughly `area` pixels."""
    m = np.zeros((h, w), np.uint8)
    side = max(2, int(area**0.5))
    bh, bw = max(2, min(h - 1, int(side * rng.uniform(0.6, 1.4)))), max(2, min(w - 1, int(side * rng.uniform(0.6, 1.4))))
    y, x = rng.randrange(0, h - bh), rng.randrange(0, w - bw)
    if rng.random() < 0.5:
        m[y : y + bh, x : x + bw] = 1
    else:
        yy, xx = np.mgrid[0:h, 0:w]
        m[(((yy - y - bh / 2) / (bh / 2)) ** 2 + ((xx - x - bw / 2) / (bw / 2)) ** 2) <= 1] = 1
    return m


def generated_case(rng, n):
    return case(f"generated-{n}", *generated_corpus(rng, n))


def generated_corpus(rng, n):
    """A seeded corpus of `n` images: (COCO document, detections)."""
    h, w = 120, 160
    images = [{"id": 10 + 3 * i, "height": h, "width": w, "file_name": f"{i}.png"} for i in range(n)]
    cats = [{"id": 7, "name": "a"}, {"id": 2, "name": "b"}, {"id": 30, "name": "c"}, {"id": 4, "name": "never"}]
    anns, dts = [], []
    aid = 1
    for i, img in enumerate(images):
        if i % 7 == 3:
            continue  # no ground truth
        for _ in range(rng.randint(0, 6)):
            cat = rng.choice([7, 2, 30])
            m = shape(rng, h, w, rng.choice([300, 900, 2000, 6000, 12000]))
            crowd = rng.random() < 0.08
            rle = encode(m)
            anns.append({"id": aid, "image_id": img["id"], "category_id": cat, "segmentation": rle,
                         "area": float(mask_utils.area(rle)), "iscrowd": int(crowd), "bbox": list(mask_utils.toBbox(rle))})
            aid += 1
            if i % 11 == 5:
                continue  # no detections for this image's instances
            for _ in range(rng.choice([0, 1, 1, 2])):
                d = np.roll(m, (rng.randint(-6, 6), rng.randint(-6, 6)), axis=(0, 1))
                dts.append({"image_id": img["id"], "category_id": cat if rng.random() < 0.9 else rng.choice([7, 2, 30]),
                            "segmentation": encode(d), "score": rng.choice([0.5, 0.75, round(rng.random(), 3)])})
        for _ in range(rng.randint(0, 4)):
            d = shape(rng, h, w, rng.choice([200, 1500, 9000]))
            dts.append({"image_id": img["id"], "category_id": rng.choice([7, 2, 30]), "segmentation": encode(d),
                        "score": round(rng.random(), 3)})
    # One image with more detections than maxDets = 100.
    for _ in range(120):
        d = shape(rng, h, w, 400)
        dts.append({"image_id": images[0]["id"], "category_id": 7, "segmentation": encode(d), "score": round(rng.random(), 2)})
    doc = {"images": images, "categories": cats, "annotations": anns}
    return doc, dts


def main():
    rng = random.Random(20261207)
    cases = [labelme_case(rng)] + [generated_case(rng, n) for n in (12, 30, 45)]
    from importlib.metadata import version

    doc = {"pycocotools": version("pycocotools"), "numpy": np.__version__, "cases": cases}
    Path(sys.argv[1]).write_text(json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
