#!/usr/bin/env bash
# What MONITOR throughput memscope keeps up with, and what the profiler costs the server: a
# private redis-server kept busy by redis-benchmark (8 clients, pipelined) for SECONDS (default
# 10) three times — alone; with `redis-cli monitor > /dev/null`; with `memscope top` — printing
# (LOAD="-c 2 -P 1" for a lighter load than the default "-c 8 -P 16")
# the commands the server ran per second (total_commands_processed), the lines the monitor saw
# per second, and the server's CPU as a share of one core.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-10}
scripts/ensure-deps
cargo build --release --quiet
source benches/scripts/private-redis.sh
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$pid/stat"; }
processed() { redis-cli -p "$port" info stats | awk -F: '/^total_commands_processed/ {print $2+0}'; }
run() { # NAME COMMAND…: the load for S seconds with COMMAND beside it
  local name=$1; shift
  redis-benchmark -p "$port" -n 1000000000 ${LOAD:--c 8 -P 16} -r 100000 -t get,set,incr,lpush -q >/dev/null 2>&1 &
  local bench=$!
  sleep 1
  local c0 p0 c1 p1 seen
  c0=$(cpu); p0=$(processed)
  seen=$("$@")
  c1=$(cpu); p1=$(processed)
  kill "$bench" 2>/dev/null; wait "$bench" 2>/dev/null || true
  python3 - "$name" "$S" "$c0" "$c1" "$p0" "$p1" "$seen" <<'PY'
import sys
name, s, c0, c1, p0, p1, seen = sys.argv[1], float(sys.argv[2]), *map(float, sys.argv[3:7]), sys.argv[7]
ran = (p1 - p0) / s
line = f"{name}: server ran {ran:,.0f} commands/s, its CPU {100 * (c1 - c0) / s:.0f}% of a core"
if seen:
    got = float(seen) / s
    line += f"; the monitor saw {got:,.0f}/s ({100 * got / max(ran, 1):.0f}% of what ran)"
print(line)
PY
}
alone() { sleep "$S"; echo ""; }
cli() { { timeout "$S" redis-cli -p "$port" monitor || true; } | wc -l; }
top() { target/release/memscope --redis-url "redis://127.0.0.1:$port/0" top --seconds "$S" --max-lines 1000000000 --json 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["commands_seen"])'; }
run "alone" alone
run "redis-cli monitor > /dev/null" cli
run "memscope top" top
