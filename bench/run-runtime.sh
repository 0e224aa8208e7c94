#!/usr/bin/env bash
# Latency per face (one 48x48 crop, batch 1, one thread) of fer's runtime on
# the shipped .tflite files against libtorch's forward pass (bench-runtime, in
# one process) and against TensorFlow Lite's interpreter on the same files
# (tfjs-tflite in Node: TFLite's C++ runtime and XNNPACK compiled to
# WebAssembly, the recipe of ../shared/docs/interop-recipes.md; a native TFLite
# is not packaged in Debian 12). Prints both tables and our speed-up ratios,
# then fernet-s (the faster student of issue 13) beside fernet.
# Usage: bench/run-runtime.sh [FLOAT.tflite INT8.tflite]   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
f32="${1:-models/fernet.tflite}"
i8="${2:-models/fernet-int8.tflite}"
out=$(build/bench/bench-runtime --float "$f32" --int8 "$i8")
echo "$out"
echo
ours_f32=$(echo "$out" | awk '/^fer float32 \(/ {print $(NF-3)}')
ours_i8=$(echo "$out" | awk '/^fer int8 \(/ {print $(NF-3)}')
if [[ ! -d tests/interop/node_modules ]]; then
  echo "run-runtime: tests/interop/node_modules is missing (scripts/setup.sh installs it): no TFLite figures" >&2
else
  tfl=$(node bench/tflite-latency.js "$f32" "$i8" 2>/dev/null | grep -E '\.tflite [0-9.]+$')
  tfl_f32=$(echo "$tfl" | awk 'NR==1 {print $2}')
  tfl_i8=$(echo "$tfl" | awk 'NR==2 {print $2}')
  printf '%-44s %9s %9s %8s\n' "TFLite interpreter (tfjs-tflite, 1 thread)" "ms/face" "fer" "fer is"
  printf '%-44s %9.3f %9.3f %7.2fx\n' "float32 $f32" "$tfl_f32" "$ours_f32" "$(awk -v a="$tfl_f32" -v b="$ours_f32" 'BEGIN {print a / b}')"
  printf '%-44s %9.3f %9.3f %7.2fx\n' "int8 $i8" "$tfl_i8" "$ours_i8" "$(awk -v a="$tfl_i8" -v b="$ours_i8" 'BEGIN {print a / b}')"
fi

# The student architecture of issue 13 (fernet-s, 58% of fernet's multiply-
# accumulates) beside fernet, same binary, same run. Latency does not depend
# on the weights, so until a trained student ships, a 1-epoch run on 512
# Training faces stands in for it (FER_STUDENT=DIR with best.pt names another run).
student="${FER_STUDENT:-}"
if [[ -z "$student" ]]; then
  if [[ ! -d data/fer2013 ]]; then
    echo "run-runtime: data/fer2013 is missing: no fernet-s figures" >&2
    exit 0
  fi
  student="$(mktemp -d)"
  trap 'rm -rf "$student"' EXIT
  build/tools/fer/fer train --data data/fer2013 --arch fernet-s --epochs 1 --limit 512 --val-limit 64 \
      --threads 1 --out "$student" >/dev/null 2>&1
fi
build/tools/fer/fer export --model "$student" --out "$student/student.tflite" --check-faces 4 >/dev/null
build/tools/fer/fer export --model "$student" --int8 --samples 256 --check-faces 4 \
    --out "$student/student-int8.tflite" >/dev/null
echo
sout=$(build/bench/bench-runtime --pt "$student/best.pt" --float "$student/student.tflite" --int8 "$student/student-int8.tflite")
s_f32=$(echo "$sout" | awk '/^fer float32 \(/ {print $(NF-3)}')
s_i8=$(echo "$sout" | awk '/^fer int8 \(/ {print $(NF-3)}')
echo "$sout" | grep -E "MACs per face|^fer (float32|int8) \("
printf '%-44s %9s %9s %8s\n' "fernet-s beside fernet (fer runtime, 1 thread)" "fernet" "fernet-s" "ratio"
printf '%-44s %9.3f %9.3f %7.2fx\n' "float32 ms/face" "$ours_f32" "$s_f32" "$(awk -v a="$s_f32" -v b="$ours_f32" 'BEGIN {print a / b}')"
printf '%-44s %9.3f %9.3f %7.2fx\n' "int8 ms/face" "$ours_i8" "$s_i8" "$(awk -v a="$s_i8" -v b="$ours_i8" 'BEGIN {print a / b}')"
