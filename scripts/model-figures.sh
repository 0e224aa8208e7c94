#!/usr/bin/env bash
# Regenerates the figures of the model card (models/README.md) from a run
# folder: PublicTest metrics (single crop and flip TTA), confusion heatmaps,
# training curves and Grad-CAM pictures of the sample faces.
# Usage: scripts/model-figures.sh RUN_DIR NAME   e.g. scripts/model-figures.sh runs/fernet fernet
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:?run folder}"
name="${2:?model name}"
fer=build/tools/fer/fer
data="${FER_DATA:-data/fer2013}"
out="models/report-$name"
mkdir -p "$out"
"$fer" eval --data "$data" --split PublicTest --model "$run" --tta flip --out "$out" | tee "$out/eval.txt"
cp "$run/metrics.csv" "$out/metrics.csv"
cp "$run/config.txt" "$out/config.txt"
"$fer" explain --model "$run" samples/*-PublicTest_*.jpg --out "$out/cam"
