#!/usr/bin/env bash
# The face pipeline's speed (bench/README.md): time per frame of fer_analyze
# against OpenCV's cascade + libtorch (bench-pipeline, one thread, interleaved
# in one process), then `fer predict` throughput in images per second over a
# folder of copies of samples/group-photo.jpg (640x360, five faces), per
# thread count, with the start-up of one process measured apart.
#   bench/run-pipeline.sh [--build-dir DIR] [--rounds N] [--copies N] [--threads "1 2"] [--reps N]
#                         [-- extra fer predict options, e.g. --model models/fernet-int8.tflite]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
rounds=11
copies=50
threads="1 2"
reps=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "usage: bench/run-pipeline.sh [--build-dir DIR] [--rounds N] [--copies N] [--threads \"1 2\"] [--reps N] [-- fer predict options]" >&2
       exit 1 ;;
  esac
done
extra=("$@")
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" fer bench-pipeline >/dev/null
fer="$build/tools/fer/fer"

load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: 1-minute load average is $load; wall times will be noisy (ratios and CPU times less so)" >&2
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$build/bench/bench-pipeline" --rounds "$rounds"
echo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/photos"
for ((i = 0; i < copies; ++i)); do
  cp samples/group-photo.jpg "$work/photos/p$i.jpg"
done
mkdir "$work/one"
cp samples/group-photo.jpg "$work/one/"

# Median over reps of "wall user sys" seconds of one command.
timed() {
  local runs=()
  "$@" >/dev/null 2>&1  # warm-up: page cache, model file
  for ((r = 0; r < reps; ++r)); do
    local t
    t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1 || echo "FAILED"; } 2>&1 )
    [[ "$t" == *FAILED* ]] && { echo "error: failed: $*" >&2; exit 3; }
    runs+=("$t")
  done
  printf '%s\n' "${runs[@]}" | sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'
}

# A process on one photo: loading the model and cascade, one analysis, exit.
read -r one_wall one_user one_sys <<<"$(timed "$fer" predict "$work/one" "${extra[@]}")"
echo "# fer predict over $copies copies of samples/group-photo.jpg ${extra[*]:-}; median of $reps runs; one photo alone: $one_wall s"
printf '%-10s %10s %14s %16s %14s\n' "threads" "wall s" "images/s" "images/s, less" "images per" 
printf '%-10s %10s %14s %16s %14s\n' "" "" "(wall)" "one-photo run" "CPU second"
for t in $threads; do
  read -r wall user sys <<<"$(timed "$fer" predict "$work/photos" --threads "$t" "${extra[@]}")"
  awk -v t="$t" -v n="$copies" -v w="$wall" -v u="$user" -v s="$sys" -v w1="$one_wall" 'BEGIN {
    printf "%-10s %10.2f %14.2f %16.2f %14.2f\n", t, w, n / w, (n - 1) / (w - w1), n / (u + s) }'
done
