"""Builds a small ONNX model with the exact I/O layout of an Ultralytics YOLOv8-seg export
(input `images` [1,3,640,640]; `output0` [1, 4+nc+32, 8400]; `output1` protos [1,32,160,160];
metadata `names`), whose outputs are fixed tensors placing known boxes, scores and mask
coefficients, so the yolov8-seg adapter can be checked exactly. No real weights are reachable
here; this is a test double for the I/O contract, not a network.

Anchors (cx, cy, w, h in 640-input pixels; class scores; mask coefficients):
  0: box (100,180)-(300,380), person 0.90, coeffs e0        -> kept
  1: box (104,184)-(304,384), person 0.80                   -> suppressed by 0 (IoU > 0.7)
  2: box (100,180)-(300,380), pot 0.60, coeffs e0           -> kept (NMS is per class)
  3: box (400,100)-(500,200), pot 0.25                      -> dropped (conf must exceed 0.25)
  4: box (250,200)-(450,400), person 0.50, coeffs e1        -> kept; its mask is the box cut at x < 320
Protos: channel 0 = +1 everywhere; channel 1 = +1 for proto x < 80, -1 elsewhere; others 0.

Also writes nan-probability.onnx: the I/O of a one-channel probability model ([1,3,64,64] ->
[1,1,64,64]) whose output is NaN wherever the input's red channel is above 0.5, for the
"NaN output" failure path.
Usage: python tools/make_test_models.py OUT_DIR
"""
import os
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NC, NM, N = 2, 32, 8400
out0 = np.zeros((1, 4 + NC + NM, N), np.float32)


def anchor(a, x1, y1, x2, y2, cls_scores, coeff=None):
    out0[0, 0:4, a] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
    out0[0, 4:4 + NC, a] = cls_scores
    if coeff is not None:
        out0[0, 4 + NC + coeff, a] = 1.0


anchor(0, 100, 180, 300, 380, [0.90, 0.0], 0)
anchor(1, 104, 184, 304, 384, [0.80, 0.0], 0)
anchor(2, 100, 180, 300, 380, [0.0, 0.60], 0)
anchor(3, 400, 100, 500, 200, [0.0, 0.25], 0)
anchor(4, 250, 200, 450, 400, [0.50, 0.0], 1)

protos = np.zeros((1, NM, 160, 160), np.float32)
protos[0, 0] = 1.0
protos[0, 1] = -1.0
protos[0, 1, :, :80] = 1.0

images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])
o0 = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out0.shape))
o1 = helper.make_tensor_value_info("output1", TensorProto.FLOAT, list(protos.shape))
nodes = [
    # zero = 0 * mean(images): ties the outputs to the input as a real export's graph does.
    helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
    helper.make_node("Mul", ["m", "zero_c"], ["zero"]),
    helper.make_node("Add", ["out0_c", "zero"], ["output0"]),
    helper.make_node("Add", ["protos_c", "zero"], ["output1"]),
]
inits = [
    numpy_helper.from_array(np.array(0.0, np.float32), "zero_c"),
    numpy_helper.from_array(out0, "out0_c"),
    numpy_helper.from_array(protos, "protos_c"),
]
graph = helper.make_graph(nodes, "yolov8n-seg-synthetic", [images], [o0, o1], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="maskgate-test")
model.ir_version = 8
for k, v in {"names": "{0: 'person', 1: 'pot'}", "stride": "32", "task": "segment", "imgsz": "[640, 640]"}.items():
    p = model.metadata_props.add()
    p.key, p.value = k, v
onnx.checker.check_model(model)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
onnx.save(model, os.path.join(out_dir, "yolov8-seg-synthetic.onnx"))

# NaN where red > 0.5: Sqrt(0.5 - red) is NaN for negative arguments.
x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])
y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 64, 64])
nodes = [
    helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["red"]),
    helper.make_node("Sub", ["half", "red"], ["d"]),
    helper.make_node("Sqrt", ["d"], ["output"]),
]
inits = [
    numpy_helper.from_array(np.array([0], np.int64), "starts"),
    numpy_helper.from_array(np.array([1], np.int64), "ends"),
    numpy_helper.from_array(np.array([1], np.int64), "axes"),
    numpy_helper.from_array(np.array(0.5, np.float32), "half"),
]
nan_model = helper.make_model(helper.make_graph(nodes, "nan-probability", [x], [y], inits), opset_imports=[helper.make_opsetid("", 17)])
nan_model.ir_version = 8
onnx.checker.check_model(nan_model)
onnx.save(nan_model, os.path.join(out_dir, "nan-probability.onnx"))
