"""Why two light-gate ratios disagree (issue 27): the time bench/python_harness.py spends mapping
FASSEG's label colours to the nearest palette colour (np.unique, the job maskgate's reader does)
against a harness that only thresholds the background colour, on the same 70 labels, and how
many pixels the shortcut labels differently.
Usage: vendor/parity/bin/python bench/harness_label_cost.py [SHARED]
"""
import glob
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_harness import foreground as nearest_palette  # noqa: E402  the harness's own mapping

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
labels = sorted(glob.glob(f"{shared}/data/fasseg/V2/*_Labels/*.bmp"))
assert len(labels) == 70, f"{len(labels)} labels under {shared}"


def threshold(path):  # background is red: anything else is foreground
    lbl = np.asarray(Image.open(path).convert("RGB"))
    return ~((lbl[..., 0] > 191) & (lbl[..., 1] < 64) & (lbl[..., 2] < 64))


def best_of_3(f):
    """The fastest of 3 passes over every label (the first also warms the file cache)."""
    best, out = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        out = [f(p) for p in labels]
        best = min(best, time.perf_counter() - start)
    return best, out


t_exact, exact = best_of_3(nearest_palette)
t_quick, quick = best_of_3(threshold)
differ = sum(int((a != b).sum()) for a, b in zip(exact, quick))
total = sum(a.size for a in exact)
print(f"70 labels, best of 3: nearest palette via np.unique {t_exact:.3f} s, background threshold {t_quick:.3f} s; "
      f"{differ} of {total} pixels labelled differently")
