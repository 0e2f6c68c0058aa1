#!/usr/bin/env python3
"""Independent reference for memscope's local embedder: all-MiniLM-L6-v2 in plain NumPy.

Reads model.safetensors by hand, tokenizes with Hugging Face `tokenizers` (truncation 256, no
padding, as sentence-transformers does for one text), runs the BERT encoder, mean-pools over
the tokens and L2-normalises. Writes tests/fixtures/minilm_reference.json, which the Rust
parity test compares against (token ids equal, cosine ~1).

Usage: pip install numpy tokenizers; python3 scripts/reference_embeddings.py MODEL_DIR
"""
import json
import math
import struct
import sys

import numpy as np
from tokenizers import Tokenizer

TEXTS = [
    "What's the weather like in New York today?",
    "It is sunny and 72F in NYC",
    "Refund for a duplicate charge on order 1182",
    "日本語のテキストも埋め込めますか？",
    "a " * 300,  # longer than 256 tokens: truncated
]


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            continue  # e.g. the position_ids buffer
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(meta["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(W, cfg, ids):
    p = "" if "embeddings.word_embeddings.weight" in W else "bert."
    g = lambda k: W[p + k]
    n = len(ids)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:n] + g("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
    heads = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        L = lambda k: g(f"encoder.layer.{i}.{k}")
        lin = lambda t, k: t @ L(k + ".weight").T + L(k + ".bias")
        q = lin(x, "attention.self.query").reshape(n, heads, hd).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, hd).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * hd)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, L("attention.output.LayerNorm.weight"), L("attention.output.LayerNorm.bias"))
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, L("output.LayerNorm.weight"), L("output.LayerNorm.bias"))
    v = x.mean(0)
    return v / np.linalg.norm(v)


def main():
    d = sys.argv[1]
    cfg = json.load(open(f"{d}/config.json"))
    W = load_safetensors(f"{d}/model.safetensors")
    tok = Tokenizer.from_file(f"{d}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(256)
    out = []
    for t in TEXTS:
        ids = tok.encode(t).ids
        out.append({"text": t, "ids": ids, "vector": [round(float(x), 9) for x in embed(W, cfg, ids)]})
    json.dump(out, open("tests/fixtures/minilm_reference.json", "w"))
    print(f"wrote {len(out)} reference vectors")


if __name__ == "__main__":
    main()
