#!/usr/bin/env bash
# Face detector figures of docs/face-detection.md: YuNet (float32, int8) and the
# Haar cascade, recall/precision on ../shared/data/wider-val-dev and faces/,
# then the whole pipeline's time per frame on one thread, and YuNet's network alone
# against onnxruntime on the same ONNX file (in the same run).
#   bench/run-face-detectors.sh [--build-dir DIR] [--thresholds] [bench options: --reps N]
# --thresholds: the score-threshold scan used to choose the default instead.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [[ "${1:-}" == "--build-dir" ]]; then
  build=$2
  shift 2
fi
if [[ "${1:-}" == "--thresholds" ]]; then
  export FER_BENCH_THRESHOLDS=1
  shift
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$build" bench-face-detectors >/dev/null
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: 1-minute load average is $load; timings will be noisy" >&2
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $load"
# One core for the whole run where taskset exists: a process moving between
# cores is the largest source of noise on small virtual machines.
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$build/bench/bench-face-detectors" --shared ../shared/data --models models "$@"
# The peer of the "network alone" rows: the same ONNX file in onnxruntime (tests/interop's copy).
if [[ -z "${FER_BENCH_THRESHOLDS:-}" && -d tests/interop/node_modules/onnxruntime-node ]]; then
  echo
  echo "| input | runtime | ms |"
  echo "|---|---|---:|"
  NODE_PATH=tests/interop/node_modules node bench/yunet-onnxruntime.js ../shared/models/yunet/yunet_n_dynamic.onnx
fi
