"""Batches, worker threads, Python threads and pixel layouts give the answers of
single calls on the plain BGR array."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fer
from conftest import CROPS, SAMPLES


def dicts(faces):
    return [f.to_dict() for f in faces]


@pytest.fixture(scope="module")
def pictures():
    return [fer.read_image(p) for p in SAMPLES]


@pytest.fixture(scope="module")
def singles(pictures):
    return [dicts(fer.analyze(p)) for p in pictures]


def test_batch_equals_single_calls(pictures, singles):
    assert [dicts(r) for r in fer.analyze(pictures)] == singles


def test_two_worker_threads_equal_single_calls(pictures, singles):
    model = fer.Model(threads=2)
    assert [dicts(r) for r in fer.analyze(pictures * 3, model=model)] == singles * 3


def test_python_threads_equal_single_calls(pictures, singles):
    model = fer.Model()  # one model shared by every thread; each call takes its own context
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda p: dicts(fer.analyze(p, model=model)), pictures * 4))
    assert got == singles * 4


def test_classify_batch_and_threads_equal_single_crops():
    crops = np.stack([fer.read_image(p)[:, :, 1] for p in CROPS])
    one_by_one = [fer.classify(c)[0] for c in crops]  # c: a row of the batch, read in place
    assert fer.classify(crops) == one_by_one
    assert fer.Model(threads=2).classify(np.concatenate([crops] * 5)) == one_by_one * 5
    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(lambda c: fer.classify(c)[0], list(crops) * 3)) == one_by_one * 3


def test_layouts_give_the_same_faces(group_photo, singles):
    want = dicts(fer.analyze(group_photo))
    rgb = np.ascontiguousarray(group_photo[:, :, ::-1])
    assert dicts(fer.analyze(rgb, rgb=True)) == want
    assert dicts(fer.analyze(rgb, color="rgb")) == want
    bgra = np.dstack([group_photo, np.full(group_photo.shape[:2], 255, np.uint8)])
    assert dicts(fer.analyze(bgra)) == want
    rgba = np.ascontiguousarray(bgra[:, :, [2, 1, 0, 3]])
    assert dicts(fer.analyze(rgba, rgb=True)) == want


def test_grey_pictures_match_fer_bgr_grey(group_photo):
    import cv2
    grey = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    faces = fer.analyze(grey)
    assert faces and dicts(fer.analyze(grey[:, :, None])) == dicts(faces)
    assert dicts(fer.analyze(grey, color="gray")) == dicts(faces)
    assert all(f.landmarks is not None for f in faces)  # YuNet sees the grey replicated


def test_a_view_into_a_bigger_array_is_read_in_place(group_photo):
    big = np.zeros((500, 800, 3), np.uint8)
    big[40:40 + group_photo.shape[0], 60:60 + group_photo.shape[1]] = group_photo
    view = big[40:40 + group_photo.shape[0], 60:60 + group_photo.shape[1]]
    assert not view.flags.c_contiguous  # rows are 800 pixels apart
    assert dicts(fer.analyze(view)) == dicts(fer.analyze(group_photo))


def test_crops_of_other_sizes_are_resized():
    crop = np.ascontiguousarray(fer.read_image(CROPS[0])[:, :, 1])
    big = np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1)  # 96x96: 2x2 blocks average back exactly
    assert fer.classify(big) == fer.classify(crop)
    odd = fer.classify(np.ascontiguousarray(big[:77, :61]))[0]
    assert abs(sum(odd.probabilities.values()) - 1) < 1e-4


def test_empty_batch():
    assert fer.classify(np.zeros((0, 48, 48), np.uint8)) == []
    assert fer.analyze([]) == []


def test_results_are_plain_data(group_photo):
    import dataclasses
    import json
    f = fer.analyze(group_photo)[0]
    assert dataclasses.is_dataclass(f)
    assert json.loads(json.dumps(f.to_dict())) == f.to_dict()
    assert f.top_emotion in fer.EMOTIONS and len(f.landmarks) == 5 and 0 < f.score <= 1
    x, y, s = f.crop
    assert s > 0
