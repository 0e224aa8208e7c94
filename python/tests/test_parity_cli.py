"""fer.analyze / fer.classify give what `fer predict --json` prints on the same files:
boxes exact, probabilities, scores and landmarks within 1e-6 (the CLI prints 6 decimals)."""
import os

import pytest

import fer
from conftest import CROPS, SAMPLES

TOL = 1e-6


def assert_same_faces(got, want, where):
    assert len(got) == len(want), f"{where}: {len(got)} faces, fer predict found {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        d = g.to_dict()
        assert d["box"] == w["box"], f"{where} face {i}: box"
        assert d["emotion"] == w["emotion"], f"{where} face {i}: emotion"
        assert d["uncertain"] == w["uncertain"]
        assert d["confidence"] == pytest.approx(w["confidence"], abs=TOL)
        assert list(d["probabilities"]) == list(w["probabilities"]), "class order"
        for k, v in w["probabilities"].items():
            assert d["probabilities"][k] == pytest.approx(v, abs=TOL), f"{where} face {i}: p({k})"
        assert ("landmarks" in d) == ("landmarks" in w)
        if "landmarks" in w:
            assert d["score"] == pytest.approx(w["score"], abs=TOL)
            for p, q in zip(d["landmarks"], w["landmarks"]):
                assert p == pytest.approx(q, abs=TOL), f"{where} face {i}: landmarks"


def test_samples_are_there():
    assert len(SAMPLES) >= 8 and len(CROPS) >= 7, "samples/ should hold the group photo and 7 crops"


@pytest.mark.parametrize("args,kwargs", [
    ([], {}),
    (["--tta", "flip", "--min-confidence", "0.5"], {"tta": "flip", "min_confidence": 0.5}),
    (["--min-face", "120", "--max-faces", "2"], {"min_face": 120, "max_faces": 2}),
    (["--quality", "best"], {"tta": "ten-crop"}),
])
def test_analyze_equals_fer_predict(predict_json, args, kwargs):
    want = predict_json(SAMPLES, *args)
    n_faces = 0
    for path in SAMPLES:
        faces = fer.analyze(fer.read_image(path), **kwargs)
        assert_same_faces(faces, want[path.name]["faces"], path.name)
        n_faces += len(faces)
    if not args:
        assert n_faces >= 5, "the group photo has five faces"


def test_haar_detector_equals_fer_predict(predict_json):
    cascade = fer.resolve_detector("haar")
    if not os.path.isfile(cascade):
        pytest.skip(f"{cascade} absent (Debian's opencv-data)")
    want = predict_json(SAMPLES, "--detector", "haar")
    for path in SAMPLES:
        faces = fer.analyze(fer.read_image(path), detector="haar")
        assert_same_faces(faces, want[path.name]["faces"], path.name + " (haar)")
        assert all(f.landmarks is None and f.score is None for f in faces)


@pytest.mark.parametrize("tta", ["none", "flip", "ten-crop"])
def test_classify_equals_fer_predict_whole(predict_json, tta):
    want = predict_json(CROPS, "--whole", "--tta", tta)
    crops = [fer.read_image(p)[:, :, 1] for p in CROPS]  # grey JPEGs: the three channels are equal
    import numpy as np
    got = fer.classify(np.stack(crops), tta=tta)
    for path, c in zip(CROPS, got):
        w = want[path.name]["faces"][0]
        assert c.emotion == w["emotion"], path.name
        for k, v in w["probabilities"].items():
            assert c.probabilities[k] == pytest.approx(v, abs=TOL), f"{path.name}: p({k})"


def test_sample_crops_are_grey():
    # classify's parity above takes one channel of the decoded crops: only
    # valid because the sample JPEGs are grey.
    import numpy as np
    for p in CROPS:
        img = fer.read_image(p)
        assert np.array_equal(img[:, :, 0], img[:, :, 1]) and np.array_equal(img[:, :, 1], img[:, :, 2])
