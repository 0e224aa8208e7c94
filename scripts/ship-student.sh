#!/usr/bin/env bash
# Issue 13's last step for one finished student run (models/README.md,
# "Distillation"): export it as the runtime runs it, measure it where the
# selection rule says, and stage it, without touching the shipped model.
#
#   scripts/ship-student.sh RUN_DIR NAME      e.g. scripts/ship-student.sh /work/runs/s2-fernet-s-kd fernet-s
#
# 1. fer export: int8 (calibrated on Training; top class checked against
#    libtorch on 1,000 Training faces) and float32, plus best.pt, into
#    models/candidates/NAME/ (PublicTest is not read by the export).
# 2. The selection figure: the int8 file on the Training holdout, the split
#    every run chose its epochs on. The bar is BAR_HOLDOUT (default 0.6756:
#    teacher t1, the best run of the shipped recipe trained without the
#    holdout).
# 3. Only a candidate over that bar is measured on PublicTest, once: single
#    crop and flip TTA, int8 (the card's figures; the shipped model reads
#    67.32% single crop). Everything lands as JSON beside the files, with
#    verdict.txt saying whether it beats both bars.
# 4. The card's pictures (scripts/model-figures.sh) for a candidate that does.
# Promoting it (replacing models/fernet*.{pt,tflite}) stays a reviewed commit.
#
# Env: FER (default build/tools/fer/fer), DATA (data/fer2013), THREADS (2),
# BAR_HOLDOUT (0.6756), BAR_PUBLICTEST (0.6732).
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:?usage: scripts/ship-student.sh RUN_DIR NAME}"
name="${2:?usage: scripts/ship-student.sh RUN_DIR NAME}"
fer="${FER:-build/tools/fer/fer}"
data="${DATA:-data/fer2013}"
threads="${THREADS:-2}"
bar_holdout="${BAR_HOLDOUT:-0.6756}"
bar_public="${BAR_PUBLICTEST:-0.6732}"
[[ -f "$run/best.pt" ]] || { echo "ship-student: $run has no best.pt (not finished?)" >&2; exit 2; }
out="models/candidates/$name"
mkdir -p "$out"

echo "ship-student: exporting $run -> $out"
cp "$run/best.pt" "$out/$name.pt.tmp" && mv "$out/$name.pt.tmp" "$out/$name.pt"
cp "$run/metrics.csv" "$run/config.txt" "$out/"
"$fer" export --model "$run" --int8 --name "$name" --calibration "$data" \
       --check-data "$data" --check-split Training --check-max 1000 --out "$out/$name-int8.tflite"
"$fer" export --model "$run" --name "$name" --check-data "$data" --check-split Training --check-max 1000 \
       --out "$out/$name.tflite"

echo "ship-student: the selection figure (Training holdout, int8)"
"$fer" eval --data "$data" --split holdout --model "$out/$name-int8.tflite" --threads "$threads" --json \
       > "$out/holdout.json.tmp"
mv "$out/holdout.json.tmp" "$out/holdout.json"
acc() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accuracy"])' "$1"; }
holdout="$(acc "$out/holdout.json")"
over() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$1" "$2"; }
if ! over "$holdout" "$bar_holdout"; then
  echo "holdout $holdout <= $bar_holdout: not a candidate; PublicTest left untouched" | tee "$out/verdict.txt"
  exit 0
fi

echo "ship-student: holdout $holdout > $bar_holdout: PublicTest, once (single crop, then flip)"
"$fer" eval --data "$data" --model "$out/$name-int8.tflite" --threads "$threads" --json > "$out/publictest.json.tmp"
mv "$out/publictest.json.tmp" "$out/publictest.json"
"$fer" eval --data "$data" --model "$out/$name-int8.tflite" --tta flip --threads "$threads" --json \
       > "$out/publictest-flip.json.tmp"
mv "$out/publictest-flip.json.tmp" "$out/publictest-flip.json"
public="$(acc "$out/publictest.json")"
if over "$public" "$bar_public"; then
  verdict="ships: holdout $holdout > $bar_holdout and PublicTest $public > $bar_public"
  scripts/model-figures.sh "$run" "$name"
else
  verdict="does not ship: holdout $holdout > $bar_holdout but PublicTest $public <= $bar_public"
fi
echo "$verdict" | tee "$out/verdict.txt"
