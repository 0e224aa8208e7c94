# Types of the extension module (python/ext/); the public API is fer/_api.py.
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

N_CLASSES: int
INPUT_SIZE: int

class FerError(RuntimeError): ...
class ModelError(FerError): ...
class DetectorError(FerError): ...

class Model:
    def __init__(self, path: str, threads: int = 1, reference_kernels: bool = False) -> None: ...
    path: str
    threads: int
    kernels: str
    task: str
    arena_size: int
    labels: List[str]
    def meta(self, key: str) -> Optional[str]: ...
    def classify(self, crops: np.ndarray, tta: int = 0) -> Tuple[np.ndarray, np.ndarray]: ...

class Detector:
    def __init__(self, path: str) -> None: ...
    path: str
    kind: str

def analyze(model: Model, detector: Detector, images: List[Any], color: str,
            options: Dict[str, Any]) -> List[Dict[str, np.ndarray]]: ...
def class_name(c: int) -> Optional[str]: ...
