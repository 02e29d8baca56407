// What end-to-end tests do with a connected polkadot.js `api`: send transactions as a client
// would, and find the events of the blocks they watched.
import { waitFor } from './node.mjs';

/**
 * `submit(tx, signer)` signs and sends `tx`, resolving with `{ blockHash, events }` once it is in
 * a block and rejecting with `section.Name` when dispatch fails (or a sudo call inside fails).
 * Nodes' workers sign with the same well-known keys the tests use, so a test's transaction and a
 * worker's can take the same nonce: the pool keeps one and refuses the other with 1014. A client
 * sharing a key with a worker signs again with the next nonce; so does `submit`, at most
 * `retries` times. Any other error is the test's failure.
 *
 * With `finalized`, `submit` resolves once the transaction's block is finalized, with that block's
 * events: on a network of several validators the first block a transaction lands in can lose a
 * fork race, and what it said (a job's provider, drawn from that block's randomness) is then not
 * what the chain keeps.
 */
export function submitter(api, { retries = 2, finalized = false } = {}) {
  function submitOnce(tx, signer) {
    return new Promise((resolve, reject) => {
      let unsub;
      tx.signAndSend(signer, ({ status, events, dispatchError }) => {
        if (!(finalized ? status.isFinalized : status.isInBlock)) return;
        unsub?.();
        if (dispatchError) {
          if (dispatchError.isModule) {
            const { section, name } = api.registry.findMetaError(dispatchError.asModule);
            reject(new Error(`${section}.${name}`));
          } else reject(new Error(dispatchError.toString()));
          return;
        }
        const sudo = events.find(({ event }) => api.events.sudo?.Sudid?.is(event) && event.data.sudoResult.isErr);
        if (sudo) {
          reject(new Error(`sudo call failed: ${sudo.event.data.sudoResult.toString()}`));
          return;
        }
        resolve({ blockHash: finalized ? status.asFinalized : status.asInBlock, events });
      }).then((u) => (unsub = u), reject);
    });
  }
  return async function submit(tx, signer) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await submitOnce(tx, signer);
      } catch (e) {
        if (attempt >= retries || !String(e?.message ?? e).startsWith('1014:')) throw e;
        console.log(`signing again for ${signer.address}: ${e.message}`);
        // Another sender of the same key (a node's worker) holds the nonce in the pool: once
        // its transaction is in a block the next nonce is free.
        await new Promise((r) => setTimeout(r, 6_000));
      }
    }
  };
}

/**
 * The events of every block of the best chain, by number, from a head subscription on `api`; and
 * the lookups the tests make in them. When the best chain switches forks, the blocks it replaced
 * are read again from the new head's ancestry, so what is kept is always one chain.
 */
export async function watchEvents(api) {
  const blocks = new Map();
  const hashes = new Map();
  let latest = Promise.resolve();
  async function follow(header) {
    // From the new head back to the first ancestor already kept under its own number.
    let h = header;
    for (let depth = 0; depth < 64; depth++) {
      const number = h.number.toNumber();
      const hash = h.hash.toHex();
      if (hashes.get(number) === hash) break;
      blocks.set(number, await api.query.system.events.at(hash));
      hashes.set(number, hash);
      if (number === 0) break;
      h = await api.rpc.chain.getHeader(h.parentHash);
    }
    // Heights above a shorter new best chain are not on it.
    for (const number of [...hashes.keys()]) {
      if (number > header.number.toNumber()) {
        hashes.delete(number);
        blocks.delete(number);
      }
    }
  }
  await api.rpc.chain.subscribeNewHeads((header) => {
    // One head at a time, in order, so a slower read never overwrites a newer chain.
    latest = latest.then(() => follow(header)).catch(() => {
      // a block pruned or replaced before it was read: the next head carries on
    });
  });
  const sorted = () => [...blocks.entries()].sort((a, b) => a[0] - b[0]);
  /** The first event `section.method` about `job` (null: any) at or after block `from`, with
   * its block's number and hash. */
  function find(section, method, job, { from = 0, pred = () => true } = {}) {
    for (const [number, events] of sorted()) {
      if (number < from) continue;
      for (const { event } of events) {
        if (event.section === section && event.method === method && (job === null || event.data.job?.toNumber() === job) && pred(event)) {
          return { number, hash: hashes.get(number), event };
        }
      }
    }
    return null;
  }
  return {
    blocks,
    find,
    /** `find`, waiting for it. */
    wait(section, method, job, { from = 0, timeoutMs = 240_000, pred = () => true } = {}) {
      return waitFor(`${section}.${method}${job === null ? '' : ` for job ${job}`}`, () => find(section, method, job, { from, pred }), { timeoutMs, intervalMs: 500 });
    },
    /** The job escrow's events about `job`, as `#block Name, …`. */
    jobEvents(job) {
      const out = [];
      for (const [number, events] of sorted()) {
        for (const { event } of events) {
          if (event.section === 'jobEscrow' && event.data.job?.toNumber() === job) out.push(`#${number} ${event.method}`);
        }
      }
      return out.join(', ');
    },
  };
}
