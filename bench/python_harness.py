"""The job `maskgate run` replaces, written the way a team's script does it: sequential, PIL and
numpy pre-processing, Python ONNX Runtime. Reads FASSEG V2 photos and labels, maps label colours
to the nearest palette colour, runs each MediaPipe selfie model with its pre-processing, resizes
the probability back, thresholds at 0.5, and writes per-sample IoU / precision / recall to CSV.

With --pure-inference it instead times only `session.run` for the given models on the given
photos (pre-processing done beforehand), the floor no pipeline can go under.
Usage: python_harness.py SHARED OUT.csv | python_harness.py --pure-inference MODEL... -- PHOTO...
"""
import csv, glob, os, sys, time
import numpy as np
import onnxruntime as ort
from PIL import Image

PALETTE = np.array([[255, 0, 0], [127, 0, 0], [255, 255, 0], [0, 0, 255], [0, 255, 255], [0, 255, 0]], np.int32)


def topleft(src, out_w, out_h):
    h, w = src.shape[:2]
    fx, fy = np.arange(out_w) * (w / out_w), np.arange(out_h) * (h / out_h)
    x1, y1 = np.floor(fx).astype(int), np.floor(fy).astype(int)
    x2, y2 = np.minimum(np.ceil(fx).astype(int), w - 1), np.minimum(np.ceil(fy).astype(int), h - 1)
    dx, dy = (fx - x1)[None, :, None], (fy - y1)[:, None, None]
    s = src if src.ndim == 3 else src[:, :, None]
    return (1 - dx) * (1 - dy) * s[y1][:, x1] + dx * (1 - dy) * s[y1][:, x2] + (1 - dx) * dy * s[y2][:, x1] + dx * dy * s[y2][:, x2]


def session(path, threads=0):
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def selfie_job(shared, out_csv):
    models = {
        "selfie": session(os.path.join(shared, "models/mediapipe_selfie_segmentation_256.onnx")),
        "selfie_landscape": session(os.path.join(shared, "models/mediapipe_selfie_segmentation_landscape_144x256.onnx")),
    }
    rows = []
    for split in ["Train", "Test"]:
        for img_path in sorted(glob.glob(os.path.join(shared, f"data/fasseg/V2/{split}_RGB/*.bmp"))):
            lbl = np.array(Image.open(img_path.replace("_RGB", "_Labels")).convert("RGB")).astype(np.int32)
            # Nearest palette colour, one colour at a time (no 4-D temporary).
            best = np.full(lbl.shape[:2], np.iinfo(np.int32).max, np.int32)
            label = np.zeros(lbl.shape[:2], np.int8)
            for i, c in enumerate(PALETTE):
                d = ((lbl - c) ** 2).sum(-1)
                closer = d < best
                best[closer], label[closer] = d[closer], i
            gt = label != 0
            rgb = np.array(Image.open(img_path).convert("RGB")).astype(np.float32) / 255
            h, w = gt.shape
            for arm, sess in models.items():
                _, _, mh, mw = sess.get_inputs()[0].shape
                t = topleft(rgb, mw, mh).astype(np.float32).transpose(2, 0, 1)[None]
                prob = sess.run(None, {sess.get_inputs()[0].name: t})[0].reshape(mh, mw)
                pred = topleft(prob, w, h)[:, :, 0] >= 0.5
                tp, fp, fn = int((gt & pred).sum()), int((~gt & pred).sum()), int((gt & ~pred).sum())
                rows.append((arm, f"{split}/{os.path.basename(img_path)[:-4]}", tp / (tp + fp + fn), tp / max(tp + fp, 1), tp / max(tp + fn, 1)))
    with open(out_csv, "w", newline="") as f:
        csv.writer(f).writerows([("arm", "id", "iou", "precision", "recall"), *rows])


def pure_inference(models, photos):
    total = 0.0
    for m in models:
        sess = session(m)
        inp = sess.get_inputs()[0]
        _, _, mh, mw = inp.shape
        tensors = []
        for p in photos:
            rgb = np.array(Image.open(p).convert("RGB").resize((mw, mh))).astype(np.float32) / 255
            tensors.append(rgb.transpose(2, 0, 1)[None].copy())
        sess.run(None, {inp.name: tensors[0]})  # warm-up, as a long run amortises it
        t0 = time.perf_counter()
        for t in tensors:
            sess.run(None, {inp.name: t})
        total += time.perf_counter() - t0
    print(f"{total:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "--pure-inference":
        sep = sys.argv.index("--")
        pure_inference(sys.argv[2:sep], sys.argv[sep + 1:])
    else:
        t0 = time.perf_counter()
        selfie_job(sys.argv[1], sys.argv[2])
        print(f"{time.perf_counter() - t0:.3f}")
