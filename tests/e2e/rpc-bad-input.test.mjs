// The node's JSON-RPC under hostile input: every `infera_*` method with wrong types, huge
// numbers, unknown ids and blocks, malformed SS58, oversized pages; malformed and oversized
// requests; floods of requests and subscriptions. Each answers a JSON-RPC error (or a bounded
// answer), and the node keeps serving and never panics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startDevNode, waitFor } from './lib/node.mjs';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
// Alice's key under Polkadot's prefix: the same account (addresses of any SS58 prefix are read).
const ALICE_POLKADOT = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
// An account nobody uses (//NobodyAtAll).
const NOBODY = '5C5L2kRKBu4GJvcqfZqkie9Rdz4hbytzn6h4urDAaxD6nXkN';
// Alice's address with its checksum broken, truncated, and non-addresses.
const BAD_ADDRESSES = [
  '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX',
  '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKut',
  'not an address', '', '0x1234', 42, null, { who: ALICE }, ['a'], 'x'.repeat(10_000),
];
const BAD_NUMBERS = ['7', -1, 1.5, 2 ** 64, 1e300, '0x10', null, true, {}, []];
const UNKNOWN_BLOCK = `0x${'ab'.repeat(32)}`;

let node;

/** Posts `body` (a string, sent as is) and returns the HTTP status and parsed body. */
async function post(body) {
  const res = await fetch(node.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

async function call(method, params) {
  const { json, text } = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  assert.ok(json, `${method}(${JSON.stringify(params)}): not JSON: ${text.slice(0, 200)}`);
  return json;
}

/** `method(params)` must answer a JSON-RPC error: a numeric code and a message. */
async function assertError(method, params, pattern) {
  const body = await call(method, params);
  const shown = `${method}(${JSON.stringify(params).slice(0, 120)})`;
  assert.ok(body.error, `${shown} answered ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(body.result, undefined, shown);
  assert.equal(typeof body.error.code, 'number', shown);
  assert.equal(typeof body.error.message, 'string', shown);
  if (pattern) assert.match(body.error.message, pattern, shown);
  return body.error;
}

async function assertServing() {
  const body = await call('system_health', []);
  assert.ok(body.result, JSON.stringify(body));
  const job = await call('infera_estimateFee', [0, 10]);
  assert.ok(job.result, JSON.stringify(job));
}

before(async () => {
  node = await startDevNode();
  await waitFor('the dev node answers RPC', async () => {
    try {
      const h = await call('chain_getHeader', []);
      return Number.parseInt(h.result.number, 16) >= 1;
    } catch { return false; }
  });
});

after(async () => {
  const result = await node?.stop();
  assert.doesNotMatch(node?.log.text ?? '', /panicked|stack backtrace/i, 'the node panicked');
  // SIGINT ends the node cleanly.
  if (result) assert.equal(result.signal, null, node.log.text.slice(-2000));
});

test('every infera_* method refuses wrong types and out-of-range numbers with an error', async () => {
  for (const bad of BAD_NUMBERS) {
    await assertError('infera_job', [bad]);
    await assertError('infera_model', [bad]);
    await assertError('infera_estimateFee', [bad, 10]);
    await assertError('infera_estimateFee', [0, bad]);
    await assertError('infera_jobsByClient', [ALICE, bad === null ? 'x' : bad]);
    await assertError('infera_jobsByProvider', [ALICE, null, bad === null ? -1 : bad]);
  }
  // Too many or too few parameters, and parameters by an unknown name.
  await assertError('infera_job', []);
  await assertError('infera_job', [1, null, 3]);
  await assertError('infera_job', { jobId: 1 });
  await assertError('infera_estimateFee', [0]);
  await assertServing();
});

test('malformed SS58 addresses are refused, valid ones with nothing answer empty', async () => {
  for (const bad of BAD_ADDRESSES) {
    await assertError('infera_provider', [bad]);
    await assertError('infera_jobsByClient', [bad]);
    await assertError('infera_jobsByProvider', [bad, 0, 10]);
  }
  assert.deepEqual((await call('infera_jobsByClient', [NOBODY])).result, []);
  await assertError('infera_provider', [NOBODY], /not a provider|not registered|not found/i);
  const alice = await call('infera_provider', [ALICE_POLKADOT]);
  assert.equal(alice.result?.account, ALICE, JSON.stringify(alice));
  await assertServing();
});

test('unknown ids and unknown blocks answer "not found" errors', async () => {
  await assertError('infera_job', [999_999], /job 999999 not found/);
  await assertError('infera_job', [2 ** 53 - 1], /not found/);
  await assertError('infera_model', [4_294_967_295], /not (found|registered)/);
  await assertError('infera_estimateFee', [77, 10], /model 77 is not registered/);
  await assertError('infera_estimateFee', [0, 0], /the input is empty/);
  await assertError('infera_estimateFee', [0, 4_294_967_295], /over the limit/);
  await assertError('infera_job', [0, UNKNOWN_BLOCK]);
  await assertError('infera_model', [0, UNKNOWN_BLOCK]);
  await assertError('infera_provider', [ALICE, UNKNOWN_BLOCK]);
  await assertError('infera_job', [0, '0xnothex']);
  await assertServing();
});

test('oversized pages are cut to the page bound', async () => {
  for (const limit of [101, 4_294_967_295]) {
    const body = await call('infera_jobsByClient', [ALICE, null, limit]);
    assert.ok(body.error || (Array.isArray(body.result) && body.result.length <= 100), JSON.stringify(body));
  }
  const body = await call('infera_jobsByProvider', [ALICE, 2 ** 53 - 1, 100]);
  assert.deepEqual(body.result, []);
});

test('malformed, oversized and batched requests get errors, not a crash', async () => {
  for (const raw of ['{', 'null', '[]', '42', '{"jsonrpc":"2.0"}', '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"1.0","id":1,"method":"infera_job","params":[1]}', '\u0000\u0001']) {
    const { status, json, text } = await post(raw);
    assert.ok(status === 200 || (status >= 400 && status < 500), `${raw}: HTTP ${status}`);
    if (json && !Array.isArray(json)) assert.ok(json.error, `${raw}: ${text.slice(0, 200)}`);
  }
  // A body over the node's request limit (15 MiB by default) is refused with HTTP 413.
  const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'infera_job', params: ['x'.repeat(16 << 20)] });
  // (The node answers before it has read the body and closes the connection; fetch may see
  // either the 413 or the closed socket.)
  const big = await post(huge).catch((e) => ({ status: 413, closed: e }));
  assert.equal(big.status, 413, `a 16 MiB request answered HTTP ${big.status}: ${big.text?.slice(0, 200)}`);
  // A batch of 500 bad calls answers 500 errors (or is refused as a whole).
  const batch = Array.from({ length: 500 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'infera_job', params: [`bad-${i}`] }));
  const answer = await post(JSON.stringify(batch));
  if (Array.isArray(answer.json)) {
    assert.equal(answer.json.length, 500);
    assert.ok(answer.json.every((r) => r.error && r.result === undefined));
  } else {
    assert.ok(answer.json?.error || answer.status >= 400, answer.text.slice(0, 200));
  }
  await assertServing();
});

test('a flood of requests and subscriptions is answered or refused, and the node keeps serving', async () => {
  // 2,000 concurrent bad calls over HTTP.
  const answers = await Promise.all(Array.from({ length: 2_000 }, (_, i) =>
    post(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'infera_job', params: [i % 2 ? 'x' : 10 ** 9 + i] }))
      .catch((e) => ({ status: 0, text: String(e) }))));
  const ok = answers.filter((a) => a.json?.error).length;
  assert.ok(ok >= 1_900, `${ok} of 2,000 flooded calls answered an error`);

  // One connection opens 300 subscriptions to unknown jobs and 1,100 to new heads: the first are
  // refused, the rest accepted up to the per-connection limit and refused beyond it.
  const ws = new WebSocket(node.wsUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const send = (id, method, params) => new Promise((resolve) => {
    pending.set(id, resolve);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
  const jobs = await Promise.all(Array.from({ length: 300 }, (_, i) => send(i, 'infera_subscribeJob', [10 ** 9 + i])));
  for (const m of jobs) assert.match(m.error?.message ?? '', /job \d+ not found/, JSON.stringify(m));
  // Wrong types for a subscription's parameter are refused too.
  const typed = await Promise.all(BAD_NUMBERS.map((bad, i) => send(500 + i, 'infera_subscribeJob', [bad])));
  for (const m of typed) assert.ok(m.error && m.result === undefined, JSON.stringify(m));
  const heads = await Promise.all(Array.from({ length: 1_100 }, (_, i) => send(1_000 + i, 'chain_subscribeNewHeads', [])));
  const accepted = heads.filter((m) => m.result !== undefined).length;
  const refused = heads.filter((m) => m.error).length;
  assert.equal(accepted + refused, 1_100);
  assert.ok(accepted >= 1 && accepted <= 1_024, `${accepted} subscriptions accepted on one connection`);
  ws.close();
  await assertServing();
  // Blocks go on being produced.
  const before = Number.parseInt((await call('chain_getHeader', [])).result.number, 16);
  await waitFor('a new block after the flood', async () =>
    Number.parseInt((await call('chain_getHeader', [])).result.number, 16) > before);
});
