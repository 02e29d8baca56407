// The OpenAI-compatible gateway (issue 19) driven by the real `openai` Python client against a dev
// chain: embeddings as floats and as base64 equal the CLI's output for the same input (the same
// canonical output, hash for hash), every error has OpenAI's shape and its status and costs
// nothing, and the key's account pays exactly the jobs' prices and the transaction fees. Chat and
// text completions stream the seeded decoder's tokens as the chain verified them, equal to
// `infera-node inference run`; a classification job is verified on the same chain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, rpc, runToExit, freePort } from './lib/node.mjs';
import { startGateway, runPython } from './lib/gateway.mjs';

const CLIENT_SCRIPT = fileURLToPath(new URL('./gateway_client.py', import.meta.url));
const CHAT_SCRIPT = fileURLToPath(new URL('./gateway_chat.py', import.meta.url));
// The presets' seeded decoder and classifier (`infera-node inference seed-models`).
const DECODER = 'infera-seeded-decoder';
const DECODER_HASH = '50ae62d15fb9dd35443fc1b3ea89b983656d6d15638a3edd01abe9a955b33723';
const DECODER_MAX_TOKENS = 16;
const CLASSIFIER_ID = 1;
const CLASSIFIER_HASH = '8e13865c501108951f8ed7d73f648f5b119c94cc55e6fbef1fc63a0f3eefa91c';
const SEP = 102;
const MODEL = 'all-MiniLM-L6-v2';
const MINILM_HASH = 'a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563';
const KEY = 'sk-infera-e2e-agent-000000001';
const POOR_KEY = 'sk-infera-e2e-poor-0000000001';
const TIGHT_KEY = 'sk-infera-e2e-tight-000000001';
// The presets' agent key: a delegate of Ferdie's budget (1 INFR a job).
const BUDGET_KEY = 'sk-infera-e2e-budget-00000001';
// A delegate of Ferdie's budget whose per-job limit no job fits.
const LIMITED_KEY = 'sk-infera-e2e-limited-0000001';
const FERDIE = '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL';
const SENTENCES = ['Verified on chain, served over OpenAI\'s API.', 'A second input in the same request.'];
const EMBEDDING_SCALE = 32767;

let node;
let api;
let gateway;
let deadGateway;
let agent; // the account the key signs and pays with

before(async () => {
  await cryptoWaitReady();
  // The dev node's worker runs the seeded models from the default store (idempotent).
  const seeded = await runToExit(['inference', 'seed-models']);
  assert.equal(seeded.code, 0, seeded.output);
  node = await startDevNode();
  await waitFor('the node to answer', () => rpc(node.httpUrl, 'chain_getHeader'));
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), noInitWarn: true });
  // A fresh agent account (no role in the dev preset, so only its jobs move its balance),
  // funded by Alice.
  const keyring = new Keyring({ type: 'sr25519' });
  agent = keyring.addFromUri('//GatewayE2eAgent');
  await new Promise((resolve, reject) => {
    // The tight account holds enough for one one-input request (escrow ≈ 0.0101 INFR, fee ≈
    // 0.0015 INFR, existential deposit 0.001 INFR), not two.
    api.tx.utility.batchAll([
      api.tx.balances.transferKeepAlive(agent.address, 100n * 10n ** 12n),
      api.tx.balances.transferKeepAlive(keyring.addFromUri('//GatewayE2eTight').address, 20n * 10n ** 9n),
    ])
      .signAndSend(keyring.addFromUri('//Alice'), ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isInBlock) resolve();
      }).catch(reject);
  });
  // Ferdie authorises a second delegate whose per-job limit (1 planck) no job fits.
  await new Promise((resolve, reject) => {
    const limited = keyring.addFromUri('//GatewayE2eLimited').address;
    api.tx.utility.batchAll([
      api.tx.balances.transferKeepAlive(limited, 10n ** 12n),
      api.tx.budgets.authorize(limited, { perJob: 1, perPeriod: 10n ** 15n, period: 600, total: 10n ** 15n, expiresAt: null }),
    ])
      .signAndSend(keyring.addFromUri('//Ferdie'), ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isInBlock) resolve();
      }).catch(reject);
  });
  const keys = `
[[keys]]
name = "budget"
api_key = "${BUDGET_KEY}"
suri = "//InferaDevAgent"
payer = "${FERDIE}"

[[keys]]
name = "limited"
api_key = "${LIMITED_KEY}"
suri = "//GatewayE2eLimited"
payer = "${FERDIE}"

[[keys]]
name = "agent"
api_key = "${KEY}"
suri = "//GatewayE2eAgent"

[[keys]]
name = "poor"
api_key = "${POOR_KEY}"
suri = "//GatewayE2eNobodyFundedThis"

[[keys]]
name = "tight"
api_key = "${TIGHT_KEY}"
suri = "//GatewayE2eTight"
`;
  // It follows at most 3 jobs at once: a request of 4 inputs is a 429.
  gateway = await startGateway(`node = "${node.wsUrl}"\nmax_jobs_in_flight = 3\n${keys}`);
  // A gateway whose node is down (a port nobody listens on): every request is a 503.
  deadGateway = await startGateway(`node = "ws://127.0.0.1:${await freePort()}"\n${keys}`);
});

after(async () => {
  await api?.disconnect();
  await gateway?.stop();
  await deadGateway?.stop();
  await node?.stop();
});

/** The SCALE-encoded canonical embedding (variant 0, compact length, i16 LE) as numbers. */
function decodeCanonicalEmbedding(hex) {
  const b = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  assert.equal(b[0], 0, 'an embedding');
  // Compact length: 384 takes the two-byte mode.
  assert.equal(b[1] & 3, 1);
  const n = b.readUInt16LE(1) >> 2;
  return Array.from({ length: n }, (_, i) => b.readInt16LE(3 + 2 * i));
}

async function total(who) {
  const { data } = await api.query.system.account(who);
  return data.free.toBigInt() + data.reserved.toBigInt();
}

/** Transaction fees `who` paid in block `hash`. */
async function feesPaid(hash, who) {
  const events = await (await api.at(hash)).query.system.events();
  return events
    .filter(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event) && event.data.who.toString() === who)
    .reduce((n, { event }) => n + event.data.actualFee.toBigInt(), 0n);
}

test('the openai client gets verified embeddings equal to the CLI, errors in OpenAI shape, and pays exactly', async () => {
  const before = await total(agent.address);
  const nonceBefore = (await api.rpc.system.accountNextIndex(agent.address)).toNumber();

  const out = await runPython(CLIENT_SCRIPT, [gateway.url, KEY, POOR_KEY, TIGHT_KEY, deadGateway.url, MODEL, ...SENTENCES]);

  assert.ok(out.models.includes(MODEL), `models: ${out.models}`);

  // Floats: one job per input, verified, each equal to the CLI's canonical output.
  const f = out.float;
  assert.equal(f.model, MODEL);
  assert.deepEqual(f.indices, [0, 1]);
  assert.equal(f.vectors.length, 2);
  assert.equal(f.header, f.request.jobs.join(','));
  assert.ok(f.usage.prompt_tokens > 8 && f.usage.prompt_tokens < 40, `usage ${JSON.stringify(f.usage)}`);
  assert.equal(f.usage.total_tokens, f.usage.prompt_tokens);
  for (const [i, sentence] of SENTENCES.entries()) {
    const r = await runToExit(['inference', 'run', '--model', MINILM_HASH, '--input', sentence, '--json']);
    assert.equal(r.code, 0, r.output);
    const cli = JSON.parse(r.output);
    const info = f.infera[i];
    assert.ok(['Verified', 'Settled'].includes(info.status), `status ${info.status}`);
    assert.equal(info.outputHash, cli.output_hash, 'the chain verified the output the CLI computes');
    const expected = decodeCanonicalEmbedding(cli.canonical).map((q) => Math.fround(q / EMBEDDING_SCALE));
    assert.equal(f.vectors[i].length, 384);
    assert.deepEqual(f.vectors[i].map(Math.fround), expected);
  }
  // Base64 (the Python client's default): the same numbers, decoded by the client.
  assert.deepEqual(out.base64.vectors[0].map(Math.fround), f.vectors[0].map(Math.fround));
  const b64 = out.base64.extra.infera;
  assert.equal(b64.jobs.length, 1);

  // Errors: status, OpenAI's shape, and the code a client can act on.
  const e = out.errors;
  const expect = {
    unknown_key: [401, 'invalid_api_key'],
    unknown_model: [404, 'model_not_found'],
    too_long: [400, 'context_length_exceeded'],
    empty: [400, null],
    tokens: [400, null],
    dimensions: [400, null],
    no_funds: [402, 'insufficient_quota'],
    busy: [429, 'rate_limit_exceeded'],
    chain_down: [503, 'chain_unreachable'],
  };
  for (const [name, [status, code]] of Object.entries(expect)) {
    assert.equal(e[name].status, status, `${name}: ${JSON.stringify(e[name])}`);
    const body = e[name].body;
    assert.equal(typeof body.message, 'string', `${name}: ${JSON.stringify(body)}`);
    assert.equal(typeof body.type, 'string');
    assert.ok('param' in body && 'code' in body, `${name}: ${JSON.stringify(body)}`);
    if (code) assert.equal(body.code, code, name);
  }
  assert.equal(e.unknown_model.body.param, 'model');
  assert.equal(e.too_long.body.param, 'input');

  // Two requests at once that the tight account can pay only one of: one served, one refused
  // before signing (not sent to fail on chain after paying its fee).
  assert.deepEqual(out.concurrent.map((r) => r.status).sort(), [200, 402], JSON.stringify(out.concurrent));
  const tight = new Keyring({ type: 'sr25519' }).addFromUri('//GatewayE2eTight').address;
  assert.equal((await api.rpc.system.accountNextIndex(tight)).toNumber(), 1, 'only one request was signed');

  // Only the two good requests were signed: rejected ones cost nothing.
  const nonceAfter = (await api.rpc.system.accountNextIndex(agent.address)).toNumber();
  assert.equal(nonceAfter, nonceBefore + 2);
  // The poor key's account was never touched.
  assert.equal(await total(new Keyring({ type: 'sr25519' }).addFromUri('//GatewayE2eNobodyFundedThis').address), 0n);

  // Once every job is settled, the account paid exactly the prices and the transaction fees.
  const jobs = [...f.request.jobs, ...b64.jobs];
  const receipts = await waitFor('every job to settle', async () => {
    const all = await Promise.all(jobs.map((j) => rpc(node.httpUrl, 'infera_job', [j])));
    return all.every((j) => j.status === 'Settled') ? all : undefined;
  }, { timeoutMs: 180_000, intervalMs: 2_000 });
  const prices = receipts.reduce((n, j) => n + BigInt(j.receipt.feePaid), 0n);
  const fees = (await feesPaid(f.request.block, agent.address)) + (await feesPaid(b64.block, agent.address));
  assert.ok(fees > 0n);
  assert.equal(before - (await total(agent.address)), prices + fees);
  assert.ok(!gateway.log.text.includes(KEY) && !gateway.log.text.includes('//GatewayE2eAgent'), 'no secret in the log');
});

/** `infera-node inference run --json` for `model` on `input`. */
async function cliRun(model, input) {
  const r = await runToExit(['inference', 'run', '--model', model, '--input', input, '--json']);
  assert.equal(r.code, 0, r.output);
  return JSON.parse(r.output);
}

function expectedFinish(tokens) {
  return tokens.length < DECODER_MAX_TOKENS || tokens.at(-1) === SEP ? 'stop' : 'length';
}

test('chat and text completions stream the decoder\'s verified tokens, equal to the CLI', async () => {
  const question = 'What does the chain verify?';
  const prompt = 'The quick brown fox';
  const budgetAgent = new Keyring({ type: 'sr25519' }).addFromUri('//InferaDevAgent').address;
  const nonceBefore = (await api.rpc.system.accountNextIndex(budgetAgent)).toNumber();
  const budgetBefore = (await api.query.budgets.payerBudgets(FERDIE)).unwrap().balance.toBigInt();
  const agentBefore = await total(budgetAgent);
  const out = await runPython(CHAT_SCRIPT, [gateway.url, BUDGET_KEY, DECODER, MODEL, question, prompt]);

  // The gateway's plain chat format, run by the CLI: the same tokens, hash and text.
  const chat = await cliRun(DECODER_HASH, `system: You answer briefly.\nuser: ${question}\nassistant:`);
  assert.equal(chat.architecture, 'text-generation');
  const s = out.stream;
  assert.deepEqual(s.roles, ['assistant']);
  assert.deepEqual(s.objects, ['chat.completion.chunk']);
  assert.equal(s.ids.length, 1, 'every chunk has the same id');
  assert.equal(s.pieces.join(''), chat.text, 'the streamed text is the CLI\'s');
  assert.ok(s.pieces.length > 1, `streamed token by token: ${JSON.stringify(s.pieces)}`);
  assert.equal(s.infera.length, 1);
  const info = s.infera[0];
  assert.deepEqual(info.tokens, chat.tokens);
  assert.equal(info.outputHash, chat.output_hash, 'the chain verified the output the CLI computes');
  assert.ok(['Verified', 'Settled'].includes(info.status), info.status);
  assert.deepEqual(s.finish, [expectedFinish(chat.tokens)]);
  assert.equal(s.usage.length, 1);
  assert.equal(s.usage[0].completion_tokens, chat.tokens.length);
  assert.ok(s.usage[0].prompt_tokens > 5);

  // Unstreamed: the same text (a second job, the same verified output).
  assert.equal(out.chat.content, chat.text);
  assert.equal(out.chat.role, 'assistant');
  assert.equal(out.chat.infera.outputHash, chat.output_hash);
  assert.equal(out.chat.header, String(out.chat.infera.job));
  assert.notEqual(out.chat.infera.job, info.job);

  // Text completion, streamed; and one cut at 3 tokens by the gateway.
  const completion = await cliRun(DECODER_HASH, prompt);
  assert.equal(out.completion_stream.pieces.join(''), completion.text);
  assert.deepEqual(out.completion_stream.infera.tokens, completion.tokens);
  assert.equal(out.completion_stream.finish, expectedFinish(completion.tokens));
  const short = out.completion_short;
  assert.equal(short.finish, 'length');
  assert.equal(short.usage.completion_tokens, 3);
  assert.ok(completion.text.startsWith(short.text), `${short.text} / ${completion.text}`);
  assert.deepEqual(short.infera.tokens, completion.tokens, 'the whole verified output is in the extension');

  const e = out.errors;
  const expect = {
    n: [400, 'n'],
    tools: [400, 'tools'],
    embedder_chat: [400, 'model'],
    decoder_embeddings: [400, 'model'],
    unknown_key: [401, null],
    unknown_model: [404, 'model'],
    too_long: [400, null],
    image: [400, 'messages'],
  };
  for (const [name, [status, param]] of Object.entries(expect)) {
    assert.equal(e[name].status, status, `${name}: ${JSON.stringify(e[name])}`);
    assert.equal(typeof e[name].body.message, 'string', name);
    if (param) assert.equal(e[name].body.param, param, `${name}: ${JSON.stringify(e[name].body)}`);
  }
  assert.equal(e.too_long.body.code, 'context_length_exceeded');
  // Four jobs were signed (two chats, two completions); every refused request cost nothing.
  assert.equal((await api.rpc.system.accountNextIndex(budgetAgent)).toNumber(), nonceBefore + 4);

  // Paid from Ferdie's budget: once the jobs settle it moved by exactly their prices, and the
  // agent key paid only the transaction fees.
  const jobs = [info.job, out.chat.infera.job, out.completion_stream.infera.job, short.infera.job];
  const receipts = await waitFor('the completions to settle', async () => {
    const all = await Promise.all(jobs.map((j) => rpc(node.httpUrl, 'infera_job', [j])));
    return all.every((j) => j.status === 'Settled') ? all : undefined;
  }, { timeoutMs: 180_000, intervalMs: 2_000 });
  const prices = receipts.reduce((n, j) => n + BigInt(j.receipt.feePaid), 0n);
  assert.ok(prices > 0n);
  const budgetAfter = (await api.query.budgets.payerBudgets(FERDIE)).unwrap().balance.toBigInt();
  assert.equal(budgetBefore - budgetAfter, prices, 'the budget paid exactly the jobs\' prices');
  const blocks = [info.block, out.chat.infera.block, out.completion_stream.infera.block, short.infera.block];
  let fees = 0n;
  for (const b of blocks) fees += await feesPaid(b, budgetAgent);
  assert.equal(agentBefore - (await total(budgetAgent)), fees, 'the agent key paid only its fees');

  // A delegate whose per-job limit no job fits: 402 in OpenAI's shape, nothing signed.
  const limited = new Keyring({ type: 'sr25519' }).addFromUri('//GatewayE2eLimited').address;
  const r = await fetch(`${gateway.url}/v1/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${LIMITED_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: DECODER, prompt }),
  });
  assert.equal(r.status, 402);
  const body = await r.json();
  assert.equal(body.error.code, 'insufficient_quota');
  assert.match(body.error.message, /per-job limit/);
  assert.equal((await api.rpc.system.accountNextIndex(limited)).toNumber(), 0);
});

test('a classification job is run by the dev node\'s worker and verified, equal to the CLI', async () => {
  const text = 'The verdict came back and everyone was pleased.';
  const estimate = await rpc(node.httpUrl, 'infera_estimateFee', [CLASSIFIER_ID, text.length]);
  assert.ok(estimate.providers >= 1, JSON.stringify(estimate));
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const job = await new Promise((resolve, reject) => {
    api.tx.jobEscrow.submitJob(CLASSIFIER_ID, text, estimate.minMaxFee, head + 60)
      .signAndSend(agent, ({ status, events, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isInBlock) {
          const submitted = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event));
          resolve(submitted.event.data.job.toNumber());
        }
      }).catch(reject);
  });
  const verified = await waitFor('the classification job to verify', async () => {
    const j = await rpc(node.httpUrl, 'infera_job', [job]);
    return ['Verified', 'Settled'].includes(j.status) ? j : undefined;
  }, { timeoutMs: 180_000, intervalMs: 2_000 });
  const cli = await cliRun(CLASSIFIER_HASH, text);
  assert.equal(cli.architecture, 'text-classification');
  assert.equal(verified.output.hash, cli.output_hash);
  assert.equal(verified.output.class, cli.class);
  assert.equal(verified.output.logits.length, 3);
});

/** Signs `tx` as the agent; resolves with the block's events once it is in a block. */
function send(tx) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(agent, ({ status, events, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) resolve(events);
    }).catch(reject);
  });
}

test('a generation job its client challenges is checked by the auditors\' real decoder and passes', async () => {
  const DECODER_ID = 2;
  const text = 'Verified inference needs';
  const estimate = await rpc(node.httpUrl, 'infera_estimateFee', [DECODER_ID, text.length]);
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const events = await send(api.tx.jobEscrow.submitJob(DECODER_ID, text, estimate.minMaxFee, head + 80));
  const job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
  const status = (want) => waitFor(`job ${job} ${want}`, async () => {
    const j = await rpc(node.httpUrl, 'infera_job', [job]);
    return want(j) ? j : undefined;
  }, { timeoutMs: 240_000, intervalMs: 2_000 });
  const verified = await status((j) => j.status === 'Verified');
  const cli = await cliRun(DECODER_HASH, text);
  assert.deepEqual(verified.output.tokens, cli.tokens);
  if (!verified.audited) {
    // Not drawn for audit: the client demands one within the challenge window (bond held).
    await send(api.tx.jobEscrow.challengeJob(job));
  }
  // The panel (the dev node's auditor keys) reruns the decoder blind, reveals its tokens with
  // the near-ties it saw, and the vote passes the provider's generation.
  const judged = await status((j) => j.audited && ['Verified', 'Settled'].includes(j.status) && j.verdict !== 'Unaudited');
  assert.equal(judged.verdict, 'AuditPassed', JSON.stringify(judged));
  assert.equal(judged.output.hash, cli.output_hash);
});
