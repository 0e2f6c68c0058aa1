#!/bin/sh
# `memscope audit` over N messages (default 100,000) in an embedded SQLite long-term store with a
# private redis-server holding their recent lists: elapsed time, progress, peak memory.
# (On the Firestore emulator every query scans the whole database, so this is measured on SQLite.)
set -eu
N=${1:-100000}
BIN=${MEMSCOPE_BIN:-target/release/memscope}
D=$(mktemp -d)
RPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RP=$!
trap 'kill $RP 2>/dev/null; rm -rf "$D"' EXIT
trap 'exit 130' INT TERM
python3 - "$D" "$N" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
with open(f"{d}/m.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"conversation_id": f"conv-{i // 20:05d}", "message_id": f"m{i:07d}",
            "user_id": f"u-{i % 97}", "role": "user" if i % 2 == 0 else "assistant",
            "content": f"message {i} about order {i * 7 % 10007}", "timestamp": 1763900000 + i}) + "\n")
PY
cat > "$D/c.toml" <<T
[profile.p]
read_only = false
[profile.p.redis]
url = "redis://127.0.0.1:$RPORT/0"
[profile.p.long_term]
backend = "sqlite"
path = "$D/m.db"
T
"$BIN" --config "$D/c.toml" import "$D/m.jsonl" | tail -1
python3 - "$BIN" "$D/c.toml" <<'PY'
import resource, subprocess, sys, json, time
t = time.time()
out = subprocess.run([sys.argv[1], "--config", sys.argv[2], "audit", "--json"], capture_output=True, text=True)
r = json.loads(out.stdout)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"audit: {r['scanned']['messages']} messages, {r['scanned']['conversations']} conversations, "
      f"{r['scanned']['keys']} keys in {time.time() - t:.1f} s, drift {r['drift']}, peak RSS {rss:.0f} MB")
PY
