// The launcher behind scripts/local-net: starts the zombienet network, prints where to reach it,
// runs the demo job through the RPC node, and keeps the network up until Ctrl-C.
import { startNetwork, bestAndFinalized } from '../tests/e2e/lib/network.mjs';
import { runDemo } from '../client/demo.mjs';

const started = Date.now();
const net = await startNetwork({ log: (line) => console.log(line) });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping every node of the network');
  await net.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

console.log(`\nfirst finalized block ${((Date.now() - started) / 1000).toFixed(0)} s after the start\n`);
const roles = (n) => (n.validator ? 'validator, auditor' : n.provider ? 'provider (not a validator)' : 'RPC node for clients');
for (const n of Object.values(net.nodes)) {
  console.log(`  ${n.name.padEnd(8)} ${roles(n).padEnd(27)} ws://127.0.0.1:${n.rpcPort}  metrics http://127.0.0.1:${n.prometheusPort}/metrics  log ${net.dir}/${n.name}.log`);
}
console.log(`\npolkadot.js apps: https://polkadot.js.org/apps/?rpc=${encodeURIComponent(net.ws('rpc'))}`);

if (process.env.INFERA_DEMO !== '0') {
  console.log('\ndemo: a client on the RPC node submits a sentence; a provider node runs it\n');
  try {
    await runDemo({ url: net.ws('rpc'), text: 'Infera runs on a network of independent operators.', signer: '//Alice//stash', model: 0, timeout: 300 });
  } catch (e) {
    console.error(`demo failed (the network keeps running): ${e.message ?? e}`);
  }
}
const rss = Object.values(net.nodes).map((n) => `${n.name} ${net.rssMiB(n.name)} MiB`).join(', ');
console.log(`\nmemory (RSS): ${rss}`);
const { best, finalized } = await bestAndFinalized(net.http('rpc'));
console.log(`\nthe network keeps running (best #${best}, finalized #${finalized}); Ctrl-C stops it`);
await new Promise(() => {});
