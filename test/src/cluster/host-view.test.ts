import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvents } from '../../../src/cluster/events2.js';
import { applyEvent, emptyHostView, foldEvents } from '../../../src/cluster/host-view.js';

const fold = (text: string) => foldEvents(parseEvents(text).events);

describe('folding an events2 stream into a host view', () => {
  test('creates, then changes only the fields a change carries (drbd-utils events2-sync)', () => {
    const v = fold(`exists -
create resource name:some-resource role:Secondary suspended:no force-io-failures:no may_promote:no promotion_score:0
create device name:some-resource volume:0 minor:1000 backing_dev:none disk:Diskless client:no open:no quorum:yes
create connection name:some-resource peer-node-id:1 conn-name:some-peer connection:StandAlone role:Unknown
create peer-device name:some-resource peer-node-id:1 conn-name:some-peer volume:0 replication:Off peer-disk:DUnknown peer-client:no resync-suspended:no
create path name:some-resource peer-node-id:1 conn-name:some-peer local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:no
change resource name:some-resource may_promote:yes promotion_score:10101
change device name:some-resource volume:0 minor:1000 backing_dev:/dev/sda disk:UpToDate client:no open:no quorum:yes
change path name:some-resource peer-node-id:1 conn-name:some-peer local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:yes
change connection name:some-resource peer-node-id:1 conn-name:some-peer connection:Connected role:Secondary
change peer-device name:some-resource peer-node-id:1 conn-name:some-peer volume:0 replication:SyncSource peer-disk:Inconsistent peer-client:no done:37.50 received:5 sent:10 out-of-sync:2500 pending:30 unacked:40 dbdt1:0.24 eta:10`);
    assert.equal(v.ready, true);
    const r = v.resources[0]!;
    assert.equal(r.name, 'some-resource');
    assert.equal(r.role, 'Secondary');
    assert.equal(r.mayPromote, true);
    assert.equal(r.promotionScore, 10101);
    assert.equal(r.devices[0]!.disk, 'UpToDate');
    assert.equal(r.devices[0]!.backingDev, '/dev/sda');
    assert.equal(r.devices[0]!.minor, 1000);
    const c = r.connections[0]!;
    assert.equal(c.connection, 'Connected');
    assert.equal(c.role, 'Secondary');
    assert.equal(c.established, true);
    assert.equal(c.localAddress, '1.2.3.4:7789');
    const p = c.peerDevices[0]!;
    assert.deepEqual(
      [p.replication, p.peerDisk, p.done, p.outOfSync, p.dbdt1, p.eta, p.received, p.sent],
      ['SyncSource', 'Inconsistent', 37.5, 2500, 0.24, 10, 5, 10],
    );
  });

  test('destroy removes objects, children first, down to the resource (events2-all-create-destroy)', () => {
    const v = fold(`exists -
create resource name:some-resource role:Secondary suspended:no
create device name:some-resource volume:0 minor:1000 backing_dev:none disk:Diskless client:no open:no quorum:yes
create connection name:some-resource peer-node-id:1 conn-name:some-peer connection:StandAlone role:Unknown
create peer-device name:some-resource peer-node-id:1 conn-name:some-peer volume:0 replication:Off peer-disk:DUnknown
destroy peer-device name:some-resource peer-node-id:1 conn-name:some-peer volume:0`);
    assert.equal(v.resources[0]!.connections[0]!.peerDevices.length, 0);
    const v2 = foldEvents(
      parseEvents(`destroy connection name:some-resource peer-node-id:1 conn-name:some-peer
destroy device name:some-resource volume:0`).events,
      v,
    );
    assert.equal(v2.resources[0]!.connections.length, 0);
    assert.equal(v2.resources[0]!.devices.length, 0);
    const v3 = foldEvents(parseEvents('destroy resource name:some-resource').events, v2);
    assert.deepEqual(v3.resources, []);
  });

  test('a finished resync leaves no stale done figure; the view is not mutated in place', () => {
    const v = fold(`exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:SyncTarget peer-disk:UpToDate done:12.34
exists -`);
    const v2 = applyEvent(v, parseEvents('change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Established').events[0]!);
    assert.equal(v.resources[0]!.connections[0]!.peerDevices[0]!.done, 12.34);
    assert.equal(v2.resources[0]!.connections[0]!.peerDevices[0]!.done, undefined);
  });

  test('old drbd-utils without peer-node-id key connections by name (drbdtop fixtures)', () => {
    const v = fold(`2017-02-15T14:43:16.688437+00:00 exists connection name:test0 conn-name:peer connection:Connected role:Secondary congested:no
2017-02-15T14:43:16.688437+00:00 exists peer-device name:test0 conn-name:peer volume:0 replication:SyncSource peer-disk:Inconsistent resync-suspended:no received:0 sent:2050743348 out-of-sync:205655500 pending:0 unacked:0`);
    const c = v.resources[0]!.connections;
    assert.equal(c.length, 1);
    assert.equal(c[0]!.peerDevices[0]!.outOfSync, 205655500);
    assert.equal(v.lastEventTime, '2017-02-15T14:43:16.688437+00:00');
    assert.equal(v.ready, false);
  });

  test('targets, sessions and config errors (our extensions) fold and unfold', () => {
    let v = fold(`exists resource name:r0 role:Primary
exists target name:r0 state:running iqn:iqn.2026-11.com.example:r0 portal:0.0.0.0:3260
exists config-error file:/etc/drbd-tui/r2.yaml line:4 col:11 message:"protocol: expected A, B or C"
exists -
create session name:r0 id:7 initiator:iqn.1991-05.com.microsoft:win address:10.0.0.5:4000 since:2026-11-22T04:00:00Z`);
    assert.equal(v.resources[0]!.target!.iqn, 'iqn.2026-11.com.example:r0');
    assert.equal(v.resources[0]!.target!.sessions[0]!.initiator, 'iqn.1991-05.com.microsoft:win');
    assert.deepEqual(v.configErrors, [{ file: '/etc/drbd-tui/r2.yaml', line: 4, col: 11, message: 'protocol: expected A, B or C' }]);
    v = foldEvents(
      parseEvents(`destroy session name:r0 id:7
destroy config-error file:/etc/drbd-tui/r2.yaml line:4 col:11
change target name:r0 state:stopped`).events,
      v,
    );
    assert.deepEqual(v.resources[0]!.target!.sessions, []);
    assert.equal(v.resources[0]!.target!.state, 'stopped');
    assert.deepEqual(v.configErrors, []);
  });

  test('helper call/response lines do not disturb the view', () => {
    const v = fold(`exists resource name:r0 role:Secondary
call helper name:r0 peer-node-id:1 conn-name:p volume:0 helper:before-resync-target
response helper name:r0 peer-node-id:1 conn-name:p volume:0 helper:before-resync-target status:1`);
    assert.equal(v.resources.length, 1);
    assert.deepEqual(v.resources[0]!.devices, []);
    assert.deepEqual(emptyHostView().resources, []);
  });

  test('a new initial dump (after a reconnect) replaces the old view', () => {
    const v = fold('exists resource name:r0 role:Primary\nexists resource name:r1\nexists -');
    const v2 = foldEvents(parseEvents('exists resource name:r0 role:Secondary\nexists -').events, v);
    assert.deepEqual(v2.resources.map((r) => [r.name, r.role]), [['r0', 'Secondary']]);
    assert.equal(v2.ready, true);
  });

  test('resources stay sorted by name whatever the arrival order', () => {
    const v = fold('exists resource name:r2\nexists resource name:r0\nexists resource name:r1\nexists device name:r1 volume:1 minor:3\nexists device name:r1 volume:0 minor:2');
    assert.deepEqual(v.resources.map((r) => r.name), ['r0', 'r1', 'r2']);
    assert.deepEqual(v.resources[1]!.devices.map((d) => d.volume), [0, 1]);
  });
});
