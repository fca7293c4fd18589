import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSshG } from '../../../src/ssh/ssh-config.js';
import { sshGFromConfigText } from '../../../src/ssh/ssh-config-file.js';
import { parseProxyJump } from '../../../src/ssh/connect.js';

const ENV = { home: '/home/op', localUser: 'op' };

describe('ssh_config reader (no ssh binary)', () => {
  const text = `
# operator's config
Host ha-a
  HostName 10.0.0.11
  Port 2222
Host ha-* !ha-c
  User admin
  IdentityFile ~/.ssh/ha_key
  ProxyJump bastion
Host *
  User nobody
  IdentityFile ~/.ssh/id_ed25519
  StrictHostKeyChecking=accept-new
  UserKnownHostsFile "~/.ssh/known hosts"
`;
  test('first value wins, identity files accumulate, patterns and negation', () => {
    const c = parseSshG(sshGFromConfigText(text, 'ha-a'), 'ha-a', ENV);
    assert.equal(c.hostname, '10.0.0.11');
    assert.equal(c.port, 2222);
    assert.equal(c.user, 'admin');
    assert.deepEqual(c.identityFiles, ['/home/op/.ssh/ha_key', '/home/op/.ssh/id_ed25519']);
    assert.equal(c.proxyJump, 'bastion');
    assert.equal(c.strictHostKeyChecking, 'accept-new');
  });
  test('a negated host gets only the catch-all; defaults like ssh -G', () => {
    const c = parseSshG(sshGFromConfigText(text, 'ha-c'), 'ha-c', ENV);
    assert.equal(c.hostname, 'ha-c');
    assert.equal(c.port, 22);
    assert.equal(c.user, 'nobody');
    assert.equal(c.proxyJump, undefined);
  });
  test('no config at all: OpenSSH defaults', () => {
    const c = parseSshG(sshGFromConfigText('', 'x'), 'x', ENV);
    assert.equal(c.port, 22);
    assert.deepEqual(c.userKnownHostsFiles, ['/home/op/.ssh/known_hosts', '/home/op/.ssh/known_hosts2']);
    assert.equal(c.identityFiles.length, 3);
  });
});

describe('ProxyJump', () => {
  test('user@host:port lists', () => {
    assert.deepEqual(parseProxyJump('jump'), [{ user: undefined, host: 'jump', port: undefined }]);
    assert.deepEqual(parseProxyJump('ops@j1:2200,j2'), [
      { user: 'ops', host: 'j1', port: 2200 },
      { user: undefined, host: 'j2', port: undefined },
    ]);
    assert.deepEqual(parseProxyJump('ssh://u@[fd00::1]:22'), [{ user: 'u', host: 'fd00::1', port: 22 }]);
    assert.deepEqual(parseProxyJump('none'), []);
  });
});
