// Starting and stopping the real infera-node for end-to-end tests.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NODE_BIN =
  process.env.INFERA_NODE_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'infera-target'), 'debug', 'infera-node');

export function assertNodeBuilt() {
  if (!existsSync(NODE_BIN)) {
    throw new Error(`${NODE_BIN} does not exist: build it with 'cargo build -p infera-node' (scripts/test does)`);
  }
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Holds a port open (as another program would) until the returned server is closed. */
export function occupyPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor(what, check, { timeoutMs = 120_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

/** Runs the node with `args` to completion; resolves with its exit code and output. */
export function runToExit(args, { timeoutMs = 60_000 } = {}) {
  assertNodeBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`infera-node ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/**
 * Starts `infera-node --dev --tmp` (or `--base-path basePath`, to restart on the same state) on free ports. Returns the endpoints, the collected log and a
 * `stop()` that ends the node and waits for it.
 */
export async function startDevNode(extraArgs = [], { basePath } = {}) {
  assertNodeBuilt();
  const rpcPort = await freePort();
  const prometheusPort = await freePort();
  const p2pPort = await freePort();
  const args = [
    '--dev', ...(basePath ? ['--base-path', basePath] : ['--tmp']),
    '--rpc-port', String(rpcPort),
    '--prometheus-port', String(prometheusPort),
    '--port', String(p2pPort),
    '--no-telemetry', '--no-mdns',
    ...extraArgs,
  ];
  const startedAt = Date.now();
  const child = spawn(NODE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { text: '' };
  child.stdout.on('data', (d) => (log.text += d));
  child.stderr.on('data', (d) => (log.text += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    startedAt,
    log,
    wsUrl: `ws://127.0.0.1:${rpcPort}`,
    httpUrl: `http://127.0.0.1:${rpcPort}`,
    metricsUrl: `http://127.0.0.1:${prometheusPort}/metrics`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** One JSON-RPC call over HTTP. */
export async function rpc(httpUrl, method, params = []) {
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/**
 * Runs a script's `main` and exits with its outcome: a connection left open (a reconnecting
 * WebSocket after the node stops) would otherwise keep the process alive.
 */
export function runMain(main) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
