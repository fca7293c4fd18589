import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labProblems } from './prerequisites.js';

test('a complete root Linux machine has no problems', () => {
  assert.equal(labProblems({ platform: 'linux', uid: 0, has: () => true }), undefined);
});

test('the reason names what is missing and how to fix it', () => {
  const r = labProblems({ platform: 'linux', uid: 1000, has: (b) => b !== 'sshd' && b !== 'ip' });
  assert.equal(
    r,
    'two-host lab unavailable: run as root (network namespaces, mounts, sshd); missing sshd, ip: apt-get install openssh-server iproute2',
  );
});
