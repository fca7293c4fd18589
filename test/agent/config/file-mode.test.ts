import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exposedSecretsMode, secretFileWarning, secretHolder } from '../../../agent/config/file-mode.js';
import { loadResourceFile, parseResourceYaml } from '../../../agent/config/load.js';
import { readFileSync } from 'node:fs';

const seed = (): ReturnType<typeof parseResourceYaml> => parseResourceYaml('/etc/drbd-tui/r0.yaml', readFileSync('fixtures/config/seed-r0.yaml', 'utf8'));

test('file mode: secrets exposed only where the group or others may read them', () => {
  const r = seed();
  assert.ok('config' in r);
  const withMode = (mode: number | undefined, secretless = false) => {
    const c = { ...r.config, source: { ...r.config.source, mode }, net: { ...r.config.net, ...(secretless ? { sharedSecret: '' } : {}) } };
    if (secretless) delete c.iscsi;
    return exposedSecretsMode(c);
  };
  const cases: Array<[string, number | undefined, boolean, string | undefined]> = [
    ['0600: root only', 0o600, false, undefined],
    ['0400: root only', 0o400, false, undefined],
    ['0644: everyone may read', 0o644, false, '0644'],
    ['0640: the group may read', 0o640, false, '0640'],
    ['0604: others may read', 0o604, false, '0604'],
    ['0666', 0o666, false, '0666'],
    ['a setgid bit is not a mode digit', 0o2644, false, '0644'],
    ['no mode known (parsed text, not a file)', undefined, false, undefined],
    ['0644 without a secret in it', 0o644, true, undefined],
  ];
  for (const [name, mode, secretless, want] of cases) assert.equal(withMode(mode, secretless), want, name);
});

test('file mode: the warning names the file, the mode and the fix; none where nothing is exposed', () => {
  assert.equal(secretFileWarning('r0', '/etc/drbd-tui/r0.yaml', '0644'), "r0's resource file /etc/drbd-tui/r0.yaml holds secrets that others on the host may read (mode 0644): chmod 600 /etc/drbd-tui/r0.yaml");
  assert.equal(secretFileWarning('r0', undefined, '0644'), "r0's resource file holds secrets that others on the host may read (mode 0644): chmod 600 it");
  assert.equal(secretFileWarning('r0', '/etc/drbd-tui/r0.yaml', undefined), undefined);
  assert.equal(
    secretFileWarning('r0', '/etc/drbd.d/r0.res', '0644', '/etc/drbd.d/global_common.conf'),
    "r0's shared secret is read from /etc/drbd.d/global_common.conf, which others on the host may read (mode 0644): chmod 600 /etc/drbd.d/global_common.conf",
  );
});

test('secretHolder: of the files holding the secret, the most exposed, the resource file on a tie', () => {
  const own = '/etc/drbd.d/r0.res';
  const common = '/etc/drbd.d/global_common.conf';
  const cases: Array<[string, Array<[string, number]>, [string, number] | undefined]> = [
    ['no file known', [], undefined],
    ['its own file only', [[own, 0o600]], [own, 0o600]],
    ['only common holds it', [[common, 0o644]], [common, 0o644]],
    ['both hold it, common readable', [[own, 0o600], [common, 0o644]], [common, 0o644]],
    ['both readable alike: its own', [[common, 0o644], [own, 0o644]], [own, 0o644]],
    ['both private: its own', [[common, 0o600], [own, 0o600]], [own, 0o600]],
    ['others beat the group', [[own, 0o640], [common, 0o604]], [common, 0o604]],
  ];
  for (const [name, holders, want] of cases) {
    const got = secretHolder(own, holders.map(([file, mode]) => ({ file, mode })));
    assert.deepEqual(got && [got.file, got.mode], want, name);
  }
});

test('file mode: a loaded file carries its mode', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'drbd-tui-mode-'));
  try {
    const p = join(tmp, 'r0.yaml');
    copyFileSync('fixtures/config/seed-r0.yaml', p);
    for (const [mode, want] of [[0o644, '0644'], [0o600, undefined]] as const) {
      chmodSync(p, mode);
      const r = await loadResourceFile(p);
      assert.ok('config' in r);
      assert.equal(r.config.source.mode, mode);
      assert.equal(exposedSecretsMode(r.config), want);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
