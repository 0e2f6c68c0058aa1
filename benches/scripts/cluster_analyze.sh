#!/usr/bin/env bash
# A whole-keyspace pass on a cluster against one server: builds a private 3-master cluster and
# a single redis-server (free ports below 55536), loads the same KEYS keys into both — spread
# over every hash slot the way real key names spread (no hash tags) — and prints, median of
# ROUNDS: `memscope analyze` on the single server, on the cluster, and `redis-cli --memkeys` on
# each master in turn (issue #26's targets: cluster <= 1.5x single, <= 0.4x --memkeys summed).
# Usage: benches/scripts/cluster_analyze.sh [KEYS] [ROUNDS]   (defaults: 1000000 3; MAX_OPS=N paces the
# analyses at N commands a second as a profile's max_ops_per_sec does; default 0, unthrottled)
# MEMSCOPE_BIN picks the binary (default: a release build made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
R=${2:-3}
scripts/ensure-deps
if [ -z "${MEMSCOPE_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${MEMSCOPE_BIN:-$PWD/target/release/memscope}

EXTRA_PORTS=1 source benches/scripts/private-cluster.sh
single=$extra
start_plain "$single"

echo "loading $N keys, spread over every slot, into 3 masters ($ports) and one server ($single)…"
python3 benches/scripts/cluster_load.py "$N" 0 "$single" $ports
total=0
for p in $ports; do k=$(redis-cli -p "$p" dbsize); total=$((total + k)); done
echo "  cluster: $total keys; single server: $(redis-cli -p "$single" dbsize) keys"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { python3 -c 'import time; print(time.monotonic())'; }
first=$(echo "$ports" | cut -d' ' -f1)
: > "$tmp/one"; : > "$tmp/cl"; : > "$tmp/mk"
# The path's own speed: unthrottled (MAX_OPS=0) unless asked; a default profile paces every
# whole-keyspace pass at 200,000 commands a second.
printf '[profile.default.redis]\nurl = "redis://127.0.0.1:1/0"\nmax_ops_per_sec = %s\n' "${MAX_OPS:-0}" > "$tmp/bench.toml"
run() { # URL FILE
  local t0 t1
  t0=$(secs)
  "$BIN" analyze --json --config "$tmp/bench.toml" --redis-url "$1" > "$tmp/out.json"
  t1=$(secs)
  python3 -c "print($t1-$t0)" >> "$2"
  python3 -c "import json; a=json.load(open('$tmp/out.json')); print(f'    {a[\"keys\"]} keys, {a[\"bytes\"]} bytes, {a[\"nodes\"]} node(s), {a[\"ops\"]} commands')"
}
for r in $(seq "$R"); do
  echo "  round $r: analyze on the single server"; run "redis://127.0.0.1:$single/0" "$tmp/one"
  echo "  round $r: analyze on the cluster"; run "redis://127.0.0.1:$first/0" "$tmp/cl"
  t0=$(secs)
  for p in $ports; do redis-cli -p "$p" --memkeys >/dev/null; done
  t1=$(secs)
  python3 -c "print($t1-$t0)" >> "$tmp/mk"
done
one=$(median < "$tmp/one"); cl=$(median < "$tmp/cl"); mk=$(median < "$tmp/mk")
python3 -c "print(f'median of $R on $N keys: analyze single {$one:.2f} s, cluster {$cl:.2f} s ({$cl/$one:.2f}x, target <= 1.5x); redis-cli --memkeys per master in turn {$mk:.2f} s (cluster analyze {$cl/$mk:.2f}x of it, target <= 0.4x)')"
