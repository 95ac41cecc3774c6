"""The two references bench/yolo.sh measures maskgate's YOLO arm against, over the same photos:

- `pure`: ONNX Runtime's `session.run` alone on each photo's letterboxed input (prepared before
  the clock starts), with the intra-op threads given (0: ONNX Runtime's default): the inference
  time of one session, photo after photo;
- `ultralytics`: `YOLO(best.onnx).predict(photo)` of the pinned Ultralytics, photo by photo, end
  to end (read, letterbox, inference, NMS, masks), the model loaded and warmed before the clock;
  its ONNX Runtime session gets the intra-op threads given (Ultralytics' AutoBackend opens it
  with the default options: the given count is set in them), torch the same threads.

Usage: python yolo_reference.py pure|ultralytics MODEL THREADS PHOTO...   prints seconds."""
import sys
import time

import cv2
import numpy as np


def letterbox(img, size):
    h, w = img.shape[:2]
    r = min(size / h, size / w)
    nw, nh = max(round(w * r), 1), max(round(h * r), 1)
    if (nw, nh) != (w, h):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    dw, dh = (size - nw) / 2, (size - nh) / 2
    top, bottom, left, right = round(dh - 0.1), round(dh + 0.1), round(dw - 0.1), round(dw + 0.1)
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255


def main():
    mode, model, threads, photos = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    if mode == "pure":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        s = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        size = s.get_inputs()[0].shape[2]
        name = s.get_inputs()[0].name
        inputs = [letterbox(cv2.imread(p), size) for p in photos]
        s.run(None, {name: inputs[0]})
        t = time.perf_counter()
        for x in inputs:
            s.run(None, {name: x})
        print(f"{time.perf_counter() - t:.4f}")
    else:
        import onnxruntime as ort
        import torch
        from ultralytics import YOLO

        if threads > 0:
            opened = ort.InferenceSession

            class Threaded(opened):
                def __init__(self, path, sess_options=None, *args, **kwargs):
                    sess_options = sess_options or ort.SessionOptions()
                    sess_options.intra_op_num_threads = threads
                    super().__init__(path, sess_options, *args, **kwargs)

            ort.InferenceSession = Threaded
            torch.set_num_threads(threads)
        y = YOLO(model, task="segment")
        y.predict(photos[0], device="cpu", verbose=False)
        t = time.perf_counter()
        for p in photos:
            y.predict(p, device="cpu", verbose=False)
        print(f"{time.perf_counter() - t:.4f}")


if __name__ == "__main__":
    main()
