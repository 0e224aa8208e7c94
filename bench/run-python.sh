#!/usr/bin/env bash
# The Python package against the C API and the fer command on the same pictures
# (docs/python.md, "Speed"): faces/s of fer.analyze vs fer_analyze_image on a
# decoded samples/group-photo.jpg (640x360, five faces) with 1 and 2 workers,
# of read+analyze over a folder of copies vs `fer predict --threads T` on it,
# and the binding's overhead per call (Python minus C, same work). Rounds are
# interleaved; the best round of each case is reported (the least disturbed
# by other work on a shared machine).
#   bench/run-python.sh [--build-dir DIR] [--python VENV_PYTHON] [--rounds N] [--iters N] [--copies N]
# VENV_PYTHON: a python with the fer package installed (default: the venv the
# python-wheel test makes, BUILD/python-package/venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build rounds=5 iters=200 copies=100 py=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --python) py=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    *) sed -n '2,11p' "$0" >&2; exit 1 ;;
  esac
done
py=${py:-$build/python-package/venv/bin/python}
[[ -x "$py" ]] || { echo "no $py: run ctest --test-dir $build -R python-wheel (or pass --python)" >&2; exit 1; }
ninja -C "$build" bench-c-api fer >/dev/null
picture=samples/group-photo.jpg crop=samples/happy-PublicTest_10245799.jpg
export FER_BENCH_MODEL=models/fernet-int8.tflite FER_BENCH_DETECTOR=models/yunet-int8.tflite
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/photos"
for i in $(seq -w 1 "$copies"); do ln -s "$PWD/$picture" "$work/photos/p$i.jpg"; done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: figures vary run to run)"
for r in $(seq 1 "$rounds"); do
  for t in 1 2; do "$build/bench/bench-c-api" "$picture" "$crop" "$iters" "$t" | sed 's/^{/{"who": "C API", /'; done
  "$py" bench/bench-python.py "$picture" "$crop" "$iters" "$work/photos" | sed 's/^{/{"who": "Python", /'
  for t in 1 2; do
    s=$(date +%s%N)
    "$build/tools/fer/fer" predict --json --threads "$t" "$work/photos" > "$work/cli.json"
    e=$(date +%s%N)
    faces=$(grep -o '"box"' "$work/cli.json" | wc -l)
    echo "{\"who\": \"CLI\", \"case\": \"files\", \"threads\": $t, \"calls\": $copies, \"faces\": $faces, \"seconds\": $((e - s))e-9}"
  done
done > "$work/results.jsonl"
/usr/bin/python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault((r["who"], r["case"], r["threads"]), []).append(r)
def get(who, case, t):
    rs = med[(who, case, t)]
    s = min(r["seconds"] for r in rs)
    return rs[0]["faces"] / s, s / rs[0]["calls"]
print(f"{'case (best of %d rounds)' % len(rows and med[next(iter(med))]):42s} {'threads':>7s} {'faces/s':>9s} {'per call':>10s}")
for (who, case, t) in sorted(med):
    fps, per = get(who, case, t)
    print(f"{who + ': ' + case:42s} {t:7d} {fps:9.1f} {per * 1e3:8.3f} ms")
print()
for t in (1, 2):
    c = get("C API", "analyze", t)[0]
    p = get("Python", "analyze" if t == 1 else "analyze batch", t)[0]
    print(f"analyze, {t} thread(s): Python {p:.1f} faces/s = {p / c:.3f} x the C API ({c:.1f})")
pt = get("Python", "analyze python threads", 2)[0]
print(f"analyze from 2 Python threads: {pt:.1f} faces/s = {pt / get('C API', 'analyze', 2)[0]:.3f} x the C API")
for t in (1, 2):
    c, p = get("CLI", "files", t)[0], get("Python", "files", t)[0]
    print(f"read + analyze a folder, {t} thread(s): Python {p:.1f} faces/s = {p / c:.3f} x fer predict ({c:.1f}, incl. its start-up)")
oc = (get("Python", "classify", 1)[1] - get("C API", "classify", 1)[1]) * 1e6
oa = (get("Python", "analyze", 1)[1] - get("C API", "analyze", 1)[1]) * 1e6
print(f"binding overhead per call: fer.classify(one 48x48 crop) {oc:.1f} us over fer_classify "
      f"({get('C API', 'classify', 1)[1] * 1e6:.0f} us); fer.analyze(picture, 5 faces) {oa:.1f} us over fer_analyze_image")
print(f"  measured directly: a call with an empty batch {get('Python', 'classify empty batch', 1)[1] * 1e6:.1f} us; "
      f"the five fer.Face objects of a picture {get('Python', 'Face objects of a picture', 1)[1] * 1e6:.1f} us")
PY
