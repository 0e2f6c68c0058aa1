#!/usr/bin/env bash
# Listing a Redis Cluster: builds a private 3-master cluster (redis-cli --cluster create, free
# ports below 55536), loads KEYS keys spread over the masters, and prints, median of ROUNDS:
#  - `memscope keys` (every master scanned at once) against `redis-cli --scan` run against each
#    master one after another (the issue's target: at most 0.5x), with memscope's peak RSS.
# Usage: benches/scripts/cluster_scan.sh [KEYS] [ROUNDS]   (defaults: 1000000 3)
# MEMSCOPE_BIN picks the binary (default: a release build made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
R=${2:-3}
scripts/ensure-deps
if [ -z "${MEMSCOPE_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${MEMSCOPE_BIN:-$PWD/target/release/memscope}

source benches/scripts/private-cluster.sh

echo "loading $N keys over 3 masters ($ports)…"
# Keys carry one of 1,000 hash tags, so they spread over 1,000 slots; each node gets the keys
# of the slots it serves, sent with redis-cli --pipe.
python3 - "$N" "$tmp" $ports <<'PY'
import sys, subprocess
n, tmp, ports = int(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
sys.path.insert(0, "benches")
from cluster_slots import owners, slot
served = owners(ports[0])
def owner(s):
    return served[s]
tags = [f"t{j}" for j in range(1000)]
dest = [owner(slot(t.encode())) for t in tags]
procs = {p: subprocess.Popen(["redis-cli", "-p", str(p), "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) for p in ports}
bufs = {p: [] for p in ports}
for i in range(n):
    j = i % 1000
    k = f"cache:{{{tags[j]}}}:item:{i}".encode()
    bufs[dest[j]].append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" % (len(k), k))
    if len(bufs[dest[j]]) >= 10000:
        procs[dest[j]].stdin.write(b"".join(bufs[dest[j]])); bufs[dest[j]] = []
for p in ports:
    procs[p].stdin.write(b"".join(bufs[p])); procs[p].stdin.close(); procs[p].wait()
PY
total=0
for p in $ports; do k=$(redis-cli -p "$p" dbsize); echo "  master $p: $k keys"; total=$((total + k)); done
echo "  cluster: $total keys"

secs() { python3 -c 'import time; print(time.monotonic())'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
first=$(echo "$ports" | cut -d' ' -f1)
: > "$tmp/ms"; : > "$tmp/cli"; : > "$tmp/rss"
for r in $(seq "$R"); do
  # memscope keys, with its peak RSS (the children's maximum resident set, KiB).
  python3 - "$BIN" "$first" "$tmp" <<'PY'
import resource, subprocess, sys, time
bin, port, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.monotonic()
p = subprocess.run([bin, "keys", "--redis-url", f"redis://127.0.0.1:{port}/0"], stdout=subprocess.PIPE)
dt = time.monotonic() - t
lines = p.stdout.count(b"\n")
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
open(f"{tmp}/ms", "a").write(f"{dt}\n"); open(f"{tmp}/rss", "a").write(f"{rss}\n")
print(f"  memscope keys: {lines} lines in {dt:.2f} s, peak RSS {rss:.0f} MB (exit {p.returncode})")
PY
  t0=$(secs); c=0
  for p in $ports; do c=$((c + $(redis-cli -p "$p" --scan | wc -l))); done
  t1=$(secs)
  python3 -c "print($t1-$t0)" >> "$tmp/cli"
  echo "  redis-cli --scan on each master in turn: $c lines in $(tail -1 "$tmp/cli" | cut -c1-5) s"
done
m1=$(median < "$tmp/ms"); m2=$(median < "$tmp/cli"); rss=$(sort -g "$tmp/rss" | tail -1)
python3 -c "print(f'median of $R: memscope keys {$m1:.2f} s, redis-cli --scan per master {$m2:.2f} s, ratio {$m1/$m2:.2f}x (target <= 0.5x); peak RSS {$rss:.0f} MB (target <= 200 MB)')"
