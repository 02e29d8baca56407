// `infera-node inference`: the real all-MiniLM-L6-v2 from the model store, run by the node binary
// the way a provider checks its setup and an auditor reproduces a disputed job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runToExit } from './lib/node.mjs';

const MODEL = 'a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563';
const reference = JSON.parse(
  readFileSync(new URL('../../offchain-workers/engine/tests/fixtures/minilm_reference.json', import.meta.url)),
);

async function run(input) {
  const r = await runToExit(['inference', 'run', '--model', MODEL, '--input', input, '--json']);
  assert.equal(r.code, 0, r.output);
  return JSON.parse(r.output);
}

test('inference run prints the embedding and the output hash of the real model', async () => {
  const { text, embedding } = reference.cases[0];
  const out = await run(text);
  assert.equal(out.model, `0x${MODEL}`);
  assert.equal(out.dimensions, 384);
  assert.match(out.output_hash, /^0x[0-9a-f]{64}$/);
  // Within 1e-5 of the independent float64 reference (the engine computes in float32).
  const worst = Math.max(...out.embedding.map((v, i) => Math.abs(v - embedding[i])));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  // The hash is a function of the input: the same input gives the same hash.
  assert.equal((await run(text)).output_hash, out.output_hash);
});

test('inference verify passes an honest output and fails another input\'s, with the distance', async () => {
  const honest = await run('The quick brown fox jumps over the lazy dog.');
  const pass = await runToExit([
    'inference', 'verify', '--model', MODEL, '--input', 'The quick brown fox jumps over the lazy dog.',
    '--output', honest.canonical,
  ]);
  assert.equal(pass.code, 0, pass.output);
  assert.match(pass.output, /^PASS: cosine 1\.0000/);

  const other = await run('Something else entirely.');
  const fail = await runToExit([
    'inference', 'verify', '--model', MODEL, '--input', 'The quick brown fox jumps over the lazy dog.',
    '--output', other.canonical,
  ]);
  assert.equal(fail.code, 1, fail.output);
  assert.match(fail.output, /FAIL: cosine 0\.\d+ .* verdict Fail/);
});

test('a model missing from the store is a clear error, not a crash', async () => {
  const r = await runToExit(['inference', 'run', '--model', '11'.repeat(32), '--input', 'x']);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /is not in the store .* scripts\/fetch-model/);
  assert.doesNotMatch(r.output, /panicked/);
});
