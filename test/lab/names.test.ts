import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceNames, MAX_INSTANCE } from './names.js';

test('instance 0 is the design example: 10.77.0.11 and 10.77.0.12', () => {
  const n = instanceNames(0);
  assert.deepEqual(n.hosts.map((h) => [h.name, h.address]), [['ha-a', '10.77.0.11'], ['ha-b', '10.77.0.12']]);
  assert.equal(n.subnet, '10.77.0.0/24');
  assert.equal(n.gateway, '10.77.0.1');
});

test('link names fit IFNAMSIZ and no prefix is another instance\'s prefix', () => {
  const all = Array.from({ length: MAX_INSTANCE + 1 }, (_, i) => instanceNames(i));
  for (const n of all) {
    for (const link of [n.bridge, ...n.hosts.map((h) => h.veth)]) assert.ok(link.length <= 15, link);
    assert.equal(n.hosts[1].address, `10.77.${n.index}.12`);
  }
  for (const a of all) for (const b of all) if (a !== b) assert.ok(!b.bridge.startsWith(a.prefix), `${a.prefix} vs ${b.bridge}`);
  assert.throws(() => instanceNames(MAX_INSTANCE + 1));
});
