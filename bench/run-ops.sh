#!/usr/bin/env bash
# Where a model's time goes, op kind by op kind: natively (the best kernel set
# of this CPU) and as the web app's SIMD128 WebAssembly under Node (V8, the
# optimising tier only: --no-liftoff), same model, same input size, one
# thread. The ratio column says which kernels WebAssembly lacks or runs slowly.
#
#   bench/run-ops.sh [MODEL] [--size HxW] [--reps N]   (default models/yunet-int8.tflite 256x352 50)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$root/models/yunet-int8.tflite"
size=256x352
reps=50
if [[ $# -gt 0 && $1 != --* ]]; then model="$(realpath "$1")"; shift; fi
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "usage: bench/run-ops.sh [MODEL] [--size HxW] [--reps N]" >&2; exit 1 ;;
  esac
done
native="$root/build/bench/bench-ops"
[[ -x $native ]] || { echo "run-ops: $native is missing (ninja -C build bench-ops)" >&2; exit 2; }
"$native" "$model" --size "$size" --reps "$reps" | tee /tmp/run-ops-native.$$
if ! command -v em++ >/dev/null || ! command -v node >/dev/null; then
  echo "run-ops: em++ or node missing: no WebAssembly column" >&2
  exit 0
fi
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
work="$root/build-ops-wasm"
emcmake cmake -S "$root" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_TRAINING=OFF -DFER_BUILD_TESTS=OFF \
      -DFER_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS=-msimd128 -DCCACHE_PROGRAM=CCACHE_PROGRAM-NOTFOUND >/dev/null
ninja -C "$work" fer_runtime >/dev/null
em++ -O3 -std=c++17 -msimd128 -fno-exceptions -I"$root/include" -I"$root/src" "$root/bench/bench-ops.cpp" \
     "$work/src/libfer_runtime.a" -sALLOW_MEMORY_GROWTH=1 -sNODERAWFS=1 -sSINGLE_FILE=1 -o "$work/bench-ops.js"
echo
node --no-liftoff "$work/bench-ops.js" "$model" --size "$size" --reps "$reps" | tee /tmp/run-ops-wasm.$$
echo
echo "| op | native ms | WebAssembly SIMD128 ms | ratio |"
echo "|---|---:|---:|---:|"
LC_ALL=C join -t'|' -j2 <(grep '^| [A-Z]' /tmp/run-ops-native.$$ | LC_ALL=C sort -t"|" -k2,2) \
               <(grep '^| [A-Z]' /tmp/run-ops-wasm.$$ | LC_ALL=C sort -t"|" -k2,2) |
  awk -F'|' '{ printf "|%s| %.3f | %.3f | %.2fx |\n", $1, $4, $9, ($4 > 0 ? $9 / $4 : 0) }'
n=$(awk -F'|' '/^\| total/ {print $4}' /tmp/run-ops-native.$$)
wa=$(awk -F'|' '/^\| total/ {print $4}' /tmp/run-ops-wasm.$$)
awk -v a="$n" -v b="$wa" 'BEGIN { printf "| total | %.3f | %.3f | %.2fx |\n", a, b, b / a }'
rm -f /tmp/run-ops-native.$$ /tmp/run-ops-wasm.$$
