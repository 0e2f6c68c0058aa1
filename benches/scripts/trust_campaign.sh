#!/usr/bin/env bash
# The trust campaign of issue #21, re-runnable on a private redis-server (never one the script
# did not start) with a throw-away HOME. Prints four figures:
#   escapes  — hostile key names and values (OSC title, SGR colour, clear screen, C1 CSI, BEL,
#              invalid UTF-8) browsed in the TUI under `script`: how many of their escape
#              sequences reached the terminal byte for byte (want 0), and the pane's title;
#   writes   — every command the read-only TUI sent while browsing them, under MONITOR: how
#              many carry Redis' `write` flag (want 0);
#   secrets  — a password holding `?` and `@`-like characters in the URL: in how many of
#              stdout, stderr and the log file of `config check`, `keys` (right and wrong
#              password) and the TUI it appears in clear (want 0), and the log file's mode;
#   rss      — the TUI's resident memory after the session.
#   [KEEP=DIR] benches/scripts/trust_campaign.sh     (MEMSCOPE_BIN=target/release/memscope for a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${MEMSCOPE_BIN:-target/debug/memscope}")
[ -x "$bin" ] || cargo build --quiet
sess="memscope-campaign-$$"
bench_cleanup() {
  tmux kill-session -t "$sess" 2>/dev/null || true
  [ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null || true
}
source benches/scripts/private-redis.sh
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" XDG_CONFIG_HOME="$tmp/home/.config"
mkdir -p "$HOME"
unset REDIS_URL FIRESTORE_EMULATOR_HOST GOOGLE_CLOUD_PROJECT PINECONE_API_KEY PINECONE_INDEX_HOST 2>/dev/null || true
: >"$tmp/empty.toml"

# Hostile data, written with raw RESP so that key names carry any byte.
python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def cmd(*parts):
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    s.sendall(out); s.recv(65536)
payloads = [b"\x1b]0;PWNED\x07", b"\x1b[31mRED\x1b[0m", b"\x1b[2J\x1b[H", b"\xc2\x9b31m", b"\x07\x07", b"\xff\xfe\x00bin"]
for i, p in enumerate(payloads):
    cmd(b"SET", b"evil:key%d:" % i + p, b"value " + p + b" end")
    cmd(b"HSET", b"evil:hash%d" % i, b"field" + p, b"v" + p)
    cmd(b"RPUSH", b"evil:list%d" % i, b"item" + p, b"plain")
cmd(b"SET", b"plain:ok", b"nothing odd")
PY
nkeys=$(redis-cli -p "$port" dbsize)

# The read-only TUI, its raw output recorded, every command it sends watched.
redis-cli -p "$port" monitor >"$tmp/monitor.txt" &
mon_pid=$!
sleep 0.3
tmux new-session -d -s "$sess" -x 160 -y 45 \
  "script -q -f -c '$bin --config $tmp/empty.toml --redis-url redis://127.0.0.1:$port/0' $tmp/raw.out"
sleep 3
tmux send-keys -t "$sess" 2
sleep 1.5
tmux send-keys -t "$sess" v # flat list: every key a row
sleep 1
panes=""
for _ in $(seq 1 "$nkeys"); do
  tmux send-keys -t "$sess" Enter
  sleep 0.6
  panes+=$(tmux capture-pane -p -t "$sess")
  tmux send-keys -t "$sess" Tab j
  sleep 0.4
done
title=$(tmux display -p -t "$sess" '#{pane_title}')
tui_pid=$(pgrep -f -- "--config $tmp/empty.toml" | while read -r p; do
  [ "$(cat /proc/"$p"/comm)" = memscope ] && echo "$p"; done | head -1)
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/"$tui_pid"/status 2>/dev/null || echo "?")
tmux send-keys -t "$sess" q
sleep 1
kill "$mon_pid" 2>/dev/null || true
printf '%s' "$panes" >"$tmp/panes.txt"

python3 - "$tmp/raw.out" "$tmp/panes.txt" "$title" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
panes = open(sys.argv[2], encoding="utf-8", errors="replace").read()
payloads = [b"\x1b]0;PWNED\x07", b"\x1b[31mRED", b"\x1b[2J\x1b[H", b"\xc2\x9b31m", b"\x07\x07", b"\xff\xfe"]
leaked = {repr(p): raw.count(p) for p in payloads if raw.count(p)}
print(f"escapes: {sum(leaked.values())} hostile sequences reached the terminal in {len(raw):,} bytes of output {leaked or ''}")
print(f"         pane title after browsing: {sys.argv[3]!r} ({'PWNED' if 'PWNED' in sys.argv[3] else 'not changed by data'})")
print(f"         hostile keys shown made visible: {panes.count('evil:')} rows/lines naming evil:* keys captured")
PY

# Which of the commands seen carry the write flag (asked of the server itself).
python3 - "$tmp/monitor.txt" "$port" <<'PY'
import re, subprocess, sys, collections
names = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r'\] "([^"]+)"', line)
    if m:
        names[m.group(1).lower()] += 1
writes = {}
for n, c in names.items():
    info = subprocess.run(["redis-cli", "-p", sys.argv[2], "command", "info", n], capture_output=True, text=True).stdout
    if re.search(r"^write$", info, re.M):
        writes[n] = c
print(f"writes:  {sum(writes.values())} write commands among {sum(names.values())} sent in read-only {writes or ''}")
print(f"         commands: {dict(names.most_common(12))}")
PY

# Secrets: a password with `?` in it, on every path a string leaves memscope.
pw='S3CRET?PW4'
redis-cli -p "$port" config set requirepass "$pw" >/dev/null
right="redis://:$pw@127.0.0.1:$port/0"
wrong="redis://:${pw}x@127.0.0.1:$port/0"
out="$tmp/secrets"
mkdir -p "$out"
"$bin" --config "$tmp/empty.toml" --redis-url "$right" config check >"$out/check.out" 2>"$out/check.err" || true
"$bin" --config "$tmp/empty.toml" --redis-url "$right" keys >"$out/keys.out" 2>"$out/keys.err" || true
"$bin" --config "$tmp/empty.toml" --redis-url "$wrong" keys >"$out/wrong.out" 2>"$out/wrong.err" || true
"$bin" --config "$tmp/empty.toml" --redis-url "$wrong" health >"$out/health.out" 2>"$out/health.err" || true
tmux new-session -d -s "$sess" -x 160 -y 45 "$bin --config $tmp/empty.toml --redis-url '$wrong'"
sleep 3
tmux send-keys -t "$sess" 2
sleep 1
tmux capture-pane -p -t "$sess" >"$out/tui-keys.txt"
tmux send-keys -t "$sess" 4
sleep 2
tmux capture-pane -p -t "$sess" >"$out/tui-health.txt"
tmux send-keys -t "$sess" q
sleep 0.5
log="$XDG_DATA_HOME/memscope/memscope.log"
[ -f "$log" ] && cp "$log" "$out/memscope.log"
files=$(ls "$out")
n_files=$(echo "$files" | wc -l)
leaks=$(grep -l -F -- "$pw" "$out"/* 2>/dev/null | xargs -r -n1 basename | tr "\n" " " || true)
n_leaks=$(grep -l -F -- "$pw" "$out"/* 2>/dev/null | wc -l || true)
mode=$([ -f "$log" ] && stat -c %a "$log" || echo "no log")
echo "secrets: $n_leaks of $n_files outputs show the password in clear ${leaks:+($leaks)}; log file mode $mode"
echo "rss:     TUI resident memory after browsing $nkeys hostile keys: ${rss_kb} kB"
# KEEP=DIR keeps the raw output, pane captures, MONITOR log and secret outputs for a look.
if [ -n "${KEEP:-}" ]; then rm -rf "$KEEP" && cp -r "$tmp" "$KEEP" && echo "kept in $KEEP"; fi
