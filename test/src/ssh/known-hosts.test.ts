import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blobKeyType,
  checkHostKey,
  entryMatchesHost,
  fingerprintSha256,
  knownHostsLines,
  knownKeyTypes,
  lookupName,
  parseKnownHosts,
  wildcardMatch,
} from '../../../src/ssh/known-hosts.js';

// Real OpenSSH keys and tools as the oracle: ssh-keygen writes the keys, hashes the
// entries and computes the fingerprints we must agree with.
const SSH_KEYGEN = '/usr/bin/ssh-keygen';
function keygenSkipReason(): string | false {
  if (existsSync(SSH_KEYGEN)) return false;
  const reason = `${SSH_KEYGEN} missing: apt-get install openssh-client`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

interface Key {
  line: string; // "ssh-ed25519 AAAA... comment"
  blob: Buffer;
  pubPath: string;
}

describe('known-hosts against real ssh-keygen', { skip: keygenSkipReason() }, () => {
  let dir: string;
  const keys: Record<string, Key> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'known-hosts-test-'));
    for (const [name, type] of [['a', 'ed25519'], ['b', 'ed25519'], ['r', 'rsa'], ['e', 'ecdsa']] as const) {
      const path = join(dir, name);
      execFileSync(SSH_KEYGEN, ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `key-${name}`, '-f', path]);
      const line = readFileSync(`${path}.pub`, 'utf8').trim();
      keys[name] = { line, blob: Buffer.from(line.split(' ')[1] ?? '', 'base64'), pubPath: `${path}.pub` };
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const key = (n: string): Key => {
    const k = keys[n];
    assert.ok(k);
    return k;
  };

  test('fingerprint equals ssh-keygen -lf for ed25519, rsa and ecdsa', () => {
    for (const n of ['a', 'r', 'e']) {
      const out = execFileSync(SSH_KEYGEN, ['-l', '-E', 'sha256', '-f', key(n).pubPath], { encoding: 'utf8' });
      const printed = out.split(' ')[1];
      assert.equal(fingerprintSha256(key(n).blob), printed);
      assert.match(printed ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
    }
  });

  test('hashed entries written by ssh-keygen -H match the right host and port only', () => {
    const file = join(dir, 'kh-hashed');
    writeFileSync(file, `ha-a,10.77.0.11 ${key('a').line}\n[ha-b]:2222 ${key('b').line}\n`);
    execFileSync(SSH_KEYGEN, ['-q', '-H', '-f', file]);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('ha-a') && text.startsWith('|1|'), 'ssh-keygen hashed the names');
    const entries = parseKnownHosts(text, file);
    assert.equal(entries.length, 3, 'one hashed line per name');
    assert.ok(entries.every((e) => e.hosts.kind === 'hashed'));

    assert.equal(checkHostKey(entries, 'ha-a', 22, key('a').blob).status, 'match');
    assert.equal(checkHostKey(entries, '10.77.0.11', 22, key('a').blob).status, 'match');
    assert.equal(checkHostKey(entries, 'HA-A', 22, key('a').blob).status, 'match', 'host names are case-insensitive');
    assert.equal(checkHostKey(entries, 'ha-a', 2222, key('a').blob).status, 'unknown', 'other port is another host');
    assert.equal(checkHostKey(entries, 'ha-b', 2222, key('b').blob).status, 'match');
    assert.equal(checkHostKey(entries, 'ha-b', 22, key('b').blob).status, 'unknown');
    const changed = checkHostKey(entries, 'ha-a', 22, key('b').blob);
    assert.equal(changed.status, 'changed');
  });

  test('our hashed lines are found by ssh-keygen -F', () => {
    const file = join(dir, 'kh-ours');
    const lines = knownHostsLines(['ha-a', '10.77.0.11'], 2222, key('a').blob, { hash: true });
    writeFileSync(file, lines.join('\n') + '\n');
    for (const name of ['[ha-a]:2222', '[10.77.0.11]:2222']) {
      const out = execFileSync(SSH_KEYGEN, ['-F', name, '-f', file], { encoding: 'utf8' });
      assert.match(out, /Host .* found: line \d/);
    }
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(checkHostKey(entries, '10.77.0.11', 2222, key('a').blob).status, 'match');
  });

  test('pattern matching agrees with ssh-keygen -F', () => {
    const file = join(dir, 'kh-patterns');
    const patterns = ['*.example.com,!bad.example.com', 'ha-?', '10.77.*.1?', '[gw]:2222', 'literal', '*.net,!*.evil.net'];
    writeFileSync(file, patterns.map((p) => `${p} ${key('a').line}`).join('\n') + '\n');
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    const cases = [
      'x.example.com', 'bad.example.com', 'example.com', 'ha-a', 'ha-ab', 'ha-',
      '10.77.3.11', '10.77.3.1', '10.77.3.111', 'literal', 'literally', 'a.b.net', 'x.evil.net',
    ];
    for (const host of cases) {
      const ours = checkHostKey(entries, host, 22, key('a').blob).status === 'match';
      let theirs = true;
      try {
        execFileSync(SSH_KEYGEN, ['-F', host, '-f', file], { stdio: 'pipe' });
      } catch {
        theirs = false;
      }
      assert.equal(ours, theirs, `host ${host}: ours ${ours}, ssh-keygen ${theirs}`);
    }
    assert.equal(checkHostKey(entries, 'gw', 2222, key('a').blob).status, 'match');
    assert.equal(checkHostKey(entries, 'gw', 22, key('a').blob).status, 'unknown');
  });

  test('changed key: warning names both fingerprints and the offending line', () => {
    const text = `# comment\n\nha-a ${key('a').line}\n`;
    const v = checkHostKey(parseKnownHosts(text, '/root/.ssh/known_hosts'), 'ha-a', 22, key('b').blob);
    assert.equal(v.status, 'changed');
    if (v.status !== 'changed') return;
    assert.equal(v.fingerprint, fingerprintSha256(key('b').blob));
    assert.deepEqual(v.expected, [
      { keyType: 'ssh-ed25519', fingerprint: fingerprintSha256(key('a').blob), source: '/root/.ssh/known_hosts', line: 3 },
    ]);
    assert.match(v.warning, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
    assert.ok(v.warning.includes(`${v.fingerprint}.`));
    assert.match(v.warning, /The fingerprint for the ED25519 key sent by the remote host is/);
    assert.match(v.warning, /Offending ED25519 key in \/root\/\.ssh\/known_hosts:3/);
  });

  test('a key of another type is unknown, with the known types listed', () => {
    const entries = parseKnownHosts(`ha-a ${key('a').line}\n`);
    const v = checkHostKey(entries, 'ha-a', 22, key('r').blob);
    assert.equal(v.status, 'unknown');
    if (v.status !== 'unknown') return;
    assert.deepEqual(v.otherKeyTypes, ['ssh-ed25519']);
    assert.equal(v.keyType, 'ssh-rsa');
    assert.match(v.message, /keys of different type are already known/);
    assert.deepEqual(knownKeyTypes(entries, 'ha-a', 22), ['ssh-ed25519']);
  });

  test('@revoked wins over a matching line; @cert-authority lines are ignored', () => {
    const text = [
      `@cert-authority *.example.com ${key('e').line}`,
      `ha-a ${key('a').line}`,
      `@revoked * ${key('a').line}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 3);
    const v = checkHostKey(entries, 'ha-a', 22, key('a').blob);
    assert.equal(v.status, 'revoked');
    if (v.status === 'revoked') {
      assert.match(v.warning, /REVOKED HOST KEY DETECTED/);
      assert.match(v.warning, /The ED25519 host key for ha-a is marked as revoked/);
    }
    // The CA key is not accepted as a host key.
    assert.equal(checkHostKey(entries, 'x.example.com', 22, key('e').blob).status, 'unknown');
  });

  test('unknown host gives the fingerprint and OpenSSH prompt text', () => {
    const v = checkHostKey([], 'ha-b', 22, key('b').blob);
    assert.deepEqual(v.status, 'unknown');
    if (v.status === 'unknown') {
      assert.equal(v.fingerprint, fingerprintSha256(key('b').blob));
      assert.equal(v.message, `The authenticity of host 'ha-b' can't be established.\nED25519 key fingerprint is ${v.fingerprint}.`);
    }
  });

  test('several names for one host: any of them may match', () => {
    const entries = parseKnownHosts(`10.77.0.11 ${key('a').line}\n`);
    assert.equal(checkHostKey(entries, ['ha-a', '10.77.0.11'], 22, key('a').blob).status, 'match');
  });
});

describe('known-hosts parsing (pure)', () => {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
  const b64 = blob.toString('base64');

  test('malformed lines are skipped, not fatal', () => {
    const text = [
      'onlyhost',
      `host ssh-rsa ${b64}`, // type disagrees with blob
      `host ssh-ed25519 !!notbase64`,
      `@bogus host ssh-ed25519 ${b64}`,
      `|1|short|short ssh-ed25519 ${b64}`,
      `   good   ssh-ed25519 ${b64}   a comment  here`,
    ].join('\r\n');
    const entries = parseKnownHosts(text, 'f');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.line, 6);
    assert.equal(entries[0]?.comment, 'a comment here');
  });

  test('lookupName uses [host]:port only off port 22', () => {
    assert.equal(lookupName('Ha-A', 22), 'ha-a');
    assert.equal(lookupName('ha-a', 2222), '[ha-a]:2222');
    assert.equal(lookupName('::1', 2222), '[::1]:2222');
  });

  test('wildcards', () => {
    assert.ok(wildcardMatch('*', ''));
    assert.ok(wildcardMatch('a*b*c', 'aXbYbZc'));
    assert.ok(!wildcardMatch('a*b', 'ab c'));
    assert.ok(wildcardMatch('[h]:2?', '[h]:22'));
    assert.ok(!wildcardMatch('?', ''));
  });

  test('negation vetoes a positive match', () => {
    const [e] = parseKnownHosts(`*,!ha-b ssh-ed25519 ${b64}`);
    assert.ok(e);
    assert.ok(entryMatchesHost(e, 'ha-a', 22));
    assert.ok(!entryMatchesHost(e, 'ha-b', 22));
  });

  test('blobKeyType rejects garbage', () => {
    assert.equal(blobKeyType(blob), 'ssh-ed25519');
    assert.equal(blobKeyType(Buffer.from([0, 0, 1, 0, 65])), undefined);
    assert.equal(blobKeyType(Buffer.alloc(2)), undefined);
  });
});
