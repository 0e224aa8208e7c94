#!/usr/bin/env bash
# The teacher runs of issue 13 (models/README.md, "Teachers"), one after the
# other, each resumed where it stopped: a run folder with last.pt continues
# (fer train --resume); a run folder that is gone but saved in the repository
# under runs-in-progress/<name>/ is restored from there first; otherwise the
# run starts. Every run selects its epochs on the Training holdout (the default
# --val-split holdout), never on PublicTest. Runs under nice -n 19, so builds
# and tests on the same machine win the CPU.
#
#   scripts/train-teachers.sh [RUNS_DIR [NAME...]]   (default /work/runs, every teacher in turn)
#   FER=path/to/fer THREADS=1 DATA=data/fer2013 scripts/train-teachers.sh
#
# Both cores: two lanes, each a teacher and then a student
# (scripts/train-students.sh waits for both teachers, so no core idles):
#   (scripts/train-teachers.sh /work/runs t1-fernet-s101 && scripts/train-students.sh /work/runs s1-fernet-kd) &
#   (scripts/train-teachers.sh /work/runs t2-fernet-s102 && scripts/train-students.sh /work/runs s2-fernet-s-kd) &
# (then scripts/train-trials.sh in each lane: models/README.md, "Lanes")
# The ensemble is t1, t2 and the shipped models/fernet.pt (three networks).
# One thread per run: on a shared machine a two-thread run waits at every
# operation for its descheduled thread (measured: 20 images/s with two threads,
# 37-42 with one, same load).
#
# The fer binaries (fer, fer-torch) are copied to RUNS_DIR/.bin/ first, so rebuilding the
# checkout does not change the program under a running job. Stop it with
# kill <pid of this script>, then kill its `fer train` child (pgrep -P <pid>);
# the epoch in progress is lost, nothing else. The body is one function, read
# whole before it runs, so editing this file does not disturb a running copy.
set -euo pipefail

main() {
cd "$(dirname "$0")/.."
# shellcheck source=scripts/train-table.sh
source scripts/train-table.sh
lane_setup "$@"

# name | options of a fresh run (the stored config.txt wins on resume)
teachers=(
  "t1-fernet-s101|--arch fernet --seed 101 --epochs 40"
  "t2-fernet-s102|--arch fernet --seed 102 --epochs 40"
  # CutMix at the teachers' budget (40 epochs): not in the default lanes any
  # more, the machine's hours go to t1, t2 and the students; its A/B is a
  # short trial instead (models/README.md, "Recipe trials").
  "t3-fernet-s103-cutmix|--arch fernet --seed 103 --epochs 40 --mix cutmix"
)

prepare_binaries train-teachers "$runs/.bin"
train_table train-teachers "${teachers[@]}"
echo "train-teachers: $(date -u +%FT%TZ) all teacher runs finished"
}

main "$@"; exit
