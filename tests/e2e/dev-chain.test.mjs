// The dev chain end to end: blocks are produced and finalized, the metadata is what dApps expect,
// a transfer signed by Alice lands in a finalized block with exact balances, metrics are served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, rpc } from './lib/node.mjs';
import { submitter } from './lib/chain.mjs';

let node;
let api;

/** `submit(tx, signer)` resolves once `tx` is in a block, with its events, and rejects with the
 * decoded module error (lib/chain.mjs). The dev chain has one author, so a block it imports
 * stays; `submitFinal` waits for finality too, for the test that is about it. */
let submit;
let submitFinal;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  await waitFor('the RPC server', () => rpc(node.httpUrl, 'system_health'), { timeoutMs: 120_000 });
  api = await ApiPromise.create({ provider: new WsProvider(node.wsUrl), noInitWarn: true });
  submit = submitter(api);
  submitFinal = submitter(api, { finalized: true });
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
    'ModelRegistry', 'ComputeStaking', 'JobEscrow', 'Rewards',
  ]) {
    assert.ok(pallets.includes(name), `metadata lacks pallet ${name}: ${pallets.join(', ')}`);
  }
  // The calls providers and model owners use are in the metadata, under their documented names.
  for (const [pallet, calls] of Object.entries({
    modelRegistry: ['registerModel', 'updateMetadata', 'deprecateModel', 'transferOwnership', 'removeModel'],
    computeStaking: ['registerProvider', 'bond', 'bondExtra', 'setModels', 'unbond', 'withdrawUnbonded', 'chill', 'unchill', 'deregister'],
    jobEscrow: ['submitJob', 'commitResult', 'revealResult', 'cancelJob'],
    rewards: ['claim'],
  })) {
    for (const call of calls) assert.equal(typeof api.tx[pallet][call], 'function', `${pallet}.${call}`);
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

  const { blockHash, events } = await submitFinal(api.tx.balances.transferKeepAlive(dave.address, amount), alice);
  const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
  const fee = paid.event.data.actualFee.toBigInt();

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

test('a model owner registers a model and sees its provenance and deposit on chain', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const files = {
    weightsHash: '0x' + 'a2'.repeat(32),
    weightsSize: 90_868_376,
    configHash: '0x' + '11'.repeat(32),
    tokenizerHash: '0x' + '22'.repeat(32),
  };
  const architecture = {
    TextEmbedding: { dimensions: 384, tolerance: { minCosine: 999_000_000, maxElementDiff: 256 } },
  };
  const metadata = { name: 'all-MiniLM-L6-v2', version: '1.0', license: 'Apache-2.0', datasetHash: null };
  const royalty = 50_000_000; // 5 %

  const { blockHash, events } = await submit(
    api.tx.modelRegistry.registerModel(files, architecture, metadata, null, royalty),
    alice,
  );
  const registered = events.find(({ event }) => api.events.modelRegistry.ModelRegistered.is(event));
  assert.ok(registered, 'ModelRegistered event');
  const { model, owner, deposit } = registered.event.data;
  assert.equal(owner.toString(), alice.address);

  const info = (await api.query.modelRegistry.models.at(blockHash, model)).unwrap();
  assert.equal(info.metadata.name.toUtf8(), 'all-MiniLM-L6-v2');
  assert.equal(info.files.weightsHash.toHex(), files.weightsHash);
  assert.equal(info.royalty.toNumber(), royalty);
  assert.ok(info.status.isActive);
  // The deposit is a hold on Alice's balance, named for the registry.
  const holds = await api.query.balances.holds.at(blockHash, alice.address);
  const hold = holds.find((h) => h.id.isModelRegistry);
  assert.equal(hold.amount.toBigInt(), deposit.toBigInt());

  // The same weights again: refused with the registry's named error, nothing held twice.
  await assert.rejects(
    submit(api.tx.modelRegistry.registerModel(files, architecture, metadata, null, royalty), alice),
    /modelRegistry\.WeightsAlreadyRegistered/,
  );
});

test('a compute provider registers, bonds and serves a model; the bond is a named hold', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  // Bob is the presets' provider already (and the auditors are bonded too); a new account,
  // funded by Alice, becomes one here.
  const provider = keyring.addFromUri('//NewProvider');
  await submit(api.tx.balances.transferKeepAlive(provider.address, 10_000n * 10n ** 12n), keyring.addFromUri('//Alice'));
  const { events: regEvents } = await submit(
    api.tx.modelRegistry.registerModel(
      {
        weightsHash: '0x' + 'b3'.repeat(32),
        weightsSize: 1_000_000,
        configHash: '0x' + '33'.repeat(32),
        tokenizerHash: '0x' + '44'.repeat(32),
      },
      { TextEmbedding: { dimensions: 384, tolerance: { minCosine: 999_000_000, maxElementDiff: 256 } } },
      { name: 'provider-test-model', version: '1', license: 'MIT', datasetHash: null },
      null,
      0,
    ),
    provider,
  );
  const model = regEvents.find(({ event }) => api.events.modelRegistry.ModelRegistered.is(event)).event.data.model;

  const bond = 1_000n * 10n ** 12n;
  const hardware = { accelerator: 'Cpu', cpuCores: 2, memoryMib: 24_576, acceleratorMemoryMib: 0 };
  // One transaction, as a provider's setup script would send it.
  const { blockHash, events } = await submit(
    api.tx.utility.batchAll([
      api.tx.computeStaking.registerProvider(hardware),
      api.tx.computeStaking.bond(bond),
      api.tx.computeStaking.setModels([model]),
    ]),
    provider,
  );
  for (const name of ['ProviderRegistered', 'Bonded', 'ModelsSet']) {
    assert.ok(events.some(({ event }) => api.events.computeStaking[name].is(event)), `${name} event`);
  }
  const info = (await api.query.computeStaking.providers.at(blockHash, provider.address)).unwrap();
  assert.equal(info.bonded.toBigInt(), bond);
  assert.ok(info.status.isActive);
  assert.equal(info.hardware.memoryMib.toNumber(), 24_576);
  assert.deepEqual(info.models.map((m) => m.toNumber()), [model.toNumber()]);
  const serving = await api.query.computeStaking.providersByModel.at(blockHash, model);
  assert.deepEqual(serving.map((a) => a.toString()), [provider.address]);
  // Two named holds: the bond, and the registration deposit (a constant in the metadata).
  const holds = await api.query.balances.holds.at(blockHash, provider.address);
  const staking = holds.filter((h) => h.id.isComputeStaking);
  assert.equal(staking.find((h) => h.id.asComputeStaking.isProviderBond).amount.toBigInt(), bond);
  const deposit = api.consts.computeStaking.providerDeposit.toBigInt();
  assert.ok(deposit > 0n);
  assert.equal(staking.find((h) => h.id.asComputeStaking.isProviderDeposit).amount.toBigInt(), deposit);

  // Unbonding part of the bond below the minimum is refused with a named error.
  await assert.rejects(
    submit(api.tx.computeStaking.unbond(bond - 10n ** 12n), provider),
    /computeStaking\.BelowMinimumBond/,
  );
  // Unbonding all of it starts the governance-set delay.
  const { events: unbondEvents } = await submit(api.tx.computeStaking.unbond(bond), provider);
  const unbonded = unbondEvents.find(({ event }) => api.events.computeStaking.Unbonded.is(event));
  const delay = (await api.query.computeStaking.params()).unbondingDelay.toNumber();
  assert.equal(delay, 7 * 14_400);
  assert.equal(unbonded.event.data.amount.toBigInt(), bond);
  assert.ok(unbonded.event.data.unlockAt.toNumber() > delay);
  // With nothing bonded it holds no place in the model's provider list any more.
  const after = await api.query.computeStaking.providersByModel(model);
  assert.ok(!after.map((a) => a.toString()).includes(provider.address));
});

test('a client submits a job, it waits for a provider, and cancelling returns the escrow exactly', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const ferdie = keyring.addFromUri('//Ferdie');
  // A model nobody serves yet: the job is queued, its fee held.
  const { events: regEvents } = await submit(
    api.tx.modelRegistry.registerModel(
      {
        weightsHash: '0x' + 'c4'.repeat(32),
        weightsSize: 1_000_000,
        configHash: '0x' + '55'.repeat(32),
        tokenizerHash: '0x' + '66'.repeat(32),
      },
      { TextEmbedding: { dimensions: 384, tolerance: { minCosine: 999_000_000, maxElementDiff: 256 } } },
      { name: 'unserved-model', version: '1', license: 'MIT', datasetHash: null },
      null,
      0,
    ),
    ferdie,
  );
  const model = regEvents.find(({ event }) => api.events.modelRegistry.ModelRegistered.is(event)).event.data.model;

  const maxFee = 10n ** 12n; // 1 INFR
  const head = await api.rpc.chain.getHeader();
  const deadline = head.number.toNumber() + 100;
  const before = (await api.query.system.account(ferdie.address)).data;
  const { blockHash, events } = await submit(
    api.tx.jobEscrow.submitJob(model, 'The quick brown fox jumps over the lazy dog', maxFee, deadline),
    ferdie,
  );
  const submitted = events.find(({ event }) => api.events.jobEscrow.JobSubmitted.is(event));
  assert.ok(submitted, 'JobSubmitted event');
  const { job, price } = submitted.event.data;
  // 0.01 INFR base plus 0.00001 INFR for each of the 43 input bytes.
  assert.equal(price.toBigInt(), 10n ** 10n + 43n * 10n ** 7n);
  assert.ok(events.some(({ event }) => api.events.jobEscrow.JobQueued.is(event)), 'JobQueued event');
  const stored = (await api.query.jobEscrow.jobs.at(blockHash, job)).unwrap();
  assert.ok(stored.status.isQueued);
  const holds = await api.query.balances.holds.at(blockHash, ferdie.address);
  assert.equal(holds.find((h) => h.id.isJobEscrow).amount.toBigInt(), maxFee);
  const fee1 = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event)).event.data.actualFee.toBigInt();

  // A stranger cannot cancel it; the client can, and gets the escrow back less the storage fee
  // (the metadata's parameter), which the protocol keeps for the state the job leaves.
  await assert.rejects(
    submit(api.tx.jobEscrow.cancelJob(job), keyring.addFromUri('//Eve')),
    /jobEscrow\.NotClient/,
  );
  const { blockHash: h2, events: ev2 } = await submit(api.tx.jobEscrow.cancelJob(job), ferdie);
  const refunded = ev2.find(({ event }) => api.events.jobEscrow.JobRefunded.is(event));
  assert.ok(refunded.event.data.reason.isCancelled);
  const storageFee = (await api.query.jobEscrow.params()).storageFee.toBigInt();
  assert.ok(storageFee > 0n);
  assert.equal(refunded.event.data.storageFee.toBigInt(), storageFee);
  assert.equal(refunded.event.data.amount.toBigInt(), maxFee - storageFee);
  const fee2 = ev2.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event)).event.data.actualFee.toBigInt();
  const after = (await api.query.system.account.at(h2, ferdie.address)).data;
  // Only the two transaction fees, the storage fee and the model's registration deposit left the
  // free balance.
  const deposit = regEvents.find(({ event }) => api.events.modelRegistry.ModelRegistered.is(event)).event.data.deposit.toBigInt();
  const regFee = regEvents.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event)).event.data.actualFee.toBigInt();
  assert.equal(before.free.toBigInt() - after.free.toBigInt(), fee1 + fee2 + storageFee);
  assert.ok(deposit > 0n && regFee > 0n);
  const status = (await api.query.jobEscrow.jobs.at(h2, job)).unwrap().status;
  assert.ok(status.isRefunded && status.asRefunded.reason.isCancelled);
});
