#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ and runs each for a bounded time:
#   fuzz-model-loader  the .tflite loader and verifier, seeded from
#                      tests/fuzz/corpus/ (copied to a temporary folder, so the
#                      committed seeds stay as they are), replaying the inputs of
#                      past findings in tests/fuzz/regressions/ first;
#   fuzz-cascade       the Haar cascade readers (XML and FERHAAR1), seeded from
#                      OpenCV's cascades when opencv-data is installed;
#   fuzz-http          fer serve's request head, chunked and multipart parsers.
# Usage: scripts/fuzz.sh [SECONDS]     (per target, default 60; exit 0: no finding)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is not installed (apt-get install clang)" >&2
  exit 77
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFER_BUILD_TRAINING=OFF -DFER_BUILD_TOOLS=OFF -DFER_BUILD_WEB=OFF -DFER_BUILD_TESTS=OFF -DFER_BUILD_BENCH=OFF -DFER_FUZZ=ON -DFER_BUILD_FUZZ=ON >/dev/null
ninja -C build-fuzz -j "${FER_JOBS:-1}" fuzz-model-loader fuzz-cascade fuzz-http
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/models" "$work/cascades"
cp tests/fuzz/corpus/* "$work/models/"
echo "fuzz: model loader, $secs s"
build-fuzz/tests/fuzz/fuzz-model-loader -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 "$work/models" tests/fuzz/regressions
seeds=()
[[ -d /usr/share/opencv4/haarcascades ]] && seeds=(/usr/share/opencv4/haarcascades)
echo "fuzz: cascade readers, $secs s"
build-fuzz/src/detect/fuzz-cascade -max_total_time="$secs" -max_len=1000000 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 "$work/cascades" "${seeds[@]}"
echo "fuzz: HTTP request parsing, $secs s"
mkdir -p "$work/http"
printf 'POST /v1/predict?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde' >"$work/http/head"
printf '5\r\nabcde\r\n0\r\nX: y\r\n\r\n' >"$work/http/chunked"
printf -- '--b0undary\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nxyz\r\n--b0undary--\r\n' \
  >"$work/http/multipart"
build-fuzz/tests/fuzz/fuzz-http -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 "$work/http"
