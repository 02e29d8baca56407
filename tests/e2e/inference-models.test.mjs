// A model owner's path for the architectures no package ships: the seeded decoder and classifier
// (`infera_engine::synthetic`) are written as ordinary model folders, imported with
// `infera-node inference import`, run and verified by the node binary, and compared with
// Hugging Face transformers' float64 results on the same files (the engine's fixture).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToExit } from './lib/node.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const reference = JSON.parse(
  readFileSync(join(ROOT, 'offchain-workers/engine/tests/fixtures/synthetic_reference.json')),
);
let dir;
let store;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'infera-models-'));
  store = join(dir, 'store');
  const r = spawnSync(
    'cargo',
    ['run', '--quiet', '--locked', '-p', 'infera-engine', '--example', 'synthetic_models', '--', dir],
    { cwd: ROOT, env: { ...process.env, SKIP_WASM_BUILD: '1' }, encoding: 'utf8', timeout: 900_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args, timeoutMs = 300_000) {
  return runToExit([...args, '--store', store], { timeoutMs });
}

async function importModel(folder, ...args) {
  const r = await cli(['inference', 'import', '--folder', join(dir, folder), ...args]);
  assert.equal(r.code, 0, r.output);
  const info = JSON.parse(r.output);
  assert.match(info.model, /^0x[0-9a-f]{64}$/);
  assert.equal(info.weights_hash, info.model);
  assert.match(info.config_hash, /^0x[0-9a-f]{64}$/);
  assert.match(info.tokenizer_hash, /^0x[0-9a-f]{64}$/);
  assert.ok(info.weights_size > 0);
  return info.model;
}

async function runJson(model, input) {
  const r = await cli(['inference', 'run', '--model', model, '--input', input, '--json']);
  assert.equal(r.code, 0, r.output);
  return JSON.parse(r.output);
}

test('a decoder imports, generates what transformers generates, and verify judges claims', async () => {
  const model = await importModel(
    'llama', '--architecture', 'text-generation', '--max-seq-length', '128', '--max-new-tokens', '16',
  );
  const [first, second] = reference.generations;
  const out = await runJson(model, first.prompt);
  assert.equal(out.architecture, 'text-generation');
  assert.deepEqual(out.tokens, first.tokens);
  assert.equal(typeof out.text, 'string');

  const pass = await cli(['inference', 'verify', '--model', model, '--input', first.prompt, '--output', out.canonical]);
  assert.equal(pass.code, 0, pass.output);
  assert.match(pass.output, /^PASS: 16 tokens checked, largest logit shortfall 0/);
  // Another prompt's generation claimed for this one fails step by step.
  const other = await runJson(model, second.prompt);
  const fail = await cli(['inference', 'verify', '--model', model, '--input', first.prompt, '--output', other.canonical]);
  assert.equal(fail.code, 1, fail.output);
  assert.match(fail.output, /FAIL: .*verdict Fail\(Token\)/);

  // Importing the same weights as another architecture is refused; the model keeps working.
  const again = await cli([
    'inference', 'import', '--folder', join(dir, 'llama'), '--architecture', 'text-embedding', '--max-seq-length', '128',
  ]);
  assert.equal(again.code, 1, again.output);
  assert.match(again.output, /already in the store .* not replaced/);
  assert.deepEqual((await runJson(model, first.prompt)).tokens, first.tokens);
});

test('a classifier imports and gives transformers\' class and logits', async () => {
  const model = await importModel('classifier', '--architecture', 'text-classification', '--max-seq-length', '256');
  for (const c of reference.classifications) {
    const out = await runJson(model, c.text);
    assert.equal(out.architecture, 'text-classification');
    assert.equal(out.class, c.class, c.text);
    assert.equal(out.label, ['negative', 'neutral', 'positive'][c.class]);
    out.logits.forEach((v, i) => assert.ok(Math.abs(v - c.logits[i]) < 1e-4, `${c.text}: ${v} vs ${c.logits[i]}`));
  }
});

test('a folder that does not load is not imported', async () => {
  // The classifier's files declared a decoder: refused with the reason, nothing left behind.
  const other = join(dir, 'other-store');
  const r = await runToExit([
    'inference', 'import', '--folder', join(dir, 'classifier'), '--architecture', 'text-generation',
    '--max-seq-length', '128', '--max-new-tokens', '4', '--store', other,
  ], { timeoutMs: 300_000 });
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /does not load, not imported/);
  assert.doesNotMatch(r.output, /panicked/);
  assert.deepEqual(readdirSync(other), []);
});
