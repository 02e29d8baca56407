"""Drives infera-gateway's generation endpoints with the real `openai` Python client
(tests/e2e/gateway.test.mjs).

    gateway_chat.py BASE_URL API_KEY DECODER EMBEDDER QUESTION PROMPT

Prints one JSON object: a streamed chat completion (each chunk's text, the finish reason, the
Infera fields and the usage chunk), the same chat unstreamed, a streamed text completion, one cut
by `max_tokens`, and the status and body of each refused request.
"""
import json
import sys

import openai

base_url, key, decoder, embedder, question, prompt = sys.argv[1:]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=300)
out = {}
messages = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": question},
]

# Streamed chat: one chunk per token once the job is verified, then a usage chunk, then [DONE]
# (the client stops at it).
chunks = list(client.chat.completions.create(
    model=decoder, messages=messages, stream=True, stream_options={"include_usage": True}))
out["stream"] = {
    "pieces": [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content],
    "roles": [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role],
    "finish": [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason],
    "infera": [c.model_extra["infera"] for c in chunks if c.model_extra.get("infera")],
    "usage": [c.usage.model_dump() for c in chunks if c.usage],
    "ids": sorted({c.id for c in chunks}),
    "objects": sorted({c.object for c in chunks}),
}

raw = client.chat.completions.with_raw_response.create(model=decoder, messages=messages)
chat = raw.parse()
out["chat"] = {
    "content": chat.choices[0].message.content,
    "role": chat.choices[0].message.role,
    "finish": chat.choices[0].finish_reason,
    "usage": chat.usage.model_dump(),
    "infera": chat.model_extra["infera"],
    "header": raw.headers.get("x-infera-jobs"),
}

stream = client.completions.create(model=decoder, prompt=prompt, stream=True)
pieces, infera, finish = [], None, None
for c in stream:
    for choice in c.choices:
        if choice.text:
            pieces.append(choice.text)
        if choice.finish_reason:
            finish = choice.finish_reason
    infera = c.model_extra.get("infera") or infera
out["completion_stream"] = {"pieces": pieces, "finish": finish, "infera": infera}

short = client.completions.create(model=decoder, prompt=prompt, max_tokens=3)
out["completion_short"] = {
    "text": short.choices[0].text,
    "finish": short.choices[0].finish_reason,
    "usage": short.usage.model_dump(),
    "infera": short.model_extra["infera"],
}


def error(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"status": e.status_code, "body": e.body}
    return {"status": 200}


out["errors"] = {
    "n": error(lambda: client.chat.completions.create(model=decoder, messages=messages, n=2)),
    "tools": error(lambda: client.chat.completions.create(model=decoder, messages=messages, tools=[
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}])),
    "embedder_chat": error(lambda: client.chat.completions.create(model=embedder, messages=messages)),
    "decoder_embeddings": error(lambda: client.embeddings.create(model=decoder, input="text")),
    "unknown_key": error(lambda: openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-nope", max_retries=0)
                         .chat.completions.create(model=decoder, messages=messages)),
    "unknown_model": error(lambda: client.chat.completions.create(model="gpt-4o", messages=messages)),
    "too_long": error(lambda: client.completions.create(model=decoder, prompt="word " * 3000)),
    "image": error(lambda: client.chat.completions.create(model=decoder, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}])),
}
print(json.dumps(out))
