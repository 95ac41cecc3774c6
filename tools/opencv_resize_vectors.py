"""Golden vectors for maskgate_core::opencv_linear::resize_linear_u8: seeded pseudo-random 8-bit
3-channel images (noise and smooth gradients) resized by `cv2.resize(img, (w, h),
interpolation=cv2.INTER_LINEAR)` as Ultralytics' LetterBox calls it: both axes shrunk (photo
sizes a letterbox gives), grown, mixed, exactly halved (OpenCV then averages 2x2 blocks), one
axis only, and identity. Each source is stored with its output, as hex of the row-major
interleaved bytes.

Usage (the OpenCV Ultralytics pins, in vendor/yolo):
  vendor/yolo/bin/python tools/opencv_resize_vectors.py tests/fixtures/opencv_resize_vectors.json
The output records the OpenCV version that made it and is deterministic."""
import json
import random
import sys

import cv2
import numpy as np

rng = random.Random(20261207)


def image(w, h, smooth):
    if not smooth:
        return np.array([rng.randrange(256) for _ in range(w * h * 3)], dtype=np.uint8).reshape(h, w, 3)
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 255 // max(w - 1, 1) + y * 97 // max(h - 1, 1))[..., None] + np.array([0, 60, 120])
    noise = np.array([rng.randint(-12, 12) for _ in range(w * h * 3)]).reshape(h, w, 3)
    return np.clip(base % 256 + noise, 0, 255).astype(np.uint8)


CASES = [
    ((37, 51), (24, 33)),   # a portrait photo letterboxed down
    ((51, 37), (33, 24)),
    ((101, 67), (64, 43)),
    ((23, 17), (61, 45)),   # grown
    ((40, 30), (20, 15)),   # exactly halved: OpenCV's INTER_AREA fast path
    ((40, 31), (20, 15)),   # nearly halved
    ((30, 20), (45, 13)),   # one grown, one shrunk
    ((64, 48), (64, 21)),   # one axis
    ((17, 9), (17, 9)),     # identity
    ((191, 256), (120, 160)),  # a FASSEG photo, half size, at imgsz 160
]


def main():
    out = {"opencv": cv2.__version__, "cases": []}
    for n, ((w, h), (ow, oh)) in enumerate(CASES):
        src = image(w, h, smooth=n % 2 == 1)
        dst = cv2.resize(src, (ow, oh), interpolation=cv2.INTER_LINEAR)
        out["cases"].append({"w": w, "h": h, "out_w": ow, "out_h": oh, "src": src.tobytes().hex(), "dst": dst.tobytes().hex()})
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
