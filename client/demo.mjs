#!/usr/bin/env node
// Infera demo client: submits a real sentence to the registered all-MiniLM-L6-v2 as a dApp would,
// follows the job through `infera_subscribeJob` and the chain's events, and prints the result.
//
//   node demo.mjs [--url ws://127.0.0.1:9944] [--text "…"] [--signer //Dave] [--model 0]
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { inferaRpc, infr } from './infera.mjs';

function args() {
  const out = {
    url: 'ws://127.0.0.1:9944',
    text: 'Infera coordinates open AI inference on its own chain.',
    signer: '//Dave',
    model: 0,
    timeout: 300,
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    if (!(key in out) || argv[i + 1] === undefined) {
      console.error(`usage: demo.mjs [--url WS] [--text TEXT] [--signer SURI] [--model ID] [--timeout SECONDS]`);
      process.exit(2);
    }
    out[key] = typeof out[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return out;
}

const DEV_NAMES = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];

export async function runDemo({ url, text, signer, model, timeout }, log = console.log) {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const names = new Map(DEV_NAMES.map((n) => [keyring.addFromUri(`//${n}`).address, n]));
  const who = (address) => (names.has(address) ? `${names.get(address)} (${address})` : address);
  const client = keyring.addFromUri(signer);

  log(`connecting to ${url}`);
  const api = await ApiPromise.create({ provider: new WsProvider(url), rpc: { infera: inferaRpc }, noInitWarn: true });
  try {
    const m = (await api.rpc.infera.model(model)).toJSON();
    log(`model ${model}: ${m.name} ${m.version}, weights ${m.weightsHash.slice(0, 18)}…, owner ${who(m.owner)}, royalty ${m.royalty}`);
    const input = new TextEncoder().encode(text);
    const estimate = (await api.rpc.infera.estimateFee(model, input.length)).toJSON();
    log(`price for ${input.length} input bytes: ${infr(estimate.price)}; ${estimate.providers} provider(s) serve the model`);

    const maxFee = 10n ** 12n;
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const deadline = head + 100;
    log(`${who(client.address)} submits "${text}" (max fee ${infr(maxFee)}, deadline #${deadline})`);

    // Every block's events for the job, to time each step and read the settlement.
    const steps = [];
    let jobId;
    const pendingEvents = [];
    const unsubHeads = await api.rpc.chain.subscribeNewHeads(async (header) => {
      const events = await api.query.system.events.at(header.hash);
      pendingEvents.push({ number: header.number.toNumber(), events });
    });
    const submitted = await new Promise((resolve, reject) => {
      api.tx.jobEscrow
        .submitJob(model, text, maxFee, deadline)
        .signAndSend(client, ({ status, events, dispatchError }) => {
          if (dispatchError) {
            const e = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
            reject(new Error(e ? `${e.section}.${e.name}: ${e.docs.join(' ')}` : dispatchError.toString()));
          } else if (status.isInBlock) {
            const ev = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event));
            if (ev) resolve({ block: status.asInBlock, job: ev.event.data.job.toNumber() });
          }
        })
        .catch(reject);
    });
    jobId = submitted.job;
    const submittedAt = (await api.rpc.chain.getHeader(submitted.block)).number.toNumber();
    log(`job ${jobId} submitted in block #${submittedAt}`);

    const final = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${jobId} did not finish within ${timeout} s`)), timeout * 1000);
      api.rpc.infera.subscribeJob(jobId, (update) => {
        const j = update.toJSON();
        const parts = [`status ${j.status}${j.refundReason ? ` (${j.refundReason})` : ''}`];
        if (j.provider) parts.push(`provider ${who(j.provider.account)}${j.provider.revealed ? ' revealed' : j.provider.committed ? ' committed' : ''}`);
        if (j.checkers?.length) parts.push(`checked by ${j.checkers.map((c) => who(c.account)).join(', ')}`);
        log(`  job ${jobId}: ${parts.join(', ')}`);
        if (j.status === 'Settled' || j.status === 'Refunded') {
          clearTimeout(timer);
          resolve(j);
        }
      }).catch(reject);
    });
    // Let the head subscription catch up with the block that settled the job.
    await new Promise((r) => setTimeout(r, 1500));
    unsubHeads();

    const jobEvents = [];
    for (const { number, events } of pendingEvents) {
      for (const { event } of events) {
        if (event.section === 'jobEscrow' && event.data.job?.toNumber?.() === jobId) jobEvents.push({ number, event });
      }
    }
    const at = (name, pred = () => true) => jobEvents.find(({ event }) => event.method === name && pred(event));
    const revealed = at('ResultRevealed', (e) => e.data.who.toString() === final.provider?.account);
    const settled = at('JobSettled');

    log('');
    log(`job ${jobId}: ${final.status}${final.refundReason ? ` (${final.refundReason})` : ''}`);
    const details = (await api.rpc.infera.job(jobId)).toJSON();
    if (details.output?.embedding) {
      const e = details.output.embedding;
      log(`embedding (${e.length} dims): [${e.slice(0, 8).map((v) => v.toFixed(4)).join(', ')}, …]`);
      log(`output hash: ${details.output.hash}`);
    }
    if (details.provider) log(`provider: ${who(details.provider.account)}`);
    const checkers = details.checkers ?? details.receipt?.checkers?.map((account) => ({ account })) ?? [];
    log(`audited: ${details.audited ? `yes, by ${checkers.map((c) => who(c.account)).join(', ')} (${details.verdict})` : 'no'}`);
    if (settled) {
      const d = settled.event.data;
      log(
        `fees: price ${infr(details.price)} = provider ${infr(d.providerPaid.toBigInt())} + model owner royalty ${infr(d.royalty.toBigInt())}` +
          ` + protocol ${infr(d.protocol.toBigInt())}; ${infr(d.refunded.toBigInt())} of the ${infr(maxFee)} held went back to the client`,
      );
    } else {
      const refund = at('JobRefunded');
      if (refund) log(`refunded: ${infr(refund.event.data.amount.toBigInt())} (${refund.event.data.reason.toString()})`);
    }
    let resultBlocks = null;
    let finalBlocks = null;
    if (revealed) {
      resultBlocks = revealed.number - submittedAt;
      const deadlineMs = Date.now() + 60_000;
      while (Date.now() < deadlineMs) {
        const fin = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
        if (fin >= revealed.number) {
          finalBlocks = fin - submittedAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`blocks from submission: ${resultBlocks} to a readable result (#${revealed.number}), ${finalBlocks ?? '?'} until it was finalized`);
    }
    return { job: jobId, final, details, submittedAt, resultBlocks, finalBlocks, events: jobEvents };
  } finally {
    await api.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDemo(args()).then(
    () => process.exit(0),
    (e) => {
      console.error(`demo failed: ${e.message}`);
      process.exit(1);
    },
  );
}
