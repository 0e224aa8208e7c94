#!/usr/bin/env bash
# Load test of `fer serve` with wrk: posts a real photo to /v1/predict for
# DURATION seconds at each concurrency level and prints requests/s, p50/p99
# latency, errors, and the server's resident memory before and after. The
# reference is the single-thread pipeline rate measured in the same run
# (`fer predict --threads 1` over many copies of the photo, start-up
# subtracted): the goal is >= 80% of (cores x that rate).
#
#   bench/run-serve-load.sh [--fer PATH] [--photo JPEG] [--duration S] [--levels "1 2 8 32"]
#
# Needs wrk (scripts/setup.sh). Results: bench/README.md ("fer serve").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fer="$root/build/tools/fer/fer"
photo="$root/../shared/data/faces/Tom_Cruise_avp_2014_4.jpg"
duration=30
levels="1 2 8 32"
while (($#)); do
  case "$1" in
    --fer) fer="$2"; shift 2 ;;
    --photo) photo="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "run-serve-load.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
command -v wrk >/dev/null || { echo "run-serve-load.sh: wrk is missing (scripts/setup.sh installs it)" >&2; exit 2; }
[[ -x "$fer" ]] || { echo "run-serve-load.sh: $fer is not built" >&2; exit 2; }
[[ -f "$photo" ]] || { echo "run-serve-load.sh: photo $photo is missing (--photo)" >&2; exit 2; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cores=$(nproc)
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "photo: $photo ($(stat -c %s "$photo") bytes)"

# Single-thread pipeline rate: decode + detect + classify, no HTTP.
n=40
mkdir -p "$work/copies"
for i in $(seq 1 $n); do ln -s "$(realpath "$photo")" "$work/copies/p$i.jpg"; done
t_one=$( { /usr/bin/time -f %e "$fer" predict --threads 1 --jsonl "$photo" >/dev/null; } 2>&1 | tail -1)
t_all=$( { /usr/bin/time -f %e "$fer" predict --threads 1 --jsonl "$work/copies" >/dev/null; } 2>&1 | tail -1)
single=$(awk -v a="$t_all" -v b="$t_one" -v n="$n" 'BEGIN { printf "%.2f", (n - 1) / (a - b) }')
target=$(awk -v s="$single" -v c="$cores" 'BEGIN { printf "%.2f", 0.8 * c * s }')
echo "single-thread pipeline: $single images/s (fer predict: $n images in ${t_all}s, 1 in ${t_one}s)"
echo "goal: >= 80% of $cores x $single = $target requests/s"

"$fer" serve --port 0 --quiet --site none >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | cut -d: -f2)
[[ -n "$port" ]] || { echo "run-serve-load.sh: the server did not start:"; cat "$work/err"; exit 3; }
echo "server: $(cat "$work/out")"

cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("FER_PHOTO"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.2f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, summary.requests))
end
LUA

# One warm-up request so that the first level does not pay for lazy start-up.
curl --noproxy 127.0.0.1 -s -o /dev/null -H 'Content-Type: image/jpeg' --data-binary @"$photo" \
  "http://127.0.0.1:$port/v1/predict" || true
rss_start=$(rss_mb "$server_pid")
printf "\n%-11s %10s %9s %9s %7s %9s %11s %10s\n" connections "req/s" "p50 ms" "p99 ms" errors requests "RSS MB" "vs goal"
worst_errors=0
for c in $levels; do
  threads=$((c < 2 ? 1 : 2))
  before=$(rss_mb "$server_pid")
  line=$(FER_PHOTO="$photo" wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 30s -s "$work/post.lua" \
         "http://127.0.0.1:$port/v1/predict" | grep '^RESULT')
  read -r _ rps p50 p99 errors requests <<<"$line"
  after=$(rss_mb "$server_pid")
  ratio=$(awk -v r="$rps" -v t="$target" 'BEGIN { printf "%.0f%%", 100 * r / (t / 0.8) }')
  printf "%-11s %10s %9s %9s %7s %9s %5s->%-5s %10s\n" "$c" "$rps" "$p50" "$p99" "$errors" "$requests" \
    "$before" "$after" "$ratio"
  ((errors > worst_errors)) && worst_errors=$errors
done
rss_end=$(rss_mb "$server_pid")
echo
echo "resident memory: ${rss_start} MB after warm-up, ${rss_end} MB at the end"
echo "(vs goal: req/s as a share of $cores x the single-thread rate; the goal is 80%)"
echo "server counters:"
curl --noproxy 127.0.0.1 -s "http://127.0.0.1:$port/metrics" | grep -E '^fer_http_requests_total|^fer_connections_shed_total|^fer_faces_detected_total'
kill -TERM "$server_pid"
wait "$server_pid" && echo "server: exit 0 after SIGTERM"
server_pid=""
((worst_errors == 0))
