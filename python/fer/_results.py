"""Results as plain dataclasses; to_dict() gives what `fer predict --json` prints."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

# FER2013 label order (the `emotion` column of fer2013.csv).
EMOTIONS: Tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# YuNet's five points, in fer_box.landmarks order (the subject's right and left).
LANDMARK_NAMES: Tuple[str, ...] = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


@dataclass
class Classification:
    """One face crop's emotion.

    emotion: the most probable class name ("angry" ... "neutral").
    confidence: its probability, 0..1.
    probabilities: every class's probability, in FER2013 order (sum to 1).
    """

    emotion: str
    confidence: float
    probabilities: Dict[str, float]

    def to_dict(self) -> Dict[str, Any]:
        return {"emotion": self.emotion, "confidence": self.confidence, "probabilities": dict(self.probabilities)}


@dataclass
class Face:
    """One face found in a picture and its emotion.

    box: (x, y, width, height) in pixels of the picture passed in.
    emotion: the most probable class, or "uncertain" when confidence is below
        the min_confidence asked for (top_emotion always holds the class).
    confidence: the top class's probability, 0..1.
    probabilities: every class's probability, in FER2013 order.
    score: the detector's score 0..1 (YuNet; None for the Haar cascade).
    landmarks: YuNet's five points [(x, y), ...]: right eye, left eye, nose
        tip, right and left mouth corner (the subject's right); None for Haar.
    crop: (x, y, side) of the square that was classified (may reach outside
        the picture; for aligned crops the upright square it covers).
    """

    box: Tuple[int, int, int, int]
    emotion: str
    top_emotion: str
    confidence: float
    uncertain: bool
    probabilities: Dict[str, float]
    score: Optional[float] = None
    landmarks: Optional[List[Tuple[float, float]]] = None
    crop: Tuple[int, int, int] = field(default=(0, 0, 0))

    def to_dict(self) -> Dict[str, Any]:
        """The face as `fer predict --json` writes it (same keys and order)."""
        d: Dict[str, Any] = {
            "box": list(self.box),
            "emotion": self.emotion,
            "confidence": self.confidence,
            "uncertain": self.uncertain,
            "probabilities": dict(self.probabilities),
        }
        if self.landmarks is not None:
            d["score"] = self.score
            d["landmarks"] = [list(p) for p in self.landmarks]
        return d


def faces_from_arrays(a: Dict[str, Any]) -> List[Face]:
    """fer._core.analyze's arrays of one picture to Face objects."""
    faces = []
    probs = a["probabilities"].tolist()
    tops = a["top_class"].tolist()
    for i, box in enumerate(a["boxes"].tolist()):
        p = dict(zip(EMOTIONS, probs[i]))
        top = EMOTIONS[tops[i]]
        uncertain = bool(a["uncertain"][i])
        has_lm = bool(a["has_landmarks"][i])
        faces.append(Face(
            box=tuple(box),
            emotion="uncertain" if uncertain else top,
            top_emotion=top,
            confidence=float(a["confidence"][i]),
            uncertain=uncertain,
            probabilities=p,
            score=float(a["scores"][i]) if has_lm else None,
            landmarks=[tuple(pt) for pt in a["landmarks"][i].tolist()] if has_lm else None,
            crop=tuple(a["crops"][i].tolist()),
        ))
    return faces


def classifications_from_arrays(probs: Any, tops: Any) -> List[Classification]:
    out = []
    for p, t in zip(probs.tolist(), tops.tolist()):
        out.append(Classification(emotion=EMOTIONS[t], confidence=p[t], probabilities=dict(zip(EMOTIONS, p))))
    return out
