# Sourced by the cluster benchmarks: a private 3-master Redis Cluster (redis-cli --cluster
# create) on free ports whose bus port (port + 10000) is free too, so at most 55535 — never a
# server the script did not start — stopped and its directory removed when the script exits.
# EXTRA_PORTS=n also reserves n more free ports (in $extra) for plain servers, started with
# `start_plain PORT` under $tmp/PORT with their pid in $tmp/PORT/pid (stopped the same way).
# Sets $tmp, $ports.
tmp=$(mktemp -d)
all_ports=$(python3 - "$((3 + ${EXTRA_PORTS:-0}))" <<'PY'
import socket, sys
out = []
while len(out) < int(sys.argv[1]):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p > 55535 or p in out: continue
    b = socket.socket()
    try: b.bind(("127.0.0.1", p + 10000))
    except OSError: continue
    finally: b.close()
    out.append(p)
print(" ".join(map(str, out)))
PY
)
ports=$(echo "$all_ports" | cut -d' ' -f1-3)
extra=$(echo "$all_ports" | cut -d' ' -f4- -s)
private_cluster_cleanup() {
  for p in $all_ports; do [ -f "$tmp/$p/pid" ] && kill "$(cat "$tmp/$p/pid")" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap private_cluster_cleanup EXIT
for p in $ports; do
  mkdir -p "$tmp/$p"
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$p" --daemonize yes \
    --pidfile "$tmp/$p/pid" --logfile "$tmp/$p/log" --cluster-enabled yes
done
for p in $ports; do until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.05; done; done
redis-cli --cluster create $(for p in $ports; do echo "127.0.0.1:$p"; done) --cluster-yes >/dev/null
for p in $ports; do until redis-cli -p "$p" cluster info | grep -q cluster_state:ok; do sleep 0.1; done; done
start_plain() { # PORT: a plain redis-server beside the cluster, answering when this returns
  mkdir -p "$tmp/$1"
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$1" --daemonize yes \
    --pidfile "$tmp/$1/pid" --logfile "$tmp/$1/log"
  until redis-cli -p "$1" ping >/dev/null 2>&1; do sleep 0.05; done
}
