import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runbookToEvent } from '../../../agent/protocol/events2.js';
import type { RunbookRecord } from '../../../agent/protocol/messages.js';
import { applyHostEvent, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { checkAction } from '../../../src/cluster/guards.js';
import { activeRunLine, activeRuns, convergePuts, currentRun, endRun, lastRun, newer, runChoice, startRun, stepDone, stepEntry } from '../../../src/runbooks/journal.js';
import { buildRunbook, runbookProgress } from '../../../src/runbooks/runbooks.js';
import { loadScenario } from '../cluster/fixtures.js';
import { runbookRecord } from '../../support/runbook-records.js';

const T0 = '2026-12-07T12:40:00.000Z';
const T1 = '2026-12-07T12:41:00.000Z';
const T2 = '2026-12-07T12:42:00.000Z';
const run = runbookRecord;
/** The model with `records` kept by host h's agent, as its events bring them. */
function keeps(m: ClusterModel, h: HostIndex, ...records: RunbookRecord[]): ClusterModel {
  for (const r of records) m = applyHostEvent(m, h, runbookToEvent(r, { verb: 'change', time: T0 }));
  return m;
}

describe('journal: which run is current', () => {
  const cases: Array<[string, RunbookRecord[], RunbookRecord[], RunbookRecord | undefined, RunbookRecord | undefined]> = [
    ['none kept', [], [], undefined, undefined],
    ['one host keeps an active run', [run()], [], run(), run()],
    ['both keep the same run: the higher seq wins', [run({ seq: 2, completed: ['stop-target'] })], [run({ seq: 3, completed: ['stop-target', 'demote'] })], run({ seq: 3, completed: ['stop-target', 'demote'] }), run({ seq: 3, completed: ['stop-target', 'demote'] })],
    ['the newer record ended the run', [run({ seq: 4, state: 'finished', updated: T1 })], [run({ seq: 3 })], undefined, run({ seq: 4, state: 'finished', updated: T1 })],
    ['different runs: the later update wins', [run({ state: 'abandoned', updated: T1, seq: 9 })], [run({ runbook: 'disk-replacement', subject: 'ha-b', started: T2, updated: T2 })], run({ runbook: 'disk-replacement', subject: 'ha-b', started: T2, updated: T2 }), run({ runbook: 'disk-replacement', subject: 'ha-b', started: T2, updated: T2 })],
    ['another resource\'s run is not this one\'s', [run({ resource: 'r1' })], [], undefined, undefined],
  ];
  for (const [name, onA, onB, current, last] of cases) {
    test(name, () => {
      const m = keeps(keeps(loadScenario('healthy'), 0, ...onA), 1, ...onB);
      assert.deepEqual(currentRun(m, 'r0'), current);
      assert.deepEqual(lastRun(m, 'r0'), last);
    });
  }
  test('newer: the same run by seq, different runs by update time, a tie keeps the first', () => {
    assert.equal(newer(run({ seq: 2 }), run({ seq: 1, updated: T2 })).seq, 2);
    assert.equal(newer(run({ runbook: 'failover', updated: T1 }), run({ updated: T2 })).runbook, 'switchover');
    const a = run();
    assert.equal(newer(a, run()), a);
  });
  test('activeRuns: one per resource, active ones only', () => {
    const m = keeps(loadScenario('healthy'), 0, run({ resource: 'r1' }), run({ resource: 'r2', state: 'finished' }), run());
    assert.deepEqual(activeRuns(m).map((r) => r.resource), ['r0', 'r1']);
  });
});

describe('journal: resuming', () => {
  const m0 = loadScenario('healthy');
  const rb = buildRunbook(m0, 'switchover', 'r0', 0);
  test('the menu entry names the runbook, its host, where it stands now and who started it when', () => {
    const r = stepDone(run(), rb, 'demote', { time: T1, by: 'root@laptop' });
    const c = runChoice(keeps(m0, 0, r), r);
    assert.deepEqual(c, { id: 'switchover', host: 0, label: 'Resume: Planned switchover on ha-a — at step 4 of 5 (started 12:40 by root@laptop)' });
    assert.equal(activeRunLine(m0, r), 'runbook active: Planned switchover r0 on ha-a (step 4/5) — r to resume');
  });
  test('a run about a host this console does not know, or of a runbook it does not know, is not offered', () => {
    assert.equal(runChoice(m0, run({ subject: 'ha-z' })), undefined);
    assert.equal(runChoice(m0, run({ runbook: 'future-runbook' })), undefined);
    assert.match(activeRunLine(m0, run({ runbook: 'future-runbook' })), /^runbook active: future-runbook r0 on ha-a \(step 1\/5\)/);
  });
});

describe('journal: the records a run writes', () => {
  const m = loadScenario('healthy');
  const rb = buildRunbook(m, 'switchover', 'r0', 0);
  const at = { time: T1, by: 'root@laptop' };
  test('start: an active record of the chosen runbook and host, seq 1, with a started entry', () => {
    const { record, entry } = startRun(m, rb, { id: 'switchover', host: 0, label: '' }, { time: T0, by: 'alice@desk' });
    assert.deepEqual(record, run({ by: 'alice@desk' }));
    assert.deepEqual(entry, { time: T0, resource: 'r0', runbook: 'switchover', subject: 'ha-a', title: rb.title, result: 'started', user: 'alice@desk' });
  });
  test('a step done counts every step before it (as runbookProgress does), bumps seq, keeps the order', () => {
    const r = stepDone(run({ seq: 4 }), rb, 'demote', at);
    assert.deepEqual(r, run({ completed: ['stop-target', 'demote'], seq: 5, updated: T1 }));
    assert.deepEqual(runbookProgress(rb, m, r.completed).status.slice(0, 2), ['done', 'done']);
    assert.deepEqual(stepDone(r, rb, 'stop-target', at).completed, ['stop-target', 'demote']);
  });
  test('a step\'s entry: the step, its title, the node it ran on, the exact command, the outcome and DRBD\'s message', () => {
    const guard = checkAction(m, 'demote', 'r0', 0);
    const e = stepEntry(m, run(), rb, 'demote', 'refused', at, { guard, detail: 'Device is held open by someone' });
    assert.deepEqual(e, { time: T1, resource: 'r0', runbook: 'switchover', subject: 'ha-a', step: 'demote', title: 'demote ha-a to Secondary', host: 'ha-a', command: guard.command, detail: 'Device is held open by someone', result: 'refused', user: 'root@laptop' });
    assert.equal(stepEntry(m, run(), rb, 'demote', 'failed', at, { detail: 'x'.repeat(2000) }).detail!.length, 1000);
  });
  test('end: finished or abandoned, a newer seq', () => {
    assert.deepEqual(endRun(run({ seq: 7 }), 'abandoned', { time: T2, by: 'bob@other' }), run({ state: 'abandoned', seq: 8, updated: T2, by: 'bob@other' }));
  });
});

describe('journal: both agents converge', () => {
  const up = loadScenario('healthy');
  test('the host that missed updates (or the whole run) gets the newer record; equal ones get nothing', () => {
    assert.deepEqual(convergePuts(keeps(keeps(up, 0, run({ seq: 3 })), 1, run({ seq: 5 }))), [{ host: 0, record: run({ seq: 5 }) }]);
    assert.deepEqual(convergePuts(keeps(up, 1, run())), [{ host: 0, record: run() }]);
    assert.deepEqual(convergePuts(keeps(keeps(up, 0, run()), 1, run())), []);
    const finished = run({ runbook: 'failover', state: 'finished', updated: T2 });
    assert.deepEqual(convergePuts(keeps(keeps(up, 0, run()), 1, finished)), [{ host: 0, record: finished }]);
  });
  test('nothing while a host is not up: it would be put again when it is', () => {
    const m = setReachability(keeps(up, 1, run()), 0, { state: 'unreachable', error: 'gone' });
    assert.deepEqual(convergePuts(m), []);
  });
});
