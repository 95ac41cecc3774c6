"""Polygons with vertices far outside their canvas, rasterised by pycocotools (frPyObjects +
merge): the vectors maskgate-core's clipped rasteriser must equal. Needs numpy and pycocotools
2.0.11 (vendor/py: `vendor/py/bin/python -m pip install pycocotools==2.0.11`).
Usage: vendor/py/bin/python tools/far_polygon_vectors.py crates/maskgate-core/tests/fixtures/far_polygon_vectors.json
"""
import json
import sys

import numpy as np
from pycocotools import mask as m

cases = []
rng = np.random.default_rng(7)
for i in range(40):
    h, w = int(rng.integers(5, 30)), int(rng.integers(5, 30))
    k = int(rng.integers(3, 7))
    pts = []
    for j in range(k):
        if rng.random() < 0.4:
            x = float(rng.choice([-1, 1]) * rng.uniform(60, 5000))
            y = float(rng.uniform(-3000, 3000))
        else:
            x = float(rng.uniform(-2, w + 2))
            y = float(rng.uniform(-2, h + 2))
        pts += [round(x, 2), round(y, 2)]
    r = m.merge(m.frPyObjects([pts], h, w))
    cases.append({"h": h, "w": w, "poly": pts, "counts": r["counts"].decode()})
json.dump(cases, open(sys.argv[1], "w"))
print(len(cases))
