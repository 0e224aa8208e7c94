"""Shared fixtures of the fer package's tests (docs/python.md, "Tests").

FER_SOURCE_DIR: the repository (samples/, models/); default: two levels up.
FER_CLI: the fer executable, for the tests that compare with `fer predict --json`
(skipped with a message when it is not given or not built).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("FER_SOURCE_DIR") or Path(__file__).resolve().parents[2])
SAMPLES = sorted((SOURCE / "samples").glob("*.jpg"))
CROPS = [p for p in SAMPLES if "PublicTest" in p.name]


@pytest.fixture(scope="session")
def source_dir() -> Path:
    return SOURCE


@pytest.fixture(scope="session")
def cli() -> str:
    exe = os.environ.get("FER_CLI") or str(SOURCE / "build" / "tools" / "fer" / "fer")
    if not os.access(exe, os.X_OK):
        pytest.skip(f"the fer executable is not built ({exe}); set FER_CLI")
    return exe


@pytest.fixture(scope="session")
def predict_json(cli):
    """`fer predict --json ARGS FILES` parsed, keyed by file."""
    def run(files, *args):
        out = subprocess.run([cli, "predict", "--json", *args, *map(str, files)], check=True,
                             capture_output=True, text=True, timeout=300).stdout
        return {Path(r["file"]).name: r for r in json.loads(out)}
    return run


@pytest.fixture(scope="session")
def group_photo():
    import fer
    return fer.read_image(SOURCE / "samples" / "group-photo.jpg")
