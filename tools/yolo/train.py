"""Trains the crop gate's YOLO-seg candidate as the crop team's Ultralytics pipeline does.

1. The dataset: FASSEG V2 photos, foreground = every labelled class, read and converted by
   maskgate itself (`maskgate convert` with the crop gate's class map). Every photo the gate's
   corpora hold (the held-out split and the flagged database corpus, converted the same way) is
   left out by sha256, as is every second copy of a photo; what is left is split by hash into
   train and val and written as an Ultralytics dataset (photos, one polygon label file each,
   `data.yaml`). The training list repeats each photo so an epoch is a few batches.
2. `YOLO("yolov8n-seg.yaml").train(...)`: from the yaml (no pretrained weights), on CPU, with a
   fixed seed and Ultralytics' deterministic settings, default augmentation.
3. `YOLO(best.pt).export(format="onnx", imgsz=...)`: Ultralytics' own exporter.
4. `model-card.json` and `manifest.sha256` beside the weights: data (every photo's sha256),
   epochs, seed, time, Ultralytics' own val metrics on the val split, how many held-out photos
   the model finds at the default confidence, and maskgate's own check (`maskgate inspect
   --training-manifest`) that no training photo is in the gate's corpora.

Usage (from the repository root; tools/yolo/train.sh sets up vendor/yolo and calls this):
    vendor/yolo/bin/python tools/yolo/train.py --maskgate target/release/maskgate --out models/crop-yolo
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "examples/crop-gate/maskgate.toml"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rle_decode(counts, h, w):
    """COCO's compressed RLE string (column-major counts) to an h × w uint8 mask."""
    import numpy as np

    values, p = [], 0
    while p < len(counts):
        x, k, more = 0, 0, True
        while more:
            c = ord(counts[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(values) > 2:
            x += values[-2]
        values.append(x)
    flat = np.zeros(h * w, dtype=np.uint8)
    at, on = 0, 0
    for n in values:
        flat[at : at + n] = on
        at += n
        on ^= 1
    return flat.reshape(w, h).T.copy()


def read_gold(path):
    """(photo path, mask) of every sample of a gold NDJSON file `maskgate convert` wrote."""
    rows = []
    base = path.parent
    for line in path.read_text().splitlines():
        line = json.loads(line)
        if line.get("maskgate") == "gold-ndjson":
            continue
        h, w = line["size"]
        m = line["masks"].get("foreground")
        mask = rle_decode(m["counts"], h, w) if m else None
        rows.append((line["id"], (base / line["image"]).resolve(), mask))
    return rows


def convert(maskgate, args, out):
    subprocess.run([maskgate, "convert", *args, "--out", str(out)], check=True)
    return read_gold(out)


def polygons(mask, w, h):
    """The mask's outer contours as YOLO segment rows (class 0, normalised x y pairs)."""
    import cv2

    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rows = []
    for c in sorted(contours, key=cv2.contourArea, reverse=True):
        if cv2.contourArea(c) < 16 or len(c) < 3:
            continue
        pts = " ".join(f"{x / w:.6f} {y / h:.6f}" for x, y in c.reshape(-1, 2))
        rows.append(f"0 {pts}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maskgate", default=str(ROOT / "target/release/maskgate"))
    ap.add_argument("--shared", default=os.environ.get("MASKGATE_SHARED", str(ROOT.parent / "shared")))
    ap.add_argument("--out", default=str(ROOT / "models/crop-yolo"))
    ap.add_argument("--work", default=str(ROOT / "vendor/yolo-train"))
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--repeat", type=int, default=10, help="copies of each photo in an epoch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dataset-only", action="store_true", help="stop after writing the dataset")
    args = ap.parse_args()

    work, out = Path(args.work), Path(args.out)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "config"))
    if work.exists():
        shutil.rmtree(work)
    (work / "gold").mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    gate = GATE
    # The foreground is what the gate's held-out corpus calls it: its class map, read from there.
    import tomllib

    held_out = next(c for c in tomllib.loads(gate.read_text())["corpus"] if c.get("held_out"))
    foreground = held_out["classes"]["foreground"]

    # The gate's photos, by hash: nothing the gate scores may be trained or validated on.
    gate_hashes = {}
    for corpus in ("test", "flagged"):
        for sid, photo, _ in convert(args.maskgate, ["--config", str(gate), "--corpus", corpus], work / "gold" / f"{corpus}.ndjson"):
            gate_hashes.setdefault(sha256(photo), f"{corpus}/{sid}")

    pool_config = work / "pool.toml"
    pool_config.write_text(
        "[[corpus]]\nname = \"pool\"\nformat = \"fasseg\"\n"
        f"path = {json.dumps(str(Path(args.shared) / 'data/fasseg/V2'))}\n"
        f"classes = {{ foreground = {json.dumps(foreground)} }}\n"
    )
    pool, seen, left_out = [], set(), []
    for sid, photo, mask in convert(args.maskgate, ["--config", str(pool_config)], work / "gold" / "pool.ndjson"):
        digest = sha256(photo)
        if digest in gate_hashes:
            left_out.append({"id": sid, "sha256": digest, "in_gate": gate_hashes[digest]})
        elif digest not in seen and mask is not None and mask.any():
            seen.add(digest)
            pool.append((digest, sid, photo, mask))
    # By hash, so the split depends on the photos, not on file names or their order.
    pool.sort()
    val = pool[::5]
    train = [p for p in pool if p not in val]

    data = work / "dataset"
    listing = {"train": [], "val": []}
    for split, rows in (("train", train), ("val", val)):
        (data / "images" / split).mkdir(parents=True)
        (data / "labels" / split).mkdir(parents=True)
        for digest, sid, photo, mask in rows:
            name = digest[:16]
            # The photo's own bytes, so the dataset folder is itself a training manifest.
            img = data / "images" / split / f"{name}{photo.suffix.lower()}"
            shutil.copyfile(photo, img)
            h, w = mask.shape
            (data / "labels" / split / f"{name}.txt").write_text("\n".join(polygons(mask * 255, w, h)) + "\n")
            listing[split].append({"id": sid, "photo_sha256": digest, "file": f"images/{split}/{img.name}"})
    (data / "train.txt").write_text("".join(f"./images/train/{r['file'].split('/')[-1]}\n" for r in listing["train"]) * args.repeat)
    (data / "data.yaml").write_text(f"path: {data}\ntrain: train.txt\nval: images/val\nnames:\n  0: foreground\n")
    if args.dataset_only:
        print(f"dataset: {len(listing['train'])} train, {len(listing['val'])} val photos in {data}; {len(left_out)} left out as the gate's")
        return 0

    import torch
    import ultralytics
    from ultralytics import YOLO

    torch.manual_seed(args.seed)
    started = time.time()
    model = YOLO("yolov8n-seg.yaml", task="segment")
    model.train(
        data=str(data / "data.yaml"),
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=16,
        device="cpu",
        workers=0,
        seed=args.seed,
        deterministic=True,
        pretrained=False,
        amp=False,
        plots=False,
        patience=args.epochs,
        project=str(work / "runs"),
        name="train",
        exist_ok=True,
        verbose=False,
    )
    train_seconds = time.time() - started
    best = work / "runs/train/weights/best.pt"
    shutil.copyfile(best, out / "best.pt")

    trained = YOLO(str(out / "best.pt"))
    metrics = trained.val(data=str(data / "data.yaml"), imgsz=args.imgsz, batch=4, device="cpu", plots=False, verbose=False)
    onnx = Path(trained.export(format="onnx", imgsz=args.imgsz, device="cpu"))
    shutil.move(str(onnx), out / "best.onnx")

    # Does it find the subject on the held-out photos at Ultralytics' default confidence?
    held = read_gold(work / "gold" / "test.ndjson")
    found = 0
    for _, photo, _ in held:
        r = YOLO(str(out / "best.onnx"), task="segment").predict(str(photo), imgsz=args.imgsz, device="cpu", verbose=False)[0]
        found += int(len(r.boxes) > 0)

    # maskgate's own duplicate detection: every photo of the dataset folder (train and val)
    # hashed and looked up in the gate's corpora.
    inspect = subprocess.run(
        [args.maskgate, "inspect", str(gate), "--training-manifest", str(data / "images"), "--json"],
        check=True, capture_output=True, text=True,
    )
    overlap = json.loads(inspect.stdout)

    card = {
        "model": "yolov8n-seg, from ultralytics/cfg/models/v8/yolov8-seg.yaml (no pretrained weights)",
        "data": {
            "source": "FASSEG V2 (train and test), foreground = " + " + ".join(foreground),
            "train": listing["train"],
            "val": listing["val"],
            "left_out_as_gate_photos": left_out,
            "repeat_per_epoch": args.repeat,
        },
        "training": {
            "epochs": args.epochs,
            "imgsz": args.imgsz,
            "batch": 16,
            "seed": args.seed,
            "deterministic": True,
            "device": "cpu",
            "threads": torch.get_num_threads(),
            "seconds": round(train_seconds),
        },
        "val_metrics": {
            "mask_map50_95": round(float(metrics.seg.map), 4),
            "mask_map50": round(float(metrics.seg.map50), 4),
            "box_map50_95": round(float(metrics.box.map), 4),
            "box_map50": round(float(metrics.box.map50), 4),
        },
        "held_out_found_at_conf_0.25": f"{found} of {len(held)}",
        "gate_overlap_check": {
            "command": "maskgate inspect examples/crop-gate/maskgate.toml --training-manifest DATASET/images --json",
            "photos_hashed": overlap["training_manifest"]["photos"],
            "manifest_sha256": overlap["training_manifest"]["sha256"],
            "in_training": overlap["in_training"],
        },
        "export": {"format": "onnx", "imgsz": args.imgsz, "nms": False, "dynamic": False, "half": False},
        "versions": {
            "ultralytics": ultralytics.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "files": {"best.pt": sha256(out / "best.pt"), "best.onnx": sha256(out / "best.onnx")},
    }
    (out / "model-card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / "manifest.sha256").write_text("".join(f"{card['files'][n]}  {n}\n" for n in ("best.onnx", "best.pt")))
    print(json.dumps({k: card[k] for k in ("training", "val_metrics", "held_out_found_at_conf_0.25", "gate_overlap_check", "files")}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
