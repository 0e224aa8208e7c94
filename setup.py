"""Builds fer._core with CMake, so that the runtime's sources and per-file ISA
flags (src/CMakeLists.txt: kernels-avx2.cpp with -mavx2 -mfma, ...) have one
source of truth, and copies the shipped models into the package.
Metadata is in pyproject.toml; docs/python.md explains the build."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The files fer.analyze needs by default (the fer command's defaults).
SHIPPED_MODELS = ["fernet-int8.tflite", "yunet-int8.tflite", "LICENSE-yunet"]

os.makedirs(ROOT / "build" / "python", exist_ok=True)  # setup.cfg's egg_base must exist


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class BuildWithCMake(build_ext):
    """Configures the project with only the runtime and the extension
    (-DFER_BUILD_PYTHON=ON, no libtorch/OpenCV) and builds target fer_python."""

    def build_extension(self, ext):
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        tree = Path(self.build_temp).resolve() / "cmake"
        tree.mkdir(parents=True, exist_ok=True)
        configure = ["cmake", "-S", str(ROOT), "-B", str(tree), "-DCMAKE_BUILD_TYPE=Release",
                     "-DFER_BUILD_TRAINING=OFF", "-DFER_BUILD_TESTS=OFF", "-DFER_BUILD_BENCH=OFF",
                     "-DFER_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
                     f"-DFER_PYTHON_OUTPUT_DIR={out_dir}"]
        if shutil.which("ninja") and not (tree / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(tree), "--target", "fer_python", "-j", jobs], check=True)


class BuildWithModels(build_py):
    """Copies the shipped model files into fer/models/ of the build."""

    def run(self):
        super().run()
        dest = Path(self.build_lib) / "fer" / "models"
        dest.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED_MODELS:
            shutil.copyfile(ROOT / "models" / name, dest / name)


setup(ext_modules=[CMakeExtension("fer._core")],
      cmdclass={"build_ext": BuildWithCMake, "build_py": BuildWithModels})
