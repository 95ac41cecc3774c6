"""The scoring the benchmark compares against: pycocotools decode + numpy bincount confusion,
per-sample x class TP/FP/FN, IoU, Dice, precision, recall, then per-class means. Sequential,
as a team's evaluation script would be."""
import json, sys, time
import numpy as np
from pycocotools import mask as mu

gold_path, pred_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()


def load(path):
    out = {}
    with open(path) as f:
        for l in f:
            d = json.loads(l)
            out[d["id"]] = d
    return out


gold, pred = load(gold_path), load(pred_path)
classes = sorted({c for d in gold.values() for c in d["masks"]})
k = len(classes)


def labels(d, h, w):
    rles = [{"size": d["masks"][c]["size"], "counts": d["masks"][c]["counts"].encode()} for c in classes]
    m = mu.decode(rles)  # h x w x k, one channel per class
    return np.argmax(m, axis=2).astype(np.int64)


sums = {c: [] for c in classes}
for sid in sorted(gold):
    g = gold[sid]
    h, w = g["size"]
    gl, pl = labels(g, h, w), labels(pred[sid], h, w)
    conf = np.bincount((gl * k + pl).ravel(), minlength=k * k).reshape(k, k)
    tp = np.diag(conf)
    fp = conf.sum(0) - tp
    fn = conf.sum(1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = tp / (tp + fp + fn)
        dice = 2 * tp / (2 * tp + fp + fn)
        prec = tp / (tp + fp)
        rec = tp / (tp + fn)
    for i, c in enumerate(classes):
        sums[c].append((iou[i], dice[i], prec[i], rec[i]))
means = {c: np.nanmean(np.array(v), axis=0) for c, v in sums.items()}
elapsed = time.perf_counter() - t0
print(f"{elapsed:.3f}")
print(json.dumps({c: float(m[0]) for c, m in means.items()}), file=sys.stderr)
