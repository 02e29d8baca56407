// The worker survives a restart between commit and reveal: the output and salt it committed to
// are in offchain local storage on disk, so the restarted node reveals and the job settles.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, rpc } from './lib/node.mjs';
import { inferaRpc } from '../../client/infera.mjs';

const basePath = mkdtempSync(join(tmpdir(), 'infera-restart-'));
let node;
let api;

async function connect() {
  await waitFor('the RPC server', () => rpc(node.httpUrl, 'system_health'), { timeoutMs: 120_000 });
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), rpc: { infera: inferaRpc }, noInitWarn: true });
}

after(async () => {
  await api?.disconnect();
  await node?.stop();
  rmSync(basePath, { recursive: true, force: true });
});

test('a node stopped between commit and reveal reveals after it restarts', async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  const dave = keyring.addFromUri('//Dave');
  const bob = keyring.addFromUri('//Bob');
  node = await startDevNode([], { basePath });
  await connect();
  await waitFor('block #1', async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 1, { timeoutMs: 120_000 });
  const head = (await api.rpc.chain.getHeader()).number.toNumber();

  // Submit, then stop the node the moment Bob's commitment is in a block.
  const job = await new Promise((resolve, reject) => {
    api.tx.jobEscrow.submitJob(0, 'Restarts must not lose committed work.', 10n ** 12n, head + 60)
      .signAndSend(dave, ({ status, events, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        if (status.isInBlock) {
          const ev = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event));
          if (ev) resolve(ev.event.data.job.toNumber());
        }
      }).catch(reject);
  });
  const committedAt = await new Promise((resolve) => {
    api.query.system.events(async (events) => {
      for (const { event } of events) {
        if (api.events.jobEscrow.ResultCommitted.is(event) && event.data.job.toNumber() === job && event.data.who.toString() === bob.address) {
          resolve((await api.rpc.chain.getHeader()).number.toNumber());
        }
      }
    });
  });
  const before = (await api.rpc.infera.job(job)).toJSON();
  assert.equal(before.provider.revealed, false, 'stopped before the reveal');
  await api.disconnect();
  api = null;
  const stopped = await node.stop();
  assert.equal(stopped.signal ?? null, null);
  const firstLog = node.log.text;
  assert.match(firstLog, new RegExp(`job ${job}: ran model 0 .* as provider, committed`));

  // Restart on the same base path: the worker finds its stored output and reveals it.
  node = await startDevNode([], { basePath });
  await connect();
  const final = await waitFor(`job ${job} settled after the restart`, async () => {
    const j = (await api.rpc.infera.job(job)).toJSON();
    return j.status === 'Settled' || j.status === 'Refunded' ? j : null;
  }, { timeoutMs: 240_000, intervalMs: 1000 });
  assert.equal(final.status, 'Settled', `${JSON.stringify(final)}\n${node.log.text.slice(-3000)}`);
  assert.equal(final.provider.account, bob.address);
  assert.equal(final.provider.revealed, true);
  assert.match(node.log.text, new RegExp(`job ${job}: revealed as provider`));
  // The provider reveals what it stored; it never runs the job again. (Drawn for audit, as 5 % of
  // jobs are, the node's auditor keys run it as checkers: that is their work, not a re-run.)
  assert.doesNotMatch(node.log.text, new RegExp(`job ${job}: ran model .* as provider`), 'the restarted node did not run the job again');
  console.log(`job ${job}: committed at #${committedAt}, revealed and settled after a restart`);
});
