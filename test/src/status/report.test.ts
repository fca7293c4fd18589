import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, createModel, setReachability } from '../../../src/cluster/model.js';
import { statusReport, statusText } from '../../../src/status/report.js';
import { loadScenario, SCENARIOS } from '../cluster/fixtures.js';

const TIME = '2026-11-22T04:00:00.000Z';

describe('drbd-tui status report', () => {
  test('healthy: exit 0, both hosts up, every resource in the JSON', () => {
    const m = loadScenario('healthy');
    const r = statusReport(m, TIME);
    assert.equal(r.status, 'healthy');
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.hosts.map((h) => [h.name, h.reach, h.agentVersion]), [['ha-a', 'up', '0.1.0'], ['ha-b', 'up', '0.1.0']]);
    assert.deepEqual(r.resources.map((x) => `${x.name}/${x.volume}`), ['r0/0', 'r1/0', 'r1/1']);
    const r0 = r.resources[0]!;
    assert.equal(r0.hosts[0].role, 'Primary');
    assert.equal(r0.hosts[1].role, 'Secondary');
    assert.equal(r0.hosts[0].disk, 'UpToDate');
    assert.equal(r0.hosts[0].target?.state, 'running');
    assert.equal(r.time, TIME);
  });

  test('a sync in progress is degraded (exit 1) and reports direction and progress', () => {
    const r = statusReport(loadScenario('initial-sync'), TIME);
    assert.equal(r.exitCode, 1);
    assert.equal(r.status, 'degraded');
    const sync = r.resources[0]!.sync!;
    assert.equal(sync.source, 'ha-a');
    assert.equal(sync.target, 'ha-b');
    assert.equal(typeof sync.done, 'number');
  });

  test('every scenario: healthy ones 0, problems 1, an unreachable host 2', () => {
    for (const s of SCENARIOS) {
      const r = statusReport(loadScenario(s), TIME);
      const expected = s === 'unreachable' ? 2 : s === 'healthy' || s === 'primary-iscsi' ? 0 : 1;
      assert.equal(r.exitCode, expected, `${s}: ${JSON.stringify(r.problems)}`);
    }
    const r = statusReport(loadScenario('unreachable'), TIME);
    assert.equal(r.hosts[1].reach, 'unreachable');
    assert.match(r.hosts[1].error ?? '', /ETIMEDOUT/);
    assert.ok(r.problems.some((p) => p.severity === 'alert' && p.host === 'ha-b'));
  });

  test('agent not running counts as unreachable (exit 2)', () => {
    let m = createModel('ha-a', 'ha-b', { readOnly: true });
    m = setReachability(m, 0, { state: 'up' });
    m = setReachability(m, 1, { state: 'agent-not-running' });
    const r = statusReport(m, TIME);
    assert.equal(r.exitCode, 2);
    assert.equal(r.hosts[1].reach, 'agent-not-running');
  });

  test('split brain shows in the text form, loudly', () => {
    const m = loadScenario('split-brain');
    const text = statusText(statusReport(m, TIME), m);
    assert.match(text, /^DEGRADED\n/);
    assert.match(text, /alert SPLIT BRAIN on r0/);
  });

  test('a resource not up on a host: present false with its state, cause and next step, in the JSON and the text', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 1, parseEventLine('destroy resource name:r0')!);
    m = applyHostEvent(m, 1, parseEventLine('create not-up name:r0 file:/etc/drbd-tui/r0.yaml cause:metadata-invalid reason:"metadata on /d0 is damaged (checksum mismatch)" next:"if the peer holds good data: …" volumes:0')!);
    const r = statusReport(m, TIME);
    assert.equal(r.exitCode, 1);
    assert.deepEqual(r.resources[0]!.hosts[1].notUp, { state: 'broken: metadata on /d0 is damaged (checksum mismatch)', cause: 'metadata-invalid', reason: 'metadata on /d0 is damaged (checksum mismatch)', next: 'if the peer holds good data: …', file: '/etc/drbd-tui/r0.yaml' });
    assert.equal(r.resources[0]!.hosts[1].present, false);
    assert.match(statusText(r, m), /ha-b {9}broken: metadata on \/d0 is damaged \(checksum mismatch\); next: if the peer holds good data: …/);
  });

  test('the service address: in the target of each host, and svc:ADDR in the text where it is held', () => {
    let m = loadScenario('primary-iscsi');
    m = applyHostEvent(m, 0, parseEventLine('change target name:r0 service-address:10.77.0.100/24 service-interface:eth0 service-held:yes')!);
    m = applyHostEvent(m, 1, parseEventLine('change target name:r0 service-address:10.77.0.100/24 service-interface:eth0 service-held:no')!);
    const r = statusReport(m, TIME);
    assert.deepEqual(r.resources[0]!.hosts.map((h) => h.target?.serviceAddress), [
      { address: '10.77.0.100/24', interface: 'eth0', held: true },
      { address: '10.77.0.100/24', interface: 'eth0', held: false },
    ]);
    const text = statusText(r, m);
    assert.match(text, /ha-a .* iscsi:running\(2 sessions\) svc:10\.77\.0\.100\/24\n/);
    assert.doesNotMatch(text, /ha-b .*svc:/);
  });

  test('the JSON round-trips (no undefined-only keys, plain data)', () => {
    const r = statusReport(loadScenario('primary-iscsi'), TIME);
    const back = JSON.parse(JSON.stringify(r));
    assert.equal(back.resources[0].hosts[0].target.sessions, 2);
  });
});
