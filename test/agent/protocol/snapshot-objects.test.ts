import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../agent/protocol/events2.js';
import { destroyObject, emptyResource, ensureConnection, ensureDevice, ensurePeerDevice, eventNumber, foldPath } from '../../../agent/protocol/snapshot-objects.js';

const ev = (line: string) => parseEventLine(line)!;

test('eventNumber: absent, empty and non-numbers are undefined', () => {
  const cases: Array<[string, string, number | undefined]> = [
    ['change device name:r0 volume:1 minor:7', 'minor', 7],
    ['change device name:r0 volume:1', 'minor', undefined],
    ['change device name:r0 volume:1 minor:', 'minor', undefined],
    ['change device name:r0 volume:1 minor:x', 'minor', undefined],
  ];
  for (const [line, key, want] of cases) assert.equal(eventNumber(ev(line), key), want, line);
});

test('objects are made once, kept in order, and a later minor is the device\'s', () => {
  const r = emptyResource('r0');
  ensureDevice(r, ev('exists device name:r0 volume:1 minor:2'));
  ensureDevice(r, ev('exists device name:r0 volume:0 minor:1'));
  const d = ensureDevice(r, ev('change device name:r0 volume:1 minor:5'));
  assert.deepEqual(r.devices.map((x) => [x.volume, x.minor]), [[0, 1], [1, 5]]);
  assert.equal(d, r.devices[1]);
  ensurePeerDevice(r, ev('exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:1'));
  ensurePeerDevice(r, ev('exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0'));
  assert.equal(r.connections.length, 1);
  assert.deepEqual(r.connections[0]!.peerDevices.map((p) => p.volume), [0, 1]);
});

test('a connection without peer-node-id (drbd-utils 8.9) is found by its name', () => {
  const r = emptyResource('r0');
  const c = ensureConnection(r, ev('exists connection name:r0 conn-name:ha-b'));
  assert.equal(ensureConnection(r, ev('change connection name:r0 conn-name:ha-b connection:Connected')), c);
  assert.equal(r.connections.length, 1);
});

test('destroy lines remove their object; one never seen is no error', () => {
  const r = emptyResource('r0');
  ensureDevice(r, ev('exists device name:r0 volume:0 minor:1'));
  ensurePeerDevice(r, ev('exists peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0'));
  destroyObject(r, ev('destroy peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0'));
  assert.deepEqual(r.connections[0]!.peerDevices, []);
  destroyObject(r, ev('destroy connection name:r0 peer-node-id:1 conn-name:ha-b'));
  destroyObject(r, ev('destroy device name:r0 volume:0'));
  destroyObject(r, ev('destroy connection name:r0 peer-node-id:4 conn-name:nobody'));
  assert.deepEqual([r.devices, r.connections], [[], []]);
});

test('a path sets its connection\'s addresses and state; its destroy takes the path down', () => {
  const r = emptyResource('r0');
  foldPath(r, ev('exists path name:r0 peer-node-id:1 conn-name:ha-b local:ipv4:10.0.0.1:7789 peer:ipv4:10.0.0.2:7789 established:yes'));
  const c = r.connections[0]!;
  assert.deepEqual([c.localAddress, c.peerAddress, c.established], ['10.0.0.1:7789', '10.0.0.2:7789', true]);
  foldPath(r, ev('destroy path name:r0 peer-node-id:1 conn-name:ha-b local:ipv4:10.0.0.1:7789 peer:ipv4:10.0.0.2:7789'));
  assert.equal(c.established, false);
});
