import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLinkFaults, parseLinkFaults, takeLinkFault } from '../../../agent/engine/link-faults.js';

const asObject = (text: string | undefined) => Object.fromEntries([...parseLinkFaults(text)].map(([r, t]) => [r, [...t].sort()]));

describe('the test hook that breaks the peer link before a message', () => {
  const parsed: Array<[string | undefined, Record<string, string[]>]> = [
    [undefined, {}],
    ['', {}],
    ['r0:sync-finished', { r0: ['sync-finished'] }],
    [' r0:sync-finished , r0:resync-done,r1:sync-finished-ack ', { r0: ['resync-done', 'sync-finished'], r1: ['sync-finished-ack'] }],
  ];
  for (const [text, want] of parsed) test(`parses ${JSON.stringify(text)}`, () => assert.deepEqual(asObject(text), want));

  for (const bad of ['sync-finished', 'r0:data', 'r0:', ':sync-finished', 'r0 x:sync-finished']) {
    test(`refuses '${bad}', naming the variable and the form`, () => {
      assert.throws(() => parseLinkFaults(bad), /^Error: DRBD_TUI_TEST_BREAK_LINK_BEFORE: '.*' is not RESOURCE:MESSAGE with MESSAGE one of resync-done, sync-finished, sync-finished-ack$/);
    });
  }

  test('fires once per entry, only for its message', () => {
    const pending = parseLinkFaults('r0:sync-finished').get('r0');
    assert.equal(takeLinkFault(pending, 'sync-finished-ack'), false);
    assert.equal(takeLinkFault(pending, 'sync-finished'), true);
    assert.equal(takeLinkFault(pending, 'sync-finished'), false);
    assert.equal(takeLinkFault(undefined, 'sync-finished'), false);
  });

  test('a daemon with the hook set says so; without it, nothing', () => {
    assert.equal(describeLinkFaults(parseLinkFaults('')), undefined);
    assert.equal(describeLinkFaults(parseLinkFaults('r0:sync-finished')), 'test hook DRBD_TUI_TEST_BREAK_LINK_BEFORE is set: the peer link breaks once, r0 before its first sync-finished');
  });
});
