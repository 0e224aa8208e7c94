#!/usr/bin/env bash
# The distillation stage of issue 13 (models/README.md, "Distillation"), after
# scripts/train-teachers.sh: waits until every teacher run has finished its
# epochs, stores the ensemble's soft outputs over Training once (fer
# distill-targets: the teachers' best.pt and the shipped models/fernet.pt,
# each face as it is and mirrored), then trains the named students on them,
# each resumed where it stopped. Students select epochs on the Training
# holdout, like the teachers; PublicTest is touched only for the card.
#
#   scripts/train-students.sh [RUNS_DIR [NAME...]]   (default /work/runs, every student in turn)
#
# Both cores: each lane of train-teachers.sh continues with one student, so
# the machine never idles between the stages:
#   (scripts/train-teachers.sh /work/runs t1-fernet-s101 && scripts/train-students.sh /work/runs s1-fernet-kd) &
#   (scripts/train-teachers.sh /work/runs t2-fernet-s102 && scripts/train-students.sh /work/runs s2-fernet-s-kd) &
# (then scripts/train-trials.sh in each lane: models/README.md, "Lanes")
# The first lane to get there writes the targets (a lock folder keeps the
# other waiting); a half-written file never exists (written atomically).
# Env: FER (default build/tools/fer/fer), DATA (data/fer2013), THREADS (1),
# TEACHERS (run folders or .pt files, comma-separated), EPOCHS (instead of the
# table's, e.g. 1 for a quick rehearsal on a small data tree).
set -euo pipefail

main() {
cd "$(dirname "$0")/.."
# shellcheck source=scripts/train-table.sh
source scripts/train-table.sh
lane_setup "$@"
teachers="${TEACHERS:-$runs/t1-fernet-s101,$runs/t2-fernet-s102,models/fernet.pt}"
targets="$runs/teachers-ensemble.bin"

# name | options of a fresh run (the stored config.txt wins on resume)
students=(
  # the shipped size, distilled
  "s1-fernet-kd|--arch fernet --seed 201 --epochs 40"
  # the faster student: 58% of fernet's multiply-accumulates
  "s2-fernet-s-kd|--arch fernet-s --seed 202 --epochs 40"
  # session 9: s2 lost disgust and fear recall on PublicTest; the class weights on the soft term too
  "s3-fernet-s-kdw|--arch fernet-s --seed 203 --epochs 40 --distill-weighted"
  # session 11: s1 and s2 beat their bar on the holdout but not the shipped model (trained on all
  # of Training) on PublicTest; the same recipes on 98% of Training, the one-cycle's last epoch
  # taken (the 2% holdout only watches the run, it selects nothing)
  "s4-fernet-kd-98|--arch fernet --seed 204 --epochs 40 --holdout 0.02"
  "s5-fernet-s-kd-98|--arch fernet-s --seed 205 --epochs 40 --holdout 0.02"
)

prepare_binaries train-students "$runs/.bin-students"

# A teacher is ready when it is a .pt file, or a run folder whose metrics.csv
# has as many epochs as its config.txt asks for.
teacher_ready() {
  local t=$1
  [[ -f "$t" ]] && return 0
  [[ -f "$t/config.txt" && -f "$t/metrics.csv" && -f "$t/best.pt" ]] || return 1
  local want done_
  want=$(sed -n 's/^epochs=//p' "$t/config.txt")
  done_=$(($(wc -l <"$t/metrics.csv") - 1))
  ((done_ >= want))
}
IFS=, read -r -a teacher_list <<<"$teachers"
waited=0
while :; do
  pending=()
  for t in "${teacher_list[@]}"; do
    teacher_ready "$t" || pending+=("$t")
  done
  ((${#pending[@]} == 0)) && break
  ((waited % 30 == 0)) && echo "train-students: $(date -u +%FT%TZ) waiting for ${pending[*]}"
  waited=$((waited + 1))
  sleep 60
done

if [[ ! -f "$targets" ]]; then
  if mkdir "$targets.lock" 2>/dev/null; then
    trap 'rmdir "$targets.lock" 2>/dev/null || true' EXIT
    echo "train-students: $(date -u +%FT%TZ) distill-targets from $teachers"
    nice -n 19 "$fer" distill-targets --model "$teachers" --data "$data" --out "$targets" --threads "$threads"
    rmdir "$targets.lock"
    trap - EXIT
  else
    echo "train-students: another lane is writing $targets; waiting"
    while [[ -d "$targets.lock" && ! -f "$targets" ]]; do sleep 30; done
    [[ -f "$targets" ]] || { echo "train-students: $targets was not written (see the other lane's log)" >&2; exit 1; }
  fi
fi

table=()
for s in "${students[@]}"; do
  [[ -n "${EPOCHS:-}" ]] && s=$(sed "s/--epochs [0-9]*/--epochs $EPOCHS/" <<<"$s")
  table+=("$s --teacher $targets")
done
train_table train-students "${table[@]}"
echo "train-students: $(date -u +%FT%TZ) all student runs finished"
}

main "$@"; exit
