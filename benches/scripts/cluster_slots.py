"""Hash slots for the cluster benchmarks (imported by their Python heredocs): the slot of a key
(CRC16/XMODEM mod 16384, hash tags not handled: the keys the benchmarks write carry whole tags
or none) and which master's port serves each slot, from CLUSTER NODES."""
import subprocess

_TABLE = []
for i in range(256):
    c = i << 8
    for _ in range(8):
        c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
    _TABLE.append(c & 0xFFFF)


def slot(b):
    c = 0
    for x in b:
        c = ((c << 8) & 0xFFFF) ^ _TABLE[((c >> 8) ^ x) & 0xFF]
    return c % 16384


def owners(port):
    """A list of 16384 ports: the master serving each slot, asked of the node at `port`."""
    nodes = subprocess.run(["redis-cli", "-p", str(port), "cluster", "nodes"], capture_output=True, text=True).stdout
    owner = [0] * 16384
    for line in nodes.splitlines():
        f = line.split()
        p = int(f[1].split("@")[0].rsplit(":", 1)[1])
        for r in f[8:]:
            if r.startswith("["):
                continue
            a, _, b = r.partition("-")
            for s in range(int(a), int(b or a) + 1):
                owner[s] = p
    return owner
