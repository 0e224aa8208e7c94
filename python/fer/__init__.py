"""fer: the seven FER2013 facial emotions (angry, disgust, fear, happy, sad,
surprise, neutral) of every face in a picture, on fer's own C++ runtime.

    import cv2, fer
    for face in fer.analyze(cv2.imread("samples/group-photo.jpg")):
        print(face.box, face.emotion, round(face.confidence, 3))

fer.analyze(image) finds and classifies faces (YuNet detector, landmark-aligned
crops, the int8 fernet classifier: the same code and results as
`fer predict --json`); fer.classify(crops) classifies face crops;
fer.Model / fer.Detector load other files. docs/python.md has the details.
"""
from ._api import (Detector, Model, analyze, classify, default_model_path, read_image, resolve_detector,
                   shipped_model)
from ._core import DetectorError, FerError, ModelError
from ._results import EMOTIONS, LANDMARK_NAMES, Classification, Face

__version__ = "0.1.0"

FerError.__doc__ = "The runtime failed on valid input; the message is the runtime's (a RuntimeError)."
ModelError.__doc__ = "A model file the runtime refuses (missing, truncated, not a classifier); names the file and why."
DetectorError.__doc__ = "A face detector file the runtime refuses; names the file and why."

__all__ = [
    "analyze", "classify", "read_image", "Model", "Detector", "Face", "Classification", "EMOTIONS",
    "LANDMARK_NAMES", "FerError", "ModelError", "DetectorError", "shipped_model", "default_model_path",
    "resolve_detector",
]
