"""The Python package's speed on the cases of bench-c-api (bench/run-python.sh):
fer.analyze on a decoded picture from 1 or 2 workers (Model(threads=2) on a
batch, and two Python threads calling fer.analyze: the GIL is released), and
fer.classify of one 48x48 crop per call and of a batch. One JSON line per case.
With a FOLDER, also its pictures read and analysed (cv2.imread + fer.analyze),
the work `fer predict FOLDER` does, from 1 and 2 Python threads.
  python bench-python.py PICTURE CROP ITERATIONS [FOLDER]"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

import fer

picture, crop_path, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
img = cv2.imread(picture, cv2.IMREAD_COLOR)
crop = cv2.imread(crop_path, cv2.IMREAD_GRAYSCALE)
one, two = fer.Model(threads=1), fer.Model(threads=2)
fer.analyze(img, model=one)  # load the detector before timing


def report(case, threads, calls, faces, seconds):
    print(json.dumps({"case": case, "threads": threads, "calls": calls, "faces": faces, "seconds": seconds}))


t0 = time.perf_counter()
n = sum(len(fer.analyze(img, model=one)) for _ in range(iters))
report("analyze", 1, iters, n, time.perf_counter() - t0)

t0 = time.perf_counter()
n = sum(len(r) for r in fer.analyze([img] * iters, model=two))
report("analyze batch", 2, iters, n, time.perf_counter() - t0)

with ThreadPoolExecutor(2) as pool:
    t0 = time.perf_counter()
    n = sum(pool.map(lambda _: len(fer.analyze(img, model=one)), range(iters)))
    report("analyze python threads", 2, iters, n, time.perf_counter() - t0)

# The binding's own cost per call, without inference: an empty batch goes
# through the argument checks, the GIL release and the result arrays.
empty = np.zeros((0, 48, 48), np.uint8)
calls = iters * 20
t0 = time.perf_counter()
for _ in range(calls):
    one.probabilities(empty)
report("classify empty batch", 1, calls, 0, time.perf_counter() - t0)
# fer.Face objects made from the runtime's arrays (per picture of five faces)
arrays = fer._core.analyze(one._m, fer.Detector()._d, [img], "auto", {})[0]
t0 = time.perf_counter()
for _ in range(calls):
    fer._results.faces_from_arrays(arrays)
report("Face objects of a picture", 1, calls, 0, time.perf_counter() - t0)

t0 = time.perf_counter()
for _ in range(calls):
    one.classify(crop)
report("classify", 1, calls, calls, time.perf_counter() - t0)

batch = np.stack([crop] * calls)
t0 = time.perf_counter()
one.probabilities(batch)
report("classify batch", 1, 1, calls, time.perf_counter() - t0)
t0 = time.perf_counter()
two.probabilities(batch)
report("classify batch", 2, 1, calls, time.perf_counter() - t0)

if len(sys.argv) > 4:
    files = sorted(os.path.join(sys.argv[4], f) for f in os.listdir(sys.argv[4]))
    for threads in (1, 2):
        with ThreadPoolExecutor(threads) as pool:
            t0 = time.perf_counter()
            n = sum(pool.map(lambda f: len(fer.analyze(fer.read_image(f), model=one)), files))
            report("files", threads, len(files), n, time.perf_counter() - t0)
