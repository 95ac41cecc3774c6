"""Mask mAP of the crop gate's YOLO-seg candidate, by maskgate and by Ultralytics' own `val`.

The gate's held-out corpus (its 30 FASSEG test photos, foreground = every labelled class) is
written as an Ultralytics dataset exactly as tools/yolo/train.py writes its training data (the
photos' own bytes, one polygon row per outer contour of the foreground). Then:

1. Ultralytics 8.4.190: `YOLO(models/crop-yolo/best.pt).val(data=..., imgsz=320)` on CPU, its
   defaults otherwise (conf 0.001, NMS IoU 0.7, max_det 300): `metrics.seg` mAP50-95, mAP50,
   mAP75.
2. maskgate: a run on the same dataset (`format = "yolo"`: one ground-truth instance per label
   row, filled by COCO's rule) with the candidate's Ultralytics ONNX export through the
   `yolov8-seg` adapter, once at val's conf 0.001 and once at predict's 0.25: COCOeval's
   numbers (`report.json` `instances`).

Writes models/crop-yolo/map-beside-ultralytics.json and prints the table. The definitions differ
(docs/src/adapters.md says how); the figures are not expected to be equal.

Usage (vendor/yolo from tools/yolo/setup.sh; target/release/maskgate built):
    vendor/yolo/bin/python tools/yolo/map_beside_ultralytics.py
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import GATE, ROOT, convert, polygons  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maskgate", default=str(ROOT / "target/release/maskgate"))
    ap.add_argument("--work", default=str(ROOT / "vendor/yolo-val"))
    ap.add_argument("--out", default=str(ROOT / "models/crop-yolo/map-beside-ultralytics.json"))
    args = ap.parse_args()
    work = Path(args.work)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "config"))
    if work.exists():
        shutil.rmtree(work)
    (work / "gold").mkdir(parents=True)

    rows = convert(args.maskgate, ["--config", str(GATE), "--corpus", "test"], work / "gold" / "test.ndjson")
    data = work / "dataset"
    (data / "images" / "val").mkdir(parents=True)
    (data / "labels" / "val").mkdir(parents=True)
    instances = 0
    for sid, photo, mask in rows:
        name = sid.replace("/", "_")
        shutil.copyfile(photo, data / "images" / "val" / f"{name}{photo.suffix.lower()}")
        h, w = mask.shape
        label = polygons(mask * 255, w, h)
        instances += len(label)
        (data / "labels" / "val" / f"{name}.txt").write_text("\n".join(label) + "\n")
    yaml = data / "data.yaml"
    # `train` is required by Ultralytics' dataset check; nothing trains on it here.
    yaml.write_text(f"path: {data}\ntrain: images/val\nval: images/val\nnames:\n  0: foreground\n")

    import ultralytics
    from ultralytics import YOLO

    model = ROOT / "models/crop-yolo/best.pt"
    m = YOLO(str(model)).val(data=str(yaml), imgsz=320, batch=8, device="cpu", plots=False,
                             verbose=False, project=str(work / "runs"), name="val")
    theirs = {"map": float(m.seg.map), "map50": float(m.seg.map50), "map75": float(m.seg.map75)}

    config = work / "maskgate.toml"
    onnx = ROOT / "models/crop-yolo/best.onnx"
    arm = lambda name, conf: (  # noqa: E731
        f'[[arm]]\nname = "{name}"\nadapter = "yolov8-seg"\nmodel = "{onnx}"\n'
        f'labels = ["foreground"]\nconf = {conf}\n'
    )
    config.write_text(
        '[run]\nbaseline = "at_predict_conf"\nbootstrap = 0\ngallery = 0\n'
        f'[[corpus]]\nname = "test"\nformat = "yolo"\npath = "{yaml}"\n'
        + arm("at_val_conf", 0.001) + arm("at_predict_conf", 0.25)
    )
    out = work / "report"
    subprocess.run([args.maskgate, "run", str(config), "--out", str(out), "--no-cache"], check=True)
    report = json.loads((out / "report.json").read_text())

    def ours(name):
        row = next(r for r in report["instances"]
                   if r["arm"] == name and r["group_by"] == "all" and r["class"] == "all")
        return {k: row[k] for k in ("images", "gts", "dts", "map", "map50", "map75")}

    result = {
        "corpus": "the crop gate's held-out corpus (30 FASSEG V2 test photos), as a YOLO dataset",
        "ground_truth_instances": instances,
        "ultralytics": {"version": ultralytics.__version__, "model": "models/crop-yolo/best.pt",
                        "call": "YOLO(best.pt).val(data, imgsz=320)", **theirs},
        "maskgate": {"model": "models/crop-yolo/best.onnx (Ultralytics' export of best.pt)",
                     "at_val_conf_0.001": ours("at_val_conf"), "at_predict_conf_0.25": ours("at_predict_conf")},
        "regenerate": "vendor/yolo/bin/python tools/yolo/map_beside_ultralytics.py",
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'':28} {'mAP50-95':>9} {'mAP50':>7} {'mAP75':>7}")
    print(f"{'Ultralytics val':28} {theirs['map']:9.4f} {theirs['map50']:7.4f} {theirs['map75']:7.4f}")
    for label, key in (("maskgate, conf 0.001", "at_val_conf"), ("maskgate, conf 0.25", "at_predict_conf")):
        o = ours(key)
        print(f"{label:28} {o['map']:9.4f} {o['map50']:7.4f} {o['map75']:7.4f}")


if __name__ == "__main__":
    main()
