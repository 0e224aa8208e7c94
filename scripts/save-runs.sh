#!/usr/bin/env bash
# Copies the teacher runs from RUNS_DIR (default /work/runs) into the checkout's
# runs-in-progress/<name>/ (last.pt, best.pt, metrics.csv, config.txt), so that
# a later session can resume them (scripts/train-teachers.sh restores from
# there) even if RUNS_DIR is gone. Run it at the end of a session, then commit
# runs-in-progress/. Safe while a run is training: last.pt is copied first, and
# on resume metrics.csv rows beyond last.pt's epoch are dropped.
#
#   scripts/save-runs.sh [RUNS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-/work/runs}"
saved=0
for dir in "$runs"/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  [[ -f "$dir/last.pt" && -f "$dir/config.txt" ]] || continue
  grep -q '^arch=' "$dir/config.txt" || continue
  out="runs-in-progress/$name"
  mkdir -p "$out"
  for f in last.pt best.pt metrics.csv config.txt; do   # this order: see above
    if [[ -f "$dir/$f" ]]; then
      cp "$dir/$f" "$out/$f.tmp.save" && mv "$out/$f.tmp.save" "$out/$f"
    fi
  done
  epochs="$(grep '^epochs=' "$out/config.txt" | cut -d= -f2)"
  done_rows="$(($(wc -l < "$out/metrics.csv") - 1))"
  echo "save-runs: $name: $done_rows of $epochs epochs -> $out"
  saved=$((saved + 1))
done
echo "save-runs: $saved run(s) saved; commit runs-in-progress/ to keep them"
