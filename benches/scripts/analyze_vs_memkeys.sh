#!/usr/bin/env bash
# What is eating Redis, side by side on the same keys: `redis-cli --memkeys` (the biggest key
# per type, from MEMORY USAGE of every key) against `memscope analyze` (namespaces, types, top
# 100 by memory and by length, TTLs, leaks: MEMORY USAGE + TYPE + PTTL + a length per key),
# unthrottled and at its default limit. Prints wall time, memscope's peak RSS, and the
# server's CPU over each run. KEYS (default 1,000,000) are made with DEBUG POPULATE.
#   benches/scripts/analyze_vs_memkeys.sh [KEYS]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
scripts/ensure-deps
cargo build --release --quiet
BIN=${MEMSCOPE_BIN:-target/release/memscope}
source benches/scripts/private-redis.sh
# Namespaces to find: DEBUG POPULATE's keys under two prefixes, a third of them with a TTL.
redis-cli -p "$port" debug populate $((N / 2)) session 64 >/dev/null
redis-cli -p "$port" debug populate $((N - N / 2)) cache:user 16 >/dev/null
keys=$(redis-cli -p "$port" dbsize)
[ "$keys" = "$N" ] || { echo "the server holds $keys keys, not $N: DEBUG POPULATE was refused" >&2; exit 1; }
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$pid/stat"; }
now() { python3 -c 'import time; print(time.time())'; }
run() { # name, label, command…
    local name=$1 label=$2; shift 2
    local c0 t0 t1 c1
    c0=$(cpu); t0=$(now)
    /usr/bin/time -f "%M" -o "$tmp/rss" "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(now); c1=$(cpu)
    python3 - "$label" "$t0" "$t1" "$c0" "$c1" "$(cat "$tmp/rss")" <<'PY'
import sys
label, t0, t1, c0, c1, rss = sys.argv[1], *map(float, sys.argv[2:])
wall = t1 - t0
print(f"{label:<46} {wall:7.2f} s   peak RSS {rss/1024:7.1f} MB   server CPU {100*(c1-c0)/wall:5.1f}% of a core")
PY
    python3 -c "print($t1 - $t0)" >"$tmp/wall.$name"
}
echo "$N keys on a private redis-server $(redis-server --version | awk '{print $3}')"
run memkeys "redis-cli --memkeys" redis-cli -p "$port" --memkeys
run full "memscope analyze --max-ops-per-sec 0" "$BIN" --redis-url "redis://127.0.0.1:$port/0" analyze --json --max-ops-per-sec 0
python3 - "$tmp/out" "$N" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"  analysis: {a['keys']} keys, {a['bytes']} bytes, {len(a['namespaces'])} namespaces, {a['ops']} commands, gone {a['gone']}")
assert a["keys"] == int(sys.argv[2]), "not every key was analyzed"
PY
python3 -c "print(f'  analyze / --memkeys: {$(cat "$tmp/wall.full")} / {$(cat "$tmp/wall.memkeys")} = {$(cat "$tmp/wall.full")/$(cat "$tmp/wall.memkeys"):.2f}x')"
run throttled "memscope analyze (default: 200,000 commands/s)" "$BIN" --redis-url "redis://127.0.0.1:$port/0" analyze --json
