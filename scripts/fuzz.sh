#!/usr/bin/env bash
# Builds the libFuzzer target of the model loader (tests/fuzz/) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, and runs it
# for a bounded time from the seed models in tests/fuzz/corpus/ (copied to a
# temporary folder, so the committed seeds stay as they are), replaying the
# inputs of past findings in tests/fuzz/regressions/ first.
# Usage: scripts/fuzz.sh [SECONDS]     (default 60; exit 0: no finding)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is not installed (apt-get install clang)" >&2
  exit 77
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFER_BUILD_TRAINING=OFF -DFER_BUILD_TESTS=OFF -DFER_BUILD_BENCH=OFF -DFER_FUZZ=ON >/dev/null
ninja -C build-fuzz -j "${FER_JOBS:-1}" fuzz-model-loader
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work/"
build-fuzz/tests/fuzz/fuzz-model-loader -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 "$work" tests/fuzz/regressions
