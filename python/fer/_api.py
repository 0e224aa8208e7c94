"""fer.Model, fer.Detector, fer.analyze and fer.classify over fer._core."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union, overload

import numpy as np

from . import _core
from ._results import Classification, Face, classifications_from_arrays, faces_from_arrays

PathLike = Union[str, "os.PathLike[str]"]
ImageArray = np.ndarray

_PACKAGE_MODELS = Path(__file__).resolve().parent / "models"
# A source checkout (python/fer/ beside models/) when the package is used in place.
_SOURCE_MODELS = Path(__file__).resolve().parents[2] / "models"
_HAAR_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"


def shipped_model(name: str) -> str:
    """Path of a model file that comes with the package (e.g. "fernet-int8.tflite")."""
    for folder in (_PACKAGE_MODELS, _SOURCE_MODELS):
        if (folder / name).is_file():
            return str(folder / name)
    raise FileNotFoundError(f"{name}: not in {_PACKAGE_MODELS} (is the fer package installed completely?)")


def default_model_path() -> str:
    """$FER_TFLITE_MODEL, else the shipped int8 fernet (the fer command's default)."""
    return os.environ.get("FER_TFLITE_MODEL") or shipped_model("fernet-int8.tflite")


def resolve_detector(name: Optional[PathLike]) -> str:
    """--detector's names: "yunet" (shipped int8 YuNet, the default), "yunet-float32",
    "haar" ($FER_CASCADE or OpenCV's frontalface_alt2 from Debian's opencv-data),
    or a file. None: $FER_DETECTOR, else "yunet"."""
    n = os.fspath(name) if name is not None else (os.environ.get("FER_DETECTOR") or "yunet")
    if n == "yunet":
        return shipped_model("yunet-int8.tflite")
    if n == "yunet-float32":
        return shipped_model("yunet.tflite")
    if n == "haar":
        return os.environ.get("FER_CASCADE") or _HAAR_CASCADE
    return n


_TTA_MODES = {"none": 0, "flip": 1, "ten-crop": 2}  # fer_tta (fer-pipeline.h)


def _tta(tta: str) -> int:
    if tta not in _TTA_MODES:
        raise ValueError(f"tta must be 'none', 'flip' or 'ten-crop' (got {tta!r})")
    return _TTA_MODES[tta]


class Model:
    """A TFLite emotion classifier in fer's runtime.

    Model(path=None, threads=1): path defaults to the shipped
    models/fernet-int8.tflite ($FER_TFLITE_MODEL overrides it, as for the fer
    command); threads is how many pictures or crops of one batch call run at
    once (each call may also come from its own Python thread: the GIL is
    released during inference). A broken file raises fer.ModelError with the
    runtime's reason.
    """

    def __init__(self, path: Optional[PathLike] = None, *, threads: int = 1, reference_kernels: bool = False):
        p = os.fspath(path) if path is not None else default_model_path()
        if not isinstance(threads, int) or isinstance(threads, bool):
            raise TypeError(f"threads must be an int (got {type(threads).__name__})")
        self._m = _core.Model(p, threads, reference_kernels)
        if self._m.task != "classifier":
            raise _core.ModelError(f"{p}: a {self._m.task} model, not an emotion classifier")

    @property
    def path(self) -> str:
        return self._m.path

    @property
    def threads(self) -> int:
        return self._m.threads

    @property
    def labels(self) -> List[str]:
        """Class labels from the file's metadata, FER2013 order."""
        return self._m.labels

    @property
    def kernels(self) -> str:
        """Which kernels run (chosen from the CPU at load): e.g. "avx2+fma"."""
        return self._m.kernels

    def meta(self, key: str) -> Optional[str]:
        """A value of the file's "fer.info" metadata (model, version, input, ...), or None."""
        return self._m.meta(key)

    def probabilities(self, crops: np.ndarray, *, tta: str = "none") -> np.ndarray:
        """Probabilities (n, 7) float32 of grey face crops: one (h, w) uint8 crop or a
        batch (n, h, w); crops that are not 48x48 are resized by area averaging."""
        probs, _ = self._m.classify(crops, _tta(tta))
        return probs

    def classify(self, crops: np.ndarray, *, tta: str = "none") -> List[Classification]:
        """The emotion of each grey face crop (see probabilities for the input)."""
        probs, tops = self._m.classify(crops, _tta(tta))
        return classifications_from_arrays(probs, tops)

    def __repr__(self) -> str:
        return f"fer.Model({self.path!r}, threads={self.threads})"


class Detector:
    """A face detector: "yunet" (default; CNN with five landmarks), "haar", or a file
    (YuNet .tflite, OpenCV cascade XML, FERHAAR1). Keyword arguments override its
    settings (defaults as the fer command's): score_threshold (YuNet, 0.83),
    small_face_score_threshold (YuNet, 0.6: faces it sees under 64 px),
    nms_threshold (YuNet, 0.3), input_long_side (YuNet, 0: from min_face),
    max_pass_pixels (YuNet, 0: 2,000,000; above it small faces are found by a
    proposal pass and tiles),
    scale_factor (Haar, 1.1), min_neighbors (Haar, 3), max_size (0: the picture).
    A broken file raises fer.DetectorError."""

    _SETTINGS = ("score_threshold", "small_face_score_threshold", "nms_threshold", "input_long_side", "scale_factor",
                 "min_neighbors", "max_size", "max_pass_pixels")

    def __init__(self, detector: Optional[PathLike] = None, **settings: Any):
        unknown = set(settings) - set(self._SETTINGS)
        if unknown:
            raise TypeError(f"unknown detector setting(s) {sorted(unknown)}; known: {list(self._SETTINGS)}")
        self._d = _core.Detector(resolve_detector(detector))
        self.settings: Dict[str, Any] = {k: v for k, v in settings.items() if v is not None}

    @property
    def path(self) -> str:
        return self._d.path

    @property
    def kind(self) -> str:
        """"yunet" or "haar"."""
        return self._d.kind

    def __repr__(self) -> str:
        return f"fer.Detector({self.path!r}, kind={self.kind!r})"


# Default objects, loaded on first use and shared (models are immutable; each
# call takes its own context), one per (file, threads).
_lock = threading.Lock()
_models: Dict[Tuple[str, int], Model] = {}
_detectors: Dict[str, Detector] = {}


def _model(model: Union[Model, PathLike, None], threads: Optional[int]) -> Model:
    if isinstance(model, Model):
        if threads is not None and threads != model.threads:
            raise ValueError("threads is a setting of the Model: pass fer.Model(path, threads=...)")
        return model
    key = (os.fspath(model) if model is not None else default_model_path(), 1 if threads is None else threads)
    with _lock:
        if key not in _models:
            _models[key] = Model(key[0], threads=key[1])
        return _models[key]


def _detector(detector: Union[Detector, PathLike, None]) -> Detector:
    if isinstance(detector, Detector):
        return detector
    path = resolve_detector(detector)
    with _lock:
        if path not in _detectors:
            _detectors[path] = Detector(path)
        return _detectors[path]


def _color(rgb: bool, color: Optional[str]) -> str:
    if color is not None:
        if rgb:
            raise ValueError("give either rgb=True or color=..., not both")
        return color
    return "rgb" if rgb else "auto"


def _check_range(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a number in {lo}..{hi} (got {value!r})")


@overload
def analyze(image: np.ndarray, **kwargs: Any) -> List[Face]: ...
@overload
def analyze(image: Sequence[np.ndarray], **kwargs: Any) -> List[List[Face]]: ...


def analyze(image: Union[np.ndarray, Sequence[np.ndarray]], *, rgb: bool = False, color: Optional[str] = None,
            model: Union[Model, PathLike, None] = None, detector: Union[Detector, PathLike, None] = None,
            min_face: int = 0, max_faces: int = 0, min_confidence: float = 0.0, tta: str = "none",
            align: bool = True, threads: Optional[int] = None) -> Any:
    """Every face of a picture and its emotion, largest face first.

    image: a NumPy uint8 array, (h, w) grey or (h, w, 3) BGR as OpenCV reads it
        (rgb=True for RGB, e.g. from PIL/imageio), (h, w, 4) BGRA (or RGBA with
        rgb=True); any size; read in place when rows are contiguous (also crops
        of a bigger array). A list of arrays is analysed over `threads` workers
        and gives a list of results.
    color: "bgr", "rgb", "bgra", "rgba" or "grey" instead of guessing from the shape.
    model, detector: fer.Model / fer.Detector objects, or paths / detector names
        ("yunet", "haar"); default: the shipped int8 fernet and YuNet.
    min_face, max_faces, min_confidence, tta ("none", "flip" or "ten-crop"): as the fer
        command's --min-face, --max-faces, --min-confidence, --tta.
    align: crop faces upright from YuNet's landmarks (the fer command does).

    Returns a list of fer.Face. Raises TypeError / ValueError for a bad image
    or option, fer.FerError when the runtime fails.
    """
    _check_range("min_face", min_face, 0, 100000)
    _check_range("max_faces", max_faces, 0, 100000)
    _check_range("min_confidence", min_confidence, 0.0, 1.0)
    m = _model(model, threads)
    d = _detector(detector)
    options = dict(d.settings, min_face=int(min_face), max_faces=int(max_faces), min_confidence=float(min_confidence),
                   tta=_tta(tta), align=bool(align))
    batch = isinstance(image, (list, tuple))
    images = list(image) if batch else [image]
    results = [faces_from_arrays(a) for a in _core.analyze(m._m, d._d, images, _color(rgb, color), options)]
    return results if batch else results[0]


def classify(crops: np.ndarray, *, model: Union[Model, PathLike, None] = None, tta: str = "none",
             threads: Optional[int] = None) -> List[Classification]:
    """The emotion of each grey face crop: one (h, w) uint8 array or a batch (n, h, w)
    (FER2013's crops are 48x48; other sizes are resized by area averaging), as
    `fer predict --whole` classifies pictures that are a face each."""
    return _model(model, threads).classify(crops, tta=tta)


def read_image(path: PathLike) -> np.ndarray:
    """A picture file as a BGR uint8 array, decoded as the fer command decodes it
    (OpenCV, EXIF orientation applied). Needs OpenCV's Python module (python3-opencv)."""
    try:
        import cv2  # noqa: PLC0415 (optional dependency)
    except ImportError as e:
        raise ImportError("fer.read_image needs OpenCV's Python module (Debian: python3-opencv); "
                          "or decode the picture yourself and pass the array") from e
    img = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{os.fspath(path)}: cannot read or decode the picture")
    return img
