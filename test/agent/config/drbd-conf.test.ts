import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGlob } from '../../../agent/config/drbd-conf.js';
import type { TreeFs } from '../../../agent/config/drbd-conf.js';
import { errorsForResource, loadConfigDir, loadConfigFile } from '../../../agent/config/load.js';
import { formatConfigError } from '../../../agent/config/types.js';
import { exposedSecretsMode } from '../../../agent/config/file-mode.js';

const TREE = 'fixtures/drbd-conf/accepted/tree';

describe('expandGlob', () => {
  const fs: TreeFs = {
    read: () => Promise.reject(new Error('unused')),
    list: (dir) => Promise.resolve(({ '/etc/drbd.d': ['b.res', 'a.res', '.hidden.res', 'global_common.conf', 'x.res.bak'], '/etc': ['drbd.d'] } as Record<string, string[]>)[dir] ?? []),
  };
  test('sorted matches of * and ?, no dotfiles, a literal path as it is', async () => {
    assert.deepEqual(await expandGlob('/etc/drbd.d/*.res', fs), ['/etc/drbd.d/a.res', '/etc/drbd.d/b.res']);
    assert.deepEqual(await expandGlob('/etc/drbd.d/?.res', fs), ['/etc/drbd.d/a.res', '/etc/drbd.d/b.res']);
    assert.deepEqual(await expandGlob('/etc/drbd.?/global_common.conf', fs), ['/etc/drbd.d/global_common.conf']);
    assert.deepEqual(await expandGlob('/etc/drbd.d/none-*.res', fs), []);
    assert.deepEqual(await expandGlob('/etc/drbd.d/r0.res', fs), ['/etc/drbd.d/r0.res']);
  });
});

describe('drbd.conf trees', () => {
  test('--config /etc/drbd.conf: includes relative to the including file, common under each resource', async () => {
    const { resources, errors } = await loadConfigFile(join(TREE, 'drbd.conf'));
    assert.deepEqual(errors, []);
    const [t0, t1] = resources;
    assert.deepEqual([t0!.resource, t0!.protocol, t0!.net.sharedSecret, t0!.net.afterSb0Pri, t0!.net.afterSb1Pri, t0!.net.maxRate], ['t0', 'B', 'common-s3cret', 'discard-least-changes', 'consensus', 60 * 1024 ** 2]);
    // t1 overrides protocol, secret and c-max-rate; the policies still come from common.
    assert.deepEqual([t1!.resource, t1!.protocol, t1!.net.sharedSecret, t1!.net.afterSb0Pri, t1!.net.maxRate], ['t1', 'C', 't1-own-s3cret', 'discard-least-changes', 80 * 1024 ** 2]);
    assert.equal(t0!.source.file, join(TREE, 'drbd.d/t0.res'));
    // Ignored options inherited from common name the file they are written in.
    assert.deepEqual(
      t0!.ignored!.map((i) => `${i.file}:${i.line} ${i.section} ${i.option}`),
      [
        `${TREE}/drbd.d/global_common.conf:3 handlers split-brain`,
        `${TREE}/drbd.d/global_common.conf:4 startup wfc-timeout`,
        `${TREE}/drbd.d/global_common.conf:5 disk on-io-error`,
        `${TREE}/drbd.d/global_common.conf:6 net cram-hmac-alg`,
      ],
    );
    assert.ok(t0!.hosts.every((h) => h.nodeIdImplicit));
  });
  test('--config-dir /etc (drbd.conf) and --config-dir /etc/drbd.d (global_common.conf + *.res) load the same', async () => {
    const a = await loadConfigDir(TREE);
    const b = await loadConfigDir(join(TREE, 'drbd.d'));
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    assert.deepEqual(a.resources.map((r) => r.source.hash), b.resources.map((r) => r.source.hash));
    assert.deepEqual(a.resources.map((r) => r.resource), ['t0', 't1']);
  });

  describe('in a temp dir', () => {
    let tmp = '';
    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'drbd-tui-tree-'));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));
    const hosts = (port: number) => `on ha-a { address 10.77.0.11:${port}; } on ha-b { address 10.77.0.12:${port}; }`;

    test('YAML and .res side by side; a bad resource does not hide the others of its file; a bad file not the others', async () => {
      const dir = join(tmp, 'side');
      mkdirSync(dir);
      writeFileSync(join(dir, 'global_common.conf'), 'common { net { shared-secret "Common-Secret-123"; } }\n');
      writeFileSync(join(dir, 'two.res'), `resource good { device minor 1; disk /dev/sdb; ${hosts(7001)} }\nresource bad { device minor 2; disk /dev/sdc; net { protcol C; } ${hosts(7002)} }\n`);
      writeFileSync(join(dir, 'broken.res'), 'resource broken { net { shared-secret "Broken-Secret-456" "x"; }\n');
      writeFileSync(join(dir, 'y0.yaml'), 'resource: y0\nnet: {}\nvolumes: [{ volume: 0, device: /dev/drbd9, disk: /dev/sdz }]\nhosts:\n  ha-a: { node-id: 0, address: 10.77.0.11:7009 }\n  ha-b: { node-id: 1, address: 10.77.0.12:7009 }\n');
      const { resources, errors } = await loadConfigDir(dir);
      assert.deepEqual(resources.map((r) => [r.resource, r.source.format, r.net.sharedSecret]), [['good', 'res', 'Common-Secret-123'], ['y0', 'yaml', '']]);
      const shown = errors.map(formatConfigError);
      assert.deepEqual(shown, [
        `${dir}/broken.res:2:1: the resource block opened at 1:17 is never closed: a } is missing, at the end or inside that block`,
        `${dir}/two.res:2:53: unknown keyword "protcol" in net; did you mean "protocol"?`,
      ]);
      assert.deepEqual(errorsForResource('bad', errors).map((e) => e.line), [2]);
      for (const e of shown) assert.doesNotMatch(e, /Common-Secret|Broken-Secret/);
    });

    test('a broken common section keeps every resource from loading, saying so', async () => {
      const dir = join(tmp, 'common');
      mkdirSync(dir);
      writeFileSync(join(dir, 'global_common.conf'), 'common { net { after-sb-0pri discard-zero-change; } }\n');
      writeFileSync(join(dir, 'r0.res'), `resource r0 { device minor 1; disk /dev/sdb; ${hosts(7001)} }\nresource r1 { device minor 2; disk /dev/sdc; ${hosts(7002)} }\n`);
      const { resources, errors } = await loadConfigDir(dir);
      assert.deepEqual(resources, []);
      assert.deepEqual(errors.map(formatConfigError), [
        `${dir}/global_common.conf:1:30: after-sb-0pri must be one of disconnect, discard-younger-primary, discard-older-primary, discard-zero-changes, discard-least-changes (got "discard-zero-change"); did you mean "discard-zero-changes"?`,
        `${dir}/r0.res:1:10: resource r0 is not loaded until the common section (${dir}/global_common.conf:1:1) is fixed: its options apply to every resource`,
        `${dir}/r0.res:2:10: resource r1 is not loaded until the common section (${dir}/global_common.conf:1:1) is fixed: its options apply to every resource`,
      ]);
      assert.deepEqual(errorsForResource('r1', errors).length, 1);
    });

    test("a shared secret written in common is as exposed as common's file", async () => {
      const dir = join(tmp, 'modes');
      mkdirSync(dir);
      writeFileSync(join(dir, 'global_common.conf'), 'common { net { shared-secret "Common-Secret-123"; } }\n', { mode: 0o644 });
      writeFileSync(join(dir, 'r0.res'), `resource r0 { device minor 1; disk /dev/sdb; ${hosts(7001)} }\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'r1.res'), `resource r1 { device minor 2; disk /dev/sdc; net { shared-secret "Own-Secret-456"; } ${hosts(7002)} }\n`, { mode: 0o600 });
      chmodSync(join(dir, 'global_common.conf'), 0o644);
      chmodSync(join(dir, 'r0.res'), 0o600);
      chmodSync(join(dir, 'r1.res'), 0o600);
      const { resources } = await loadConfigDir(dir);
      assert.deepEqual(resources.map((r) => [r.resource, exposedSecretsMode(r), r.source.secretFile]), [['r0', '0644', join(dir, 'global_common.conf')], ['r1', undefined, undefined]]);
      // A readable resource file that holds no secret (common's file does, privately) exposes nothing.
      chmodSync(join(dir, 'global_common.conf'), 0o600);
      chmodSync(join(dir, 'r0.res'), 0o644);
      const again = await loadConfigDir(dir);
      assert.deepEqual(again.resources.map((r) => [r.resource, exposedSecretsMode(r), r.source.secretFile]), [['r0', undefined, join(dir, 'global_common.conf')], ['r1', undefined, undefined]]);
    });

    test('a resource defined in two files of the tree is refused in both', async () => {
      const dir = join(tmp, 'twice');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.res'), `resource r0 { device minor 1; disk /dev/sdb; ${hosts(7001)} }\n`);
      writeFileSync(join(dir, 'b.res'), `resource r0 { device minor 2; disk /dev/sdc; ${hosts(7002)} }\nresource r1 { device minor 3; disk /dev/sdd; ${hosts(7003)} }\n`);
      const { resources, errors } = await loadConfigDir(dir);
      assert.deepEqual(resources.map((r) => r.resource), ['r1']);
      assert.deepEqual(errors.map(formatConfigError), [
        `${dir}/a.res:1:10: resource r0 is also defined at ${dir}/b.res:1:10; keep one (neither is loaded until then)`,
        `${dir}/b.res:1:10: resource r0 is also defined at ${dir}/a.res:1:10; keep one (neither is loaded until then)`,
      ]);
    });

    test('an include loop is read once; a missing literal include is named where it is written', async () => {
      const dir = join(tmp, 'loop');
      mkdirSync(dir);
      writeFileSync(join(dir, 'drbd.conf'), 'include "drbd.conf";\ninclude "missing.res";\ninclude "*.res";\n');
      writeFileSync(join(dir, 'r0.res'), `resource r0 { device minor 1; disk /dev/sdb; ${hosts(7001)} }\n`);
      const { resources, errors } = await loadConfigFile(join(dir, 'drbd.conf'));
      assert.deepEqual(resources.map((r) => r.resource), ['r0']);
      assert.deepEqual(errors.map(formatConfigError), [`${dir}/drbd.conf:2:1: cannot read ${dir}/missing.res: it does not exist`]);
    });
  });
});
