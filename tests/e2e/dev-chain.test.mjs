// The dev chain end to end: blocks are produced and finalized, the metadata is what dApps expect,
// a transfer signed by Alice lands in a finalized block with exact balances, metrics are served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, rpc } from './lib/node.mjs';

let node;
let api;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  await waitFor('the RPC server', () => rpc(node.httpUrl, 'system_health'), { timeoutMs: 120_000 });
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), noInitWarn: true });
});

after(async () => {
  await api?.disconnect();
  const result = await node?.stop();
  // A clean shutdown on SIGINT, not a crash.
  assert.equal(result?.signal ?? null, null, `node ended by signal:\n${node?.log.text.slice(-3000)}`);
});

test('the dev chain produces and finalizes blocks', async () => {
  const finalized = await waitFor(
    'a finalized block >= 3',
    async () => {
      const head = await api.rpc.chain.getFinalizedHead();
      const header = await api.rpc.chain.getHeader(head);
      return header.number.toNumber() >= 3 ? header.number.toNumber() : null;
    },
    { timeoutMs: 120_000 },
  );
  assert.ok(finalized >= 3);
  console.log(`first finalized block >= 3 after ${(Date.now() - node.startedAt) / 1000}s from start`);
});

test('runtime version and metadata name the Infera runtime and its pallets', async () => {
  const version = await rpc(node.httpUrl, 'state_getRuntimeVersion');
  assert.equal(version.specName, 'infera');
  assert.ok(version.specVersion >= 100);
  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const name of [
    'System', 'Babe', 'Grandpa', 'Session', 'ValidatorSet', 'Balances', 'TransactionPayment',
    'Preimage', 'Scheduler', 'Referenda', 'ConvictionVoting', 'Treasury', 'Origins', 'Sudo',
  ]) {
    assert.ok(pallets.includes(name), `metadata lacks pallet ${name}: ${pallets.join(', ')}`);
  }
  // The chain describes its token for wallets.
  const props = await api.rpc.system.properties();
  assert.equal(props.tokenSymbol.unwrap()[0].toString(), 'INFR');
  assert.equal(props.tokenDecimals.unwrap()[0].toNumber(), 12);
  // Both governance tracks are there, named as documented.
  const tracks = api.consts.referenda.tracks.map(([id, info]) => [id.toNumber(), info.name.toString().replace(/\0+$/, '')]);
  // (names are fixed-size byte arrays on chain, padded with NULs)
  assert.deepEqual(tracks, [[0, 'root'], [1, 'infera_params']]);
  // Metadata-hash checking is in the transaction extensions.
  const exts = api.registry.signedExtensions;
  assert.ok(exts.includes('CheckMetadataHash'), `extensions: ${exts.join(', ')}`);
});

test('a transfer signed by Alice is finalized and moves exact balances', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const dave = keyring.addFromUri('//Dave');
  const amount = 12_345n * 10n ** 12n;

  const before = (await api.query.system.account(dave.address)).data.free.toBigInt();
  const aliceBefore = (await api.query.system.account(alice.address)).data.free.toBigInt();

  const tx = api.tx.balances.transferKeepAlive(dave.address, amount);
  const { blockHash, fee } = await new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(alice, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        reject(new Error(`transfer failed: ${dispatchError.toString()}`));
        unsub?.();
        return;
      }
      if (status.isFinalized) {
        const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
        resolve({ blockHash: status.asFinalized, fee: paid.event.data.actualFee.toBigInt() });
        unsub?.();
      }
    }).then((u) => (unsub = u), reject);
  });

  const after = (await api.query.system.account.at(blockHash, dave.address)).data.free.toBigInt();
  const aliceAfter = (await api.query.system.account.at(blockHash, alice.address)).data.free.toBigInt();
  assert.equal(after - before, amount);
  assert.ok(fee > 0n, 'a fee was charged');
  assert.equal(aliceBefore - aliceAfter, amount + fee, 'Alice paid exactly the amount plus the fee');
});

test('Prometheus metrics are served', async () => {
  const text = await waitFor('metrics', async () => {
    const res = await fetch(node.metricsUrl);
    return res.ok ? res.text() : null;
  });
  assert.match(text, /substrate_block_height\{status="finalized"/);
});
