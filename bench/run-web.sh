#!/usr/bin/env bash
# Per-frame time of the web app's analysis (detect + crop + classify, 640x480,
# one face) in headless Chromium, SIMD128 and plain builds, against the native
# runtime on the same frame; and the download sizes. Results: bench/README.md.
#
#   bench/run-web.sh [--build-dir DIR] [--reps N]      # default build-web, 30
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-web"
reps=30
while (($#)); do
  case "$1" in
    --build-dir) build="$(realpath -m "$2")"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "usage: bench/run-web.sh [--build-dir DIR] [--reps N]" >&2; exit 1 ;;
  esac
done

# A runtime-only native build (no libtorch), the native twin of the page's
# analysis (tests/web/fer-frame-native.cpp), and the site itself.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_TRAINING=OFF -DFER_BUILD_TESTS=OFF \
      -DFER_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" fer_runtime fer-cascade >/dev/null
c++ -O3 -std=c++17 -I"$root/include" "$root/tests/web/fer-frame-native.cpp" "$build/src/libfer_runtime.a" \
    -o "$build/fer-frame-native"
"$root/web/build.sh" --out "$build/site" --cascade-tool "$build/src/detect/fer-cascade" >/dev/null
node "$root/tests/web/bench-web.js" --site "$build/site" --native "$build/fer-frame-native" --reps "$reps" \
     --work "$build/bench-web"
