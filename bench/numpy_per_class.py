"""The fair scoring reference (issue 16): what a competent team writes with numpy and
pycocotools. Each sample's gold classes are decoded once, each arm's once, and per class
TP/FP/FN come from np.count_nonzero on boolean masks; IoU, Dice, precision and recall follow,
then per-(arm, class) means. Single-threaded, no argmax, no bincount.
Usage: numpy_per_class.py GOLD ARM_FILE... ; prints seconds, and the means as JSON on stderr."""
import json, sys, time
import numpy as np
from pycocotools import mask as mu

gold_path, arm_paths = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()


def load(path):
    with open(path) as f:
        return {d["id"]: d for d in map(json.loads, f)}


def decode(d, classes):
    rles = [{"size": d["masks"][c]["size"], "counts": d["masks"][c]["counts"].encode()} for c in classes]
    return mu.decode(rles).astype(bool)  # h x w x k


gold = load(gold_path)
arms = [load(p) for p in arm_paths]
classes = sorted({c for d in gold.values() for c in d["masks"]})
ious = [{c: [] for c in classes} for _ in arms]
for sid in sorted(gold):
    g = decode(gold[sid], classes)
    for a, arm in enumerate(arms):
        p = decode(arm[sid], classes)
        for i, c in enumerate(classes):
            G, P = g[:, :, i], p[:, :, i]
            tp = np.count_nonzero(G & P)
            fp = np.count_nonzero(P) - tp
            fn = np.count_nonzero(G) - tp
            union = tp + fp + fn
            iou = tp / union if union else float("nan")
            dice = 2 * tp / (2 * tp + fp + fn) if union else float("nan")
            prec = tp / (tp + fp) if tp + fp else float("nan")
            rec = tp / (tp + fn) if tp + fn else float("nan")
            ious[a][c].append((iou, dice, prec, rec))
means = [{c: float(np.nanmean(np.array(v), axis=0)[0]) for c, v in per.items()} for per in ious]
elapsed = time.perf_counter() - t0
print(f"{elapsed:.3f}")
print(json.dumps(means), file=sys.stderr)
