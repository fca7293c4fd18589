import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorsForResource, loadConfigDir, loadResourceFile, localHost, MAX_RESOURCE_FILE_BYTES, parseResourceYaml } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';

const DIR = 'fixtures/config/dir';

describe('loadResourceFile', () => {
  test("the README's starting point, examples/r0.yaml: loads without a shared secret (unauthenticated, as DRBD allows; the console offers one)", async () => {
    const bare = await loadResourceFile('examples/r0.yaml', { node: 'ha-a' });
    assert.ok('config' in bare, JSON.stringify(bare));
    assert.equal(bare.config.net.sharedSecret, '');
    const text = readFileSync('examples/r0.yaml', 'utf8').replace('net:\n', 'net:\n  shared-secret: "a-generated-secret-of-32-chars-x"\n');
    for (const node of ['ha-a', 'ha-b']) {
      const r = parseResourceYaml('examples/r0.yaml', text, { node });
      assert.ok('config' in r, JSON.stringify(r));
      assert.equal(r.config.resource, 'r0');
    }
  });
  test('no shared-secret, or an empty one, means none, in YAML and .res alike', async () => {
    for (const f of ['fixtures/config/missing-secret.yaml', 'fixtures/config/no-secret.res']) {
      const r = await loadResourceFile(f);
      assert.ok('config' in r, JSON.stringify(r));
      assert.equal(r.config.net.sharedSecret, '');
    }
    const r = parseResourceYaml('r0.yaml', readFileSync('fixtures/config/missing-secret.yaml', 'utf8').replace('net:\n', 'net:\n  shared-secret: ""\n'));
    assert.ok('config' in r && r.config.net.sharedSecret === '');
  });
  describe('in a temp dir', () => {
    let tmp = '';
    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'drbd-tui-config-'));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    test('.yml is YAML too', async () => {
      const p = join(tmp, 'r0.yml');
      copyFileSync('fixtures/config/seed-r0.yaml', p);
      const r = await loadResourceFile(p);
      assert.ok('config' in r);
      assert.equal(r.config.source.format, 'yaml');
    });
    test('an unknown extension says how to name the file', async () => {
      const p = join(tmp, 'r0.conf');
      writeFileSync(p, 'resource r0 { }');
      assert.deepEqual(await loadResourceFile(p), {
        errors: [{ file: p, line: 1, col: 1, message: 'unknown kind of resource file: name it NAME.yaml (or .yml) for YAML, or NAME.res for a DRBD resource file' }],
      });
    });
    test('a missing file', async () => {
      const p = join(tmp, 'nope.yaml');
      assert.deepEqual(await loadResourceFile(p), { errors: [{ file: p, line: 1, col: 1, message: 'cannot read the file: it does not exist' }] });
    });
    test('a symlink to a device is refused, not read without end', async () => {
      const p = join(tmp, 'zero.yaml');
      symlinkSync('/dev/zero', p);
      const r = await loadResourceFile(p);
      assert.ok('errors' in r);
      assert.match(r.errors[0]!.message, /^cannot read the file: it is not a regular file/);
    });
    test('a file larger than any resource file is refused', async () => {
      const p = join(tmp, 'huge.yaml');
      writeFileSync(p, Buffer.alloc(MAX_RESOURCE_FILE_BYTES + 10, 0x20));
      const r = await loadResourceFile(p);
      assert.ok('errors' in r);
      assert.match(r.errors[0]!.message, /larger than/);
    });
    test('a missing config directory', async () => {
      const p = join(tmp, 'no-such-dir');
      assert.deepEqual(await loadConfigDir(p), { resources: [], errors: [{ file: p, line: 1, col: 1, message: 'cannot read the config directory: it does not exist' }] });
    });
    test('an empty config directory', async () => {
      const p = mkdtempSync(join(tmp, 'empty-'));
      assert.deepEqual(await loadConfigDir(p), { resources: [], errors: [] });
    });
  });
});

describe('loadConfigDir', () => {
  test('loads the good files, reports the bad one and both duplicates, ignores other files', async () => {
    const { resources, errors } = await loadConfigDir(DIR);
    assert.deepEqual(
      resources.map((r) => [r.resource, r.source.file]),
      [
        ['r0', `${DIR}/r0.yaml`],
        ['r1', `${DIR}/r1.res`],
      ],
    );
    assert.deepEqual(errors.map(formatConfigError), [
      `${DIR}/broken.yaml:7:23: unknown key "protocol" in hosts.ha-a; protocol belongs at the top level`,
      `${DIR}/broken.yaml:9:16: protocol must be A, B or C (got "D")`,
      `${DIR}/r2-a.yaml:2:11: resource r2 is also defined in ${DIR}/r2-b.res:3:10; keep one file per resource (neither is loaded until then)`,
      `${DIR}/r2-b.res:3:10: resource r2 is also defined in ${DIR}/r2-a.yaml:2:11; keep one file per resource (neither is loaded until then)`,
    ]);
  });

  test('with a node name, a file that does not name this node is an error; the others load', async () => {
    const { resources, errors } = await loadConfigDir(DIR, { node: 'ha-a' });
    assert.deepEqual(resources.map((r) => r.resource), ['r0']);
    assert.ok(errors.map(formatConfigError).includes(`${DIR}/r1.res:4:1: this node 'ha-a' is not one of the hosts in ${DIR}/r1.res: storage0, storage1; set --node or fix hosts`));
  });
});

describe('localHost', () => {
  test('finds this node, or says how to fix it', async () => {
    const r = await loadResourceFile('fixtures/config/r0.yaml');
    assert.ok('config' in r);
    assert.deepEqual(localHost(r.config, 'ha-b'), { host: { name: 'ha-b', nodeId: 1, address: '10.77.0.12:7789', host: '10.77.0.12', port: 7789 } });
    assert.deepEqual(localHost(r.config, 'x'), { error: "this node 'x' is not one of the hosts in fixtures/config/r0.yaml: ha-a, ha-b; set --node or fix hosts" });
  });
});

describe('errorsForResource', () => {
  const e = (file: string, message: string) => ({ file, line: 3, col: 1, message });
  const table: Array<[string, ReturnType<typeof e>, boolean]> = [
    ['a typo anywhere in its own file', e('/etc/drbd-tui/r1.yaml', 'protocl: unknown key'), true],
    ['its .res file', e('/etc/drbd-tui/r1.res', 'expected ;'), true],
    ['another resource\'s file', e('/etc/drbd-tui/r10.yaml', 'protocl: unknown key'), false],
    ['a file that defines it twice', e('/etc/drbd-tui/other.yaml', 'resource r1 is also defined in /etc/drbd-tui/r1.yaml:1:1; keep one'), true],
    ['a message that only mentions a longer name', e('/etc/drbd-tui/x.yaml', 'resource r10 is also defined in y'), false],
  ];
  for (const [what, err, match] of table) {
    test(what, () => assert.deepEqual(errorsForResource('r1', [err]), match ? [err] : []));
  }
});
