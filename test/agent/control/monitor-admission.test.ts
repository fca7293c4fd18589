import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMonitorUidLimits, monitorAdmission, type AdmissionInput, type ClientUid } from '../../../agent/control/monitor-admission.js';

const limits = { maxMonitorConnectionsPerUid: 3, monitorUidLookupAbove: 2 };
const held = (uid: ClientUid | undefined, n: number) => Array.from({ length: n }, () => uid);

test('admit, look the uid up first, or refuse', () => {
  const cases: Array<[string, AdmissionInput, string, RegExp?]> = [
    ['few open: no lookup', { open: held(undefined, 1), waiting: 0, uid: undefined, canLookUp: true }, 'admit'],
    ['the one that passes lookupAbove is looked up', { open: held(undefined, 2), waiting: 0, uid: undefined, canLookUp: true }, 'look-up'],
    ['connections waiting for their uid count', { open: held(undefined, 1), waiting: 1, uid: undefined, canLookUp: true }, 'look-up'],
    ['uids cannot be learned: the total cap alone', { open: held(1000, 10), waiting: 0, uid: undefined, canLookUp: false }, 'admit'],
    ['below the per-uid cap', { open: [...held(1000, 2), ...held(1001, 5)], waiting: 0, uid: 1000, canLookUp: true }, 'admit'],
    ['at the per-uid cap', { open: [...held(1000, 3), 1001], waiting: 0, uid: 1000, canLookUp: true }, 'refuse', /^uid 1000: 3 monitor connections open \(at most 3 per uid\)$/],
    ["another uid's connections do not count", { open: held(1001, 3), waiting: 0, uid: 1000, canLookUp: true }, 'admit'],
    ['connections not looked up yet count for nobody', { open: [...held(undefined, 2), ...held(1000, 2)], waiting: 0, uid: 1000, canLookUp: true }, 'admit'],
    ['root is exempt', { open: held(0, 20), waiting: 0, uid: 0, canLookUp: true }, 'admit'],
    ['unknown uids share one budget', { open: held('unknown', 3), waiting: 0, uid: 'unknown', canLookUp: true }, 'refuse', /^clients whose uid could not be learned: 3 monitor connections open \(at most 3 per uid\)$/],
    ['unknown does not count against a known uid', { open: held('unknown', 3), waiting: 0, uid: 1000, canLookUp: true }, 'admit'],
  ];
  for (const [name, input, verdict, reason] of cases) {
    const a = monitorAdmission(input, limits);
    assert.equal(a.verdict, verdict, name);
    if (reason) assert.match(a.verdict === 'refuse' ? a.reason : '', reason, name);
  }
});

test('lookupAbove must be below the per-uid cap, or connections admitted unlooked could pass it', () => {
  assert.throws(() => checkMonitorUidLimits({ maxMonitorConnectionsPerUid: 4, monitorUidLookupAbove: 4 }), /monitorUidLookupAbove \(4\) must be below maxMonitorConnectionsPerUid \(4\)/);
  checkMonitorUidLimits({ maxMonitorConnectionsPerUid: 16, monitorUidLookupAbove: 8 });
});
