#!/usr/bin/env bash
# What polling costs Redis: runs `memscope health --watch` at a 1 s interval against a private
# redis-server for SECONDS (default 60) and prints the server's CPU time over that span as a
# percentage of one core, next to the same span idle.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-60}
scripts/ensure-deps
cargo build --release --quiet
source benches/scripts/private-redis.sh
redis-cli -p "$port" debug populate 100000 >/dev/null
keys=$(redis-cli -p "$port" dbsize)
[ "$keys" = 100000 ] || { echo "the server holds $keys keys, not 100000: DEBUG POPULATE was refused" >&2; exit 1; }
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
