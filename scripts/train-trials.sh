#!/usr/bin/env bash
# Issue 13's cheap recipe trials (models/README.md, "Recipe trials"): each
# recipe change against the current recipe on the same budget, fernet-s (the
# faster network: a trial costs about an hour a run on one quiet core), 15
# epochs, one thread, the same seed and so the same data order and holdout;
# epochs chosen on the Training holdout like every run, PublicTest untouched.
# A change is kept when its best holdout accuracy beats the plain run's.
#
#   scripts/train-trials.sh [RUNS_DIR [NAME...]]   (default /work/runs, every trial in turn)
#
# Both lanes, after their student (two lanes never train the same run: each
# names its own):
#   (... && scripts/train-students.sh /work/runs s1-fernet-kd && scripts/train-trials.sh /work/runs a0-fernet-s-plain) &
#   (... && scripts/train-students.sh /work/runs s2-fernet-s-kd && scripts/train-trials.sh /work/runs a1-fernet-s-cutmix a2-fernet-s-mixup) &
# Resumable like the other stages (train_table: --resume, runs-in-progress/).
# Env: FER (default build/tools/fer/fer), DATA (data/fer2013), THREADS (1).
set -euo pipefail

main() {
cd "$(dirname "$0")/.."
# shellcheck source=scripts/train-table.sh
source scripts/train-table.sh
lane_setup "$@"

# name | options of a fresh run (the stored config.txt wins on resume)
trials=(
  "a0-fernet-s-plain|--arch fernet-s --seed 301 --epochs 15"
  "a1-fernet-s-cutmix|--arch fernet-s --seed 301 --epochs 15 --mix cutmix"
  "a2-fernet-s-mixup|--arch fernet-s --seed 301 --epochs 15 --mix mixup"
)

prepare_binaries train-trials "$runs/.bin-trials"
train_table train-trials "${trials[@]}"
echo "train-trials: $(date -u +%FT%TZ) trial runs finished"
}

main "$@"; exit
