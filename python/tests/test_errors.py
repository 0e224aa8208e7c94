"""Bad input raises a clear Python exception and never crashes the interpreter."""
import numpy as np
import pytest

import fer


@pytest.fixture
def image():
    return np.zeros((120, 160, 3), np.uint8)


@pytest.mark.parametrize("bad,exc,text", [
    (np.zeros((120, 160, 3), np.float32), TypeError, "dtype uint8"),
    (np.zeros((120, 160, 3), np.int16), TypeError, "dtype uint8"),
    ([[0, 1], [2, 3]], TypeError, "NumPy uint8 array, got list"),
    ("picture.jpg", TypeError, "got str"),
    (np.zeros(100, np.uint8), ValueError, "got shape (100,)"),
    (np.zeros((2, 120, 160, 3), np.uint8), ValueError, "got shape (2, 120, 160, 3)"),
    (np.zeros((120, 160, 2), np.uint8), ValueError, "1, 3 or 4 channels"),
    (np.zeros((0, 160, 3), np.uint8), ValueError, "empty"),
    (np.zeros((120, 320, 3), np.uint8)[:, ::2], ValueError, "np.ascontiguousarray"),
    (np.zeros((160, 120, 3), np.uint8).transpose(1, 0, 2), ValueError, "np.ascontiguousarray"),
    (np.zeros((120, 160, 3), np.uint8)[::-1], ValueError, "np.ascontiguousarray"),
    (np.zeros((120, 160, 3), np.uint8)[:, :, ::-1], ValueError, "np.ascontiguousarray"),
])
def test_bad_images(bad, exc, text):
    with pytest.raises(exc, match=None) as e:
        fer.analyze(bad)
    assert text in str(e.value)


def test_bad_image_in_a_batch_is_named(image):
    with pytest.raises(TypeError, match="image 1 must have dtype uint8"):
        fer.analyze([image, image.astype(np.float64)])


@pytest.mark.parametrize("kwargs,text", [
    ({"color": "rgb"}, None),
    ({"color": "grey"}, "color='grey' needs 1"),
    ({"color": "hsv"}, "color must be one of"),
    ({"rgb": True, "color": "bgr"}, "either rgb=True or color"),
    ({"tta": "twice"}, "tta must be"),
    ({"min_confidence": 1.5}, "min_confidence must be"),
    ({"min_face": -1}, "min_face must be"),
    ({"threads": 0}, "threads must be in 1..256"),
])
def test_bad_options(image, kwargs, text):
    if text is None:
        assert fer.analyze(image, **kwargs) == []  # valid: a black picture has no face
        return
    with pytest.raises((ValueError, TypeError)) as e:
        fer.analyze(image, **kwargs)
    assert text in str(e.value)


@pytest.mark.parametrize("bad,exc,text", [
    (np.zeros((3, 48, 48), np.float32), TypeError, "dtype uint8"),
    (np.zeros((3, 48, 48, 3), np.uint8), ValueError, "got shape (3, 48, 48, 3)"),
    (np.zeros((3, 0, 48), np.uint8), ValueError, "empty"),
    (np.zeros((3, 48, 96), np.uint8)[:, :, ::2], ValueError, "np.ascontiguousarray"),
])
def test_bad_crops(bad, exc, text):
    with pytest.raises(exc) as e:
        fer.classify(bad)
    assert text in str(e.value)


def test_broken_model_files(tmp_path, source_dir):
    good = (source_dir / "models" / "fernet-int8.tflite").read_bytes()
    cases = {
        "missing.tflite": None,
        "empty.tflite": b"",
        "text.tflite": b"this is not a model\n" * 10,
        "truncated.tflite": good[: len(good) // 3],
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(fer.ModelError) as e:
            fer.Model(path)
        assert str(path) in str(e.value) and len(str(e.value)) > len(str(path)) + 5, str(e.value)
        assert isinstance(e.value, fer.FerError) and isinstance(e.value, RuntimeError)
    with pytest.raises(fer.ModelError, match="face_detector"):
        fer.Model(fer.shipped_model("yunet-int8.tflite"))  # a detector is not a classifier
    with pytest.raises(fer.ModelError):
        fer.analyze(np.zeros((48, 48), np.uint8), model=tmp_path / "truncated.tflite")


def test_broken_detector_files(tmp_path):
    bad = tmp_path / "cascade.xml"
    bad.write_text("<opencv_storage><cascade>broken")
    with pytest.raises(fer.DetectorError) as e:
        fer.Detector(bad)
    assert str(bad) in str(e.value)
    with pytest.raises(fer.DetectorError):
        fer.Detector(tmp_path / "absent.xml")
    with pytest.raises(TypeError, match="unknown detector setting"):
        fer.Detector("yunet", score_treshold=0.5)


def test_too_large_picture_is_refused():
    # 1 x 110 million pixels: above the detector's 100 megapixels, costs 110 MB
    huge = np.zeros((1, 110_000_000), np.uint8)
    with pytest.raises(ValueError, match="face detection failed"):
        fer.analyze(huge)
