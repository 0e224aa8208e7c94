#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of the runtime (no
# libtorch) in build-sanitize/, and the tests that need only the runtime run
# under it (tests/sanitize/CMakeLists.txt lists them). Exit 0: no finding.
# Usage: scripts/sanitize.sh      (after scripts/setup.sh; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFER_SANITIZE=ON \
  -DFER_BUILD_TRAINING=OFF -DFER_BUILD_TOOLS=OFF -DFER_BUILD_WEB=OFF -DFER_BUILD_TESTS=OFF -DFER_BUILD_BENCH=OFF >/dev/null
ninja -C build-sanitize -j "${FER_JOBS:-$(nproc)}"
ctest --test-dir build-sanitize --output-on-failure -j1
