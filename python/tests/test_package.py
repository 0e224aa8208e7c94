"""The installed package: models inside it, typing marker, docs, versions."""
from pathlib import Path

import pytest

import fer


def test_models_come_inside_the_package():
    pkg = Path(fer.__file__).resolve().parent
    for name in ("fernet-int8.tflite", "yunet-int8.tflite"):
        assert (pkg / "models" / name).is_file(), f"{name} not shipped in {pkg}/models"
    assert Path(fer.default_model_path()).parent == pkg / "models"
    assert (pkg / "py.typed").is_file()


def test_model_metadata():
    m = fer.Model()
    assert m.labels == list(fer.EMOTIONS)
    assert m.meta("model") and m.meta("input_height") == "48"
    assert "fer.Model(" in repr(m)
    assert fer.Detector().kind == "yunet"


def test_public_api_is_documented():
    for name in fer.__all__:
        obj = getattr(fer, name)
        if callable(obj):
            assert obj.__doc__, f"fer.{name} has no docstring"


def test_small_face_score_threshold_is_a_detector_setting(group_photo):
    # the size-aware default keeps at least the faces one strict threshold keeps
    default = fer.analyze(group_photo)
    strict = fer.analyze(group_photo, detector=fer.Detector("yunet", small_face_score_threshold=0.83))
    assert default and len(strict) <= len(default)
    assert min(f.score for f in strict) >= 0.83
    with pytest.raises(ValueError):
        fer.analyze(group_photo, detector=fer.Detector("yunet", small_face_score_threshold=1.5))


def test_max_pass_pixels_switches_to_the_proposal_cascade(group_photo):
    # min face 24 asks for the photo itself (640x384 at YuNet's input); below
    # that, YuNet finds the faces with a proposal pass and tiles instead
    one_pass = fer.analyze(group_photo, min_face=24)
    cascade = fer.analyze(group_photo, min_face=24, detector=fer.Detector("yunet", max_pass_pixels=65536))
    assert len(one_pass) >= 4 and len(cascade) == len(one_pass)
    for a in one_pass:
        assert any(abs(a.box[0] - b.box[0]) <= a.box[2] // 4 and abs(a.box[1] - b.box[1]) <= a.box[3] // 4
                   for b in cascade)
    with pytest.raises(ValueError):
        fer.analyze(group_photo, detector=fer.Detector("yunet", max_pass_pixels=1000))
