// docker/compose.yml, checked by what can run on a machine without containers: it parses, it
// names the same nodes, roles and keys as zombienet/testnet.toml, only the RPC node publishes
// ports, and every service's own command line, run natively with the built binary on loopback
// (volumes as folders, the bootnode's DNS name as 127.0.0.1, one set of ports per service), makes
// a network that finalizes blocks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, mkdtempSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { NODE_BIN, assertNodeBuilt, waitFor, freePort } from './lib/node.mjs';
import { ROOT, ZOMBIENET_DIR, definedNodes, modelStore, bestAndFinalized } from './lib/network.mjs';

const COMPOSE = join(ROOT, 'docker', 'compose.yml');
const yaml = createRequire(join(ZOMBIENET_DIR, 'package.json'))('yaml');
const compose = yaml.parse(readFileSync(COMPOSE, 'utf8'), { merge: true });
const nodeServices = Object.entries(compose.services).filter(([name]) => name !== 'keys');
const children = [];
/** The folder standing in for the volumes; removed at the end (the logs beside it stay). */
let volumes;

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 2000));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (volumes) rmSync(volumes, { recursive: true, force: true });
});

/** The keys the `keys` service inserts: node → ["babe_sr", …]. */
function composeKeys() {
  const script = compose.services.keys.command.join('\n');
  const out = {};
  for (const [, node, type, scheme] of script.matchAll(/^insert (\w+) (\w{4}) (sr25519|ed25519) \/\/\w+$/gm)) {
    (out[node] ??= []).push(`${type}_${scheme.slice(0, 2)}`);
  }
  return out;
}

test('compose names the nodes, roles and keys of the zombienet network; only the RPC node publishes ports', () => {
  const zombie = definedNodes();
  assert.deepEqual(nodeServices.map(([n]) => n).sort(), zombie.map((n) => n.name).sort());
  // zombienet's short key types have its default schemes (babe sr25519, gran ed25519).
  const full = (t) => ({ babe: 'babe_sr', gran: 'gran_ed' })[t] ?? t;
  const keys = composeKeys();
  for (const z of zombie) {
    const [, service] = nodeServices.find(([n]) => n === z.name);
    const args = service.command;
    assert.equal(args.includes('--validator'), z.validator, `${z.name}: validator`);
    if (z.validator) assert.ok(args.includes('--node-key') || args.includes('--node-key-file'), `${z.name}: a validator needs a stable node key`);
    assert.equal(args.join(' ').includes('--offchain-worker always'), z.provider, `${z.name}: provider`);
    const expected = z.keyTypes.map(full).filter((k) => k !== 'none_sr').sort();
    assert.deepEqual((keys[z.name] ?? []).sort(), expected, `${z.name}: keys`);
    assert.equal(args[args.indexOf('--chain') + 1], 'testnet');
    assert.equal(Boolean(service.ports), z.name === 'rpc', `${z.name}: published ports`);
    for (const v of service.volumes) assert.ok(v.split(':')[0] in compose.volumes, `${z.name}: ${v} is a named volume`);
  }
});

test("every service's command, run natively on loopback, joins one network that finalizes", async () => {
  assertNodeBuilt();
  const base = mkdtempSync(join(tmpdir(), 'infera-compose-'));
  volumes = join(base, 'volumes');
  const volume = (name) => {
    const dir = join(base, 'volumes', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  // The keys service: its script with `infera-node` on PATH and its mounts as folders.
  // Compose escapes `$` as `$$`; each node's keystore volume `<node>-keys` is at /keys/<node>;
  // handing the keystores to the image's user needs no chown natively.
  for (const mount of compose.services.keys.volumes) volume(mount.split(':')[0]);
  const script = compose.services.keys.command.join('\n')
    .replaceAll('$$', '$')
    .replaceAll('/keys/$1', `${base}/volumes/$1-keys`)
    .split('\n')
    .filter((line) => !line.startsWith('chown '))
    .join('\n');
  execFileSync('/bin/sh', ['-c', script], { env: { ...process.env, PATH: `${dirname(NODE_BIN)}:${process.env.PATH}` } });
  // Running it again changes nothing (a restarted stack must not add keys).
  execFileSync('/bin/sh', ['-c', script], { env: { ...process.env, PATH: `${dirname(NODE_BIN)}:${process.env.PATH}` } });

  const ports = {};
  for (const [name] of nodeServices) ports[name] = { p2p: await freePort(), rpc: await freePort(), prometheus: await freePort() };
  for (const [name, service] of nodeServices) {
    let args = service.command.map(String);
    for (const mount of service.volumes) {
      const [vol, path] = mount.split(':');
      args = args.map((a) => (a === path || a.startsWith(`${path}/`) ? volume(vol) + a.slice(path.length) : a));
    }
    args = args.map((a) => a
      .replace('/ip4/0.0.0.0/tcp/30333', `/ip4/127.0.0.1/tcp/${ports[name].p2p}`)
      .replace(/^\/dns\/(\w+)\/tcp\/30333/, (_, host) => `/ip4/127.0.0.1/tcp/${ports[host].p2p}`)
      .replace(/^\/models$/, modelStore()));
    args.push('--rpc-port', String(ports[name].rpc), '--prometheus-port', String(ports[name].prometheus), '--no-mdns', '--no-telemetry');
    const log = openSync(join(base, `${name}.log`), 'a');
    children.push(spawn(NODE_BIN, args, { stdio: ['ignore', log, log] }));
  }
  const startedAt = Date.now();
  for (const [name] of nodeServices) {
    await waitFor(`${name} to see finalized block #1 (logs in ${base})`, async () => (await bestAndFinalized(`http://127.0.0.1:${ports[name].rpc}`)).finalized >= 1, { timeoutMs: 300_000, intervalMs: 1000 });
  }
  // The image's health check asks the RPC server's /health.
  const health = await fetch(`http://127.0.0.1:${ports.rpc.rpc}/health`);
  assert.equal(health.status, 200, 'the health check answers');
  console.log(`measure: the compose services, run natively, all finalized block #1 ${((Date.now() - startedAt) / 1000).toFixed(0)} s after they started`);
});
