import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ACTION_KINDS, actionSpec, agentCommand, agentRequest, type ActionKind } from '../../../src/cluster/actions.js';

describe('actions: each action is one request and the command line that says it', () => {
  // The command lines drbd-agent's usage documents (agent/main.ts), one per action.
  const table: Array<[ActionKind, string, ReturnType<typeof agentRequest>]> = [
    ['promote', 'drbd-agent primary r0', { method: 'primary', params: { resource: 'r0' } }],
    ['demote', 'drbd-agent secondary r0', { method: 'secondary', params: { resource: 'r0' } }],
    ['connect', 'drbd-agent connect r0', { method: 'connect', params: { resource: 'r0' } }],
    ['disconnect', 'drbd-agent disconnect r0', { method: 'disconnect', params: { resource: 'r0' } }],
    ['target-start', 'drbd-agent target start r0', { method: 'target-start', params: { resource: 'r0' } }],
    ['target-stop', 'drbd-agent target stop r0', { method: 'target-stop', params: { resource: 'r0' } }],
    ['force-primary', 'drbd-agent primary --force r0', { method: 'primary', params: { resource: 'r0', force: true } }],
    ['force-primary-forget-peer', 'drbd-agent primary --force --forget-peer r0', { method: 'primary', params: { resource: 'r0', force: true, forgetPeer: true } }],
    ['discard-my-data', 'drbd-agent connect --discard-my-data r0', { method: 'connect', params: { resource: 'r0', discardMyData: true } }],
    ['create-md-force', 'drbd-agent create-md --force r0', { method: 'create-md', params: { resource: 'r0', force: true } }],
    ['create-md-force-forget-peer', 'drbd-agent create-md --force --forget-peer r0', { method: 'create-md', params: { resource: 'r0', force: true, forgetPeer: true } }],
    ['create-md', 'drbd-agent create-md r0', { method: 'create-md', params: { resource: 'r0' } }],
    ['down', 'drbd-agent down r0', { method: 'down', params: { resource: 'r0' } }],
    ['up', 'drbd-agent up r0', { method: 'up', params: { resource: 'r0' } }],
    ['skip-initial-sync', 'drbd-agent new-current-uuid --clear-bitmap r0', { method: 'new-current-uuid', params: { resource: 'r0', clearBitmap: true } }],
    ['attach', 'drbd-agent attach r0', { method: 'attach', params: { resource: 'r0' } }],
    ['detach', 'drbd-agent detach r0', { method: 'detach', params: { resource: 'r0' } }],
    ['verify', 'drbd-agent verify r0', { method: 'verify', params: { resource: 'r0' } }],
    ['invalidate', 'drbd-agent invalidate r0', { method: 'invalidate', params: { resource: 'r0' } }],
    ['pause-sync', 'drbd-agent pause-sync r0', { method: 'pause-sync', params: { resource: 'r0' } }],
    ['resume-sync', 'drbd-agent resume-sync r0', { method: 'resume-sync', params: { resource: 'r0' } }],
    ['adjust', 'drbd-agent adjust r0', { method: 'adjust', params: { resource: 'r0' } }],
    ['resize', 'drbd-agent resize r0', { method: 'resize', params: { resource: 'r0' } }],
  ];
  test('the table covers every action', () => {
    assert.deepEqual(table.map(([a]) => a).sort(), [...ACTION_KINDS].sort());
  });
  for (const [action, command, request] of table) {
    test(action, () => {
      assert.equal(agentCommand(action, 'r0'), command);
      assert.deepEqual(agentRequest(action, 'r0'), request);
    });
  }
});

describe('actions: what the guards read from the table', () => {
  test('every action that forgets the peer or changes the identifiers by force is destructive', () => {
    for (const a of ACTION_KINDS) {
      const s = actionSpec(a);
      if (s.forgetsPeer || s.flags?.force || s.flags?.discardMyData || s.flags?.clearBitmap) assert.equal(s.destructive, true, a);
    }
  });
  test('a destructive action is never on a lower-case key', () => {
    for (const a of ACTION_KINDS) {
      const { key, destructive } = actionSpec(a);
      if (key !== undefined && destructive) assert.notEqual(key, key.toLowerCase(), `${a} on ${key}`);
    }
  });
});
