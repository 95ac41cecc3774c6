"""Golden vectors for maskgate::predict::resample::pil_resize: small seeded pseudo-random 8-bit
images ("RGB" and "L"; pure noise, which drives LANCZOS into its 0/255 clipping, and smooth
gradients with a little noise) resized by Pillow's `Image.resize(size, filter)` with LANCZOS and
BILINEAR: both axes shrunk, both grown, one shrunk and one grown, one axis only, and identity.
Each source is stored once with its two resized outputs, as hex strings of the row-major interleaved bytes.

Usage, once per Pillow release (the passes' order changed in 13.0):
  vendor/py/bin/python tools/pil_resize_vectors.py tests/fixtures/pil_resize_vectors.json    (pillow==12.0.0)
  vendor/parity/bin/python tools/pil_resize_vectors.py tests/fixtures/pil13_resize_vectors.json  (pillow==13.0.0)
The output records the Pillow version that made it and is deterministic."""
import json, random, sys

import PIL
from PIL import Image

rng = random.Random(20261124)


def noise(w, h, c):
    return bytes(rng.randrange(256) for _ in range(w * h * c))


def smooth(w, h, c):
    out = bytearray()
    for y in range(h):
        for x in range(w):
            for ch in range(c):
                v = (x * 255 // max(w - 1, 1) + y * 97 // max(h - 1, 1) + ch * 60) % 256
                out.append(max(0, min(255, v + rng.randint(-12, 12))))
    return bytes(out)


# (in_w, in_h, out_w, out_h): what each case exercises.
SIZES = [
    (37, 23, 5, 7),    # both shrink, unequal factors
    (30, 22, 15, 11),  # both shrink by exactly 2
    (31, 29, 10, 9),   # both shrink by ~3
    (44, 26, 9, 5),    # both shrink, large support
    (24, 24, 18, 3),   # both shrink, y far more (Pillow 13 runs the vertical pass first)
    (7, 5, 25, 16),    # both grow
    (3, 4, 17, 19),    # both grow from a tiny source
    (36, 8, 11, 23),   # x shrinks, y grows
    (9, 33, 27, 8),    # x grows, y shrinks (Pillow 13 runs the vertical pass first)
    (23, 17, 11, 17),  # x only
    (11, 13, 11, 30),  # y only
    (9, 7, 9, 7),      # identity: no pass runs
    (1, 9, 4, 3),      # one-pixel-wide source
    (50, 2, 6, 1),     # to a single row
]

cases = []
for mode, c in (("RGB", 3), ("L", 1)):
    for i, (w, h, ow, oh) in enumerate(SIZES):
        for kind in ("noise", "smooth"):
            data = noise(w, h, c) if kind == "noise" else smooth(w, h, c)
            im = Image.frombytes(mode, (w, h), data)
            outs = {
                name: im.resize((ow, oh), flt).tobytes().hex()
                for name, flt in (("lanczos", Image.LANCZOS), ("bilinear", Image.BILINEAR))
            }
            cases.append(
                {"mode": mode, "image": kind, "w": w, "h": h, "out_w": ow, "out_h": oh}
                | {"src": data.hex()}
                | outs
            )
with open(sys.argv[1], "w") as f:
    json.dump({"pillow": PIL.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
