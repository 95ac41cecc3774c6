"""The pycocotools half of bench/rle_codec.sh: 1,000 real-shaped 1000x1000 masks (a few
ellipses each, ragged edges, some holes), timed with pycocotools' batched C calls, then the same
with maskgate's codec (rle_bench); asserts identical strings and IoUs and prints the ratios."""
import json, subprocess, sys, time
import numpy as np
from pycocotools import mask as mu

work, binary, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = w = 1000
rng = np.random.default_rng(11)
yy, xx = np.mgrid[0:h, 0:w]
masks = []
for _ in range(n):
    m = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.05, 0.3) * h, rng.uniform(0.05, 0.3) * w
        wobble = 1 + 0.08 * np.sin(xx / rng.uniform(5, 40)) * np.cos(yy / rng.uniform(5, 40))
        m |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= wobble
    if rng.random() < 0.3:  # a hole
        cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, rng.uniform(5, 40)
        m &= (yy - cy) ** 2 + (xx - cx) ** 2 > r * r
    masks.append(np.asfortranarray(m.astype(np.uint8)))
stack = np.asfortranarray(np.stack(masks, axis=2))
rles = mu.encode(stack)
with open(f"{work}/masks.txt", "w") as f:
    for r in rles:
        f.write(f"{h} {w} {r['counts'].decode()}\n")


def timed(f, reps):
    """The fastest of `reps` runs (one pass of the cheap operations takes milliseconds)."""
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


t_decode, _ = timed(lambda: mu.decode(rles), 3)
t_encode, enc = timed(lambda: mu.encode(stack), 3)
t_round, rt = timed(lambda: [mu.merge([r]) for r in rles], 20)
t_iou, ious = timed(lambda: [mu.iou([rles[i]], [rles[i + 1]], [0])[0][0] for i in range(n - 1)], 20)
ref = {"decode": t_decode, "encode": t_encode, "round_trip": t_round, "iou": t_iou}
ours = json.loads(subprocess.run([binary, f"{work}/masks.txt", f"{work}/ours.txt"],
                                 check=True, capture_output=True, text=True).stdout)
lines = open(f"{work}/ours.txt").read().split("\n")
for i, r in enumerate(enc):
    e, rtrip = lines[i].split(" ")
    assert e == r["counts"].decode(), f"mask {i}: encoded string differs from pycocotools"
    assert rtrip == rt[i]["counts"].decode(), f"mask {i}: round trip differs"
for i, v in enumerate(ious):
    assert float(lines[n + i]) == float(v), f"pair {i}: IoU {lines[n + i]} vs {v}"
print(f"{n} masks of {h}x{w}: strings, round trips and IoUs identical to pycocotools")
for op in ("encode", "decode", "round_trip", "iou"):
    print(f"{op:>10}: pycocotools {ref[op]:.3f} s, maskgate {ours[op]:.3f} s, ratio {ref[op] / ours[op]:.1f}x")
