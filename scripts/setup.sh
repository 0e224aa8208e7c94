#!/usr/bin/env bash
# Installs what fer needs on Debian 12 (only what is missing), then configures
# and builds it. Idempotent: a second run installs nothing and rebuilds only
# what changed. Usage: scripts/setup.sh [--bench]   (--bench adds python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config
          libtorch-dev libopencv-dev libgtest-dev libgmock-dev libbenchmark-dev opencv-data
          emscripten chromium ffmpeg clang
          libcpp-httplib-dev libssl-dev openssl wrk   # fer serve (HTTPS), its tests (httplib client) and load test
          nginx                                       # the reverse-proxy recipe's test (tests/test-serve-proxy.cpp)
          zbar-tools zopfli                           # fer serve --phone's QR code test (zbarimg); the web app's smaller .gz files
          g++-aarch64-linux-gnu qemu-user             # the NEON kernel's tests, under emulation (tests/arm/)
          libgloo-dev python3-yaml                    # distributed training (c10d headers), deploy/check.py
          python3-dev python3-numpy python3-pybind11 pybind11-dev python3-setuptools python3-wheel  # the Python
          python3-build python3-venv python3-pip python3-pytest python3-opencv   # package and its tests (python/)
          libonnx-dev libprotobuf-dev)                # fer export --format onnx (ONNX's protobuf classes, checker)
# Node.js may come from another Debian source (e.g. a nodejs build that bundles
# npm and conflicts with Debian's npm package): only install it when missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-numpy)  # also torchrun (docs/scale-out.md)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The TFLite interpreter and ONNX runtime the interop tests run (tests/interop/,
# versions pinned in its package-lock.json). Skipped when installed and the lock
# is unchanged. ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall
# would download GPU libraries; its CPU binaries come in the package.
if [[ ! -f tests/interop/node_modules/.package-lock.json ||
      tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]]; then
  echo "setup: installing tests/interop npm packages"
  (cd tests/interop && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error) ||
    echo "setup: warning: npm ci failed; the TFLite and ONNX interop tests will be skipped"
fi

# playwright-core drives Debian's chromium in the web app's tests (tests/web/).
if [[ ! -f tests/web/node_modules/.package-lock.json ||
      tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]]; then
  echo "setup: installing tests/web npm packages"
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "setup: warning: npm ci failed; the web app's browser tests will be skipped"
fi

# Two cores: two compile jobs. libtorch translation units need ~1.5 GB each.
jobs="${FER_JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_TESTS=ON -DFER_BUILD_BENCH=ON >/dev/null
ninja -C build -j "$jobs"
echo "setup: built build/tools/fer/fer"
