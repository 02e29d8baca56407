// Bad input ends the node with a clear message and a non-zero exit, never a panic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToExit, occupyPort, freePort } from './lib/node.mjs';

function assertCleanFailure({ code, signal, output }, pattern) {
  assert.equal(signal, null, `killed by a signal:\n${output}`);
  assert.notEqual(code, 0, `exited 0:\n${output}`);
  assert.doesNotMatch(output, /panicked|RUST_BACKTRACE|stack backtrace/i, output);
  assert.match(output, pattern);
}

test('an unknown --chain name is refused with the valid choices', async () => {
  const result = await runToExit(['--chain', 'no-such-chain', '--tmp']);
  assertCleanFailure(result, /unknown chain 'no-such-chain': use 'dev', 'local', 'testnet'/);
});

test('a corrupt chain-spec file is refused, naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'infera-spec-'));
  const spec = join(dir, 'broken.json');
  writeFileSync(spec, '{"name": "half a spec", "genesis": ');
  const result = await runToExit(['--chain', spec, '--tmp']);
  assertCleanFailure(result, /chain-spec file '.*broken\.json' is not valid/);
});

test('an RPC port already in use ends the node with a message', async () => {
  const busy = await occupyPort();
  try {
    const port = busy.address().port;
    const result = await runToExit([
      '--dev', '--tmp', '--rpc-port', String(port),
      '--prometheus-port', String(await freePort()), '--port', String(await freePort()),
      '--no-telemetry', '--no-mdns',
    ]);
    assertCleanFailure(result, new RegExp(`the RPC port ${port} is already in use`));
  } finally {
    busy.close();
  }
});
