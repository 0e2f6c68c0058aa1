"""Loads the same N keys into a private cluster's masters and one plain server, spread over every
hash slot the way real key names spread (no hash tags): `redis-cli --pipe` per server.
Usage: python3 benches/scripts/cluster_load.py N TTL_EVERY SINGLE_PORT MASTER_PORT...
(TTL_EVERY=k gives every k-th key a TTL of one to 25 hours; 0: none.) Used by cluster_analyze.sh
and cluster_sort.sh."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_slots import owners, slot

n, every, single = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ports = [int(p) for p in sys.argv[4:]]
owner = owners(ports[0])
dests = ports + [single]
procs = {p: subprocess.Popen(["redis-cli", "-p", str(p), "--pipe"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL) for p in dests}
bufs = {p: [] for p in dests}
kinds = [b"session", b"cache", b"conversation", b"user", b"ratelimit"]
for i in range(n):
    k = b"%s:%d:data" % (kinds[i % 5], i)
    v = b"v" * (20 + i % 50)
    if every and i % every == 0:
        ttl = b"%d" % (3600 + (i * 7919) % 86400)
        cmd = b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$%d\r\n%s\r\n" % (
            len(k), k, len(v), v, len(ttl), ttl)
    else:
        cmd = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v)
    for p in (owner[slot(k)], single):
        bufs[p].append(cmd)
        if len(bufs[p]) >= 10000:
            procs[p].stdin.write(b"".join(bufs[p]))
            bufs[p] = []
for p in dests:
    procs[p].stdin.write(b"".join(bufs[p]))
    procs[p].stdin.close()
    procs[p].wait()
