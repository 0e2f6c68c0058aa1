#!/usr/bin/env bash
# Sorting the Keys tab on a cluster against one server (issue #26: cluster sort <= 1.5x the
# single-server sort; keypress -> frame p99 <= 16 ms while it sorts): a private 3-master cluster
# and a single redis-server (free ports below 55536) receive the same KEYS keys, spread over
# every hash slot, every 10th with a TTL (benches/scripts/cluster_load.py); then the sort_keypress
# benchmark runs on each (the real binary in a pseudo-terminal: sorts by TTL and by size, three
# cycles, j/k timed while they run, then an analysis).
# Usage: benches/scripts/cluster_sort.sh [KEYS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
scripts/ensure-deps
cargo bench --bench main -- sort_keypress --no-run --quiet 2>/dev/null
bench=$(ls -t target/release/deps/sort_keypress-* | grep -v '\.d$' | head -1)
EXTRA_PORTS=1 source benches/scripts/private-cluster.sh
single=$extra
start_plain "$single"
echo "loading $N keys (every 10th with a TTL), spread over every slot, into 3 masters ($ports) and one server ($single)…"
python3 benches/scripts/cluster_load.py "$N" 10 "$single" $ports
first=$(echo "$ports" | cut -d' ' -f1)
echo "== single server"
MEMSCOPE_SORT_KEYS=$N MEMSCOPE_SORT_URL="redis://127.0.0.1:$single/0" "$bench" --bench
echo "== 3-master cluster"
MEMSCOPE_SORT_KEYS=$N MEMSCOPE_SORT_URL="redis://127.0.0.1:$first/0" "$bench" --bench
