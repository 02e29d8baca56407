// Real inference jobs on the dev chain, driven by polkadot.js with nothing but the metadata and
// the `infera_*` RPC definitions: an honest MiniLM job settles with exact balances; a provider
// that never commits is slashed and the client refunded; a provider that reveals a wrong output
// is caught by the blind audit panel, slashed, and the client refunded, and one that withholds
// its reveal instead loses as much.
import { test, before, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a, cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, compactToU8a, stringToU8a, bnToU8a } from '@polkadot/util';
import { mkdtempSync, linkSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { startDevNode, waitFor, rpc, runToExit } from './lib/node.mjs';
import { submitter, watchEvents } from './lib/chain.mjs';
import { inferaRpc, compareEmbeddings } from '../../client/infera.mjs';

const MINILM = 0;
const MINILM_HASH = 'a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563';
const UNITS = 10n ** 12n;

/** The model store the node uses by default (as `ModelStore::default_location`). */
function modelStore() {
  if (process.env.INFERA_MODEL_STORE) return process.env.INFERA_MODEL_STORE;
  const data = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(data, 'infera', 'models');
}

let node;
let api;
let keyring;
/** The best blocks' events and their lookups (lib/chain.mjs), and the client's `submit`. */
let chain;
let submit;
const waitForEvent = (...args) => chain.wait(...args);
const jobEvents = (job) => chain.jobEvents(job);

async function blockNumber(hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

/** Fees `who` paid for transactions in blocks `from..=to`. */
function feesPaid(who, from, to) {
  let total = 0n;
  for (const [number, events] of chain.blocks) {
    if (number < from || number > to) continue;
    for (const { event } of events) {
      if (api.events.transactionPayment.TransactionFeePaid.is(event) && event.data.who.toString() === who) {
        total += event.data.actualFee.toBigInt();
      }
    }
  }
  return total;
}

async function freeAt(blockHash, who) {
  return (await api.query.system.account.at(blockHash, who)).data.free.toBigInt();
}

async function hashOf(number) {
  return api.rpc.chain.getBlockHash(number);
}

async function head() {
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

/** Makes `seed` a funded, bonded provider of MiniLM that this test drives by hand. */
async function manualProvider(seed) {
  const alice = keyring.addFromUri('//Alice');
  const p = keyring.addFromUri(seed);
  await submit(api.tx.balances.transferKeepAlive(p.address, 5_000n * UNITS), alice);
  await submit(
    api.tx.utility.batchAll([
      api.tx.computeStaking.registerProvider({ accelerator: 'Cpu', cpuCores: 2, memoryMib: 4096, acceleratorMemoryMib: 0 }),
      api.tx.computeStaking.bond(1_000n * UNITS),
      api.tx.computeStaking.setModels([MINILM]),
    ]),
    p,
  );
  return p;
}

/** The commitment the pallet checks: blake2_256(SCALE(domain, job, party, blake2_256(output), salt)). */
function commitment(job, account, output, salt) {
  const domain = stringToU8a('infera/commit/v1');
  return blake2AsU8a(
    u8aConcat(compactToU8a(domain.length), domain, bnToU8a(job, { bitLength: 64 }), decodeAddress(account), blake2AsU8a(output, 256), salt),
    256,
  );
}

/** A well-formed canonical embedding (384 × i16) that is not MiniLM's answer. */
function wrongEmbedding() {
  const body = new Uint8Array(384 * 2);
  const view = new DataView(body.buffer);
  for (let i = 0; i < 384; i++) view.setInt16(i * 2, i % 2 ? 1672 : -1672, true);
  return u8aConcat(new Uint8Array([0]), compactToU8a(384), body);
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  node = await startDevNode();
  await waitFor('the RPC server', () => rpc(node.httpUrl, 'system_health'), { timeoutMs: 120_000 });
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), rpc: { infera: inferaRpc }, noInitWarn: true });
  chain = await watchEvents(api);
  submit = submitter(api);
});

after(async () => {
  await api?.disconnect();
  const result = await node?.stop();
  assert.equal(result?.signal ?? null, null, `node ended by signal:\n${node?.log.text.slice(-3000)}`);
});

test('the dev preset registers MiniLM with its real hashes and bonds Bob as its provider', async () => {
  const model = (await api.rpc.infera.model(MINILM)).toJSON();
  assert.equal(model.name, 'all-MiniLM-L6-v2');
  assert.equal(model.weightsHash, '0x' + MINILM_HASH);
  assert.equal(model.weightsSize, 90_868_376);
  const bob = keyring.addFromUri('//Bob');
  const provider = (await api.rpc.infera.provider(bob.address)).toJSON();
  // MiniLM and the seeded classifier and decoder (models 1 and 2).
  assert.deepEqual(provider.models, [MINILM, 1, 2]);
  assert.equal(provider.status, 'Active');
  // The runtime API is in the metadata: polkadot.js calls it without extra definitions.
  const estimate = (await api.call.inferaApi.estimateFee(MINILM, 43)).toJSON();
  assert.equal(BigInt(estimate.ok.price), 10n ** 10n + 43n * 10n ** 7n);
  assert.equal(estimate.ok.providers, 1);
  // Errors are JSON-RPC errors with a message, not crashes.
  await assert.rejects(rpc(node.httpUrl, 'infera_job', [999_999]), /job 999999 not found/);
  await assert.rejects(rpc(node.httpUrl, 'infera_estimateFee', [77, 10]), /model 77 is not registered/);
  await assert.rejects(rpc(node.httpUrl, 'infera_estimateFee', [MINILM, 0]), /the input is empty/);
  // Bytes a text model cannot read are refused at submit, with a named error: nothing is held
  // and no provider is drawn to fail at them.
  const dave = keyring.addFromUri('//Dave');
  await assert.rejects(
    submit(api.tx.jobEscrow.submitJob(MINILM, '0xfffe80', UNITS, (await head()) + 60), dave),
    /jobEscrow\.InputNotText/,
  );
  const daveHolds = await api.query.balances.holds(dave.address);
  assert.equal(daveHolds.find((h) => h.id.isJobEscrow), undefined);
  // Only Bob is in MiniLM's provider list: the chilled auditors hold no place in it.
  const listed = await api.query.computeStaking.providersByModel(MINILM);
  assert.deepEqual(listed.map((a) => a.toString()), [bob.address]);
});

test('a real MiniLM job settles: the revealed embedding matches the engine and balances move exactly', async () => {
  const dave = keyring.addFromUri('//Dave');
  const bob = keyring.addFromUri('//Bob');
  const ferdie = keyring.addFromUri('//Ferdie'); // MiniLM's owner
  const text = 'The quick brown fox jumps over the lazy dog';
  const maxFee = UNITS;
  const startHead = await head();
  const before = await hashOf(startHead);
  const { blockHash, events } = await submit(api.tx.jobEscrow.submitJob(MINILM, text, maxFee, startHead + 60), dave);
  const submittedAt = await blockNumber(blockHash);
  const job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
  const assigned = events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event));
  assert.equal(assigned.event.data.provider.toString(), bob.address, 'the only provider, Bob, is assigned');

  // The subscription streams the job's progress until it is settled.
  const statuses = [];
  const final = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no settlement; statuses ${statuses.join(' → ')}; events ${jobEvents(job)}\n${node.log.text.slice(-4000)}`)), 240_000);
    api.rpc.infera.subscribeJob(job, (update) => {
      const j = update.toJSON();
      if (statuses.at(-1) !== j.status) statuses.push(j.status);
      if (j.status === 'Settled' || j.status === 'Refunded') {
        clearTimeout(timer);
        resolve(j);
      }
    }).catch(reject);
  });
  assert.equal(final.status, 'Settled', `statuses: ${statuses.join(' → ')}`);
  for (const s of ['Committed', 'Revealing', 'Verified', 'Settled']) {
    assert.ok(statuses.includes(s), `the stream showed ${s}: ${statuses.join(' → ')}`);
  }

  const revealed = await waitForEvent('jobEscrow', 'ResultRevealed', job, { pred: (e) => e.data.who.toString() === bob.address });
  const settled = await waitForEvent('jobEscrow', 'JobSettled', job);
  console.log(`job ${job}: submitted #${submittedAt}, result readable #${revealed.number} (${revealed.number - submittedAt} blocks), settled #${settled.number}; ${jobEvents(job)}`);
  // Unaudited: commit in the next block, the audit decision in the one after, the reveal in the
  // third. Drawn for audit (5 %), the blind panel commits in between: one block more.
  const audited = (await api.rpc.infera.job(job)).toJSON().audited;
  const bound = audited ? 4 : 3;
  assert.ok(revealed.number - submittedAt <= bound, `result readable within ${bound} blocks (took ${revealed.number - submittedAt}, audited: ${audited})`);

  // The revealed embedding is the engine's, run here on the same input, within tolerance.
  const details = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(details.input, text);
  assert.equal(details.output.embedding.length, 384);
  const local = await runToExit(['inference', 'run', '--model', MINILM_HASH, '--input', text, '--json'], { timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.output);
  const engine = JSON.parse(local.output.slice(local.output.indexOf('{')));
  const { cosine, maxDiff } = compareEmbeddings(details.output.embedding, engine.embedding);
  assert.ok(cosine >= 0.9999, `cosine ${cosine}`);
  assert.ok(maxDiff <= 64 / 32767, `max element difference ${maxDiff}`);
  assert.equal(details.output.hash, details.provider.outputHash);
  // Anyone can re-run the job from what the chain holds: `inference verify --job` reads the job,
  // its revealed output and the model's registered files and tolerance, checks its own store's
  // files against the registry's and judges with the runtime's rule.
  const verified = await runToExit(['inference', 'verify', '--job', String(job), '--url', node.wsUrl], { timeoutMs: 120_000 });
  assert.equal(verified.code, 0, verified.output);
  assert.match(verified.output, new RegExp(`job ${job} \\(model 0, status Settled, chain verdict \\w+\\): PASS: cosine (1\\.0|0\\.99)`));
  // A store holding MiniLM's weights behind another tokenizer is not the registered model.
  const swapped = mkdtempSync(join(tmpdir(), 'infera-swapped-'));
  const store = modelStore();
  for (const f of [`${MINILM_HASH}.safetensors`, `${MINILM_HASH}.config.json`, `${MINILM_HASH}.manifest.json`]) {
    linkSync(join(store, f), join(swapped, f));
  }
  const tokenizer = JSON.parse(readFileSync(join(store, `${MINILM_HASH}.tokenizer.json`), 'utf8'));
  tokenizer.normalizer.lowercase = false;
  writeFileSync(join(swapped, `${MINILM_HASH}.tokenizer.json`), JSON.stringify(tokenizer));
  const refused = await runToExit(['inference', 'verify', '--job', String(job), '--url', node.wsUrl, '--store', swapped], { timeoutMs: 120_000 });
  rmSync(swapped, { recursive: true, force: true });
  assert.notEqual(refused.code, 0, refused.output);
  assert.match(refused.output, /tokenizer\.json hashes to [0-9a-f]{64} but the registry names [0-9a-f]{64}/);
  // The indexes page through a client's and a provider's jobs.
  assert.ok((await api.rpc.infera.jobsByClient(dave.address)).map((j) => j.toNumber()).includes(job));
  assert.ok((await api.rpc.infera.jobsByProvider(bob.address)).map((j) => j.toNumber()).includes(job));
  assert.deepEqual((await api.rpc.infera.jobsByClient(dave.address, job, 10)).map((j) => j.toNumber()).filter((j) => j <= job), []);

  // Money: the price splits into provider + royalty + protocol; the rest of the escrow returns.
  const d = settled.event.data;
  const price = BigInt(details.price);
  assert.equal(d.providerPaid.toBigInt() + d.royalty.toBigInt() + d.protocol.toBigInt(), price);
  assert.equal(d.refunded.toBigInt(), maxFee - price);
  assert.equal(d.royalty.toBigInt(), price / 20n, '5 % royalty');
  const afterHash = await hashOf(settled.number);
  // Dave paid the price and his transaction fee, nothing else.
  const daveFees = feesPaid(dave.address, startHead + 1, settled.number);
  assert.equal((await freeAt(before, dave.address)) - (await freeAt(afterHash, dave.address)), price + daveFees);
  // Bob got his share less the fees of his commit and reveal.
  const bobFees = feesPaid(bob.address, startHead + 1, settled.number);
  assert.ok(bobFees > 0n, 'Bob paid for his commit and reveal');
  assert.equal((await freeAt(afterHash, bob.address)) - (await freeAt(before, bob.address)), d.providerPaid.toBigInt() - bobFees);
  // Ferdie, the model owner, got the royalty.
  assert.equal((await freeAt(afterHash, ferdie.address)) - (await freeAt(before, ferdie.address)), d.royalty.toBigInt());
  // Nothing is left held for the job.
  const holds = await api.query.balances.holds.at(afterHash, dave.address);
  assert.equal(holds.find((h) => h.id.isJobEscrow), undefined);
  assert.match(node.log.text, new RegExp(`job ${job}: ran model 0 \\(\\d+ input bytes\\) in \\d+ ms as provider, committed`));
});

test("README's demo client submits a sentence and prints the settled result", async () => {
  const { spawn } = await import('node:child_process');
  const demo = fileURLToPath(new URL('../../client/demo.mjs', import.meta.url));
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo, '--url', node.wsUrl, '--signer', '//Eve', '--timeout', '240'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`demo exited ${code}:\n${text}`))));
  });
  console.log(out);
  assert.match(out, /job \d+: Settled/);
  assert.match(out, /embedding \(384 dims\): \[-?\d\.\d{4}, /);
  assert.match(out, /output hash: 0x[0-9a-f]{64}/);
  assert.match(out, /provider: Bob \(/);
  assert.match(out, /audited: (no|yes, by \w+)/);
  assert.match(out, /fees: price 0\.\d+ INFR = provider/);
  assert.match(out, /blocks from submission: \d+ to a readable result \(#\d+\), \d+ until it was finalized/);
});

test("jobs that arrive in one block run as one worker batch: each commits in the next block and reveals the engine's own output", async () => {
  const dave = keyring.addFromUri('//Dave');
  const bob = keyring.addFromUri('//Bob');
  // Lengths from one word to a long paragraph: the engine batches by length, bit-identically.
  const texts = [
    'hi',
    'The quick brown fox jumps over the lazy dog',
    'Verifiable inference needs honest providers and random audits.',
    'Stake-weighted randomness assigns a provider to every job, and a blind panel audits a sample.',
    'Ünïcödé and emoji 🚀 survive tokenisation.',
    Array(20).fill('a provider batches the jobs of one model that arrive in one block').join(', '),
  ];
  const startHead = await head();
  const calls = texts.map((t) => api.tx.jobEscrow.submitJob(MINILM, t, UNITS, startHead + 60));
  const { blockHash, events } = await submit(api.tx.utility.batchAll(calls), dave);
  const submittedAt = await blockNumber(blockHash);
  const jobs = events
    .filter(({ event }) => api.events.jobEscrow.JobAssigned.is(event))
    .map(({ event }) => {
      assert.equal(event.data.provider.toString(), bob.address, 'the only provider, Bob, is assigned');
      return event.data.job.toNumber();
    });
  assert.equal(jobs.length, texts.length, 'every job is assigned in the block it arrives in');
  // One engine call ran them all, and every commitment landed in the next block.
  await waitFor('the batch in the worker log', () => new RegExp(`ran ${texts.length} jobs of model 0 in one batch in \\d+ ms`).test(node.log.text), { timeoutMs: 120_000 });
  for (const job of jobs) {
    const committed = await waitForEvent('jobEscrow', 'ResultCommitted', job, { from: submittedAt });
    assert.equal(committed.number, submittedAt + 1, `job ${job} committed in the next block: ${jobEvents(job)}`);
  }
  // Each reveals exactly what the engine computes for its input alone, and settles.
  const local = await Promise.all(
    texts.map((t) => runToExit(['inference', 'run', '--model', MINILM_HASH, '--input', t, '--json'], { timeoutMs: 120_000 })),
  );
  for (const [i, job] of jobs.entries()) {
    const settled = await waitForEvent('jobEscrow', 'JobSettled', job, { from: submittedAt });
    const details = (await api.rpc.infera.job(job)).toJSON();
    assert.equal(details.input, texts[i]);
    assert.equal(local[i].code, 0, local[i].output);
    const alone = JSON.parse(local[i].output.slice(local[i].output.indexOf('{')));
    assert.equal(details.provider.outputHash, alone.output_hash, `job ${job}: the batched output is bit-identical to a run alone`);
    assert.ok(settled.number > submittedAt);
  }
});

test('a provider that never commits is slashed and the client refunded', async () => {
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const ferdie = keyring.addFromUri('//Ferdie');
  const sleepy = await manualProvider('//Sleepy');
  await submit(api.tx.computeStaking.chill(), bob); // only Sleepy is eligible now
  const bondBefore = BigInt((await api.rpc.infera.provider(sleepy.address)).toJSON().bonded);
  const startHead = await head();
  const maxFee = UNITS;
  const { blockHash, events } = await submit(api.tx.jobEscrow.submitJob(MINILM, 'nobody will answer this', maxFee, startHead + 20), ferdie);
  const job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
  assert.equal(events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event)).event.data.provider.toString(), sleepy.address);
  const from = await blockNumber(blockHash);

  const missed = await waitForEvent('jobEscrow', 'PartyMissedWindow', job, { from });
  assert.equal(missed.event.data.who.toString(), sleepy.address);
  const refund = await waitForEvent('jobEscrow', 'JobRefunded', job, { from });
  const reason = refund.event.data.reason.toString();
  assert.ok(['NoShow', 'NoProvider'].includes(reason), reason);
  // A provider's no-show costs the client nothing; a job nobody could take keeps the storage fee.
  const kept = refund.event.data.storageFee.toBigInt();
  assert.equal(kept, reason === 'NoShow' ? 0n : (await api.query.jobEscrow.params()).storageFee.toBigInt());
  assert.equal(refund.event.data.amount.toBigInt() + kept, maxFee);
  const final = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(final.status, 'Refunded');
  const bondAfter = BigInt((await api.rpc.infera.provider(sleepy.address)).toJSON().bonded);
  assert.ok(bondAfter < bondBefore, `the no-show was slashed (${bondBefore} → ${bondAfter})`);
  const holds = await api.query.balances.holds.at(await hashOf(refund.number), ferdie.address);
  assert.equal(holds.find((h) => h.id.isJobEscrow), undefined, 'the escrow is released');
  console.log(`no-show job ${job}: ${jobEvents(job)}`);
  await submit(api.tx.computeStaking.chill(), sleepy);
  await submit(api.tx.computeStaking.unchill(), bob);
  void alice;
});

test('a provider revealing a wrong output is caught by the blind audit panel, slashed, and the client refunded; withholding costs as much', async () => {
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const ferdie = keyring.addFromUri('//Ferdie');
  // Governance (sudo on the dev chain) audits every job.
  const params = (await api.query.jobEscrow.params()).toJSON();
  await submit(api.tx.sudo.sudo(api.tx.jobEscrow.setParams({ ...params, auditRate: 1_000_000_000 })), alice);
  const cheater = await manualProvider('//Mallory');
  await submit(api.tx.computeStaking.chill(), bob); // only the cheater is eligible
  const auditors = ['//Alice', '//Charlie', '//Dave', '//Eve'].map((s) => keyring.addFromUri(s).address);

  const startHead = await head();
  const maxFee = UNITS;
  const ferdieBefore = await freeAt(await hashOf(startHead), ferdie.address);
  const { blockHash, events } = await submit(api.tx.jobEscrow.submitJob(MINILM, 'Honest auditors catch a cheating provider.', maxFee, startHead + 80), ferdie);
  const from = await blockNumber(blockHash);
  const job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
  assert.equal(events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event)).event.data.provider.toString(), cheater.address);

  // The cheater commits to a made-up embedding. A panel of three bonded auditors is drawn and
  // commits blind; only then do reveals open, and the cheater reveals.
  const output = wrongEmbedding();
  const salt = blake2AsU8a(stringToU8a(`salt-${job}`), 256);
  await submit(api.tx.jobEscrow.commitResult(job, u8aToHex(commitment(job, cheater.address, output, salt))), cheater);
  const decided = await waitForEvent('jobEscrow', 'AuditDecided', job, { from });
  const panel = decided.event.data.checkers.map((c) => c.toString());
  assert.equal(panel.length, 3);
  assert.ok(panel.every((c) => auditors.includes(c)), `panel ${panel}`);
  const opened = await waitForEvent('jobEscrow', 'RevealsOpened', job, { from });
  const outputs = await api.query.jobEscrow.outputs.entries(job);
  assert.equal(outputs.length, 0, 'no output of the job was public while the panel committed');
  assert.ok(opened.number > decided.number);
  await submit(api.tx.jobEscrow.revealResult(job, u8aToHex(output), u8aToHex(salt)), cheater);

  // The honest panel (worker keys of this node) contradicts it.
  const judged = await waitForEvent('jobEscrow', 'AuditJudged', job, { from });
  assert.equal(judged.event.data.verdict.toString(), 'AuditFailed', jobEvents(job));
  assert.equal(judged.event.data.against.toNumber(), 3);
  const refund = await waitForEvent('jobEscrow', 'JobRefunded', job, { from });
  assert.equal(refund.event.data.reason.toString(), 'Fraud');
  assert.equal(refund.event.data.amount.toBigInt(), maxFee);
  // The slash is in the block that refunded the job (a probe the cheater ignored may slash it
  // elsewhere too).
  const slashedIn = (number) => (chain.blocks.get(number) ?? [])
    .map(({ event }) => event)
    .find((e) => api.events.computeStaking.Slashed.is(e) && e.data.who.toString() === cheater.address);
  const lostLying = slashedIn(refund.number).data.slashed.toBigInt();
  assert.ok(lostLying > 0n);

  // `infera_job` tells the story: refunded for fraud, checked by the panel.
  const details = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(details.status, 'Refunded');
  assert.equal(details.refundReason, 'Fraud');
  assert.equal(details.verdict, 'AuditFailed');
  assert.deepEqual(details.checkers.map((c) => c.account).sort(), [...panel].sort());
  // Re-run by anyone from the chain's data, the cheater's output fails.
  const verdict = await runToExit(['inference', 'verify', '--job', String(job), '--url', node.wsUrl], { timeoutMs: 120_000 });
  assert.notEqual(verdict.code, 0, verdict.output);
  assert.match(verdict.output, new RegExp(`job ${job} \\(model 0, status Refunded, chain verdict AuditFailed\\): FAIL: cosine`));
  // The client lost only its transaction fee.
  const ferdieAfter = await freeAt(await hashOf(refund.number), ferdie.address);
  assert.equal(ferdieBefore - ferdieAfter, feesPaid(ferdie.address, startHead + 1, refund.number));
  console.log(`fraud job ${job}: ${jobEvents(job)}`);

  // Again, but the cheater sees it is audited and withholds its reveal: it loses as much.
  const head2 = await head();
  const second = await submit(api.tx.jobEscrow.submitJob(MINILM, 'Withholding cannot escape the audit panel.', maxFee, head2 + 80), ferdie);
  const from2 = await blockNumber(second.blockHash);
  const job2 = second.events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
  await submit(api.tx.jobEscrow.commitResult(job2, u8aToHex(commitment(job2, cheater.address, output, salt))), cheater);
  await waitForEvent('jobEscrow', 'AuditDecided', job2, { from: from2 });
  const refund2 = await waitForEvent('jobEscrow', 'JobRefunded', job2, { from: from2 });
  assert.equal(refund2.event.data.reason.toString(), 'Withheld', jobEvents(job2));
  const lostWithholding = slashedIn(refund2.number).data.slashed.toBigInt();
  // Same input length, so the same price and stake: withholding loses all of it, as lying did.
  const stake2 = second.events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event)).event.data.stakeLocked.toBigInt();
  const stake1 = events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event)).event.data.stakeLocked.toBigInt();
  assert.equal(lostLying, stake1, 'the lie cost the whole stake');
  assert.equal(lostWithholding, stake2, 'withholding cost the whole stake');
  assert.ok(lostWithholding >= lostLying, `withholding lost ${lostWithholding}, lying ${lostLying}`);
  console.log(`withheld job ${job2}: ${jobEvents(job2)}; slashed ${lostWithholding} (lying: ${lostLying})`);

  await submit(api.tx.sudo.sudo(api.tx.jobEscrow.setParams(params)), alice);
  await submit(api.tx.computeStaking.chill(), cheater);
  await submit(api.tx.computeStaking.unchill(), bob);
});

test('a client demands an audit of its verified job: the panel confirms Bob and the bond pays it', async () => {
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const dave = keyring.addFromUri('//Dave');
  // A longer challenge window than the dev chain's 3 blocks, so the test never races it.
  const params = (await api.query.jobEscrow.params()).toJSON();
  await submit(api.tx.sudo.sudo(api.tx.jobEscrow.setParams({ ...params, challengeWindow: 20 })), alice);
  let job;
  let verified;
  let submittedAt;
  for (let attempt = 0; attempt < 3 && !verified; attempt += 1) {
    const startHead = await head();
    const { blockHash, events } = await submit(api.tx.jobEscrow.submitJob(MINILM, `Was this embedding computed? (${attempt})`, UNITS, startHead + 60), dave);
    submittedAt = await blockNumber(blockHash);
    job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
    const v = await waitForEvent('jobEscrow', 'JobVerified', job, { from: submittedAt });
    // Only an unaudited job can be challenged; the random 5 % audit may have taken this one.
    if (v.event.data.verdict.toString() === 'Unaudited') verified = v;
  }
  assert.ok(verified, 'an unaudited, verified job');
  const price = BigInt((await api.rpc.infera.job(job)).toJSON().price);
  const { events: chEvents } = await submit(api.tx.jobEscrow.challengeJob(job), dave);
  const challenged = chEvents.find(({ event }) => api.events.jobEscrow.JobChallenged.is(event));
  assert.equal(challenged.event.data.bond.toBigInt(), 3n * price);
  assert.equal(challenged.event.data.checkers.length, 3);
  const judged = await waitForEvent('jobEscrow', 'AuditJudged', job, { from: submittedAt });
  assert.equal(judged.event.data.verdict.toString(), 'AuditPassed', jobEvents(job));
  const paid = await waitForEvent('jobEscrow', 'ChallengeBondPaid', job, { from: submittedAt });
  assert.equal(paid.event.data.toCheckers.toBigInt(), 3n * price, 'the bond paid the three checkers');
  const settled = await waitForEvent('jobEscrow', 'JobSettled', job, { from: submittedAt });
  assert.equal(settled.event.data.provider.toString(), bob.address);
  const details = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(details.verdict, 'AuditPassed');
  console.log(`challenged job ${job}: ${jobEvents(job)}`);
  await submit(api.tx.sudo.sudo(api.tx.jobEscrow.setParams(params)), alice);
});

test('the protocol probes MiniLM: Bob answers, a blind panel confirms it, and only that earns emission', async () => {
  const bob = keyring.addFromUri('//Bob');
  const from = await head();
  // The dev chain issues a probe every 30 blocks: a sentence of its own, no fee, always audited.
  const issued = await waitForEvent('jobEscrow', 'ProbeIssued', null, { from, timeoutMs: 420_000 });
  const job = issued.event.data.job.toNumber();
  const decided = await waitForEvent('jobEscrow', 'AuditDecided', job, { from });
  assert.ok(decided.event.data.audited.isTrue, 'a probe is always audited');
  assert.equal(decided.event.data.checkers.length, 3);
  const judged = await waitForEvent('jobEscrow', 'AuditJudged', job, { from });
  assert.equal(judged.event.data.verdict.toString(), 'AuditPassed', jobEvents(job));
  const settled = await waitForEvent('jobEscrow', 'JobSettled', job, { from });
  assert.equal(settled.event.data.provider.toString(), bob.address);
  assert.equal(settled.event.data.providerPaid.toBigInt(), 0n, 'a probe pays no fee');
  const details = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(details.probe, true);
  assert.equal(details.price, '0');
  assert.match(details.input, /^[a-z]+( [a-z]+){7}$/);
  console.log(`probe job ${job} ("${details.input}"): ${jobEvents(job)}`);
  // Once the epoch closes, the confirmed probe is what Bob is paid emission for.
  await waitForEvent('rewards', 'EpochClosed', null, { from: settled.number + 1 });
  const { events } = await submit(api.tx.rewards.claim(), bob);
  const claimed = events.find(({ event }) => api.events.rewards.Claimed.is(event));
  assert.ok(claimed.event.data.amount.toBigInt() > 0n);
});

test('the worker reports to Prometheus in the infera_ namespace', async () => {
  const text = await (await fetch(node.metricsUrl)).text();
  assert.match(text, /infera_worker_jobs_total\{role="provider",step="commit"[^}]*\} [1-9]/);
  assert.match(text, /infera_worker_jobs_total\{role="checker",step="commit"[^}]*\} [1-9]/);
  assert.match(text, /infera_worker_inference_seconds_count\{model="a22e6a6ad8c13ac7"[^}]*\} [1-9]/);
  assert.match(text, /infera_worker_verdicts_total\{outcome="audit_failed"[^}]*\} [1-9]/);
});
