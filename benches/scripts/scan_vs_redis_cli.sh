#!/usr/bin/env bash
# Loads 1,000,000 mixed keys into a private redis-server and prints:
#  - `memscope keys | wc -l` against `redis-cli --scan | wc -l`, alternating runs (median of R);
#  - the TUI's time to list all keys in the tree view and its peak RSS (VmHWM) after it.
# Usage: benches/scripts/scan_vs_redis_cli.sh [KEYS] [ROUNDS]   (defaults: 1000000 5)
# Needs redis-server, redis-cli, tmux (scripts/ensure-deps tmux installs them) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
R=${2:-5}
scripts/ensure-deps tmux
cargo build --release --quiet
BIN=$PWD/target/release/memscope

bench_cleanup() { tmux kill-session -t memscope-bench 2>/dev/null || true; }
source benches/scripts/private-redis.sh

echo "loading $N mixed keys into a private redis-server on port $port…"
python3 - "$N" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
for i in range(n):
    m = i % 10
    if m < 5:
        cmd("SET", f"cache:user:{i % 5000}:profile:{i}", "x" * 20)
    elif m < 7:
        cmd("HSET", f"session:conv-{i:07}", "user_id", f"u-{i % 900}")
    elif m < 9:
        cmd("RPUSH", f"conversation:conv-{i:07}:messages", '{"role":"user","content":"hi"}')
    else:
        cmd("SET", f"ratelimit:u-{i % 20000}:{i}", "1", "EX", "3600")
PY
echo "DBSIZE: $(redis-cli -p "$port" dbsize)"

secs() { python3 -c 'import time; print(time.monotonic())'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$tmp/ms" ; : > "$tmp/cli"
for r in $(seq "$R"); do
  t0=$(secs); n1=$("$BIN" keys --redis-url "redis://127.0.0.1:$port/0" | wc -l); t1=$(secs)
  n2=$(redis-cli -p "$port" --scan | wc -l); t2=$(secs)
  python3 -c "print($t1-$t0)" >> "$tmp/ms"; python3 -c "print($t2-$t1)" >> "$tmp/cli"
  echo "round $r: memscope keys $n1 lines in $(tail -1 "$tmp/ms" | cut -c1-5) s; redis-cli --scan $n2 lines in $(tail -1 "$tmp/cli" | cut -c1-5) s"
done
m1=$(median < "$tmp/ms"); m2=$(median < "$tmp/cli")
python3 -c "print(f'median: memscope keys {$m1:.2f} s, redis-cli --scan {$m2:.2f} s, ratio {$m1/$m2:.2f}x (target <= 0.5x)')"

# The TUI: time until every key is listed in the tree view, then peak RSS.
tmux kill-session -t memscope-bench 2>/dev/null || true
t0=$(secs)
tmux new-session -d -s memscope-bench -x 200 -y 60 \
  "HOME=$tmp XDG_DATA_HOME=$tmp $BIN --redis-url redis://127.0.0.1:$port/0"
want=$(python3 -c "print(f'{$N:,} keys')")
until tmux capture-pane -p -t memscope-bench | grep -q "$want"; do sleep 0.05; done
t1=$(secs)
pid=$(tmux display -p -t memscope-bench '#{pane_pid}')
sleep 1
rss() { awk '/VmHWM|VmRSS/ {printf "%s %.0f MB  ", $1, $2/1024}' "/proc/$pid/status"; }
echo "TUI: listed $want in $(python3 -c "print(f'{$t1-$t0:.2f}')") s; $(rss)"
# Expand the largest folder (every row becomes visible) and scroll to the end.
tmux send-keys -t memscope-bench G Enter; sleep 1; tmux send-keys -t memscope-bench G; sleep 1
echo "TUI after expanding the last folder (session:) and scrolling to its end: $(rss)"
tmux send-keys -t memscope-bench q
