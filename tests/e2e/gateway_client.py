"""Drives infera-gateway with the real `openai` Python client (tests/e2e/gateway.test.mjs).

    gateway_client.py BASE_URL API_KEY POOR_KEY TIGHT_KEY DEAD_URL MODEL SENTENCE...

Prints one JSON object: the listed models, the embeddings of the sentences asked for as floats
and (the client's default) base64, the Infera fields of each, and every error's status and body.
"""
import concurrent.futures
import json
import sys

import openai

base_url, key, poor_key, tight_key, dead_url, model, *sentences = sys.argv[1:]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=300)
out = {"openai": openai.__version__}

out["models"] = [m.id for m in client.models.list().data]

# Floats, two inputs in one request; the raw response carries the Infera fields and header.
raw = client.embeddings.with_raw_response.create(model=model, input=sentences, encoding_format="float")
parsed = raw.parse()
body = raw.http_response.json()
out["float"] = {
    "vectors": [d.embedding for d in parsed.data],
    "indices": [d.index for d in parsed.data],
    "usage": parsed.usage.model_dump(),
    "model": parsed.model,
    "infera": [d["infera"] for d in body["data"]],
    "request": body["infera"],
    "header": raw.headers.get("x-infera-jobs"),
}

# No encoding_format: the client asks for base64 and decodes it itself.
parsed = client.embeddings.create(model=model, input=sentences[0])
out["base64"] = {"vectors": [d.embedding for d in parsed.data], "extra": parsed.model_extra}


def error(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"status": e.status_code, "body": e.body, "class": type(e).__name__}
    except openai.APIConnectionError as e:
        return {"status": None, "class": type(e).__name__, "message": str(e)}
    return {"status": 200}


def embed(c, **kw):
    args = {"model": model, "input": "an input"}
    args.update(kw)
    return lambda: c.embeddings.create(**args)


errors = {}
errors["unknown_key"] = error(embed(openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-nobody-has-this-key", max_retries=0)))
errors["unknown_model"] = error(embed(client, model="gpt-4o-mini"))
errors["too_long"] = error(embed(client, input="word " * 3000))
errors["empty"] = error(embed(client, input=""))
errors["tokens"] = error(embed(client, input=[[101, 2023, 102]]))
errors["dimensions"] = error(embed(client, dimensions=128))
errors["busy"] = error(embed(client, input=["one", "two", "three", "four"]))
errors["no_funds"] = error(embed(openai.OpenAI(base_url=f"{base_url}/v1", api_key=poor_key, max_retries=0)))
errors["chain_down"] = error(embed(openai.OpenAI(base_url=f"{dead_url}/v1", api_key=key, max_retries=0)))
out["errors"] = errors

# Two requests at once from a key whose account can pay for one: one is served, the other is
# refused before signing (the first one's escrow still counts while it waits in the pool).
tight = openai.OpenAI(base_url=f"{base_url}/v1", api_key=tight_key, max_retries=0, timeout=300)
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    results = list(pool.map(lambda i: error(embed(tight, input=f"concurrent request {i}")), [0, 1]))
out["concurrent"] = results

print(json.dumps(out))
