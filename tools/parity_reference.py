"""Reference outputs for the IMG.LY parity test, from this project's own port of its processing:
ISNet with their top-left bilinear and (v-128)/256, ported from background-removal-js to numpy,
run with Python's ONNX Runtime. A port is not the reference where the real package runs here:
rembg and MediaPipe are checked against themselves (tools/real_reference.py,
tests/real_parity.rs); this port stays only until IMG.LY's npm package is run the same way.

Writes tests/fixtures/parity/<model>/<photo>.png: u8 alpha maps (IMG.LY's native output). Regenerate with:
    python3 -m venv .venv-ref && .venv-ref/bin/pip install pillow==12.0.0 numpy==2.3.5 onnxruntime==1.31.1
    .venv-ref/bin/python tools/parity_reference.py ../shared
"""
import json, os, sys
import numpy as np
import onnxruntime as ort
from PIL import Image

SHARED = sys.argv[1] if len(sys.argv) > 1 else "../shared"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests/fixtures/parity")
PHOTOS = ["Test_RGB/1.bmp", "Train_RGB/2.bmp", "Test_RGB/9.bmp"]


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def topleft_bilinear(src, out_w, out_h):
    # background-removal-js tensorResizeBilinear, vectorised; float64 like JS numbers.
    h, w = src.shape[:2]
    sx, sy = w / out_w, h / out_h
    fx, fy = np.arange(out_w) * sx, np.arange(out_h) * sy
    x1, y1 = np.floor(fx).astype(int), np.floor(fy).astype(int)
    x2, y2 = np.minimum(np.ceil(fx).astype(int), w - 1), np.minimum(np.ceil(fy).astype(int), h - 1)
    dx, dy = (fx - x1)[None, :, None], (fy - y1)[:, None, None]
    s = src.astype(np.float64)
    if s.ndim == 2:
        s = s[:, :, None]
    p1, p2 = s[y1][:, x1], s[y1][:, x2]
    p3, p4 = s[y2][:, x1], s[y2][:, x2]
    return (1 - dx) * (1 - dy) * p1 + dx * (1 - dy) * p2 + (1 - dx) * dy * p3 + dx * dy * p4


def imgly_isnet(sess, img):
    rgb = np.array(img.convert("RGB"))
    small = np.trunc(topleft_bilinear(rgb, 1024, 1024)).astype(np.uint8)
    t = ((small.astype(np.float64) - 128) / 256).astype(np.float32).transpose(2, 0, 1)[None]
    out = sess.run(["output"], {"input": t})[0].reshape(1024, 1024)
    alpha = np.trunc(out.astype(np.float64) * 255).astype(np.uint8)
    return np.trunc(topleft_bilinear(alpha, img.size[0], img.size[1])[:, :, 0]).astype(np.uint8)


def main():
    models = {
        "isnet_quint8": (os.path.join(ROOT, "vendor/models/isnet_quint8.onnx"), imgly_isnet),
    }
    manifest = {}
    for name, (path, fn) in models.items():
        sess = session(path)
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        for photo in PHOTOS:
            img = Image.open(os.path.join(SHARED, "data/fasseg/V2", photo))
            out = fn(sess, img)
            stem = photo.replace("/", "_").replace(".bmp", "")
            dest = os.path.join(OUT, name, stem + ".png")
            if out.dtype == np.uint8:
                Image.fromarray(out, mode="L").save(dest, optimize=True)
                fg = int((out >= 128).sum())
            else:
                Image.fromarray(np.round(np.clip(out, 0, 1) * 65535).astype(np.uint16)).save(dest)
                fg = int((out >= 0.5).sum())
            manifest.setdefault(name, {})[photo] = {"png": os.path.relpath(dest, OUT), "foreground_pixels": fg}
            print(name, photo, out.shape, fg, file=sys.stderr)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


main()
