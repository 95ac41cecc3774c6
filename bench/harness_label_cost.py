"""Why two light-gate ratios disagree (issue 27): the time bench/python_harness.py spends mapping
FASSEG's label colours to the nearest palette colour (np.unique, the job maskgate's reader does)
against a harness that only thresholds the background colour, on the same 70 labels, and how
many pixels the shortcut labels differently.
Usage: vendor/parity/bin/python bench/harness_label_cost.py [SHARED]
"""
import glob
import sys
import time

import numpy as np
from PIL import Image

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
PALETTE = np.array([[255, 0, 0], [127, 0, 0], [255, 255, 0], [0, 0, 255], [0, 255, 255], [0, 255, 0]], np.int32)
labels = sorted(glob.glob(f"{shared}/data/fasseg/V2/*_Labels/*.bmp"))
assert len(labels) == 70, f"{len(labels)} labels under {shared}"


def nearest_palette(path):  # bench/python_harness.py's foreground()
    lbl = np.asarray(Image.open(path).convert("RGB"))
    packed = (lbl[..., 0].astype(np.int32) << 16) | (lbl[..., 1].astype(np.int32) << 8) | lbl[..., 2]
    colours, inverse = np.unique(packed, return_inverse=True)
    rgb = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], -1)
    nearest = ((rgb[:, None, :] - PALETTE[None]) ** 2).sum(-1).argmin(1)
    return (nearest != 0)[inverse.reshape(packed.shape)]


def threshold(path):  # background is red: anything else is foreground
    lbl = np.asarray(Image.open(path).convert("RGB"))
    return ~((lbl[..., 0] > 191) & (lbl[..., 1] < 64) & (lbl[..., 2] < 64))


start = time.perf_counter()
exact = [nearest_palette(p) for p in labels]
t_exact = time.perf_counter() - start
start = time.perf_counter()
quick = [threshold(p) for p in labels]
t_quick = time.perf_counter() - start
differ = sum(int((a != b).sum()) for a, b in zip(exact, quick))
total = sum(a.size for a in exact)
print(f"70 labels: nearest palette via np.unique {t_exact:.3f} s, background threshold {t_quick:.3f} s; "
      f"{differ} of {total} pixels labelled differently")
