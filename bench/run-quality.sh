#!/usr/bin/env bash
# The default mode against the best mode: accuracy and macro-F1 on FER2013
# PublicTest through the runtime (fer eval on the shipped .tflite, single crop,
# flip and ten-crop TTA) beside the cost per face of each (bench-quality, one
# thread). With ENSEMBLE=a.tflite,b.tflite the members classify beside MODEL.
# Usage: bench/run-quality.sh [MODEL]   (after scripts/setup.sh; DATA=data/fer2013)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/fernet-int8.tflite}"
data="${DATA:-data/fer2013}"
ensemble="${ENSEMBLE:-}"
fer=build/tools/fer/fer
ens=()
[[ -n "$ensemble" ]] && ens=(--ensemble "$ensemble")
build/bench/bench-quality --model "$model" "${ens[@]}"
echo
if [[ ! -d "$data" ]]; then
  echo "run-quality: no data at $data: no accuracy figures" >&2
  exit 0
fi
printf '%-34s %9s %9s\n' "PublicTest ($(basename "$model"))" "accuracy" "macro-F1"
for tta in flip ten-crop; do
  json=$("$fer" eval --data "$data" --model "$model" "${ens[@]}" --tta "$tta" --json --threads 1)
  python3 - "$tta" "$json" <<'PY'
import json, sys
tta, d = sys.argv[1], json.loads(sys.argv[2])
key = "tta_" + tta.replace("-", "_")
if tta == "flip":
    print(f"{'single crop':34s} {100 * d['accuracy']:8.2f}% {d['macro_f1']:9.3f}")
print(f"{tta + ' TTA':34s} {100 * d[key]['accuracy']:8.2f}% {d[key]['macro_f1']:9.3f}")
PY
done
