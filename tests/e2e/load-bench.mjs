// Load bench (issue 15): how many jobs the dev chain settles per block, and the weight each costs.
//
//   node tests/e2e/load-bench.mjs            (scripts/load-bench runs it with a built node)
//
// Starts a dev node, funds CLIENTS client accounts and PROVIDERS provider accounts from Alice,
// makes each provider bond and serve MiniLM, then for BLOCKS blocks submits PER_BLOCK jobs per
// block (one per client, all the same sentence; with BATCH=k, k per client in one
// `submitJobs`). The script's providers commit and reveal from
// here (inference is not what is measured): the output they reveal is the real MiniLM embedding
// of that sentence, taken from a first job the node's own worker (Bob) ran, so audits pass.
// Each provider sends a block's commits in one `utility.forceBatch` and its reveals in another.
// Jobs drawn for Bob are run by the node's worker as usual. It prints, per block, the jobs
// submitted, committed and settled and the share of the block's weight used, then the totals:
// jobs settled per block and the weight of one job's life against a balance transfer's.
import { ApiPromise, WsProvider, Keyring } from '@polkadot/api';
import { blake2AsU8a, cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, compactToU8a, stringToU8a, bnToU8a } from '@polkadot/util';
import { startDevNode, waitFor, runMain } from './lib/node.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const CLIENTS = env('CLIENTS', 120);
const PROVIDERS = env('PROVIDERS', 16);
const PER_BLOCK = env('PER_BLOCK', 60);
const BLOCKS = env('BLOCKS', 12);
// Jobs a client submits in one transaction: 1 sends `jobEscrow.submitJob`, more send
// `jobEscrow.submitJobs` with that many inputs (a client with several jobs, a gateway, an agent).
const BATCH = Math.max(1, env('BATCH', 1));
// WORKER_JOBS=0: once the real output is known, Bob (the node's own worker, running MiniLM for
// real on the bench's machine) chills and takes no more jobs; the worker still sits on audit
// panels. The default (1) leaves Bob drawing its share.
const WORKER_JOBS = env('WORKER_JOBS', 1);
const MINILM = 0;
const UNITS = 10n ** 12n;
const SENTENCE = 'Load bench: the same sentence for every job.';

function commitment(job, account, outputHash, salt) {
  const domain = stringToU8a('infera/commit/v1');
  return blake2AsU8a(
    u8aConcat(compactToU8a(domain.length), domain, bnToU8a(job, { bitLength: 64 }), decodeAddress(account), outputHash, salt),
    256,
  );
}

/** Sends `tx` and resolves once it is in a block (rejects on a dispatch error). */
function inBlock(api, tx, signer, options = {}) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, options, ({ status, dispatchError, events }) => {
      if (!status.isInBlock) return;
      unsub?.();
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else resolve({ events, blockHash: status.asInBlock });
    }).then((u) => (unsub = u)).catch(reject);
  });
}

async function main() {
  await cryptoWaitReady();
  const node = await startDevNode();
  const api = await waitFor('the node to answer', async () => {
    const a = await ApiPromise.create({ provider: new WsProvider(node.wsUrl, 250), noInitWarn: true, throwOnConnect: true });
    return a;
  });
  try {
    const keyring = new Keyring({ type: 'sr25519' });
    const alice = keyring.addFromUri('//Alice');
    const bob = keyring.addFromUri('//Bob');
    const clients = Array.from({ length: CLIENTS }, (_, i) => keyring.addFromUri(`//LoadClient${i}`));
    const providers = Array.from({ length: PROVIDERS }, (_, i) => keyring.addFromUri(`//LoadProvider${i}`));
    const mine = new Map(providers.map((p) => [p.address, p]));

    // Funds and providers.
    const minBond = (await api.query.computeStaking.params()).minBond.toBigInt();
    const transfers = [
      ...clients.map((c) => api.tx.balances.transferKeepAlive(c.address, 10n * UNITS)),
      ...providers.map((p) => api.tx.balances.transferKeepAlive(p.address, 10n * minBond + 10n * UNITS)),
    ];
    await inBlock(api, api.tx.utility.batchAll(transfers), alice);
    await Promise.all(providers.map((p) => inBlock(api, api.tx.utility.batchAll([
      api.tx.computeStaking.registerProvider({ accelerator: 'Cpu', cpuCores: 2, memoryMib: 4096, acceleratorMemoryMib: 0 }),
      api.tx.computeStaking.bond(10n * minBond),
      api.tx.computeStaking.setModels([MINILM]),
    ]), p)));
    console.log(`# ${CLIENTS} clients, ${PROVIDERS} providers (+ Bob's worker), ${PER_BLOCK} jobs per block for ${BLOCKS} blocks, ${BATCH} per submitting transaction`);

    // The real output for the sentence: a job Bob's worker runs (the only provider until now
    // would be Bob; our providers are listed now too, so wait for one Bob takes).
    const params = await api.query.jobEscrow.params();
    const maxFee = params.baseFee.toBigInt() + params.feePerByte.toBigInt() * BigInt(SENTENCE.length) + UNITS / 100n;
    let output;
    for (let attempt = 0; attempt < 20 && !output; attempt++) {
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      const { events } = await inBlock(api, api.tx.jobEscrow.submitJob(MINILM, SENTENCE, maxFee, head + 60), alice);
      const assigned = events.find(({ event }) => api.events.jobEscrow.JobAssigned.is(event));
      if (!assigned || assigned.event.data.provider.toString() !== bob.address) continue;
      const job = assigned.event.data.job.toNumber();
      output = await waitFor('Bob to reveal', async () => {
        const o = await api.query.jobEscrow.outputs(job, bob.address);
        return o.isSome ? o.unwrap().toU8a(true) : undefined;
      }, { timeoutMs: 90_000 });
    }
    if (!output) throw new Error('no job went to Bob: cannot learn the real output');
    if (!WORKER_JOBS) await inBlock(api, api.tx.computeStaking.chill(), bob);

    const maxRefTime = api.consts.system.blockWeights.maxBlock.refTime.toBigInt();
    // Encoded once: every reveal carries the same output.
    const outputHex = u8aToHex(output);
    const outputHash = blake2AsU8a(output, 256);
    const nonces = new Map();
    const nextNonce = async (pair) => {
      if (!nonces.has(pair.address)) nonces.set(pair.address, (await api.rpc.system.accountNextIndex(pair.address)).toNumber());
      const n = nonces.get(pair.address);
      nonces.set(pair.address, n + 1);
      return n;
    };
    const salts = new Map();
    const rows = [];
    let submittedBlocks = 0;
    let clientCursor = 0;
    let lastSeen = (await api.rpc.chain.getHeader()).number.toNumber();
    const start = lastSeen;
    let done;
    const finished = new Promise((r) => (done = r));

    const unsub = await api.rpc.chain.subscribeNewHeads(async (header) => {
      const number = header.number.toNumber();
      if (number <= lastSeen) return;
      lastSeen = number;
      const hash = header.hash;
      const at = await api.at(hash);
      const [events, weight] = await Promise.all([at.query.system.events(), at.query.system.blockWeight()]);
      const row = { number, submitted: 0, committed: 0, revealed: 0, settled: 0, refunded: 0, refTime: 0n };
      for (const k of ['normal', 'operational', 'mandatory']) row.refTime += weight[k].refTime.toBigInt();
      // A provider sends each block's commits in one `utility.forceBatch`, and its reveals in
      // another, as a provider with many jobs would: one signature and one transaction's base
      // weight for all of them.
      const commits = new Map();
      const reveals = new Map();
      const add = (calls, p, call) => {
        if (!calls.has(p.address)) calls.set(p.address, { p, list: [] });
        calls.get(p.address).list.push(call);
      };
      for (const { event } of events) {
        if (event.section !== 'jobEscrow') continue;
        const d = event.data;
        if (event.method === 'JobSubmitted') row.submitted++;
        if (event.method === 'ResultCommitted') row.committed++;
        if (event.method === 'ResultRevealed') row.revealed++;
        if (event.method === 'JobSettled') row.settled++;
        if (event.method === 'JobRefunded') row.refunded++;
        if (event.method === 'JobAssigned' && mine.has(d.provider.toString())) {
          const job = d.job.toNumber();
          const p = mine.get(d.provider.toString());
          const salt = blake2AsU8a(stringToU8a(`load-${job}`), 256);
          salts.set(job, p);
          add(commits, p, api.tx.jobEscrow.commitResult(job, u8aToHex(commitment(job, p.address, outputHash, salt))));
        }
        if (event.method === 'RevealsOpened' && salts.has(d.job.toNumber())) {
          const job = d.job.toNumber();
          const p = salts.get(job);
          const salt = blake2AsU8a(stringToU8a(`load-${job}`), 256);
          add(reveals, p, api.tx.jobEscrow.revealResult(job, outputHex, u8aToHex(salt)));
        }
      }
      for (const [what, calls] of [['commit', commits], ['reveal', reveals]]) {
        for (const { p, list } of calls.values()) {
          const tx = list.length === 1 ? list[0] : api.tx.utility.forceBatch(list);
          tx.signAndSend(p, { nonce: await nextNonce(p) }).catch((e) => console.error(`${what} as ${p.address}: ${e.message}`));
        }
      }
      rows.push(row);
      console.log(`#${number}: submitted ${row.submitted}, committed ${row.committed}, revealed ${row.revealed}, settled ${row.settled}, refunded ${row.refunded}, weight ${(Number(row.refTime * 10000n / maxRefTime) / 100).toFixed(2)} % of the block`);
      if (submittedBlocks < BLOCKS) {
        submittedBlocks++;
        for (let i = 0; i < PER_BLOCK; i += BATCH) {
          const c = clients[clientCursor++ % clients.length];
          const k = Math.min(BATCH, PER_BLOCK - i);
          const tx = k === 1
            ? api.tx.jobEscrow.submitJob(MINILM, SENTENCE, maxFee, number + 60)
            : api.tx.jobEscrow.submitJobs(MINILM, Array(k).fill(SENTENCE), maxFee, number + 60);
          tx.signAndSend(c, { nonce: await nextNonce(c) }).catch((e) => console.error(`submit: ${e.message}`));
        }
      } else if (rows.filter((r) => r.number > start).reduce((n, r) => n + r.settled + r.refunded, 0) >= BLOCKS * PER_BLOCK || number > start + BLOCKS + 40) {
        done();
      }
    });
    await finished;
    unsub();

    // Totals over the blocks that settled anything.
    const busy = rows.filter((r) => r.settled > 0);
    const settled = busy.reduce((n, r) => n + r.settled, 0);
    const all = rows.reduce((n, r) => n + r.settled, 0);
    // What the chain spends in a block with no jobs (the hooks' idle reads, the timestamp): the
    // lightest block seen.
    const idle = rows.reduce((m, r) => (r.refTime < m ? r.refTime : m), rows[0]?.refTime ?? 0n);
    const refTime = rows.reduce((n, r) => n + (r.refTime > idle ? r.refTime - idle : 0n), 0n);
    const jobs = rows.reduce((n, r) => n + r.submitted, 0);
    const transfer = await api.tx.balances.transferKeepAlive(bob.address, UNITS).paymentInfo(alice);
    const transferRef = transfer.weight.refTime.toBigInt();
    const perJob = jobs ? refTime / BigInt(jobs) : 0n;
    console.log(`jobs submitted ${jobs}, settled ${all}; at most ${Math.max(0, ...rows.map((r) => r.settled))} settled in one block, ${busy.length ? (settled / busy.length).toFixed(1) : 0} on average over ${busy.length} blocks that settled any`);
    console.log(`weight of the run above an idle block's, per submitted job: ${perJob} ps (${transferRef ? (Number(perJob) / Number(transferRef)).toFixed(1) : '?'} balance transfers of ${transferRef} ps); a block holds ${perJob ? (maxRefTime / perJob).toString() : '?'} such jobs by weight`);
  } finally {
    await api.disconnect().catch(() => {});
    await node.stop();
  }
}

runMain(main);
