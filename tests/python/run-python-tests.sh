#!/usr/bin/env bash
# The Python package's CTest entries (tests/CMakeLists.txt, docs/python.md):
#   run-python-tests.sh wheel  SRC OUT FER_EXE   build the wheel (python3 -m build --no-isolation),
#                                                install it into a fresh venv --system-site-packages,
#                                                import it there
#   run-python-tests.sh pytest SRC OUT FER_EXE   python/tests/ with that venv's python
# Exit 77 (skipped) when Debian's Python build or test packages are missing.
set -euo pipefail
mode=$1 src=$2 out=$3 fer_exe=$4
py=${FER_PYTHON:-/usr/bin/python3}  # Debian's: its site-packages have numpy, pybind11, pytest
venv=$out/venv

missing=$("$py" - <<'PY'
import importlib.util
need = ["numpy", "pybind11", "setuptools", "wheel", "build", "pytest", "venv", "cv2"]
print(" ".join(m for m in need if importlib.util.find_spec(m) is None))
PY
)
if [[ -n "$missing" ]]; then
  echo "skipped: $py lacks the Python modules: $missing (scripts/setup.sh installs them)"
  exit 77
fi

case "$mode" in
wheel)
  mkdir -p "$out"
  rm -rf "$out/dist" "$venv"
  # The runtime's CMake build under build/python/ of the source tree is kept
  # between runs: a rebuild compiles only what changed (and ccache helps).
  if ! (cd "$src" && "$py" -m build --no-isolation --wheel --outdir "$out/dist" .) >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "FAILED: python3 -m build --no-isolation --wheel (log: $out/build.log)"
    exit 1
  fi
  wheel=$(ls "$out"/dist/fer-*.whl)
  echo "built $wheel ($(du -k "$wheel" | cut -f1) KiB)"
  "$py" -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install --quiet --no-index --no-deps "$wheel"
  # From outside the source tree: the installed copy is imported.
  cd "$out"
  "$venv/bin/python" - <<'PY'
import sys, numpy as np, fer
assert sys.prefix != sys.base_prefix, "not in the venv"
assert fer.__file__.startswith(sys.prefix), fer.__file__
faces = fer.analyze(np.zeros((100, 100, 3), np.uint8))
print("venv import ok:", fer.__file__, "| kernels:", fer.Model().kernels, "| faces on a black picture:", len(faces))
PY
  ;;
pytest)
  [[ -x "$venv/bin/python" ]] || { echo "no venv at $venv: the python-wheel test must run first"; exit 1; }
  cd "$out"
  FER_CLI="$fer_exe" FER_SOURCE_DIR="$src" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$src/python/tests"
  ;;
*)
  echo "usage: $0 wheel|pytest SRC OUT FER_EXE" >&2
  exit 2
  ;;
esac
