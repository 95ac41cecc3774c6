"""Golden vectors for maskgate_core::pil_draw: random polygons (concave, self-touching, with
horizontal runs, partly off-canvas, fractional and negative coordinates) and rectangles, filled
with Pillow's ImageDraw on an "L" image, stored as the filled pixels' row-major indices.
Usage: python tools/pil_polygon_vectors.py OUT.json   (needs pillow; the committed file was made
with Pillow 13.0.0)."""
import json, random, sys

import PIL
from PIL import Image, ImageDraw

rng = random.Random(20261123)
cases = []
for i in range(120):
    h, w = rng.randint(5, 40), rng.randint(5, 40)
    n = rng.randint(3, 12)
    kind = i % 4
    pts = []
    for _ in range(n):
        if kind == 0:  # integers inside
            p = [rng.randint(0, w - 1), rng.randint(0, h - 1)]
        elif kind == 1:  # fractional, partly outside
            p = [round(rng.uniform(-5, w + 5), 3), round(rng.uniform(-5, h + 5), 3)]
        elif kind == 2:  # on a coarse grid: many horizontal / vertical runs
            p = [rng.randrange(0, w, 4), rng.randrange(0, h, 3)]
        else:  # labelme-like float clicks
            p = [round(rng.uniform(0, w), 4), round(rng.uniform(0, h), 4)]
        pts.append(p)
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).polygon([tuple(p) for p in pts], outline=1, fill=1)
    on = [k for k, v in enumerate(im.tobytes()) if v]
    cases.append({"kind": "polygon", "h": h, "w": w, "points": pts, "on": on})
for i in range(20):
    h, w = rng.randint(5, 30), rng.randint(5, 30)
    a = [round(rng.uniform(-3, w + 3), 2), round(rng.uniform(-3, h + 3), 2)]
    b = [round(rng.uniform(-3, w + 3), 2), round(rng.uniform(-3, h + 3), 2)]
    lo = [min(a[0], b[0]), min(a[1], b[1])]
    hi = [max(a[0], b[0]), max(a[1], b[1])]
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).rectangle([tuple(lo), tuple(hi)], outline=1, fill=1)
    on = [k for k, v in enumerate(im.tobytes()) if v]
    cases.append({"kind": "rectangle", "h": h, "w": w, "points": [lo, hi], "on": on})
with open(sys.argv[1], "w") as f:
    json.dump({"pillow": PIL.__version__, "cases": cases}, f, separators=(",", ":"))
