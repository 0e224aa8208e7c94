#!/usr/bin/env bash
# Face detection figures of docs/face-detection.md: builds bench-detect in
# build/ (or --build-dir DIR) and runs it on ../shared/data/faces.
#   bench/run-detect.sh [--build-dir DIR] [bench-detect options: --reps N --quick --csv FILE]
# Timings are one thread; run on an idle machine (the script warns otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [[ "${1:-}" == "--build-dir" ]]; then
  build=$2
  shift 2
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$build" bench-detect >/dev/null
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: 1-minute load average is $load; timings will be noisy" >&2
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $load"
exec "$build/bench/bench-detect" --faces ../shared/data/faces "$@"
