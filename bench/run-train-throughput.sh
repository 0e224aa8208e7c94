#!/usr/bin/env bash
# Training throughput, C++ (libtorch) against PyTorch in Python, side by side.
#
# Builds bench-train if needed, then for each architecture runs the C++
# benchmark and bench/train_throughput.py alternately (--rounds times, the one
# that goes first alternating between rounds), on the same batch and thread
# count, and prints images/s (min/median/max over all repetitions), the ratio
# C++/Python, and where the time of a step goes (zero_grad, forward + loss,
# backward, optimizer step, loss.item()) for both. See bench/README.md.
#
# Run it on an idle machine: the numbers mean nothing while anything else runs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

build_dir="$root/build"
archs="seed fernet"
batch=128
threads=2
warmup=3
iters=10
reps=2
rounds=3
out=""
build=1
jobs=""
python=/usr/bin/python3
ops=0
nice_level=""

usage() {
    cat <<EOF
usage: bench/run-train-throughput.sh [options]
  --build-dir DIR   CMake build folder with bench-train (default: build/)
  --no-build        do not configure/build; use DIR/bench/bench-train as it is
  --jobs N          parallel build jobs (default: the generator's)
  --archs "A B"     architectures (default: "seed fernet"; fernet is our default)
  --batch N         images per step (default: 128, as fer train)
  --threads N       intra-op threads for both (default: 2, as fer train)
  --warmup N        untimed steps at the start of each run (default: 3)
  --iters N         timed steps per repetition (default: 10)
  --reps N          repetitions per run (default: 2)
  --rounds N        C++/Python run pairs per architecture (default: 3);
                    min/median/max are over rounds x reps repetitions
  --python PATH     interpreter with torch (default: /usr/bin/python3)
  --ops N           also profile Python once per arch and list the top N operators
  --nice N          run the benchmarks under nice -n N (only for smoke tests)
  --out FILE        also write the results: FILE.json (everything) or any other
                    name as CSV (one row per architecture)
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) build_dir="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --jobs) jobs="$2"; shift 2 ;;
        --archs) archs="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --iters) iters="$2"; shift 2 ;;
        --reps) reps="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --ops) ops="$2"; shift 2 ;;
        --nice) nice_level="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run-train-throughput.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in batch threads iters reps rounds; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        echo "run-train-throughput.sh: --$v must be a positive integer" >&2; exit 2
    fi
done
if ! [[ "$warmup" =~ ^[0-9]+$ && "$ops" =~ ^[0-9]+$ ]]; then
    echo "run-train-throughput.sh: --warmup and --ops must be integers >= 0" >&2; exit 2
fi
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac
case "$out" in ""|/*) ;; *) out="$PWD/$out" ;; esac

bin="$build_dir/bench/bench-train"
if [ "$build" = 1 ]; then
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        gen=()
        if command -v ninja >/dev/null; then gen=(-G Ninja); fi
        cmake -S "$root" -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_BENCH=ON \
            -DFER_BUILD_TRAINING=ON >/dev/null
    fi
    cmake --build "$build_dir" --target bench-train ${jobs:+-j "$jobs"}
fi
if [ ! -x "$bin" ]; then
    echo "run-train-throughput.sh: $bin not found (build it, or drop --no-build)" >&2; exit 1
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "run-train-throughput.sh: $python cannot import torch (Debian: apt install python3-torch)" >&2; exit 1
fi

runner=()
if [ -n "$nice_level" ]; then runner=(nice -n "$nice_level"); fi
logs="$(mktemp -d "${TMPDIR:-/tmp}/fer-train-throughput.XXXXXX")"
trap 'rm -rf "$logs"' EXIT

# ---- system information first --------------------------------------------
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)"
echo "== fer training throughput: C++ (libtorch) vs PyTorch (Python) =="
echo "date         $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host         $(uname -n), $(uname -sr)"
echo "cpu          ${cpu:-unknown}, $(nproc) hardware threads online"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "python torch $("$python" -c 'import torch, platform; print(torch.__version__, "(python", platform.python_version() + ")")')"
echo "C++ binary   $bin (CMAKE_BUILD_TYPE=${build_type:-unknown})"
echo "protocol     batch $batch, $threads intra-op threads, warm-up $warmup steps per run, $rounds rounds x $reps reps x $iters steps per side"
echo "commit       $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo ' (+ local changes)')"
load1="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "WARNING: load average $load1: the machine is not idle, these numbers are not reliable"
fi
echo

common=(--arch "" --batch "$batch" --threads "$threads" --warmup "$warmup" --iters "$iters" --reps "$reps")
run_one() {  # impl arch round
    local impl="$1" arch="$2" round="$3" log="$logs/$2.$1.$3.log"
    local args=("${common[@]}")
    args[1]="$arch"
    echo "-- $arch, round $round/$rounds: $impl"
    if [ "$impl" = cpp ]; then
        "${runner[@]}" "$bin" "${args[@]}" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    else
        "${runner[@]}" "$python" "$here/train_throughput.py" "${args[@]}" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    fi
    grep '^  rep ' "$log" || true
    grep '^{' "$log" | tail -n1 >>"$logs/results.jsonl"
}

for arch in $archs; do
    for ((r = 1; r <= rounds; r++)); do
        if ((r % 2)); then
            run_one cpp "$arch" "$r"; run_one python "$arch" "$r"
        else
            run_one python "$arch" "$r"; run_one cpp "$arch" "$r"
        fi
    done
    if [ "$ops" -gt 0 ]; then
        echo "-- $arch: Python operator profile (not part of the timings)"
        args=("${common[@]}"); args[1]="$arch"
        "${runner[@]}" "$python" "$here/train_throughput.py" "${args[@]}" --warmup 1 --reps 1 --ops "$ops" \
            | sed -n '/^top /,/^{/p' | grep -v '^{'
    fi
done
echo

"$python" - "$logs/results.jsonl" "$out" <<'EOF'
import csv, json, statistics, sys

path, out = sys.argv[1], sys.argv[2]
runs = [json.loads(line) for line in open(path) if line.strip()]
phases = ("zero_grad", "forward", "backward", "optimizer", "other")
archs = list(dict.fromkeys(r["arch"] for r in runs))


def side(arch, impl):
    rs = [r for r in runs if r["arch"] == arch and r["impl"] == impl]
    reps = [v for r in rs for v in r["img_s"]]
    return {
        "runs": len(rs), "torch": rs[0]["torch"], "trainable_params": rs[0]["trainable_params"],
        "macs": rs[0]["macs"], "batch": rs[0]["batch"], "threads": rs[0]["threads"],
        "img_s": reps, "img_s_min": min(reps), "img_s_median": statistics.median(reps),
        "img_s_max": max(reps),
        "step_ms_median": statistics.median(r["step_ms_median"] for r in rs),
        # median over runs of each run's per-step median, and the mean share
        "phase_ms_median": {p: statistics.median(r["phase_ms_median"][p] for r in rs) for p in phases},
        "phase_ms_mean": {p: statistics.fmean(r["phase_ms_mean"][p] for r in rs) for p in phases},
        "loadavg": [r["loadavg"] for r in rs],
    }


summary = []
for arch in archs:
    c, p = side(arch, "cpp"), side(arch, "python")
    if c["trainable_params"] != p["trainable_params"]:
        sys.exit(f"{arch}: C++ has {c['trainable_params']} trainable parameters, Python "
                 f"{p['trainable_params']}: not the same network")
    summary.append({"arch": arch, "batch": c["batch"], "threads": c["threads"], "cpp": c, "python": p,
                    "ratio": c["img_s_median"] / p["img_s_median"]})

print("images/s of one training step (min / median / max over all repetitions; ratio of the medians)")
hdr = f"{'arch':<8} {'batch':>5} {'thr':>3}  {'C++ img/s':>24}  {'Python img/s':>24}  {'C++/Python':>10}"
print(hdr)
print("-" * len(hdr))
for s in summary:
    c, p = s["cpp"], s["python"]
    fc = f"{c['img_s_median']:.1f} ({c['img_s_min']:.1f}-{c['img_s_max']:.1f})"
    fp = f"{p['img_s_median']:.1f} ({p['img_s_min']:.1f}-{p['img_s_max']:.1f})"
    print(f"{s['arch']:<8} {s['batch']:>5} {s['threads']:>3}  {fc:>24}  {fp:>24}  {s['ratio']:>10.3f}")
print()
print("where a step goes: median ms per step and share of the mean step; speed-up = Python ms / C++ ms")
hdr = f"{'arch':<8} {'phase':<10} {'C++ ms':>9} {'share':>6}  {'Python ms':>9} {'share':>6}  {'speed-up':>8}"
print(hdr)
print("-" * len(hdr))
for s in summary:
    c, p = s["cpp"], s["python"]
    ct, pt = sum(c["phase_ms_mean"].values()), sum(p["phase_ms_mean"].values())
    for ph in phases:
        cm, pm = c["phase_ms_median"][ph], p["phase_ms_median"][ph]
        print(f"{s['arch']:<8} {ph:<10} {cm:9.2f} {100 * c['phase_ms_mean'][ph] / ct:5.1f}%  "
              f"{pm:9.2f} {100 * p['phase_ms_mean'][ph] / pt:5.1f}%  {pm / cm if cm > 0 else float('nan'):8.3f}")
    cs, ps = c["step_ms_median"], p["step_ms_median"]
    print(f"{s['arch']:<8} {'total':<10} {cs:9.2f} {'':>6}  {ps:9.2f} {'':>6}  {ps / cs:8.3f}")
    gc, gp = 6 * c["macs"] * c["img_s_median"] / 1e9, 6 * p["macs"] * p["img_s_median"] / 1e9
    print(f"{s['arch']:<8} {'GFLOP/s':<10} {gc:9.1f} {'':>6}  {gp:9.1f}   (6 x {c['macs'] / 1e6:.1f} M MACs per image)")
print()
print(f"torch: C++ {summary[0]['cpp']['torch']}, Python {summary[0]['python']['torch']}; "
      f"load average during the runs: {', '.join(r['loadavg'].split()[0] for r in runs)}")

if out:
    if out.endswith(".json"):
        with open(out, "w") as f:
            json.dump({"summary": summary, "runs": runs}, f, indent=1)
    else:
        with open(out, "w", newline="") as f:
            w = csv.writer(f)
            cols = ["arch", "batch", "threads"]
            for impl in ("cpp", "python"):
                cols += [f"{impl}_img_s_{k}" for k in ("min", "median", "max")]
            cols += ["ratio_cpp_over_python"]
            for impl in ("cpp", "python"):
                cols += [f"{impl}_{ph}_ms_median" for ph in phases] + [f"{impl}_total_ms_median"]
            w.writerow(cols)
            for s in summary:
                row = [s["arch"], s["batch"], s["threads"]]
                for impl in ("cpp", "python"):
                    row += [round(s[impl][f"img_s_{k}"], 2) for k in ("min", "median", "max")]
                row += [round(s["ratio"], 4)]
                for impl in ("cpp", "python"):
                    row += [round(s[impl]["phase_ms_median"][ph], 3) for ph in phases]
                    row += [round(s[impl]["step_ms_median"], 3)]
                w.writerow(row)
    print(f"wrote {out}")
EOF
