"""A whole FER2013 split through an ONNX file exported by `fer export --format onnx`
in onnxruntime-node and OpenCV's dnn module, against fer's runtime on the TFLite
file of the same network (float32, or int8 for an --int8 QDQ file) (through the fer Python package). Run by hand
for the figures in docs/runtime.md; CI runs tests/test-onnx-export.cpp on a subset.

  fer export --format onnx --model models/fernet.pt --out /tmp/fernet.onnx
  fer export --model models/fernet.pt --out /tmp/fernet.tflite
  VENV/bin/python tests/interop/onnx-parity.py /tmp/fernet.onnx /tmp/fernet.tflite data/fer2013/PublicTest
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

import fer

onnx_path, tflite_path, split = sys.argv[1], sys.argv[2], Path(sys.argv[3])
files = sorted(p for p in split.glob("*/*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
if not files:
    sys.exit(f"{split}: no images in class folders")
faces = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files])
labels = np.array([fer.EMOTIONS.index(p.parent.name) if p.parent.name in fer.EMOTIONS else -1 for p in files])
x = ((faces.astype(np.float32) - 127.5) / 63.75)[:, None]  # [N, 1, 48, 48], the model's preprocessing

ours = fer.Model(tflite_path).probabilities(faces)

try:
    net = cv2.dnn.readNetFromONNX(onnx_path)
    opencv = np.concatenate([(net.setInput(x[i:i + 256], "input"), net.forward("probabilities"))[1]
                             for i in range(0, len(x), 256)])
except cv2.error as e:  # OpenCV 4.6 reads no per-channel QDQ weights (int8 files)
    print("OpenCV dnn cannot run the file:", str(e).strip().splitlines()[-1])
    opencv = None

with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "x.f32").write_bytes(x.tobytes())
    job = f"{tmp}/x.f32:{len(x)}x1x48x48:{tmp}/out.f32"
    info = json.loads(subprocess.run(["node", str(Path(__file__).parent / "run-onnx.js"), onnx_path, job],
                                     check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    raw = np.fromfile(f"{tmp}/out.f32", np.float32)
    offset = 0
    for o in info["outputs"]:
        size = int(np.prod(o["dims"]))
        if o["name"] == "probabilities":
            ort = raw[offset:offset + size].reshape(len(x), 7)
        offset += size

print(f"{split}: {len(x)} faces")
for name, p in (("onnxruntime-node", ort), ("OpenCV dnn", opencv)):
    if p is None:
        continue
    diff = np.abs(p - ours).max()
    top = int((p.argmax(1) != ours.argmax(1)).sum())
    acc = (p.argmax(1) == labels).mean() * 100
    print(f"  {name:17s} vs fer runtime: max |diff| {diff:.3g}, top class differs on {top}, accuracy {acc:.2f}%")
print(f"  fer runtime ({Path(tflite_path).name}): accuracy {(ours.argmax(1) == labels).mean() * 100:.2f}%")
