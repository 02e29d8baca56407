// What a dApp needs to talk to Infera with polkadot.js beyond the chain's metadata: the
// definitions of the `infera_*` JSON-RPC methods, and a few readable formatters.
// (Runtime calls, events, storage and the `InferaApi` runtime API come from the metadata.)

/** `infera_*` JSON-RPC methods, for `ApiPromise.create({ rpc: { infera: inferaRpc } })`. */
export const inferaRpc = {
  job: {
    description: 'A job: status, refund reason, parties, fees, revealed output, receipt',
    params: [{ name: 'job', type: 'u64' }, { name: 'at', type: 'Hash', isOptional: true }],
    type: 'Json',
  },
  jobsByClient: {
    description: 'Job ids of a client',
    params: [{ name: 'client', type: 'AccountId' }, { name: 'startAfter', type: 'u64', isOptional: true }, { name: 'limit', type: 'u32', isOptional: true }],
    type: 'Vec<u64>',
  },
  jobsByProvider: {
    description: 'Job ids assigned to a provider',
    params: [{ name: 'provider', type: 'AccountId' }, { name: 'startAfter', type: 'u64', isOptional: true }, { name: 'limit', type: 'u32', isOptional: true }],
    type: 'Vec<u64>',
  },
  model: {
    description: 'A registered model with lineage',
    params: [{ name: 'model', type: 'u64' }, { name: 'at', type: 'Hash', isOptional: true }],
    type: 'Json',
  },
  provider: {
    description: 'A provider record',
    params: [{ name: 'provider', type: 'AccountId' }, { name: 'at', type: 'Hash', isOptional: true }],
    type: 'Json',
  },
  estimateFee: {
    description: 'What a job costs now',
    params: [{ name: 'model', type: 'u64' }, { name: 'inputLen', type: 'u32' }],
    type: 'Json',
  },
  subscribeJob: {
    description: "Streams a job's progress until it is settled or refunded",
    params: [{ name: 'job', type: 'u64' }],
    pubsub: ['jobUpdate', 'subscribeJob', 'unsubscribeJob'],
    type: 'Json',
  },
};

/** The 12-decimal INFR amount `planck` as text, e.g. `0.0104 INFR`. */
export function infr(planck) {
  const v = BigInt(planck);
  const sign = v < 0n ? '-' : '';
  const abs = v < 0n ? -v : v;
  const whole = abs / 10n ** 12n;
  const frac = (abs % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? '.' + frac : ''} INFR`;
}

/** Cosine similarity and largest element difference of two float vectors. */
export function compareEmbeddings(a, b) {
  let dot = 0, na = 0, nb = 0, maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  }
  return { cosine: dot / Math.sqrt(na * nb), maxDiff };
}
