import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { paint, passedOver, planLines, planState, planVerdict, VERDICT_EXIT, wantsColor, type PlanState } from '../../../src/runbooks/plan-text.js';
import { buildRunbook, type RunbookId } from '../../../src/runbooks/runbooks.js';
import { loadScenario } from '../cluster/fixtures.js';
import { inSync, pair, replaceA, X } from '../cluster/pair-fixtures.js';

const T = '2026-11-22T04:00:00.000000+00:00';
const apply = (m: ClusterModel, host: HostIndex, line: string) => applyHostEvent(m, host, parseEventLine(`${T} ${line}`)!);

function plan(m: ClusterModel, id: RunbookId, host: HostIndex, completed: string[] = []): { s: PlanState; text: string; exit: number } {
  const s = planState(buildRunbook(m, id, 'r0', host), m, completed);
  return { s, text: paint(planLines(m, s), false), exit: VERDICT_EXIT[planVerdict(m, s).kind] };
}

/** ha-a lost with its power; ha-b, the UpToDate Secondary, remembers it as Primary. */
const powerLoss = () => pair({ up: false }, { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connecting', last: { disk: 'UpToDate', uuid: X, role: 'Primary' } } });

describe('runbook plan text', () => {
  test('switchover on a serving Primary: the next step in full, both ways (sessions kept or dropped), the pending ones with their commands only; exit 0', () => {
    const { text, exit } = plan(loadScenario('primary-iscsi'), 'switchover', 0);
    assert.equal(
      text,
      [
        'Planned switchover r0: ha-a → ha-b',
        '▶ 1. stop the iSCSI target on ha-a',
        '     1) Stop iSCSI target',
        '        runs on ha-a: drbd-agent target stop r0',
        '        ✓ ha-a reachable',
        '        ✓ r0 is up on ha-a',
        '        ✓ target running',
        '        ✓ ha-b Connected and UpToDate',
        '        ✗ no initiator logged in on ha-a — 2 sessions: iqn.1991-05.com.microsoft:win-fs01, iqn.2008-11.org.linux-kvm:vm-db01 will be dropped; log them out, or Tab to accept',
        '        why: the device is free to demote only when no initiator writes through ha-a',
        '     2) drop the 2 sessions',
        '        runs on ha-a: drbd-agent target stop r0',
        '        ✓ ha-a reachable',
        '        ✓ r0 is up on ha-a',
        '        ✓ target running',
        '        ✓ ha-b Connected and UpToDate',
        '        ✓ 2 sessions will be dropped (accepted): iqn.1991-05.com.microsoft:win-fs01, iqn.2008-11.org.linux-kvm:vm-db01',
        '        ⚠ the initiators lose r0 until a target serves it again',
        '        why: the device is free to demote only when no initiator writes through ha-a',
        '· 2. demote ha-a to Secondary',
        '     would run on ha-a: drbd-agent secondary r0',
        '· 3. wait until ha-b is UpToDate and Established',
        '     waits until ha-b UpToDate and Established',
        '· 4. promote ha-b to Primary',
        '     would run on ha-b: drbd-agent primary r0',
        '· 5. start the iSCSI target on ha-b',
        '     would run on ha-b: drbd-agent target start r0',
        '→ step 1 can run',
        '',
      ].join('\n'),
    );
    assert.equal(exit, 0);
  });

  test('done steps are marked and the next one is the first not in effect', () => {
    let m = loadScenario('primary-iscsi');
    m = apply(m, 0, 'change target name:r0 state:stopped');
    const { text, s } = plan(m, 'switchover', 0);
    assert.deepEqual(s.progress.status, ['done', 'next', 'pending', 'pending', 'pending']);
    assert.match(text, /^✓ 1\. stop the iSCSI target on ha-a\n▶ 2\. demote ha-a to Secondary\n {5}runs on ha-a: drbd-agent secondary r0\n/m);
  });

  test('blocked: the failing check with DRBD\'s reason, exit 1', () => {
    const { text, exit } = plan(loadScenario('initial-sync'), 'switchover', 0);
    assert.match(text, /✗ ha-b Connected and UpToDate — ha-b must hold UpToDate data before the switch/);
    assert.match(text, /✗ blocked at step 2: ha-b must hold UpToDate data before the switch\n$/);
    assert.equal(exit, 1);
  });

  test('a host that does not answer: named with its SSH error, exit 2', () => {
    const { text, exit } = plan(loadScenario('unreachable'), 'switchover', 0);
    assert.match(text, /^Planned switchover r0: ha-a → ha-b\n✖ ha-b unreachable: connect ETIMEDOUT 10\.77\.0\.12:22\n/);
    assert.match(text, /✗ step 1 cannot go ahead: ha-b unreachable: connect ETIMEDOUT 10\.77\.0\.12:22\n$/);
    assert.equal(exit, 2);
  });

  test('failover: the dead host unreachable is expected; the confirm step names what to type and what it risks; exit 0', () => {
    const { text, exit } = plan(powerLoss(), 'failover', 0);
    assert.match(text, /▶ 1\. confirm ha-a is really down \(powered off or fenced\)\n {5}on ha-a: no command; typing ha-a confirms\n/);
    assert.match(text, / {5}✓ ha-a unreachable \(unreachable\)\n/);
    assert.match(text, / {5}⚠ if ha-a is alive and its clients write, promoting ha-b makes a split brain\n/);
    assert.match(text, /· 2\. promote ha-b \(only if UpToDate\)\n {5}would run on ha-b: drbd-agent primary r0\n/);
    assert.equal(exit, 0);
  });

  test('a wait step as the next one: what it waits for; nothing blocks, exit 0', () => {
    const { text, exit, s } = plan(loadScenario('initial-sync'), 'new-resource', 0);
    assert.equal(s.progress.next, 6);
    assert.match(text, /▶ 7\. wait for the initial sync ha-a → ha-b\n {5}waits until ha-b Connected and UpToDate\n {5}why: .+\n/);
    assert.match(text, /… step 7 waits until ha-b Connected and UpToDate\n$/);
    assert.equal(exit, 0);
  });

  test('a step with a variant: both ways numbered, each with its command, checks and forecast; pending variants name both commands', () => {
    const { text, exit } = plan(replaceA(), 'disk-replacement', 0, ['down']);
    assert.match(text, / {5}1\) Create metadata\n {8}runs on ha-a: drbd-agent create-md r0\n/);
    assert.match(text, / {5}2\) Re-create metadata \(WIPES the replication state\)\n {8}runs on ha-a: drbd-agent create-md --force r0\n/);
    assert.match(text, / {8}⇄ r0\/0: on connect ha-b → ha-a, full resync of the whole volume\n/);
    assert.equal(exit, 0);
    assert.match(plan(inSync('Secondary', { disk: 'Failed' }), 'disk-replacement', 0).text, /would run on ha-a: drbd-agent create-md r0 \(or: drbd-agent create-md --force r0\)/);
  });

  test('a destructive next step shows what it overwrites and every line of what is lost', () => {
    const m = loadScenario('split-brain');
    const { text } = plan(m, 'split-brain', 0, ['victim-stop-target', 'victim-secondary']);
    assert.match(text, /▶ 3\. connect ha-a discarding its 8192 KiB of changes\n {5}runs on ha-a: drbd-agent connect --discard-my-data r0\n/);
    const guard = planState(buildRunbook(m, 'split-brain', 'r0', 0), m, ['victim-stop-target', 'victim-secondary']).progress.guard!;
    for (const l of guard.loss ?? []) assert.ok(text.includes(`     LOST: ${l}\n`), l);
    for (const f of guard.forecast ?? []) assert.ok(text.includes(`     ⇄ ${f}\n`), f);
  });

  test('finished: every step done, exit 0', () => {
    const m = loadScenario('primary-iscsi');
    const { text, exit } = plan(m, 'switchover', 1);
    assert.match(text, /✓ 5\. start the iSCSI target on ha-a\n✓ runbook complete\n$/);
    assert.equal(exit, 0);
  });

  test('what remains is optional (the lost host\'s rejoin): complete, exit 0, though the host is away', () => {
    let m = powerLoss();
    m = apply(m, 1, 'change resource name:r0 role:Primary');
    const { text, exit, s } = plan(m, 'failover', 0, ['confirm-down']);
    assert.equal(s.progress.next, 3, text);
    assert.match(text, /▶ 4\. when ha-a is back: wait for its agent/);
    assert.match(text, /✓ complete: step 4 and after are optional\n$/);
    assert.equal(exit, 0);
  });

  test('a wait that cannot finish says why and what unblocks it', () => {
    const m = apply(loadScenario('primary-iscsi'), 1, 'change connection name:r0 peer-node-id:0 conn-name:ha-a connection:StandAlone role:Unknown');
    const { text } = plan(m, 'switchover', 0, ['stop-target', 'demote']);
    assert.match(text, /▶ 3\. wait until ha-b is UpToDate and Established\n/);
    const p = planState(buildRunbook(m, 'switchover', 'r0', 0), m, ['stop-target', 'demote']).progress;
    assert.ok(p.blocker, 'the fixture blocks the wait');
    assert.ok(text.includes(`     ⏸ ${p.blocker.reason}\n`), text);
    if (p.unblock) assert.ok(text.includes(`     unblocks it: ${p.unblock.command} on ${p.unblock.hostName}`), text);
  });

  test('steps passed over on the way (already in effect) are said done, numbered as in the plan', () => {
    const rb = buildRunbook(loadScenario('initial-sync'), 'new-resource', 'r0', 0);
    assert.deepEqual(passedOver(rb, 6, 8), [{ text: '✓ 8. promote ha-a to Primary: in effect already', tone: 'done' }]);
    assert.deepEqual(passedOver(rb, 6, 7), []);
  });

  test('colour only when asked: ANSI around each toned line, none on a pipe or under NO_COLOR', () => {
    const m = loadScenario('primary-iscsi');
    const lines = planLines(m, planState(buildRunbook(m, 'switchover', 'r0', 0), m, []));
    assert.ok(!paint(lines, false).includes('\x1b['));
    assert.ok(paint(lines, true).startsWith('\x1b[1;36mPlanned switchover r0: ha-a → ha-b\x1b[0m\n'));
    assert.equal(wantsColor({ isTTY: true }, {}), true);
    assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(wantsColor({ isTTY: false }, {}), false);
    assert.equal(wantsColor({}, {}), false);
  });
});
