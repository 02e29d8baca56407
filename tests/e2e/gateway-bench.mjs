// Gateway bench (issue 19): what the gateway adds to the chain's own latency, and the requests per
// second it sustains against a dev chain.
//
//   node tests/e2e/gateway-bench.mjs            (scripts/gateway-bench runs it with built binaries)
//
// Latency: ROUNDS rounds, each one embedding job sent directly (polkadot.js signs submitJob and
// follows infera_subscribeJob until the job is Verified) and one sent through the gateway (HTTP
// POST /v1/embeddings, answered when Verified), in alternating order; medians of each and of the
// difference. Both start at a block boundary, so they wait for the same number of blocks.
// Throughput: CONCURRENT clients send REQUESTS requests of INPUTS inputs each as fast as they are
// answered; requests and jobs answered per second over the run.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, rpc, runMain } from './lib/node.mjs';
import { startGateway } from './lib/gateway.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const ROUNDS = env('ROUNDS', 5);
const CONCURRENT = env('CONCURRENT', 8);
const REQUESTS = env('REQUESTS', 32);
const INPUTS = env('INPUTS', 4);
const KEY = 'sk-infera-bench-0000000000001';
const UNITS = 10n ** 12n;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function inBlock(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError, events }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) resolve(events);
    }).catch(reject);
  });
}

async function main() {
  await cryptoWaitReady();
  const node = await startDevNode();
  await waitFor('the node to answer', () => rpc(node.httpUrl, 'chain_getHeader'));
  const provider = new WsProvider(node.wsUrl);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  let gateway;
  try {
    const keyring = new Keyring({ type: 'sr25519' });
    const alice = keyring.addFromUri('//Alice');
    const direct = keyring.addFromUri('//BenchDirect');
    await inBlock(api.tx.utility.batchAll([
      api.tx.balances.transferKeepAlive(direct.address, 1000n * UNITS),
      api.tx.balances.transferKeepAlive(keyring.addFromUri('//BenchGateway').address, 1000n * UNITS),
    ]), alice);
    gateway = await startGateway(`node = "${node.wsUrl}"\n[[keys]]\nname = "bench"\napi_key = "${KEY}"\nsuri = "//BenchGateway"\n`);
    const post = async (input) => {
      const res = await fetch(`${gateway.url}/v1/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'all-MiniLM-L6-v2', input }),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
      return body;
    };
    const nextBlock = () => new Promise((resolve) => {
      let unsub;
      let first = true;
      api.rpc.chain.subscribeNewHeads(() => {
        if (first) { first = false; return; }
        unsub?.();
        resolve();
      }).then((u) => (unsub = u));
    });

    const sentence = (i) => `Bench sentence number ${i}: how long until it is verified?`;
    const viaChain = async (i) => {
      const t0 = performance.now();
      const estimate = await rpc(node.httpUrl, 'infera_estimateFee', [0, sentence(i).length]);
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      const events = await inBlock(api.tx.jobEscrow.submitJob(0, sentence(i), estimate.minMaxFee, head + 60), direct);
      const job = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event)).event.data.job.toNumber();
      await new Promise((resolve, reject) => {
        provider.subscribe('infera_jobUpdate', 'infera_subscribeJob', [job], (err, v) => {
          if (err) reject(err);
          else if (v.status === 'Verified' || v.status === 'Settled') resolve();
          else if (v.status === 'Refunded') reject(new Error(`job ${job} refunded`));
        }).catch(reject);
      });
      return performance.now() - t0;
    };
    const viaGateway = async (i) => {
      const t0 = performance.now();
      await post(sentence(i));
      return performance.now() - t0;
    };
    // A first request through each path warms caches (models list, tokenizer, connections).
    await viaGateway(-1);
    await viaChain(-2);

    const chain = [];
    const gw = [];
    const diffs = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [viaGateway, viaChain] : [viaChain, viaGateway];
      const times = {};
      for (const f of order) {
        await nextBlock();
        times[f === viaChain ? 'chain' : 'gateway'] = await f(r);
      }
      chain.push(times.chain);
      gw.push(times.gateway);
      diffs.push(times.gateway - times.chain);
      console.log(`round ${r + 1}: direct ${times.chain.toFixed(0)} ms, gateway ${times.gateway.toFixed(0)} ms`);
    }
    console.log(`latency to a verified result, medians of ${ROUNDS}: direct (polkadot.js) ${median(chain).toFixed(0)} ms, gateway ${median(gw).toFixed(0)} ms, gateway minus direct ${median(diffs).toFixed(0)} ms`);
    const pooled = (await post(sentence(-3))).infera.timings;
    console.log(`one request's own steps: checked, signed and pooled after ${pooled.pooledMs} ms, in a block after ${pooled.inBlockMs} ms, answered after ${pooled.totalMs} ms`);

    // Throughput.
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        await post(Array.from({ length: INPUTS }, (_, k) => sentence(1000 + i * INPUTS + k)));
        done++;
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    console.log(`throughput: ${done} requests of ${INPUTS} inputs from ${CONCURRENT} concurrent clients in ${secs.toFixed(1)} s: ${(done / secs).toFixed(2)} requests/s, ${(done * INPUTS / secs).toFixed(2)} jobs/s (one key, 6-second blocks)`);
  } finally {
    await api.disconnect().catch(() => {});
    await gateway?.stop();
    await node.stop();
  }
}

runMain(main);
