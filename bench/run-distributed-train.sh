#!/usr/bin/env bash
# Data-parallel training throughput (docs/scale-out.md): `fer train` as 2 ranks
# x 1 thread (gloo over loopback, the launcher variables set here as torchrun
# would) against 1 process x 2 threads, on the same faces, batch and epochs.
# Alternates the two --rounds times and prints the training images/s of each
# run (metrics.csv: faces of the epoch / seconds of its training part, the
# global batch for the 2 ranks), the median of each side and their ratio, and
# the 1-minute load average before each run (the figures only compare within
# one run of this script, on an otherwise idle or equally loaded machine).
#
#   bench/run-distributed-train.sh [--data CSV] [--limit 1024] [--batch 128]
#                                  [--epochs 1] [--rounds 3] [--fer build/tools/fer/fer]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
fer="$root/build/tools/fer/fer"
data="$root/../shared/data/fer2013-sample.csv"
limit=1024
batch=128
epochs=1
rounds=3
while (($#)); do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --fer) fer="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
[[ -x "$fer" ]] || { echo "no fer executable at $fer (build it: ninja -C build fer)" >&2; exit 1; }
[[ -f "$data" ]] || { echo "no data at $data" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
common=(--data "$data" --limit "$limit" --batch "$batch" --epochs "$epochs" --val-limit 64 --workers 1 --seed 1)

# images/s of the last epoch's training part, from a run folder's metrics.csv.
rate() { tail -n 1 "$1/metrics.csv" | cut -d, -f9; }
load() { cut -d' ' -f1 /proc/loadavg; }

single=()
dist=()
for ((r = 1; r <= rounds; r++)); do
  for side in single dist; do
    out="$work/$side-$r"
    l="$(load)"
    if [[ $side == single ]]; then
      "$fer" train "${common[@]}" --threads 2 --out "$out" >"$out.log" 2>&1
      single+=("$(rate "$out")")
    else
      port=$((29600 + RANDOM % 300))
      pids=()
      for rank in 0 1; do
        WORLD_SIZE=2 RANK=$rank LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port OMP_NUM_THREADS=1 \
          "$fer" train "${common[@]}" --threads 1 --out "$out" >"$out-rank$rank.log" 2>&1 &
        pids+=($!)
      done
      for p in "${pids[@]}"; do wait "$p"; done
      dist+=("$(rate "$out")")
    fi
    printf 'round %d  %-28s %8s images/s   (load average before: %s)\n' "$r" \
      "$([[ $side == single ]] && echo '1 process x 2 threads' || echo '2 ranks x 1 thread (gloo)')" \
      "$(rate "$out")" "$l"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ms="$(median "${single[@]}")"
md="$(median "${dist[@]}")"
echo "median: 1 process x 2 threads $ms images/s, 2 ranks x 1 thread $md images/s, ratio 2 ranks / 1 process $(awk -v a="$md" -v b="$ms" 'BEGIN {printf "%.2f", a / b}')"
echo "faces $limit, global batch $batch, epochs $epochs, $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
