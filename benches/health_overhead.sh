#!/usr/bin/env bash
# What polling costs Redis: runs `memscope health --watch` at a 1 s interval against a private
# redis-server for SECONDS (default 60) and prints the server's CPU time over that span as a
# percentage of one core, next to the same span idle.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-60}
scripts/ensure-deps
cargo build --release --quiet
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# DEBUG POPULATE needs --enable-debug-command on Redis 7 (redis-cli exits 0 even when refused).
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --daemonize yes \
    --pidfile "$tmp/r.pid" --logfile "$tmp/r.log" --enable-debug-command local
trap 'kill $(cat "$tmp/r.pid") 2>/dev/null || true; rm -rf "$tmp"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
redis-cli -p "$port" debug populate 100000 >/dev/null
keys=$(redis-cli -p "$port" dbsize)
[ "$keys" = 100000 ] || { echo "the server holds $keys keys, not 100000: DEBUG POPULATE was refused" >&2; exit 1; }
pid=$(cat "$tmp/r.pid")
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$pid/stat"; }
a=$(cpu); sleep "$S"; b=$(cpu)
idle=$(python3 -c "print(f'{($b-$a)/$S*100:.3f}')")
cat > "$tmp/c.toml" <<CFG
[profile.p.redis]
url = "redis://127.0.0.1:$port/0"
[profile.p.health]
interval_ms = 1000
CFG
a=$(cpu)
timeout "$S" target/release/memscope --config "$tmp/c.toml" health --watch >/dev/null || true
b=$(cpu)
busy=$(python3 -c "print(f'{($b-$a)/$S*100:.3f}')")
echo "redis-server with $keys keys, CPU over ${S}s: idle ${idle}% of a core; polled every 1 s by memscope health: ${busy}% of a core"
