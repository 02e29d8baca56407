#!/usr/bin/env python3
"""Hugging Face transformers' results for the engine's seeded test models, in float64: the
decoder (LlamaForCausalLM, greedy) and the MiniLM classifier (BertForSequenceClassification).

The models are the ones `infera_engine::synthetic` writes from a fixed seed; transformers loads
the very same files, so the engine's tests compare against an implementation that shares no code
with it. Writes the engine's test fixture (outside CI; needs torch and transformers):

    cargo run --release -p infera-engine --example synthetic_models -- /tmp/infera-synthetic
    $INFERA_TORCH_PYTHON bench/reference_models.py /tmp/infera-synthetic \
        > offchain-workers/engine/tests/fixtures/synthetic_reference.json
"""
import json
import sys

import torch
from tokenizers import Tokenizer
from transformers import BertForSequenceClassification, LlamaForCausalLM

PROMPTS = [
    "The quick brown fox",
    "Infera coordinates inference on chain.",
    "x",
]
SENTENCES = [
    "I loved this film, it was wonderful.",
    "The service was slow and the food was cold.",
    "The meeting is at three o'clock.",
    "x",
]
MAX_NEW_TOKENS = 16
EOS = 102


def main():
    root = sys.argv[1]
    torch.set_grad_enabled(False)
    tok = Tokenizer.from_file(f"{root}/llama/tokenizer.json")
    # The file pads to 128 tokens; the engine pads a batch to its longest input, and a single
    # input not at all.
    tok.no_padding()

    llama = LlamaForCausalLM.from_pretrained(f"{root}/llama", attn_implementation="eager")
    llama = llama.double().eval()
    generations = []
    for prompt in PROMPTS:
        ids = tok.encode(prompt).ids
        seq = list(ids)
        steps = []
        for _ in range(MAX_NEW_TOKENS):
            logits = llama(torch.tensor([seq])).logits[0, -1]
            top = torch.topk(logits, 2)
            token = int(top.indices[0])
            steps.append({"top": token, "top_logit": float(top.values[0]),
                          "second_logit": float(top.values[1])})
            seq.append(token)
            if token == EOS:
                break
        generations.append({"prompt": prompt, "prompt_ids": ids,
                            "tokens": seq[len(ids):], "steps": steps})

    clf = BertForSequenceClassification.from_pretrained(f"{root}/classifier", attn_implementation="eager")
    clf = clf.double().eval()
    classifications = []
    for sentence in SENTENCES:
        ids = tok.encode(sentence).ids
        logits = clf(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)).logits[0]
        classifications.append({"text": sentence, "logits": [float(x) for x in logits],
                                "class": int(torch.argmax(logits))})

    json.dump({"generations": generations, "classifications": classifications}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
