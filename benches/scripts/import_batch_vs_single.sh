#!/bin/sh
# Import throughput through the memory layer: the batched path (--batch 500) against one message
# at a time (--batch 1, as an agent's save_message), on the same data and the same services: a
# private redis-server and a private Firestore emulator (vector tier off: embedding costs the
# same either way). Usage: benches/scripts/import_batch_vs_single.sh [BATCHED_N] [SINGLE_N]
set -eu
N=${1:-20000}; S=${2:-1000}
BIN=${MEMSCOPE_BIN:-target/release/memscope}
EMU=${MEMSCOPE_FIRESTORE_EMULATOR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator}
D=$(mktemp -d)
# The emulator's launcher starts a JVM: stop its whole process group.
trap 'kill $RP 2>/dev/null; kill -- -$EP 2>/dev/null; rm -rf "$D"' EXIT
trap 'exit 130' INT TERM
RPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
EPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RP=$!
setsid "$EMU" start --host=127.0.0.1 --port="$EPORT" >"$D/emu.log" 2>&1 & EP=$!
until grep -q "Dev App Server is now running" "$D/emu.log"; do sleep 0.2; done
python3 - "$D" "$N" "$S" <<'PY'
import json, sys
d, n, s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, count, tag in (("batched", n, "b"), ("single", s, "s")):
    with open(f"{d}/{name}.jsonl", "w") as f:
        for i in range(count):
            f.write(json.dumps({"conversation_id": f"{tag}-conv-{i // 20:05d}", "message_id": f"{tag}-m{i:07d}",
                "user_id": f"u-{i % 97}", "role": "user" if i % 2 == 0 else "assistant",
                "content": f"message {i}: the agent remembers order {i * 7 % 10007} and the user's preference",
                "timestamp": 1763900000 + i}) + "\n")
PY
for p in b s; do
cat > "$D/$p.toml" <<T
[profile.p]
read_only = false
[profile.p.redis]
url = "redis://127.0.0.1:$RPORT/0"
[profile.p.long_term]
backend = "firestore"
project_id = "bench-$p"
T
done
export FIRESTORE_EMULATOR_HOST="127.0.0.1:$EPORT"
t() { python3 -c 'import time;print(time.time())'; }
a=$(t); "$BIN" --config "$D/b.toml" import "$D/batched.jsonl" >/dev/null 2>&1; b=$(t)
c=$(t); "$BIN" --config "$D/s.toml" import --batch 1 "$D/single.jsonl" >/dev/null 2>&1; e=$(t)
python3 - "$a" "$b" "$c" "$e" "$N" "$S" <<'PY'
import sys
a, b, c, e, n, s = map(float, sys.argv[1:])
rb, rs = n / (b - a), s / (e - c)
print(f"batched (500/batch): {int(n)} messages in {b - a:.1f} s = {rb:.0f} msg/s")
print(f"one by one:          {int(s)} messages in {e - c:.1f} s = {rs:.0f} msg/s")
print(f"batched / one-by-one: {rb / rs:.1f}x")
PY
