import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterSession } from '../../../src/ssh/cluster-session.js';
import { SshConnectError } from '../../../src/ssh/connect.js';
import { setTimeout as sleep } from 'node:timers/promises';

test('operator questions from both hosts come one at a time; refusals land in the model', async () => {
  let open = 0;
  let maxOpen = 0;
  const asked: string[] = [];
  const session = new ClusterSession({
    hosts: ['ha-a', 'ha-b'],
    readOnly: true,
    onUnknownHost: async (h) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      asked.push(h.alias);
      await sleep(30);
      open--;
      return false;
    },
    connect: async (alias, o) => {
      const ok = await o.onUnknownHost!({ alias, host: alias, port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:x', message: '' });
      throw new SshConnectError('host-key', `Host key verification failed for ${alias} (accepted: ${ok})`, alias);
    },
  });
  const settled = new Promise<void>((resolve) =>
    session.on('change', (m) => {
      if (m.hosts.every((h) => h.reach.state === 'unreachable')) resolve();
    }),
  );
  session.start();
  await settled;
  assert.deepEqual(asked.sort(), ['ha-a', 'ha-b']);
  assert.equal(maxOpen, 1);
  assert.deepEqual(
    session.model.hosts.map((h) => h.reach),
    [
      { state: 'unreachable', error: 'Host key verification failed for ha-a (accepted: false)' },
      { state: 'unreachable', error: 'Host key verification failed for ha-b (accepted: false)' },
    ],
  );
  assert.ok(session.model.recent.some((e) => e.text.startsWith('host unreachable')));
  await assert.rejects(session.request(0, 'primary', { resource: 'r0' }), /read-only/);
  await session.close();
});
