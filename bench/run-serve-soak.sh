#!/usr/bin/env bash
# Soak test of `fer serve` under attack (issue 16): wrk posts a real photo to
# /v1/predict for DURATION seconds without attacks, then again for DURATION
# seconds while bench/serve-attacker.py runs every hostile client of the issue
# (100 slowloris connections, header floods, smuggled bodies, 1 GB declared
# lengths, conflicting lengths, garbage) against the same server. Prints the
# good-request throughput of both runs and their ratio (goal: >= 80%), wrong
# answers to good requests (goal: 0: every answer must be a 200 with the faces
# JSON), the slowest /healthz during the attacks, and resident memory before
# and after each run.
#
#   bench/run-serve-soak.sh [--fer PATH] [--photo JPEG] [--duration S] [--connections N]
#
# Needs wrk and python3. Results: bench/README.md ("fer serve under attack").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fer="$root/build/tools/fer/fer"
photo="$root/../shared/data/faces/Tom_Cruise_avp_2014_4.jpg"
duration=60
connections=2
while (($#)); do
  case "$1" in
    --fer) fer="$2"; shift 2 ;;
    --photo) photo="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "run-serve-soak.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
command -v wrk >/dev/null || { echo "run-serve-soak.sh: wrk is missing (scripts/setup.sh installs it)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run-serve-soak.sh: python3 is missing" >&2; exit 2; }
[[ -x "$fer" ]] || { echo "run-serve-soak.sh: $fer is not built" >&2; exit 2; }
[[ -f "$photo" ]] || { echo "run-serve-soak.sh: photo $photo is missing (--photo)" >&2; exit 2; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "photo: $photo ($(stat -c %s "$photo") bytes), $connections wrk connections, ${duration}s per run"

"$fer" serve --port 0 --quiet --site none >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | cut -d: -f2)
[[ -n "$port" ]] || { echo "run-serve-soak.sh: the server did not start:"; cat "$work/err"; exit 3; }
echo "server: $(cat "$work/out")"

# Every answer to a good request must be a 200 carrying the faces array; any
# other is counted wrong (wrk's own "errors" only counts non-2xx statuses).
cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("FER_PHOTO"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) wrong = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"faces": [', 1, true) then wrong = wrong + 1 end
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + t:get("wrong") end
  local e = summary.errors
  io.write(string.format("RESULT %.2f %.1f %.1f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, w, summary.requests))
end
LUA
curl --noproxy 127.0.0.1 -s -o /dev/null -H 'Content-Type: image/jpeg' --data-binary @"$photo" \
  "http://127.0.0.1:$port/v1/predict" || true

run_wrk() {
  FER_PHOTO="$photo" wrk -t"$((connections < 2 ? 1 : 2))" -c"$connections" -d"${duration}s" --timeout 30s \
    -s "$work/post.lua" "http://127.0.0.1:$port/v1/predict" | grep '^RESULT'
}

rss0=$(rss_mb "$server_pid")
read -r _ rps_a p50_a p99_a err_a wrong_a n_a <<<"$(run_wrk)"
rss1=$(rss_mb "$server_pid")
python3 "$root/bench/serve-attacker.py" "$port" "$duration" >"$work/attacks" &
attacker=$!
read -r _ rps_b p50_b p99_b err_b wrong_b n_b <<<"$(run_wrk)"
wait "$attacker" || true
sleep 3  # let the slowloris connections time out and the lingering closes end
rss2=$(rss_mb "$server_pid")

printf "\n%-14s %8s %8s %8s %7s %7s %9s %16s\n" run "req/s" "p50 ms" "p99 ms" errors wrong requests "RSS MB"
printf "%-14s %8s %8s %8s %7s %7s %9s %16s\n" "attack-free" "$rps_a" "$p50_a" "$p99_a" "$err_a" "$wrong_a" "$n_a" "$rss0 -> $rss1"
printf "%-14s %8s %8s %8s %7s %7s %9s %16s\n" "under attack" "$rps_b" "$p50_b" "$p99_b" "$err_b" "$wrong_b" "$n_b" "$rss1 -> $rss2"
ratio=$(awk -v a="$rps_a" -v b="$rps_b" 'BEGIN { printf "%.0f", 100 * b / a }')
echo
echo "good-request throughput under attack: ${ratio}% of the attack-free run (goal: >= 80%)"
cat "$work/attacks"
echo "server counters:"
curl --noproxy 127.0.0.1 -s "http://127.0.0.1:$port/metrics" |
  grep -E '^fer_http_requests_total|^fer_connections_shed_total|^process_resident' || true
kill -TERM "$server_pid"
wait "$server_pid" && echo "server: exit 0 after SIGTERM"
server_pid=""
((wrong_a == 0 && wrong_b == 0 && ratio >= 80))
