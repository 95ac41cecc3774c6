"""The job `maskgate run` replaces, in the lean form a competent team writes: sequential, Pillow's
C resizers, numpy, Python ONNX Runtime. Reads FASSEG V2 photos and labels, maps each distinct
label colour to the nearest palette colour, runs each MediaPipe selfie model (Pillow bilinear
stretch to the model size, /255), resizes the probability back with Pillow, thresholds at 0.5, and
writes per-sample IoU / precision / recall to CSV. Pillow's resizing is not MediaPipe's, so its
IoUs agree with maskgate's closely, not exactly; the benchmark prints how closely.

With --pure-inference it instead times only `session.run` for the given models on the given
photos (pre-processing done beforehand, session creation untimed), the floor no pipeline can go
under.
With --threshold-labels it labels by the background colour alone: the leanest harness.
Usage: python_harness.py [--threshold-labels] SHARED OUT.csv
       python_harness.py --pure-inference MODEL... -- PHOTO...
"""
import csv, glob, os, sys, time
import numpy as np
import onnxruntime as ort
from PIL import Image

PALETTE = np.array([[255, 0, 0], [127, 0, 0], [255, 255, 0], [0, 0, 255], [0, 255, 255], [0, 255, 0]], np.int32)


def session(path, threads=0):
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def foreground(label_path):
    """Every labelled class but background: nearest palette colour per distinct colour."""
    lbl = np.asarray(Image.open(label_path).convert("RGB"))
    packed = (lbl[..., 0].astype(np.int32) << 16) | (lbl[..., 1].astype(np.int32) << 8) | lbl[..., 2]
    colours, inverse = np.unique(packed, return_inverse=True)
    rgb = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], -1)
    nearest = ((rgb[:, None, :] - PALETTE[None]) ** 2).sum(-1).argmin(1)
    return (nearest != 0)[inverse.reshape(packed.shape)]


def background_threshold(label_path):
    """The leanest labelling: background is red, anything else foreground. Labels a few
    thousand of FASSEG's 13.3 M pixels otherwise than the nearest palette colour does (see
    harness_label_cost.py), and skips the np.unique that costs the harness half its time."""
    lbl = np.asarray(Image.open(label_path).convert("RGB"))
    return ~((lbl[..., 0] > 191) & (lbl[..., 1] < 64) & (lbl[..., 2] < 64))


def selfie_job(shared, out_csv, labels=foreground):
    models = {
        "selfie": session(os.path.join(shared, "models/mediapipe_selfie_segmentation_256.onnx")),
        "selfie_landscape": session(os.path.join(shared, "models/mediapipe_selfie_segmentation_landscape_144x256.onnx")),
    }
    rows = []
    for split in ["Train", "Test"]:
        for img_path in sorted(glob.glob(os.path.join(shared, f"data/fasseg/V2/{split}_RGB/*.bmp"))):
            gt = labels(img_path.replace("_RGB", "_Labels"))
            photo = Image.open(img_path).convert("RGB")
            w, h = photo.size
            for arm, sess in models.items():
                inp = sess.get_inputs()[0]
                _, _, mh, mw = inp.shape
                x = np.asarray(photo.resize((mw, mh), Image.BILINEAR), np.float32) / 255
                prob = sess.run(None, {inp.name: np.ascontiguousarray(x.transpose(2, 0, 1)[None])})[0]
                pred = np.asarray(Image.fromarray(prob.reshape(mh, mw), "F").resize((w, h), Image.BILINEAR)) >= 0.5
                tp = np.count_nonzero(gt & pred)
                fp, fn = np.count_nonzero(pred) - tp, np.count_nonzero(gt) - tp
                rows.append((arm, f"{split}/{os.path.basename(img_path)[:-4]}", tp / (tp + fp + fn), tp / max(tp + fp, 1), tp / max(tp + fn, 1)))
    with open(out_csv, "w", newline="") as f:
        csv.writer(f).writerows([("arm", "id", "iou", "precision", "recall"), *rows])


def pure_inference(models, photos):
    """Seconds inside `session.run` per (model, photo). The first run of each model is counted:
    every job pays it (the runtime sizes its memory arena then), maskgate included."""
    times = {}
    for m in models:
        sess = session(m)
        inp = sess.get_inputs()[0]
        _, _, mh, mw = inp.shape
        tensors = []
        for p in photos:
            rgb = np.array(Image.open(p).convert("RGB").resize((mw, mh))).astype(np.float32) / 255
            tensors.append(rgb.transpose(2, 0, 1)[None].copy())
        # Only the output the mask comes from, as maskgate asks: the runtime then skips what
        # only the side outputs need.
        first = [sess.get_outputs()[0].name]
        for p, t in zip(photos, tensors):
            t0 = time.perf_counter()
            sess.run(first, {inp.name: t})
            times[(m, p)] = time.perf_counter() - t0
    return times


if __name__ == "__main__":
    if sys.argv[1] == "--pure-inference":
        sep = sys.argv.index("--")
        times = pure_inference(sys.argv[2:sep], sys.argv[sep + 1:])
        # The sum over every photo, and over distinct photo contents (what a run that infers
        # a byte-identical photo once must do).
        seen, unique = set(), 0.0
        for (m, p), t in times.items():
            key = (m, open(p, "rb").read())
            if key not in seen:
                seen.add(key)
                unique += t
        print(f"{sum(times.values()):.3f} {unique:.3f}")
    elif sys.argv[1] == "--threshold-labels":
        selfie_job(sys.argv[2], sys.argv[3], labels=background_threshold)
    else:
        selfie_job(sys.argv[1], sys.argv[2])
