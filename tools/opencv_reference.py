"""OpenCV's answers for what `crates/maskgate/tests/library/opencv_reference.rs` checks:

- connected components: `cv2.connectedComponents(mask, connectivity=8)`, labels and count;
- the anatomy of an error, written here from its definition with OpenCV's pieces and sharing
  no code with maskgate: components by `cv2.connectedComponents`, each mask's boundary band as
  `boundary-iou-api`'s `mask_to_boundary` makes it (a one-pixel zero border, `cv2.erode` with a
  3x3 kernel `d` times);
- photo statistics: `cv2.cvtColor(RGB2GRAY)`, its mean and standard deviation, and
  `cv2.Laplacian(grey, cv2.CV_64F).var()`.

Usage: python opencv_reference.py DIR, where DIR holds `pairs.json` ([{"gt": png, "pred": png,
"d": width}], masks as 0/255 PNGs) and `photos.json` ([png or bmp paths]); writes
`DIR/opencv.json`. Run with vendor/parity-mp's Python (OpenCV 4.11).
"""

import json
import sys

import cv2
import numpy as np


def boundary(mask, d):
    h, w = mask.shape
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), dtype=np.uint8), iterations=d)
    return mask - eroded[1 : h + 1, 1 : w + 1]


def whole_objects(mask, other):
    """Pixels of the components of `mask` that do not overlap `other`."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    touched = np.zeros(n, dtype=bool)
    touched[np.unique(labels[(mask > 0) & (other > 0)])] = True
    return (mask > 0) & ~touched[labels]


def anatomy(gt, pred, d):
    wrong = (gt > 0) != (pred > 0)
    segment = whole_objects(gt, pred) | whole_objects(pred, gt)
    band = (boundary(gt, d) > 0) | (boundary(pred, d) > 0)
    edge = wrong & ~segment & band
    extent = wrong & ~segment & ~band
    return {
        "boundary": int(edge.sum()),
        "extent": int(extent.sum()),
        "segment": int(segment.sum()),
    }


def main(folder):
    with open(f"{folder}/pairs.json") as f:
        pairs = json.load(f)
    with open(f"{folder}/photos.json") as f:
        photos = json.load(f)
    out = {"opencv": cv2.__version__, "pairs": [], "photos": []}
    for p in pairs:
        gt = (cv2.imread(p["gt"], cv2.IMREAD_GRAYSCALE) > 0).astype(np.uint8)
        pred = (cv2.imread(p["pred"], cv2.IMREAD_GRAYSCALE) > 0).astype(np.uint8)
        n, labels = cv2.connectedComponents(gt, connectivity=8)
        out["pairs"].append(
            {
                "components": n - 1,
                "labels": labels.astype(int).flatten().tolist(),
                "anatomy": anatomy(gt, pred, p["d"]),
            }
        )
    for path in photos:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        grey = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), cv2.COLOR_RGB2GRAY)
        lap = cv2.Laplacian(grey, cv2.CV_64F)
        out["photos"].append(
            {
                "luminance": float(grey.mean()),
                "contrast": float(grey.std()),
                "sharpness": float(lap.var()),
            }
        )
    with open(f"{folder}/opencv.json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
