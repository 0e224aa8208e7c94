# Sourced by scripts/train-teachers.sh and scripts/train-students.sh: checks
# and copies the binaries, then trains the runs of a table in turn.
#
# lane_setup [RUNS_DIR [NAME...]]: what every stage starts from: $runs
# (default /work/runs), $only (the names asked for; empty: all), and from the
# environment $fer_src (FER), $data (DATA) and $threads (THREADS, default 1).
lane_setup() {
  runs="${1:-/work/runs}"
  shift || true
  only=("$@")
  fer_src="${FER:-build/tools/fer/fer}"
  data="${DATA:-data/fer2013}"
  threads="${THREADS:-1}"
}
#
# prepare_binaries TAG BIN_DIR: checks $fer_src (and fer-torch beside it, which
# runs `fer train`) and $data, copies both binaries to BIN_DIR (a rebuild of
# the checkout then does not change the program under a running job) and sets
# $fer to the copy.
prepare_binaries() {
  local tag=$1 bin=$2 exe
  [[ -x "$fer_src" && -x "$(dirname "$fer_src")/fer-torch" ]] ||
    { echo "$tag: $fer_src or fer-torch beside it not built (ninja -C build fer)" >&2; exit 2; }
  [[ -d "$data" ]] || { echo "$tag: no data at $data (see README.md)" >&2; exit 2; }
  mkdir -p "$bin"
  for exe in fer fer-torch; do
    cp "$(dirname "$fer_src")/$exe" "$bin/$exe.tmp.$$" && mv "$bin/$exe.tmp.$$" "$bin/$exe"
  done
  fer="$bin/fer"
}
#
# train_table TAG ENTRY...: each ENTRY is "name|options of a fresh run". A run
# folder $runs/<name> with a last.pt is resumed (fer train --resume; an
# --epochs N in the options wins over the stored count, so a schedule changed
# in the table reaches runs under way: the rest of the one-cycle is recomputed
# from the epoch reached); one that is gone but saved under
# runs-in-progress/<name>/ is restored from there first; otherwise the run
# starts. Uses $fer, $runs, $data, $threads, and $only (names; empty: all).
# Runs under nice -n 19, so builds and tests on the same machine win the CPU.
train_table() {
  local tag=$1
  shift
  local entry name args dir saved epochs
  for entry in "$@"; do
    name="${entry%%|*}"
    args="${entry#*|}"
    if ((${#only[@]})) && [[ " ${only[*]} " != *" $name "* ]]; then
      continue
    fi
    dir="$runs/$name"
    saved="runs-in-progress/$name"
    if [[ ! -f "$dir/last.pt" && -f "$saved/last.pt" ]]; then
      echo "$tag: restoring $dir from $saved"
      mkdir -p "$dir"
      cp "$saved"/* "$dir"/
    fi
    echo "$tag: $(date -u +%FT%TZ) $name"
    if [[ -f "$dir/last.pt" ]]; then
      epochs=$(sed -n 's/.*--epochs \([0-9]*\).*/\1/p' <<<"$args")
      nice -n 19 "$fer" train --out "$dir" --resume --threads "$threads" ${epochs:+--epochs "$epochs"}
    else
      # shellcheck disable=SC2086  # $args is a list of options
      nice -n 19 "$fer" train --data "$data" --out "$dir" $args --threads "$threads"
    fi
  done
}
