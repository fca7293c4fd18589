import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOGIN_PHASE_LIMITS, loginPhaseAdmission, sourceAddress } from '../../../agent/iscsi/login-limits.js';

const limits = { ...DEFAULT_LOGIN_PHASE_LIMITS, maxLoginConnections: 4, maxLoginConnectionsPerAddress: 2 };

test('login-phase admission: the total cap first, then the per-address cap', () => {
  const cases: Array<[total: number, fromAddress: number, expect: true | 'total' | 'per-address']> = [
    [0, 0, true],
    [3, 1, true],
    [3, 2, 'per-address'],
    [4, 0, 'total'],
    [4, 2, 'total'],
    [1, 2, 'per-address'],
  ];
  for (const [total, fromAddress, expect] of cases) {
    const v = loginPhaseAdmission({ total, fromAddress }, '10.0.0.9', limits);
    assert.equal(v.admit ? true : v.cap, expect, `total ${total}, from address ${fromAddress}`);
    if (!v.admit) assert.match(v.reason, expect === 'total' ? /at most 4\)/ : /from 10\.0\.0\.9 .*at most 2 per address/);
  }
});

test('an IPv4 client through a dual-stack socket counts as its IPv4 address', () => {
  assert.equal(sourceAddress('::ffff:10.0.0.9'), '10.0.0.9');
  assert.equal(sourceAddress('fd00::9'), 'fd00::9');
  assert.equal(sourceAddress(undefined), '?');
});
