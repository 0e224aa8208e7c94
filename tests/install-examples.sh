#!/bin/sh
# Installs the runtime package (component fer-dev: library, headers, CMake
# config) into a fresh prefix, builds examples/ against it with find_package
# as a user would, and runs both programs on the shipped models.
# Usage: install-examples.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
build="$1"
src="$2"
work="$3"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --component fer-dev --prefix "$work/prefix" >"$work/install.log"
for f in include/fer.h include/fer-cpp.h include/fer-detect.h include/fer-pipeline.h lib/cmake/fer/ferConfig.cmake; do
  [ -f "$work/prefix/$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done
# No private header may leak into the installed ones.
if grep -l '"kernels.h"\|"model/' "$work/prefix/include/"*.h; then
  echo "FAIL: an installed header includes a private one"
  exit 1
fi
cmake -S "$src/examples" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out=$("$work/build/classify-c" "$src/models/fernet-int8.tflite")
echo "$out"
echo "$out" | grep -q "<-" || { echo "FAIL: classify-c printed no top class"; exit 1; }
out=$("$work/build/analyze-cpp" "$src/models/fernet-int8.tflite" "$src/models/yunet-int8.tflite")
echo "$out"
echo "$out" | grep -q "yunet detector" || { echo "FAIL: analyze-cpp did not run the detector"; exit 1; }
# A missing model is refused with a message and a non-zero exit.
if "$work/build/classify-c" "$work/missing.tflite" 2>"$work/err.txt"; then
  echo "FAIL: a missing model was accepted"
  exit 1
fi
grep -q "missing.tflite" "$work/err.txt" || { echo "FAIL: no message naming the missing file"; cat "$work/err.txt"; exit 1; }
echo "ok: examples built against the installed package and ran"
