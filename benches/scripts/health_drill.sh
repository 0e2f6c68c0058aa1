#!/usr/bin/env bash
# The freeze drill, timed: a private redis-server frozen by DEBUG SLEEP (default 8 s) while
# `memscope health --watch` runs; every line it prints is stamped when it arrived. Prints the
# timeline (freeze start and end against what Health said, second by second) and the two
# figures: how long after the freeze began Health said NO ANSWER, and how long after it ended
# Health said OK. Then the recording's summary (`memscope replay --summary`).
#   benches/scripts/health_drill.sh [SLEEP_S]      (MEMSCOPE_BIN=target/release/memscope for a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
sleep_s=${1:-8}
bin=${MEMSCOPE_BIN:-target/debug/memscope}
[ -x "$bin" ] || cargo build --quiet
bench_cleanup() { [ -n "${watch_pid:-}" ] && kill "$watch_pid" 2>/dev/null || true; }
source benches/scripts/private-redis.sh
now() { date +%s.%N; }
rec="$tmp/incident.jsonl"
"$bin" health --watch --redis-url "redis://127.0.0.1:$port/0" --record "$rec" 2>/dev/null |
  while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done >"$tmp/watch.txt" &
watch_pid=$!
sleep 3
t0=$(now)
redis-cli -p "$port" debug sleep "$sleep_s" >/dev/null
t1=$(now)
sleep 4
kill "$watch_pid" 2>/dev/null || true
pkill -f -- "--record $rec" 2>/dev/null || true
python3 - "$t0" "$t1" "$tmp/watch.txt" <<'PY'
import sys
t0, t1, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
rows = [(float(l.split(' ', 1)[0]), l.split(' ', 1)[1].rstrip()) for l in open(path) if l.strip()]
print(f"freeze: {t1 - t0:.2f} s (DEBUG SLEEP sent at +0.00 s, answered at +{t1 - t0:.2f} s)")
for t, l in rows:
    if t0 - 2 <= t <= t1 + 3:
        print(f"  {t - t0:+7.2f} s  {l}")
first_na = next((t for t, l in rows if t >= t0 and 'NO ANSWER' in l), None)
first_ok = next((t for t, l in rows if t >= t1 and ' OK ' in l), None)
print(f"NO ANSWER shown {first_na - t0:.2f} s after the freeze began" if first_na else "NO ANSWER never shown")
print(f"OK shown {first_ok - t1:.2f} s after the server answered" if first_ok else "OK never shown")
PY
"$bin" replay "$rec" --summary
