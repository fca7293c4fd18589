// What stops a wait for the pair to connect and sync, over pair fixtures: one row per cause,
// most fundamental first, with the action that unblocks it where there is one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionBlocker, standing } from '../../../src/runbooks/wait-blocker.js';
import { inSync, pair, X, type Spec } from '../cluster/pair-fixtures.js';

const side = (over: Partial<NonNullable<Spec['r']>> = {}): Spec => ({ up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerDisk: 'UpToDate', repl: 'Established', ...over } });

describe('connectionBlocker', () => {
  const cases: { name: string; a: Spec; b: Spec; reason?: RegExp; unblock?: string }[] = [
    { name: 'in sync: nothing blocks', a: side({ role: 'Primary' }), b: side() },
    { name: 'Connecting both: normal for a while, no blocker', a: side({ conn: 'Connecting', repl: 'Off' }), b: side({ conn: 'Connecting', repl: 'Off' }) },
    { name: 'a host out of sight', a: side(), b: { up: false }, reason: /^ha-b is unreachable: connect ETIMEDOUT: the wait cannot finish until it answers$/ },
    { name: 'split brain', a: side({ conn: 'StandAlone', splitBrain: true }), b: side({ conn: 'StandAlone' }), reason: /^split brain: .*split-brain runbook/ },
    { name: 'down on one host', a: side(), b: { up: true, notUp: 'down' }, reason: /^r0 is down on ha-b: bring it up$/, unblock: 'up@1' },
    { name: 'StandAlone with its last error', a: side({ conn: 'StandAlone', lastError: 'authentication failed' }), b: side({ conn: 'Connecting' }), reason: /^ha-a is StandAlone \(authentication failed\): connect it$/, unblock: 'connect@0' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const b = connectionBlocker(pair(c.a, c.b), 'r0');
      if (!c.reason) return assert.equal(b, undefined, JSON.stringify(b));
      assert.match(b?.reason ?? '', c.reason);
      assert.equal(b?.unblock ? `${b.unblock.action}@${b.unblock.host}` : undefined, c.unblock);
    });
  }

  test('standing says where each host is, for a wait that ran out of time', () => {
    assert.equal(standing(inSync('Primary'), 'r0'), 'ha-a Connected, UpToDate; ha-b Connected, UpToDate');
    assert.equal(standing(pair(side({ conn: 'Connecting', repl: 'Off', lastError: 'connection refused' }), { up: true }), 'r0'), 'ha-a Connecting, UpToDate, last error: connection refused; ha-b down');
  });
});
