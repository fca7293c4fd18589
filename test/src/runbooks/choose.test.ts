import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chooseResource, chooseRun, chooseSubject, isRunbookId } from '../../../src/runbooks/choose.js';
import { runbookToEvent } from '../../../agent/protocol/events2.js';
import { applyHostEvent } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';
import { runbookRecord } from '../../support/runbook-records.js';
import { pair, X } from '../cluster/pair-fixtures.js';

describe('runbook CLI: which resource', () => {
  test('the only resource by default; a named one must exist', () => {
    const m = loadScenario('primary-iscsi');
    assert.deepEqual(chooseResource(m), { ok: true, value: 'r0' });
    assert.deepEqual(chooseResource(m, 'r9'), { ok: false, exitCode: 1, message: 'no resource r9 on either host (known: r0)' });
  });
  test('several resources: named, exit 1; --resource picks one', () => {
    const m = loadScenario('healthy');
    assert.deepEqual(chooseResource(m), { ok: false, exitCode: 1, message: 'several resources: r0, r1; pass --resource NAME' });
    assert.deepEqual(chooseResource(m, 'r1'), { ok: true, value: 'r1' });
  });
  test('nothing known and a host unreachable: exit 2 naming it', () => {
    const m = pair({ up: true }, { up: false });
    const r = chooseResource(m);
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? undefined : [r.exitCode, r.message], [2, '✖ ha-b unreachable: connect ETIMEDOUT\nno resource on the hosts that answer']);
  });
});

describe('runbook CLI: which subject host', () => {
  test('the only applicable choice by default', () => {
    assert.deepEqual(chooseSubject(loadScenario('primary-iscsi'), 'switchover', 'r0'), { ok: true, value: 0 });
    const dead = pair({ up: false }, { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connecting', last: { disk: 'UpToDate', uuid: X, role: 'Primary' } } });
    assert.deepEqual(chooseSubject(dead, 'failover', 'r0'), { ok: true, value: 0 });
  });
  test('several choices: listed with their --host, exit 1', () => {
    const r = chooseSubject(loadScenario('split-brain'), 'split-brain', 'r0');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.exitCode, 1);
    // The side with fewer changes first, marked the default (split-brain.ts).
    assert.match(r.message, /^Split-brain recovery of r0: several choices, pass --host:\n {2}--host ha-b {2}Split-brain recovery: victim ha-b \(2048 KiB changed there\), keep ha-a \(default\)\n {2}--host ha-a {2}.*victim ha-a \(8192 KiB/);
  });
  test('none applies: why, and what applies instead; exit 1', () => {
    const r = chooseSubject(loadScenario('healthy'), 'failover', 'r0');
    assert.deepEqual(r, { ok: false, exitCode: 1, message: 'Failover after a power loss does not apply to r0 now: both hosts answer: a failover is for a host that is down (use the switchover runbook)\napplies now: Planned switchover: ha-a → ha-b' });
    const sb = chooseSubject(loadScenario('healthy'), 'split-brain', 'r0');
    assert.match(sb.ok ? '' : sb.message, /^Split-brain recovery does not apply to r0 now: r0 is not in split brain\n/);
  });
  test('none applies because a host does not answer: exit 2, the host and its SSH error first', () => {
    const r = chooseSubject(loadScenario('unreachable'), 'switchover', 'r0');
    assert.deepEqual(r, { ok: false, exitCode: 2, message: '✖ ha-b unreachable: connect ETIMEDOUT 10.77.0.12:22\nPlanned switchover does not apply to r0 now: it needs both hosts reachable' });
  });
  test('--host: taken as given; a runbook that does not apply for it gets a note (its plan shows the failing checks)', () => {
    const m = loadScenario('primary-iscsi');
    assert.deepEqual(chooseSubject(m, 'switchover', 'r0', 'ha-a'), { ok: true, value: 0 });
    assert.deepEqual(chooseSubject(m, 'failover', 'r0', 'ha-a'), { ok: true, value: 0, note: 'note: Failover after a power loss does not apply to r0 now: both hosts answer: a failover is for a host that is down (use the switchover runbook)' });
    assert.deepEqual(chooseSubject(m, 'switchover', 'r0', 'ha-c'), { ok: false, exitCode: 1, message: '--host ha-c: not one of ha-a, ha-b' });
  });
  test('a run: the resource, then the subject; the first refusal ends it', () => {
    assert.deepEqual(chooseRun(loadScenario('primary-iscsi'), 'switchover'), { ok: true, resource: 'r0', subject: 0 });
    assert.deepEqual(chooseRun(loadScenario('healthy'), 'switchover'), { ok: false, exitCode: 1, message: 'several resources: r0, r1; pass --resource NAME' });
    assert.deepEqual(chooseRun(loadScenario('healthy'), 'switchover', 'r0', 'ha-a'), { ok: true, resource: 'r0', subject: 0 });
  });
  test('NAME is one of the runbook ids', () => {
    assert.ok(['new-resource', 'switchover', 'failover', 'disk-replacement', 'split-brain'].every(isRunbookId));
    assert.equal(isRunbookId('fail-over'), false);
  });
});

describe('runbook CLI: a run already active on the agents', () => {
  /** primary-iscsi with `record` kept by ha-a's agent. */
  const keeping = (over: Parameters<typeof runbookRecord>[0] = {}) => applyHostEvent(loadScenario('primary-iscsi'), 0, runbookToEvent(runbookRecord(over), { verb: 'change', time: '2026-12-07T12:40:00.000Z' }));
  const refusal = 'r0 has an active runbook: Planned switchover r0 on ha-a (step 4/5)\nfinish it (drbd-tui runbook switchover) or abandon it in the console (r, then X)';
  const cases: Array<[string, Parameters<typeof runbookRecord>[0], Parameters<typeof chooseRun>, ReturnType<typeof chooseRun> | 'resume']> = [
    ['the same runbook is taken up where it stands, about its own subject', { completed: ['stop-target', 'demote'] }, [loadScenario('primary-iscsi'), 'switchover'], 'resume'],
    ['--host naming that subject takes it up too', { completed: ['stop-target', 'demote'] }, [loadScenario('primary-iscsi'), 'switchover', 'r0', 'ha-a'], 'resume'],
    ['--host naming the other host is refused', { completed: ['stop-target', 'demote'] }, [loadScenario('primary-iscsi'), 'switchover', 'r0', 'ha-b'], { ok: false, exitCode: 1, message: '--host ha-b: the active run of r0 is about ha-a (Planned switchover r0 on ha-a (step 4/5))' }],
    ['another runbook is refused, naming the active one', { completed: ['stop-target', 'demote'] }, [loadScenario('primary-iscsi'), 'failover'], { ok: false, exitCode: 1, message: refusal }],
    ['a subject neither host is', { subject: 'ha-z' }, [loadScenario('primary-iscsi'), 'switchover'], { ok: false, exitCode: 1, message: 'the active run of r0 is about ha-z, neither host of the command line\nabandon it in the console (r, then X) from a console that reaches ha-z' }],
    ['a finished run is history: a new run is chosen as usual', { state: 'finished' }, [loadScenario('primary-iscsi'), 'switchover'], { ok: true, resource: 'r0', subject: 0 }],
  ];
  for (const [name, over, [, id, resource, host], want] of cases) {
    test(name, () => {
      const got = chooseRun(keeping(over), id, resource, host);
      if (want !== 'resume') return assert.deepEqual(got, want);
      assert.ok(got.ok);
      assert.equal(got.subject, 0);
      assert.deepEqual(got.resume?.completed, over?.completed);
      assert.equal(got.note, 'resuming Planned switchover r0 on ha-a (step 4/5), started by root@laptop');
    });
  }
});
