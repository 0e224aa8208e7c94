#!/usr/bin/env bash
# Latency per face (one 48x48 crop, batch 1, one thread) of fer's runtime on
# the shipped .tflite files against libtorch's forward pass (bench-runtime, in
# one process) and against TensorFlow Lite's interpreter on the same files
# (tfjs-tflite in Node: TFLite's C++ runtime and XNNPACK compiled to
# WebAssembly, the recipe of ../shared/docs/interop-recipes.md; a native TFLite
# is not packaged in Debian 12). Prints both tables and our speed-up ratios.
# Usage: bench/run-runtime.sh [FLOAT.tflite INT8.tflite]   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
f32="${1:-models/fernet.tflite}"
i8="${2:-models/fernet-int8.tflite}"
out=$(build/bench/bench-runtime --float "$f32" --int8 "$i8")
echo "$out"
echo
if [[ ! -d tests/interop/node_modules ]]; then
  echo "run-runtime: tests/interop/node_modules is missing (scripts/setup.sh installs it): no TFLite figures" >&2
  exit 0
fi
tfl=$(node bench/tflite-latency.js "$f32" "$i8" 2>/dev/null | grep -E '\.tflite [0-9.]+$')
ours_f32=$(echo "$out" | awk '/^fer float32 \(/ {print $(NF-3)}')
ours_i8=$(echo "$out" | awk '/^fer int8 \(/ {print $(NF-3)}')
tfl_f32=$(echo "$tfl" | awk 'NR==1 {print $2}')
tfl_i8=$(echo "$tfl" | awk 'NR==2 {print $2}')
printf '%-44s %9s %9s %8s\n' "TFLite interpreter (tfjs-tflite, 1 thread)" "ms/face" "fer" "fer is"
printf '%-44s %9.3f %9.3f %7.2fx\n' "float32 $f32" "$tfl_f32" "$ours_f32" "$(awk -v a="$tfl_f32" -v b="$ours_f32" 'BEGIN {print a / b}')"
printf '%-44s %9.3f %9.3f %7.2fx\n' "int8 $i8" "$tfl_i8" "$ours_i8" "$(awk -v a="$tfl_i8" -v b="$ours_i8" 'BEGIN {print a / b}')"
