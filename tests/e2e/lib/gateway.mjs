// Starting and stopping the real infera-gateway, and the Python that runs the `openai` client.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, NODE_BIN, waitFor } from './node.mjs';

export const GATEWAY_BIN = process.env.INFERA_GATEWAY_BIN ?? join(NODE_BIN, '..', 'infera-gateway');

/** The Python with the pinned `openai` client (scripts/setup makes it). */
export const PYTHON =
  process.env.INFERA_PYTHON ?? join(process.env.INFERA_PY_VENV ?? join(homedir(), '.cache', 'infera-py'), 'bin', 'python');

/**
 * Starts the gateway on a free port with a configuration file made from `config` (TOML text
 * without `listen`). Resolves once it listens: `{ url, log, stop() }`.
 */
export async function startGateway(config) {
  if (!existsSync(GATEWAY_BIN)) {
    throw new Error(`${GATEWAY_BIN} does not exist: build it with 'cargo build -p infera-gateway' (scripts/test does)`);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'infera-gateway-'));
  const file = join(dir, 'gateway.toml');
  writeFileSync(file, `listen = "127.0.0.1:${port}"\n${config}`);
  const child = spawn(GATEWAY_BIN, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { text: '' };
  child.stdout.on('data', (d) => (log.text += d));
  child.stderr.on('data', (d) => (log.text += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await waitFor('the gateway to listen', () => {
    if (child.exitCode !== null) throw new Error(`the gateway exited: ${log.text}`);
    return log.text.includes('listening on http://');
  }, { timeoutMs: 30_000 });
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs `python script args…`; resolves with its parsed JSON stdout (rejects on a failure). */
export function runPython(script, args, { timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${script} exited ${code}:\n${err}\n${out}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`${script} printed no JSON (${e.message}):\n${out}\n${err}`));
      }
    });
  });
}
