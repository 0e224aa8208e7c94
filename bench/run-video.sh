#!/usr/bin/env bash
# Throughput of `fer video` in frames per second on a generated 640x480 video
# (bench/README.md). The video pans across samples/group-photo.jpg (five faces),
# 30 fps, Motion JPEG; FFmpeg's own decode rate of the same file is the peer.
#   bench/run-video.sh [--build-dir DIR] [--seconds S] [--reps N] [-- extra fer video options]
# Timings are one process on an idle machine (the script warns otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
seconds=10
reps=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "usage: bench/run-video.sh [--build-dir DIR] [--seconds S] [--reps N] [-- fer video options]" >&2; exit 1 ;;
  esac
done
extra=("$@")
command -v ffmpeg >/dev/null || { echo "error: ffmpeg is needed to make the test video (apt-get install ffmpeg)" >&2; exit 2; }
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" fer >/dev/null
fer="$build/tools/fer/fer"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip="$work/pan-640x480.avi"
# Scale the 640x360 group photo to 854x480 and pan a 640x480 window across
# it and back, so faces move and the tracker has work to do.
ffmpeg -loglevel error -loop 1 -i samples/group-photo.jpg -t "$seconds" -r 30 \
  -vf "scale=854:480,crop=640:480:x='107*(1+sin(2*PI*t/$seconds))':y=0" -c:v mjpeg -q:v 3 "$clip"
frames=$(ffmpeg -loglevel error -i "$clip" -map 0:v -c copy -f null - -progress - | awk -F= '/^frame=/{f=$2} END{print f}')

load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: 1-minute load average is $load; timings will be noisy" >&2
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $load"
echo "# $clip: $frames frames 640x480 @ 30 fps; fer video ${extra[*]:-}; $reps reps (one warm-up first)"

# One configuration: prints "label  min median max" frames per second of
# wall time, and the median per CPU second (user + system), which a busy
# machine distorts much less than wall time.
measure() {
  local label=$1; shift
  local wall=() cpu=()
  "$@" >/dev/null 2>&1  # warm-up: page cache, model file
  for ((r = 0; r < reps; ++r)); do
    local t
    t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1 || echo "FAILED"; } 2>&1 )
    [[ "$t" == *FAILED* ]] && { echo "error: $label failed: $*" >&2; exit 3; }
    read -r real user sys <<<"$t"
    wall+=("$(awk -v n="$frames" -v t="$real" 'BEGIN { printf "%.1f", n / t }')")
    cpu+=("$(awk -v n="$frames" -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", n / (u + s) }')")
  done
  local c
  c=$(printf '%s\n' "${cpu[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%s\n' "${wall[@]}" | sort -g |
    awk -v l="$label" -v c="$c" '{ v[NR] = $1 } END { printf "%-34s %8.1f %8.1f %8.1f %10.1f\n", l, v[1], v[int((NR + 1) / 2)], v[NR], c }'
}

printf '%-34s %8s %8s %8s %10s\n' "frames per second" "min" "median" "max" "per CPU-s"
measure "ffmpeg decode only (peer)" ffmpeg -loglevel error -i "$clip" -f null -
measure "fer video (analyse every frame)" "$fer" video "$clip" --no-progress "${extra[@]}"
measure "fer video --out x.mp4" "$fer" video "$clip" --no-progress --out "$work/out.mp4" "${extra[@]}"
measure "fer video --every 3" "$fer" video "$clip" --no-progress --every 3 "${extra[@]}"
measure "fer video --min-face 80" "$fer" video "$clip" --no-progress --min-face 80 "${extra[@]}"
# Faces found, as a check that the video is analysed at all.
"$fer" video "$clip" --no-progress "${extra[@]}" | head -1
