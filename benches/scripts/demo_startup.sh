#!/usr/bin/env bash
# Seconds from `memscope demo --no-tui` to a seeded stack (private Redis, SQLite long-term
# store, the vector index from the shipped embeddings), RUNS times. Builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
cargo build --release --quiet
for i in $(seq 1 "$runs"); do
    start=$(date +%s.%N)
    # exec: the coprocess IS memscope, so the SIGINT below reaches it (not a subshell).
    coproc DEMO { exec target/release/memscope demo --no-tui 2>/dev/null; }
    while read -r line <&"${DEMO[0]}"; do
        case "$line" in *seeded*) break ;; esac
    done
    end=$(date +%s.%N)
    kill -INT "$DEMO_PID"
    wait "$DEMO_PID" || true
    awk -v s="$start" -v e="$end" -v i="$i" 'BEGIN { printf "run %d: ready in %.2f s\n", i, e - s }'
done
