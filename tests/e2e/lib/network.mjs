// A network of independent Infera nodes started by zombienet from `zombienet/testnet.toml` with
// the built binary: for `scripts/local-net` and the network fault tests. The nodes are separate
// processes on loopback, each with its own keystore and database; this module can kill one,
// restart it on its own data (optionally with another binary), start extra nodes, and read each
// node's memory.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, mkdtempSync, openSync, existsSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir, homedir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { NODE_BIN, assertNodeBuilt, waitFor, rpc, freePort } from './node.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ZOMBIENET_DIR = join(ROOT, 'zombienet');
export const DEFINITION = join(ZOMBIENET_DIR, 'testnet.toml');
const ZOMBIENET = join(ZOMBIENET_DIR, 'node_modules', '.bin', 'zombienet');

/** The model store the nodes use (as `ModelStore::default_location`). */
export function modelStore() {
  if (process.env.INFERA_MODEL_STORE) return process.env.INFERA_MODEL_STORE;
  const data = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(data, 'infera', 'models');
}

/** The network definition, parsed with zombienet's own TOML parser. */
export function definition() {
  const toml = createRequire(join(ZOMBIENET_DIR, 'package.json'))('toml');
  return toml.parse(readFileSync(DEFINITION, 'utf8'));
}

/** The nodes the definition names, with their roles and ports. */
export function definedNodes() {
  return definition().relaychain.nodes.map((n) => ({
    name: n.name,
    validator: Boolean(n.validator),
    provider: (n.args ?? []).includes('--offchain-worker=always'),
    rpcPort: n.rpc_port,
    p2pPort: n.p2p_port,
    prometheusPort: n.prometheus_port,
    keyTypes: n.keystore_key_types ?? [],
  }));
}

/** Every running process whose command line contains `needle`, with its arguments. */
function processesWith(needle) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv;
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (argv.join(' ').includes(needle)) found.push({ pid: Number(entry), argv });
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function bestAndFinalized(httpUrl) {
  const best = parseInt((await rpc(httpUrl, 'chain_getHeader')).number, 16);
  const finalizedHash = await rpc(httpUrl, 'chain_getFinalizedHead');
  const finalized = parseInt((await rpc(httpUrl, 'chain_getHeader', [finalizedHash])).number, 16);
  return { best, finalized };
}

export class Network {
  constructor(base, child) {
    this.base = base;
    this.dir = join(base, 'net');
    this.child = child;
    this.nodes = Object.fromEntries(definedNodes().map((n) => [n.name, n]));
    /** Command lines of nodes as zombienet started them, kept to restart them. */
    this.argv = {};
    /** Processes this module started (restarts, extra nodes). */
    this.started = new Map();
  }

  http(name) {
    return `http://127.0.0.1:${this.nodes[name].rpcPort}`;
  }

  ws(name) {
    return `ws://127.0.0.1:${this.nodes[name].rpcPort}`;
  }

  /** The running process of node `name`, or null. */
  process(name) {
    const mine = processesWith(`--base-path ${join(this.dir, name)}`).filter(
      ({ argv }) => argv[argv.indexOf('--name') + 1] === name && !argv[0].endsWith('bash'),
    );
    return mine[0] ?? null;
  }

  /** Resident memory of node `name` in MiB. */
  rssMiB(name) {
    const p = this.process(name);
    if (!p) return null;
    const line = readFileSync(`/proc/${p.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Math.round(Number(line.split(/\s+/)[1]) / 1024);
  }

  /** Kills node `name` (SIGKILL by default: a crash, not a shutdown) and waits until it is gone. */
  async kill(name, signal = 'SIGKILL') {
    const p = this.process(name);
    if (!p) throw new Error(`node ${name} is not running`);
    this.argv[name] = p.argv;
    process.kill(p.pid, signal);
    await waitFor(`node ${name} to exit`, () => !alive(p.pid), { timeoutMs: 30_000 });
    this.started.delete(name);
  }

  /**
   * Starts node `name` again on its own database and keystore, with the command line it had
   * (or `bin` instead of the binary, and `env` added to its environment).
   */
  async restart(name, { bin, env = {} } = {}) {
    if (this.process(name)) await this.kill(name);
    const argv = this.argv[name];
    if (!argv) throw new Error(`node ${name} was never killed by this module: no command line to restart`);
    const log = openSync(join(this.dir, `${name}.restarted.log`), 'a');
    const child = spawn(bin ?? argv[0], argv.slice(1), { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    this.started.set(name, child);
    await waitFor(`node ${name} to answer RPC again`, () => rpc(this.http(name), 'system_health'), { timeoutMs: 120_000 });
    return child;
  }

  /**
   * Starts another node under the name `name` that uses `keysOf`'s keystore: the same validator
   * keys on a second machine. Returns its HTTP RPC URL.
   */
  async startTwin(name, keysOf, extraArgs = []) {
    const source = this.process(keysOf) ?? { argv: this.argv[keysOf] };
    const argv = [...source.argv];
    const chainSpec = argv[argv.indexOf('--chain') + 1];
    // Zombienet's first node is everyone's bootnode; the others name it.
    const bootnodes = this.process('bob')?.argv ?? this.argv.bob;
    const base = join(this.dir, name);
    mkdirSync(base, { recursive: true });
    const chains = join(this.dir, keysOf, 'data', 'chains');
    for (const id of readdirSync(chains)) {
      cpSync(join(chains, id, 'keystore'), join(base, 'chains', id, 'keystore'), { recursive: true });
    }
    const [rpcPort, p2pPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];
    const alicePeer = bootnodesOf(bootnodes);
    const args = [
      '--chain', chainSpec, '--name', name, '--base-path', base, '--validator',
      '--node-key', randomBytes(32).toString('hex'),
      '--model-store', modelStore(), '--no-mdns', '--no-telemetry',
      '--rpc-port', String(rpcPort), '--prometheus-port', String(prometheusPort),
      '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}/ws`,
      ...(alicePeer ? ['--bootnodes', alicePeer] : []),
      ...extraArgs,
    ];
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(NODE_BIN, args, { stdio: ['ignore', log, log] });
    this.started.set(name, child);
    this.nodes[name] = { name, validator: true, rpcPort, p2pPort, prometheusPort };
    await waitFor(`node ${name} to answer RPC`, () => {
      if (child.exitCode !== null) throw new Error(`node ${name} exited with ${child.exitCode}: ${readFileSync(join(this.dir, `${name}.log`), 'utf8').slice(-1500)}`);
      return rpc(this.http(name), 'system_health');
    }, { timeoutMs: 120_000 });
    return this.http(name);
  }

  /** Stops node `name` if this module started it. */
  async stopStarted(name) {
    const child = this.started.get(name);
    if (!child) return;
    this.started.delete(name);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await waitFor(`node ${name} to stop`, () => child.exitCode !== null || child.signalCode !== null, { timeoutMs: 30_000 }).catch(() => child.kill('SIGKILL'));
  }

  /** Stops every node and zombienet; nothing of the network keeps running. */
  async stop() {
    for (const name of [...this.started.keys()]) await this.stopStarted(name);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      await waitFor('zombienet to stop its nodes', () => this.child.exitCode !== null || this.child.signalCode !== null, { timeoutMs: 60_000 }).catch(() => this.child.kill('SIGKILL'));
    }
    for (const { pid } of processesWith(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // The nodes' databases and chain-spec copies go (about 100 MB a run); the logs stay.
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      if (entry.isDirectory()) rmSync(join(this.dir, entry.name), { recursive: true, force: true });
    }
  }
}

/** The `--bootnodes` value of a command line. */
function bootnodesOf(argv) {
  if (!argv) return null;
  const i = argv.indexOf('--bootnodes');
  return i >= 0 ? argv[i + 1] : null;
}

/**
 * Starts the network of `zombienet/testnet.toml` with the built node and waits until its RPC
 * node has finalized block `finalized` (1 by default). `timings.firstFinalizedMs` says how long
 * that took from the start.
 */
export async function startNetwork({ finalized = 1, log = () => {} } = {}) {
  assertNodeBuilt();
  if (!existsSync(ZOMBIENET)) {
    throw new Error(`${ZOMBIENET} is missing: run 'npm ci' in zombienet/ (scripts/test and scripts/local-net do)`);
  }
  const base = mkdtempSync(join(tmpdir(), 'infera-net-'));
  const out = openSync(join(base, 'zombienet.log'), 'a');
  const startedAt = Date.now();
  const child = spawn(ZOMBIENET, ['spawn', '--provider', 'native', '-d', join(base, 'net'), DEFINITION], {
    stdio: ['ignore', out, out],
    env: { ...process.env, INFERA_NODE_BIN: NODE_BIN, INFERA_MODEL_STORE: modelStore(), ZOMBIE_CLEANER_DISABLED: '1' },
  });
  const net = new Network(base, child);
  log(`zombienet is starting ${Object.keys(net.nodes).length} nodes (files in ${base})`);
  try {
    await waitFor(
      `the network to finalize block #${finalized} (zombienet log: ${join(base, 'zombienet.log')})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`zombienet exited with ${child.exitCode}: ${readFileSync(join(base, 'zombienet.log'), 'utf8').slice(-2000)}`);
        return (await bestAndFinalized(net.http('rpc'))).finalized >= finalized;
      },
      { timeoutMs: 600_000, intervalMs: 1000 },
    );
  } catch (e) {
    await net.stop();
    throw e;
  }
  net.firstFinalizedMs = Date.now() - startedAt;
  return net;
}
