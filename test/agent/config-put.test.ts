// Resource files put through the control channel (config-get / config-put / adjust RES), as the
// console does: the built dist/agent.mjs, real daemons, real files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connectUnix } from '../../agent/protocol/client.js';
import { AgentError, type AdjustResult, type ConfigGetResult, type ConfigPutResult } from '../../agent/protocol/messages.js';
import { createAgentPair, type AgentHost, type AgentPair } from '../support/agent-daemons.js';
import { freePort } from '../support/wait.js';
import { monitorSocketPath } from '../../agent/protocol/socket-paths.js';

const SECRET = 'r7-secret-never-logged-0123';

function r7Yaml(dir: string, portA: number, portB: number): string {
  return `resource: r7
net:
  shared-secret: "${SECRET}"
  ping-timeout: 2
volumes:
  - volume: 0
    device: /dev/drbd7
    disk:
      ha-a: ${join(dir, 'r7-a.img')}
      ha-b: ${join(dir, 'r7-b.img')}
    size: 4MiB
hosts:
  ha-a: { node-id: 0, address: "127.0.0.1:${portA}" }
  ha-b: { node-id: 1, address: "127.0.0.2:${portB}" }
`;
}

async function call<T>(h: AgentHost, method: 'config-get' | 'config-put' | 'adjust', params: object, socket = h.socket): Promise<T> {
  const c = await connectUnix(socket);
  try {
    return await c.request<T>(method, params);
  } finally {
    c.close();
  }
}

async function refusal(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AgentError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

describe('config-get / config-put / adjust RES', () => {
  let p: AgentPair;
  let text: string;
  before(async () => {
    p = await createAgentPair();
    text = r7Yaml(p.dir, await freePort('127.0.0.1'), await freePort('127.0.0.2'));
  });
  after(async () => {
    await p?.close();
  });

  test('config-get: the file that defines a resource, or where a new one goes', async () => {
    const r0 = await call<ConfigGetResult>(p.a, 'config-get', { resource: 'r0' });
    assert.equal(r0.file, join(p.a.root, 'etc', 'r0.yaml'));
    assert.match(r0.text ?? '', /^resource: r0/);
    assert.match(r0.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(await call(p.a, 'config-get', { resource: 'r7' }), { file: join(p.a.root, 'etc', 'r7.yaml'), sha256: '' });
    assert.equal((await refusal(call(p.a, 'config-get', { resource: '../x' }))).code, 'bad-request');
  });

  test('a read-only channel may not read (the text holds the secret) nor write resource files', async () => {
    const ro = monitorSocketPath(p.a.socket);
    assert.equal((await refusal(call(p.a, 'config-get', { resource: 'r0' }, ro))).code, 'read-only');
    assert.equal((await refusal(call(p.a, 'config-put', { resource: 'r7', text, format: 'yaml', expect: '' }, ro))).code, 'read-only');
    assert.equal((await refusal(call(p.a, 'adjust', { resource: 'r0' }, ro))).code, 'read-only');
  });

  test('an invalid file is refused with file:line:col and nothing is written', async () => {
    const e = await refusal(call(p.a, 'config-put', { resource: 'r7', text: text.replace('ping-timeout: 2', 'ping-timeout: soon'), format: 'yaml', expect: '' }));
    assert.equal(e.code, 'config');
    assert.match(e.message, new RegExp(`^${join(p.a.root, 'etc', 'r7.yaml')}:4:17: `));
    const other = await refusal(call(p.a, 'config-put', { resource: 'r8', text, format: 'yaml', expect: '' }));
    assert.match(other.message, /defines resource r7, not r8/);
    assert.deepEqual((await readdir(join(p.a.root, 'etc'))).sort(), ['r0.yaml']);
  });

  test('check validates without writing; put writes 0600 atomically; the secret is not logged', async () => {
    const checked = await call<ConfigPutResult>(p.a, 'config-put', { resource: 'r7', text, format: 'yaml', expect: '', check: true });
    assert.deepEqual(checked, { file: join(p.a.root, 'etc', 'r7.yaml'), written: false });
    assert.deepEqual((await readdir(join(p.a.root, 'etc'))).sort(), ['r0.yaml']);
    const put = await call<ConfigPutResult>(p.a, 'config-put', { resource: 'r7', text, format: 'yaml', expect: '' });
    assert.equal(put.written, true);
    assert.equal(await readFile(put.file, 'utf8'), text);
    assert.equal((await stat(put.file)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(join(p.a.root, 'etc'))).sort(), ['r0.yaml', 'r7.yaml'], 'no temp file left');
    assert.ok(!p.a.log.join('').includes(SECRET), 'the daemon log never holds the secret');
    assert.match(p.a.log.join(''), /r7: resource file written: .*r7\.yaml \(config hash [0-9a-f]{16}\)/);
  });

  test('a file changed since it was read is not overwritten', async () => {
    const e = await refusal(call(p.a, 'config-put', { resource: 'r7', text, format: 'yaml', expect: '' }));
    assert.equal(e.code, 'refused');
    assert.match(e.message, /changed since it was read/);
  });

  test('adjust RES: stays down without metadata and says why; comes up once it has metadata', async () => {
    const get = await call<ConfigGetResult>(p.b, 'config-get', { resource: 'r7' });
    await call(p.b, 'config-put', { resource: 'r7', text, format: 'yaml', expect: get.sha256 });
    const down = await call<AdjustResult>(p.a, 'adjust', { resource: 'r7' });
    assert.equal(down.state, 'down');
    assert.match(down.reason ?? '', /^no backing disk .*r7-a\.img yet: create-md r7 first \(on each host\)$/);
    for (const h of [p.a, p.b]) assert.equal((await h.cli('create-md', 'r7')).code, 0);
    for (const h of [p.a, p.b]) assert.deepEqual(await call(h, 'adjust', { resource: 'r7' }), { ok: true, state: 'up', broughtUp: true });
    assert.deepEqual(await call(p.a, 'adjust', { resource: 'r7' }), { ok: true, state: 'up' });
    assert.match((await p.a.cli('status', 'r7')).stdout, /^r7 role:Secondary/);
  });

  test('adjust RES on an up resource whose file changed: the new settings are pending', async () => {
    const get = await call<ConfigGetResult>(p.a, 'config-get', { resource: 'r7' });
    await call(p.a, 'config-put', { resource: 'r7', text: get.text!.replace('ping-timeout: 2', 'ping-timeout: 3'), format: 'yaml', expect: get.sha256 });
    assert.deepEqual(await call(p.a, 'adjust', { resource: 'r7' }), { ok: true, state: 'up', pending: true });
    const cli = await p.a.cli('adjust', 'r7');
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, /takes effect at the next down\/up/);
  });

  test('a .res file replaces the YAML file of the resource, which is kept aside as a dotfile', async () => {
    const get = await call<ConfigGetResult>(p.b, 'config-get', { resource: 'r0' });
    const cfg = get.text!;
    const disk = (host: string) => new RegExp(`${host}: (\\S+)`).exec(cfg.split('disk:')[1]!)![1]!;
    const addr = (host: string) => new RegExp(`${host}: \\{ node-id: \\d, address: "([^"]+)"`).exec(cfg)![1]!;
    const res = `resource r0 {
  net { shared-secret "test-secret-123"; ping-timeout 20; }
  volume 0 { device /dev/drbd1; meta-disk internal; }
  on ha-a { node-id 0; address ${addr('ha-a')}; volume 0 { disk ${disk('ha-a')}; } }
  on ha-b { node-id 1; address ${addr('ha-b')}; volume 0 { disk ${disk('ha-b')}; } }
}
`;
    const put = await call<ConfigPutResult>(p.b, 'config-put', { resource: 'r0', text: res, format: 'res', expect: get.sha256 });
    assert.equal(put.file, join(p.b.root, 'etc', 'r0.res'));
    assert.deepEqual(put.replaced, { file: join(p.b.root, 'etc', 'r0.yaml'), keptAs: join(p.b.root, 'etc', '.r0.yaml.replaced') });
    assert.equal((await stat(put.replaced!.keptAs)).mode & 0o777, 0o600);
    const again = await call<ConfigGetResult>(p.b, 'config-get', { resource: 'r0' });
    assert.equal(again.file, put.file);
  });
});
