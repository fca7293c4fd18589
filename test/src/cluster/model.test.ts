import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import {
  applyHostEvent,
  applyHostSnapshot,
  createModel,
  describeEvent,
  MAX_RECENT,
  resourceRows,
  setReachability,
} from '../../../src/cluster/model.js';
import { loadScenario } from './fixtures.js';

const ev = (line: string) => parseEventLine(line)!;

describe('the merged two-host model', () => {
  test('rows are one per resource and volume, by name then volume, each host side by side', () => {
    const rows = resourceRows(loadScenario('healthy'));
    assert.deepEqual(rows.map((r) => r.key), ['r0/0', 'r1/0', 'r1/1']);
    const r0 = rows[0]!;
    assert.equal(r0.device, '/dev/drbd1');
    assert.deepEqual(
      r0.sides.map((s) => [s.role, s.disk, s.connection, s.replication, s.peerDisk]),
      [
        ['Primary', 'UpToDate', 'Connected', 'Established', 'UpToDate'],
        ['Secondary', 'UpToDate', 'Connected', 'Established', 'UpToDate'],
      ],
    );
    assert.equal(r0.sides[0].target?.state, 'running');
    assert.equal(r0.sides[0].gi?.current, 'A3F0C2D94E1B7708');
    assert.equal(r0.sides[0].configHash, 'sha256:5f0c2a9e41d7');
  });

  test('sync progress uses the engine figures: done, out-of-sync KiB, rate, ETA, direction, rate history', () => {
    const sync = resourceRows(loadScenario('initial-sync'))[0]!.sync!;
    assert.equal(sync.source, 0);
    assert.equal(sync.target, 1);
    assert.equal(sync.done, 62.5);
    assert.equal(sync.outOfSyncKiB, 393216);
    assert.equal(sync.rateMiBs, 39.8);
    assert.equal(sync.etaS, 10);
    assert.deepEqual(sync.rateHistory, [0, 38.2, 41.7, 40.3, 43.9, 39.8]);
  });

  test('host reachability, latency and agent version; an unreachable host keeps no live claims', () => {
    const m = loadScenario('unreachable');
    assert.deepEqual(m.hosts[1].reach, { state: 'unreachable', error: 'connect ETIMEDOUT 10.77.0.12:22' });
    assert.equal(m.hosts[0].latencyMs, 2);
    assert.equal(m.hosts[0].agentVersion, '0.1.0');
    const b = resourceRows(m)[0]!.sides[1];
    assert.equal(b.reachable, false);
    assert.equal(b.present, false);
    assert.ok(m.recent.some((r) => r.host === 'ha-b' && r.text === 'host unreachable: connect ETIMEDOUT 10.77.0.12:22'));
    const again = setReachability(m, 1, { state: 'unreachable', error: 'connect ETIMEDOUT 10.77.0.12:22' });
    assert.equal(again.recent.length, m.recent.length, 'no repeated log line for the same state');
    const down = setReachability(m, 0, { state: 'agent-not-running' });
    assert.equal(down.hosts[0].latencyMs, undefined);
  });

  test('recent events: state changes with timestamps, counter-only changes skipped, bounded', () => {
    let m = createModel('ha-a', 'ha-b');
    m = applyHostEvent(m, 0, ev('2026-11-22T04:00:00.000000+00:00 change connection name:r0 peer-node-id:1 conn-name:ha-b connection:StandAlone'));
    m = applyHostEvent(m, 0, ev('2026-11-22T04:00:01.000000+00:00 change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 received:5 sent:7'));
    assert.deepEqual(m.recent, [{ time: '2026-11-22T04:00:00.000000+00:00', host: 'ha-a', resource: 'r0', text: 'change connection r0 connection:StandAlone' }]);
    assert.equal(describeEvent(ev('exists resource name:r0 role:Primary')), undefined);
    // A resync's per-interval counters stay out of the log: they belong in the detail view.
    for (const line of ['change device name:r0 volume:0 minor:1 undo-used:4096 undo-capacity:65536 written:128', 'change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 verify-mismatch:3 out-of-sync:12', 'change connection name:r0 peer-node-id:1 conn-name:b peer-last-seen:2026-11-22T04:00:01Z']) {
      assert.equal(describeEvent(ev(line)), undefined, line);
    }
    assert.equal(describeEvent(ev('change peer-device name:r0 peer-node-id:1 conn-name:b volume:1 replication:SyncTarget done:1.00')), 'change peer-device r0/1 replication:SyncTarget');
    for (let i = 0; i < MAX_RECENT + 10; i++) m = applyHostEvent(m, 1, ev(`change resource name:r0 role:${i % 2 ? 'Primary' : 'Secondary'}`));
    assert.equal(m.recent.length, MAX_RECENT);
    assert.equal(m.recent.at(-1)!.host, 'ha-b');
  });

  test('a full snapshot replaces the host view; models are never mutated', () => {
    const m0 = createModel('ha-a', 'ha-b', { readOnly: true });
    const m1 = applyHostSnapshot(m0, 1, { node: 'ha-b', agentVersion: '0.1.0', configErrors: [], resources: [] });
    assert.equal(m0.hosts[1].view.ready, false);
    assert.equal(m1.hosts[1].view.ready, true);
    assert.equal(m1.hosts[1].agentVersion, '0.1.0');
    assert.equal(m1.readOnly, true);
  });
});
