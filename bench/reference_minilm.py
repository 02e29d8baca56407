#!/usr/bin/env python3
"""An independent float64 reference of sentence-transformers' all-MiniLM-L6-v2 pipeline in numpy:
BERT encoder, mean pooling over the attention mask, L2 normalisation, truncation to 256 tokens.

It exists so the engine's tests compare against maths written separately from the engine (no
shared code, no candle). Writes the engine's test fixture:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install numpy tokenizers safetensors
    /tmp/ref/bin/python bench/reference_minilm.py <model store> > offchain-workers/engine/tests/fixtures/minilm_reference.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563"

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A fast auburn fox leaps above a sleepy hound.",
    "Infera settles inference jobs on chain.",
    "Ünïcödé, emoji 🚀 and numbers 12345 survive tokenisation.",
    "x",
    # Over 256 tokens: truncated exactly as sentence-transformers truncates.
    " ".join(["verification"] * 300),
]


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(weights, cfg, ids):
    w = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype != np.int64}
    t = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][:t] + w["embeddings.token_type_embeddings.weight"][0]
    eps = cfg["layer_norm_eps"]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    heads = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda name, v: v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin("attention.self.query", x).reshape(t, heads, hd).transpose(1, 0, 2)
        k = lin("attention.self.key", x).reshape(t, heads, hd).transpose(1, 0, 2)
        v = lin("attention.self.value", x).reshape(t, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(t, heads * hd)
        x = layer_norm(lin("attention.output.dense", ctx) + x,
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        inner = gelu(lin("intermediate.dense", x))
        x = layer_norm(lin("output.dense", inner) + x,
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


def main():
    store = sys.argv[1]
    weights = load_file(f"{store}/{MODEL}.safetensors")
    cfg = json.load(open(f"{store}/{MODEL}.config.json"))
    max_len = json.load(open(f"{store}/{MODEL}.manifest.json"))["max_seq_length"]
    tok = Tokenizer.from_file(f"{store}/{MODEL}.tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    out = []
    for s in SENTENCES:
        ids = tok.encode(s).ids
        e = embed(weights, cfg, np.array(ids))
        out.append({"text": s, "tokens": len(ids), "embedding": [round(float(v), 8) for v in e]})
    json.dump({"model": MODEL, "cases": out}, sys.stdout)


if __name__ == "__main__":
    main()
