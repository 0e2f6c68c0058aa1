#!/usr/bin/env python3
"""NumPy brute force on the data `cargo bench --bench main -- vector_search` wrote (target/vector_bench.f32):
exact top-10 by cosine over 100,000 x 384 unit vectors, for the same 200 queries. Prints p50/p99."""
import time
import numpy as np

N, DIM = 100_000, 384
d = np.fromfile("target/vector_bench.f32", dtype="<f4").reshape(N + 200, DIM)
X, Q = d[:N], d[N:]
norms = np.linalg.norm(X, axis=1)
t = []
for q in Q:
    s = time.perf_counter()
    scores = (X @ q) / (norms * np.linalg.norm(q))
    top = np.argpartition(-scores, 10)[:10]
    top = top[np.argsort(-scores[top])]
    t.append((time.perf_counter() - s) * 1e3)
t.sort()
print(f"numpy brute force, exact top-10 over {N} x {DIM}: p50 {t[len(t)//2]:.2f} ms, p99 {t[len(t)*99//100]:.2f} ms (n={len(t)})")
