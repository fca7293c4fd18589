import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPath, parseSshG, resolveSshConfig } from '../../../src/ssh/ssh-config.js';

function sshSkipReason(): string | false {
  if (existsSync('/usr/bin/ssh')) return false;
  const reason = '/usr/bin/ssh missing: apt-get install openssh-client';
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

describe('resolveSshConfig with real ssh -G', { skip: sshSkipReason() }, () => {
  let dir: string;
  let cfg: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-config-test-'));
    cfg = join(dir, 'ssh_config');
    writeFileSync(join(dir, 'included'), 'Host inc\n  HostName 10.9.9.9\n');
    writeFileSync(
      cfg,
      [
        `Include ${join(dir, 'included')}`,
        'Host ha-a',
        '  HostName 10.77.0.11',
        '  User root',
        '  Port 2222',
        `  IdentityFile ${dir}/id_%h`,
        '  IdentityFile ~/second',
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${dir}/kh1 ${dir}/kh2`,
        '  StrictHostKeyChecking yes',
        '  ProxyJump admin@bastion:2200',
        '  ConnectTimeout 7',
        '  HostKeyAlias ha-a-key',
        'Host *',
        '  ServerAliveInterval 15',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an alias resolves to everything ssh would use', async () => {
    const r = await resolveSshConfig('ha-a', { configFile: cfg });
    assert.equal(r.hostname, '10.77.0.11');
    assert.equal(r.port, 2222);
    assert.equal(r.user, 'root');
    assert.equal(r.identityFiles[0], `${dir}/id_10.77.0.11`);
    assert.ok(r.identityFiles[1]?.endsWith('/second') && !r.identityFiles[1].startsWith('~'));
    assert.equal(r.identitiesOnly, true);
    assert.deepEqual(r.userKnownHostsFiles, [`${dir}/kh1`, `${dir}/kh2`]);
    assert.equal(r.strictHostKeyChecking, 'yes');
    assert.equal(r.proxyJump, 'admin@bastion:2200');
    assert.equal(r.connectTimeout, 7);
    assert.equal(r.serverAliveInterval, 15);
    assert.equal(r.hostKeyAlias, 'ha-a-key');
  });

  test('Include is honoured and unknown hosts get defaults', async () => {
    assert.equal((await resolveSshConfig('inc', { configFile: cfg })).hostname, '10.9.9.9');
    const d = await resolveSshConfig('plain.example', { configFile: cfg });
    assert.equal(d.hostname, 'plain.example');
    assert.equal(d.port, 22);
    assert.equal(d.proxyJump, undefined);
    assert.equal(d.hostKeyAlias, undefined);
  });

  test('a missing config file is a clear error', async () => {
    await assert.rejects(resolveSshConfig('ha-a', { configFile: join(dir, 'nope') }), /cannot resolve ssh host 'ha-a': .*nope/);
    await assert.rejects(resolveSshConfig('-oProxyCommand=x'), /invalid host name/);
  });
});

describe('ssh -G parsing (pure)', () => {
  test('tokens and defaults', () => {
    const env = { home: '/home/op', localUser: 'op' };
    assert.equal(expandPath('~/.ssh/id_%r@%h', { ...env, hostname: 'h', remoteUser: 'root' }), '/home/op/.ssh/id_root@h');
    assert.equal(expandPath('%d/x%%', env), '/home/op/x%');
    const r = parseSshG('hostname h\nport 22\nconnecttimeout none\nproxyjump none\n', 'alias', env);
    assert.equal(r.user, 'op');
    assert.equal(r.connectTimeout, undefined);
    assert.equal(r.proxyJump, undefined);
    assert.deepEqual(r.identityFiles, []);
  });
});
