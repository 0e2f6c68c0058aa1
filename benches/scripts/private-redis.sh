# Sourced by the benchmark scripts: a private redis-server on a free port (never a server the
# script did not start), stopped and its directory removed when the script exits. Sets $tmp
# (a scratch directory), $port and $pid. DEBUG POPULATE needs --enable-debug-command on Redis 7
# (and redis-cli exits 0 even when it is refused). A script with more to clean up defines
# `bench_cleanup` before sourcing this; it runs first.
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" --daemonize yes \
    --pidfile "$tmp/r.pid" --logfile "$tmp/r.log" --enable-debug-command local
private_redis_cleanup() {
  if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
  if [ -f "$tmp/r.pid" ]; then kill "$(cat "$tmp/r.pid")" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap private_redis_cleanup EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
until [ -s "$tmp/r.pid" ]; do sleep 0.05; done
pid=$(cat "$tmp/r.pid")
