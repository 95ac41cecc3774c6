"""What the real Ultralytics gives for the crop gate's YOLO-seg checkpoint: the parity fixtures
`crates/maskgate/tests/library/ultralytics_parity.rs` checks maskgate's `yolov8-seg` adapter
against, pixel for pixel.

`--make-photos DIR` writes the photo set once (committed under tests/fixtures/yolo/photos):
- FASSEG V2 test photos (BMP; parity needs only what both tools see, so some are in the gate's
  held-out split and some in the candidate's training set) saved as PNG, and as JPEG carrying
  each EXIF orientation 1..8 (the pixels stored as the camera would, the tag saying how to turn
  them);
- the JPEG photos Ultralytics, labelme and imgaug ship (bus, zidane, the PASCAL VOC examples,
  the quokka).

Then, for every photo, with the pinned Ultralytics (vendor/yolo):
- `YOLO(best.onnx).predict(photo)` at its defaults (conf 0.25, IoU 0.7, max_det 300,
  class-aware NMS), with `retina_masks` off and on;
- the same with conf 0.01, IoU 0.5, max_det 5: many overlapping candidates, so NMS and max_det
  decide;
- `YOLO(best.pt).predict(photo)`: the PyTorch checkpoint itself (rectangular letterbox).

Each instance's box (photo pixels), confidence, class and mask at the photo's size are stored:
with `retina_masks` off the mask is `ops.scale_masks(result.masks.data, orig_shape) > 0.5`, how
a service brings the input-size masks to the photo; with it on, `result.masks.data` as given.
Masks are row-major run lengths starting with a background run.

Usage (from the repository root):
    vendor/yolo/bin/python tools/yolo/ultralytics_reference.py --make-photos tests/fixtures/yolo/photos
    vendor/yolo/bin/python tools/yolo/ultralytics_reference.py --model models/crop-yolo \
        --photos tests/fixtures/yolo/photos --out tests/fixtures/yolo/ultralytics.json
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RUNS = [
    # name, model file, predict keyword arguments
    ("onnx", "best.onnx", {}),
    ("onnx-retina", "best.onnx", {"retina_masks": True}),
    ("onnx-crowded", "best.onnx", {"conf": 0.01, "iou": 0.5, "max_det": 5}),
    ("pt", "best.pt", {}),
]


def runs_of(mask):
    flat = mask.reshape(-1).astype(bool)
    out, current, n = [], False, 0
    for v in flat.tolist():
        if v == current:
            n += 1
        else:
            out.append(n)
            current, n = v, 1
    out.append(n)
    return out


def make_photos(out, shared):
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    fasseg = Path(shared) / "data/fasseg/V2/Test_RGB"
    # Four as PNG and ten as JPEG, each orientation at least once: the stored pixels are the
    # upright photo turned the way a camera held that way stores it, so every orientation has
    # to be undone to give the upright face.
    undo = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    pngs = [1, 5, 9, 13]
    jpegs = [(17, 1), (21, 2), (25, 3), (29, 4), (33, 5), (37, 6), (41, 7), (45, 8), (49, 6), (3, 8)]
    for k in pngs:
        Image.open(fasseg / f"{k}.bmp").convert("RGB").save(out / f"fasseg-{k}.png")
    for k, orientation in jpegs:
        img = Image.open(fasseg / f"{k}.bmp").convert("RGB")
        stored = img.transpose(undo[orientation]) if undo[orientation] is not None else img
        exif = Image.Exif()
        exif[0x0112] = orientation
        stored.save(out / f"fasseg-{k}-exif{orientation}.jpg", quality=90, exif=exif.tobytes())
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    for name in ("bus.jpg", "zidane.jpg"):
        shutil.copyfile(assets / name, out / name)
    for p in sorted((ROOT / "vendor/data/voc/JPEGImages").glob("*.jpg")):
        shutil.copyfile(p, out / f"voc-{p.name}")
    shutil.copyfile(ROOT / "vendor/data/quokka/quokka.jpg", out / "quokka.jpg")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--make-photos", type=Path)
    ap.add_argument("--shared", default=os.environ.get("MASKGATE_SHARED", str(ROOT.parent / "shared")))
    ap.add_argument("--model", type=Path, default=ROOT / "models/crop-yolo")
    ap.add_argument("--photos", type=Path, default=ROOT / "tests/fixtures/yolo/photos")
    ap.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/yolo/ultralytics.json")
    ap.add_argument("--imgsz", type=int, default=320)
    args = ap.parse_args()
    if args.make_photos:
        make_photos(args.make_photos, args.shared)
        return 0

    import cv2
    import torch
    import ultralytics
    from ultralytics import YOLO
    from ultralytics.utils import ops

    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    models = {f: YOLO(str(args.model / f), task="segment") for f in {f for _, f, _ in RUNS}}
    doc = {
        "ultralytics": ultralytics.__version__,
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "imgsz": args.imgsz,
        "models": {f: digest(args.model / f) for f in models},
        "runs": {name: {"model": f, "args": kw} for name, f, kw in RUNS},
        "photos": [],
    }
    for photo in photos:
        entry = {"file": photo.name, "sha256": digest(photo), "runs": {}}
        for name, f, kw in RUNS:
            r = models[f].predict(str(photo), imgsz=args.imgsz, device="cpu", verbose=False, **kw)[0]
            h, w = r.orig_shape
            instances = []
            if r.masks is not None:
                data = r.masks.data
                if not kw.get("retina_masks"):
                    data = ops.scale_masks(data[None].float(), (h, w))[0] > 0.5
                for i in range(len(r.boxes)):
                    instances.append(
                        {
                            "box": [float(v) for v in r.boxes.xyxy[i].tolist()],
                            "conf": float(r.boxes.conf[i]),
                            "class": int(r.boxes.cls[i]),
                            "mask": runs_of(data[i].cpu().numpy()),
                        }
                    )
            entry["size"] = [h, w]
            entry["runs"][name] = instances
        doc["photos"].append(entry)
        print(photo.name, {k: len(v) for k, v in entry["runs"].items()}, file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
