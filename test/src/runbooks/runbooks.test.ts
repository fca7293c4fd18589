import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { MSG } from '../../../src/cluster/guards.js';
import { agentRequest } from '../../../src/cluster/actions.js';
import { applicableRunbooks, buildRunbook, runbookProgress, splitBrainChanges, stepGuard } from '../../../src/runbooks/runbooks.js';
import { loadScenario } from '../cluster/fixtures.js';
import { blankPromoted, blankSurvivor, G, pair, replaceA, X, Y } from '../cluster/pair-fixtures.js';

function apply(m: ClusterModel, host: HostIndex, ...lines: string[]): ClusterModel {
  for (const l of lines) m = applyHostEvent(m, host, parseEventLine(l)!);
  return m;
}
const T = '2026-11-22T04:00:00.000000+00:00';
const ids = (m: ClusterModel, r = 'r0') => applicableRunbooks(m, r).map((c) => `${c.id}@${c.host}`);

/** healthy, then ha-a loses power: ha-b sees its peer go away. */
function powerLoss(): ClusterModel {
  let m = loadScenario('healthy');
  m = setReachability(m, 0, { state: 'unreachable', error: 'connect EHOSTUNREACH' });
  return apply(m, 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:Connecting role:Unknown`, `${T} change peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 replication:Off peer-disk:DUnknown`);
}

describe('runbooks: which apply', () => {
  test('healthy: switchover from the Primary only; an UpToDate Secondary is no disk to replace', () => {
    assert.deepEqual(ids(loadScenario('healthy')), ['switchover@0']);
  });
  test('disk replacement is offered for a failed or blank disk, never for the node holding the only good copy', () => {
    const failed = apply(loadScenario('healthy'), 1, `${T} change device name:r0 volume:0 minor:1 disk:Failed`);
    assert.deepEqual(ids(failed), ['switchover@0', 'disk-replacement@1']);
    // The seed's trap: a blank disk was force-promoted on ha-a; ha-b came back with the good data, StandAlone.
    let trap = apply(loadScenario('healthy'), 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:StandAlone role:Unknown last-error:"unrelated data"`, `${T} change peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 replication:Off peer-disk:DUnknown`);
    trap = apply(trap, 0, `${T} change connection name:r0 peer-node-id:1 conn-name:ha-b connection:StandAlone role:Unknown`);
    assert.ok(!ids(trap).some((x) => x.startsWith('disk-replacement')), ids(trap).join());
  });
  test('split brain: only the split-brain runbook, once per possible victim, with each side\'s changes', () => {
    const m = loadScenario('split-brain');
    // The side with fewer changes first, marked the default.
    assert.deepEqual(ids(m), ['split-brain@1', 'split-brain@0']);
    assert.deepEqual(splitBrainChanges(m, 'r0'), [8192, 2048]);
    assert.match(applicableRunbooks(m, 'r0')[0]!.label, /victim ha-b \(2048 KiB.*\(default\)$/);
  });
  test('the Primary\'s host unreachable: failover offered; the Secondary unreachable: not', () => {
    assert.deepEqual(ids(powerLoss()), ['failover@0']);
    assert.ok(!ids(loadScenario('unreachable')).some((x) => x.startsWith('failover')));
  });
  test('the only good copy taken down after refusing a blank Primary: no disk replacement offered for it', () => {
    assert.ok(!ids(blankPromoted(false)).some((x) => x.startsWith('disk-replacement')), ids(blankPromoted(false)).join());
    assert.ok(ids(replaceA()).includes('disk-replacement@0'), 'a node whose data the peer holds is still offered');
  });
  test('the survivor is a blank disk, the good copy out of sight: no failover that would promote it', () => {
    assert.deepEqual(ids(blankSurvivor()), []);
  });
});

describe('runbooks: switchover', () => {
  test('walks stop-target → demote → wait for the peer → promote → start-target on primary-iscsi, each step checked live', () => {
    let m = loadScenario('primary-iscsi');
    const rb = buildRunbook(m, 'switchover', 'r0', 0);
    let p = runbookProgress(rb, m, []);
    assert.equal(p.next, 0);
    assert.equal(p.guard?.command, 'drbd-agent target stop r0');
    assert.equal(p.guard?.hostName, 'ha-a');
    // Two initiators are logged in: dropping them is a failed check the operator accepts explicitly.
    assert.equal(p.ready, false);
    assert.match(p.checks.find((c) => !c.ok)!.reason!, /^2 sessions: iqn\.1991-05\.com\.microsoft:win-fs01, iqn\.2008-11\.org\.linux-kvm:vm-db01 will be dropped/);
    assert.deepEqual(p.status, ['next', 'pending', 'pending', 'pending', 'pending']);
    const accepted = runbookProgress(rb, m, [], true);
    assert.equal(accepted.ready, true, JSON.stringify(accepted.checks));
    assert.equal(accepted.guard?.command, 'drbd-agent target stop r0');
    assert.equal(accepted.guard?.typeToConfirm, 'r0', 'accepting takes the resource name typed');
    assert.ok(accepted.checks.some((c) => c.ok && /2 sessions will be dropped \(accepted\)/.test(c.text)));

    m = apply(m, 0, `${T} change target name:r0 state:stopped`);
    p = runbookProgress(rb, m, []);
    assert.equal(p.next, 1);
    assert.equal(p.guard?.command, 'drbd-agent secondary r0');
    assert.deepEqual(agentRequest(p.guard!.action, 'r0'), { method: 'secondary', params: { resource: 'r0' } });

    // promote is refused while ha-a still shows Primary, whatever the operator marked done
    p = runbookProgress(rb, m, ['demote', 'peer-ready']);
    assert.equal(p.next, 3);
    assert.equal(p.ready, false);
    assert.ok(p.checks.some((c) => c.reason === MSG.multiplePrimaries));

    m = apply(m, 0, `${T} change resource name:r0 role:Secondary`);
    m = apply(m, 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a role:Secondary`);
    p = runbookProgress(rb, m, ['demote']);
    // The peer is UpToDate and Established: the wait is already over.
    assert.equal(p.next, 3);
    assert.equal(p.ready, true, JSON.stringify(p.checks));
    assert.equal(p.guard?.command, 'drbd-agent primary r0');
    assert.equal(p.guard?.hostName, 'ha-b');

    m = apply(m, 1, `${T} change resource name:r0 role:Primary`);
    p = runbookProgress(rb, m, ['demote', 'promote']);
    assert.equal(p.guard?.command, 'drbd-agent target start r0');
    m = apply(m, 1, `${T} exists target name:r0 state:running iqn:iqn.2026-11.com.example:r0 portal:0.0.0.0:3260`);
    p = runbookProgress(rb, m, ['demote', 'promote', 'start-target']);
    assert.equal(p.finished, true);
    assert.deepEqual(p.status, ['done', 'done', 'done', 'done', 'done']);
  });

  test('waits for the peer to be Established before promoting; a StandAlone peer blocks the wait and connect unblocks it', () => {
    let m = loadScenario('healthy');
    const rb = buildRunbook(m, 'switchover', 'r0', 0);
    m = apply(m, 0, `${T} change resource name:r0 role:Secondary`);
    m = apply(m, 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:StandAlone role:Unknown`);
    const p = runbookProgress(rb, m, ['demote']);
    assert.equal(rb.steps[p.next!]!.id, 'peer-ready');
    assert.equal(p.ready, false);
    assert.match(p.blocker!.reason, /^ha-b is StandAlone.*: connect it$/);
    assert.equal(p.unblock?.command, 'drbd-agent connect r0');
    assert.equal(p.unblock?.hostName, 'ha-b');
  });

  test('refused before cutting clients off when the destination is not UpToDate', () => {
    const m = loadScenario('initial-sync');
    const p = runbookProgress(buildRunbook(m, 'switchover', 'r0', 0), m, []);
    assert.equal(p.ready, false);
    assert.ok(p.checks.some((c) => !c.ok && /UpToDate/.test(c.reason ?? '')));
  });
});

describe('runbooks: failover', () => {
  test('confirm down, then promote the survivor only while UpToDate', () => {
    let m = powerLoss();
    const rb = buildRunbook(m, 'failover', 'r0', 0);
    let p = runbookProgress(rb, m, []);
    assert.equal(p.next, 0);
    assert.equal(p.guard, undefined);
    assert.equal(p.ready, true, JSON.stringify(p.checks));
    // Unreachable is not down: the operator types the name of the host he made sure is off.
    assert.equal(rb.steps[0]!.typeToConfirm, 'ha-a');
    assert.equal(rb.steps[0]!.consequence, 'if ha-a is alive and its clients write, promoting ha-b makes a split brain');
    p = runbookProgress(rb, m, ['confirm-down']);
    assert.equal(p.guard?.command, 'drbd-agent primary r0');
    assert.equal(p.guard?.hostName, 'ha-b');
    assert.equal(p.ready, true, JSON.stringify(p.checks));

    m = apply(m, 1, `${T} change device name:r0 volume:0 minor:1 disk:Outdated`);
    p = runbookProgress(rb, m, ['confirm-down']);
    assert.equal(p.ready, false);
    assert.ok(p.checks.some((c) => c.reason?.startsWith(MSG.needUpToDate)));
  });

  test('confirming is refused while the survivor still sees its peer', () => {
    let m = loadScenario('healthy');
    m = setReachability(m, 0, { state: 'unreachable', error: 'ssh timeout' });
    const p = runbookProgress(buildRunbook(m, 'failover', 'r0', 0), m, []);
    assert.equal(p.ready, false);
    assert.match(p.checks.find((c) => !c.ok)!.reason!, /may still be alive/);
  });
});

describe('runbooks: a step\'s typeToConfirm', () => {
  test('reaches the step\'s guard, so the dialog asks for that text', () => {
    const m = powerLoss();
    const rb = buildRunbook(m, 'failover', 'r0', 0);
    const promote = rb.steps.find((s) => s.id === 'promote')!;
    assert.equal(stepGuard(m, rb, promote)?.typeToConfirm, undefined);
    assert.equal(stepGuard(m, rb, { ...promote, typeToConfirm: 'ha-b' })?.typeToConfirm, 'ha-b');
  });
});

describe('runbooks: disk replacement', () => {
  test('service stays on the survivor; down → create-md (force only as the variant) → attach → connect after the direction check → wait → optional failback', () => {
    let m = loadScenario('healthy');
    const rb = buildRunbook(m, 'disk-replacement', 'r0', 1);
    assert.deepEqual(rb.steps.map((s) => s.id), ['node-stop-target', 'node-demote', 'survivor-promote', 'survivor-target', 'down', 'create-md', 'attach', 'connect', 'sync', 'failback-stop-target', 'failback-demote', 'failback-promote', 'failback-target']);
    assert.ok(rb.steps.every((s) => s.why.length > 0), 'every step says why it exists');
    let p = runbookProgress(rb, m, []);
    // ha-a serves already: the restore-service steps are done.
    assert.equal(rb.steps[p.next!]!.id, 'down');
    assert.equal(p.guard?.command, 'drbd-agent down r0');
    assert.equal(p.ready, true, JSON.stringify(p.checks));

    m = apply(m, 1, `${T} destroy resource name:r0`);
    p = runbookProgress(rb, m, []);
    assert.equal(p.guard?.command, 'drbd-agent create-md r0');
    assert.equal(p.guard?.destructive, false);
    assert.equal(p.ready, true, JSON.stringify(p.checks));
    const forced = runbookProgress(rb, m, [], true);
    assert.equal(forced.guard?.command, 'drbd-agent create-md --force r0');
    assert.equal(forced.guard?.destructive, true);

    p = runbookProgress(rb, m, ['down', 'create-md']);
    assert.equal(p.guard?.command, 'drbd-agent attach r0');
    const NEW = '0000000000000004';
    m = apply(m, 1, `${T} create resource name:r0 role:Secondary`, `${T} create device name:r0 volume:0 minor:1 disk:Inconsistent`, `${T} create connection name:r0 peer-node-id:0 conn-name:ha-a connection:StandAlone role:Unknown`);
    m = apply(m, 1, `${T} change device name:r0 volume:0 minor:1 current-uuid:${NEW}`);
    p = runbookProgress(rb, m, ['down', 'create-md', 'attach']);
    assert.equal(p.guard?.command, 'drbd-agent connect r0');
    const direction = p.checks.find((c) => /the sync will run/.test(c.text))!;
    assert.ok(direction, JSON.stringify(p.checks));
    assert.match(direction.text, /^the sync will run ha-a → ha-b/);

    m = apply(
      m,
      1,
      `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:Connected role:Primary`,
      `${T} create peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 replication:SyncTarget peer-disk:UpToDate out-of-sync:1024`,
    );
    // `attach` undid `down`'s visible state: the completed list keeps the runbook moving forward.
    p = runbookProgress(rb, m, ['down', 'create-md', 'attach', 'connect']);
    assert.equal(rb.steps[p.next!]!.id, 'sync');
    assert.equal(p.guard, undefined);
    assert.equal(p.ready, false);
    assert.equal(p.finishable, false);
    assert.match(p.checks.find((c) => !c.ok)!.reason!, /Inconsistent \(SyncTarget\): do not promote ha-b/);

    m = apply(m, 1, `${T} change device name:r0 volume:0 minor:1 disk:UpToDate`, `${T} change peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 replication:Established`);
    p = runbookProgress(rb, m, ['down', 'create-md', 'attach', 'connect']);
    assert.equal(rb.steps[p.next!]!.id, 'failback-stop-target');
    assert.equal(p.finishable, true, 'the failback is optional');
  });

  test('nothing serves: the survivor is promoted and its target started before anything touches the broken side', () => {
    let m = loadScenario('healthy');
    m = apply(m, 0, `${T} change target name:r0 state:stopped`, `${T} change resource name:r0 role:Secondary`, `${T} change device name:r0 volume:0 minor:0 disk:Failed`);
    m = apply(m, 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a role:Secondary`);
    assert.ok(applicableRunbooks(m, 'r0').some((c) => c.id === 'disk-replacement' && c.host === 0));
    const rb = buildRunbook(m, 'disk-replacement', 'r0', 0);
    const p = runbookProgress(rb, m, []);
    assert.equal(rb.steps[p.next!]!.id, 'survivor-promote');
    assert.equal(p.guard?.command, 'drbd-agent primary r0');
    assert.equal(p.guard?.hostName, 'ha-b');
  });

  test('refused on the only good copy', () => {
    const m = loadScenario('outdated-peer');
    const p = runbookProgress(buildRunbook(m, 'disk-replacement', 'r0', 0), m, []);
    assert.equal(p.ready, false);
  });
});

describe('runbooks: split brain', () => {
  test('victim ha-a (Primary): stop target, secondary, connect --discard-my-data; then the survivor connects', () => {
    let m = loadScenario('split-brain');
    const rb = buildRunbook(m, 'split-brain', 'r0', 0);
    assert.match(rb.title, /discard ha-a's changes \(8192 KiB\)/);
    let p = runbookProgress(rb, m, []);
    // no target in this fixture: its step is already done
    assert.equal(rb.steps[p.next!]!.id, 'victim-secondary');
    assert.equal(p.guard?.command, 'drbd-agent secondary r0');
    assert.equal(p.ready, true, JSON.stringify(p.checks));

    m = apply(m, 0, `${T} change resource name:r0 role:Secondary`);
    p = runbookProgress(rb, m, ['victim-secondary']);
    assert.equal(p.guard?.command, 'drbd-agent connect --discard-my-data r0');
    assert.equal(p.guard?.destructive, true);
    assert.equal(p.ready, true, JSON.stringify(p.checks));
    assert.deepEqual(agentRequest(p.guard!.action, 'r0').params, { resource: 'r0', discardMyData: true });

    m = apply(m, 0, `${T} change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting split-brain:no`);
    p = runbookProgress(rb, m, ['victim-secondary', 'victim-discard']);
    assert.equal(p.guard?.command, 'drbd-agent connect r0');
    assert.equal(p.guard?.hostName, 'ha-b');
    assert.equal(p.ready, true, JSON.stringify(p.checks));
  });

  test('the discard step is refused while the victim is still Primary', () => {
    const m = loadScenario('split-brain');
    const p = runbookProgress(buildRunbook(m, 'split-brain', 'r0', 0), m, ['victim-secondary']);
    assert.equal(p.ready, false);
    assert.ok(p.checks.some((c) => /must be Secondary/.test(c.reason ?? '')));
  });

  test('read-only console: nothing is ready', () => {
    const m = loadScenario('split-brain', { readOnly: true });
    assert.equal(runbookProgress(buildRunbook(m, 'split-brain', 'r0', 1), m, []).ready, false);
  });
});

describe('runbooks: failover, when the lost host returns', () => {
  test('optional from the moment service is restored; the rejoin connects it as Secondary after naming which way and how much it resyncs', () => {
    let m = powerLoss();
    const rb = buildRunbook(m, 'failover', 'r0', 0);
    assert.deepEqual(rb.steps.map((s) => s.id), ['confirm-down', 'promote', 'start-target', 'rejoin-wait', 'rejoin-secondary', 'rejoin-connect', 'rejoin-sync']);
    m = apply(m, 1, `${T} change resource name:r0 role:Primary`);
    let p = runbookProgress(rb, m, ['confirm-down', 'promote', 'start-target']);
    assert.equal(rb.steps[p.next!]!.id, 'rejoin-wait');
    assert.equal(p.finishable, true);
    assert.equal(p.blocker, undefined, 'waiting for a host to come back is no blocked wait');

    // ha-a is back, Secondary and StandAlone at the old generation; ha-b moved on past it.
    const back = pair(
      { up: true, r: { disk: 'UpToDate', current: X, conn: 'StandAlone' } },
      { up: true, r: { role: 'Primary', disk: 'UpToDate', current: Y, bitmap: X, history: [X], conn: 'StandAlone' } },
    );
    p = runbookProgress(rb, back, ['confirm-down', 'promote', 'start-target']);
    assert.equal(rb.steps[p.next!]!.id, 'rejoin-connect');
    assert.equal(p.guard?.command, 'drbd-agent connect r0');
    assert.equal(p.guard?.hostName, 'ha-a');
    assert.ok(p.ready, JSON.stringify(p.checks));
    assert.equal(p.checks.find((c) => /the sync will run/.test(c.text))!.text, 'the sync will run ha-b → ha-a: resync of the changed blocks');
    // What ha-b marked while ha-a was away: how much comes first, within the dialog's 76 columns.
    const marked = apply(back, 1, `${T} change peer-device name:r0 peer-node-id:0 conn-name:ha-a volume:0 out-of-sync:1024`);
    const amount = runbookProgress(rb, marked, ['confirm-down', 'promote', 'start-target']).checks.find((c) => /the sync will run/.test(c.text))!.text;
    assert.equal(amount, 'the sync will run ha-b → ha-a: 1.0 MiB that ha-a missed (out of sync on ha-b), resync of the changed blocks');
    assert.ok(`✓ ${amount}`.indexOf('missed') < 76, amount);

    // Back with r0 down (not started at its boot): the wait says so and attaches it on Enter, without connecting.
    const downThere = pair({ up: true, notUp: 'down' }, { up: true, r: { role: 'Primary', disk: 'UpToDate', current: Y, bitmap: X, history: [X], conn: 'Connecting' } });
    p = runbookProgress(rb, downThere, ['confirm-down', 'promote', 'start-target']);
    assert.equal(rb.steps[p.next!]!.id, 'rejoin-wait');
    assert.match(p.blocker?.reason ?? '', /^r0 is down on ha-a: attach it/);
    assert.equal(p.unblock?.command, 'drbd-agent attach r0');
    assert.equal(p.unblock?.hostName, 'ha-a');
    assert.ok(p.unblock?.allowed, JSON.stringify(p.unblock?.checks));
    assert.equal(runbookProgress(rb, powerLoss(), ['confirm-down', 'promote', 'start-target']).blocker, undefined, 'still away: nothing to attach yet');

    // Both wrote: the rejoin stops before connecting.
    const diverged = pair({ up: true, r: { disk: 'UpToDate', current: G, history: [X], conn: 'StandAlone' } }, { up: true, r: { role: 'Primary', disk: 'UpToDate', current: Y, bitmap: X, history: [X], conn: 'StandAlone' } });
    p = runbookProgress(rb, diverged, ['confirm-down', 'promote', 'start-target']);
    assert.equal(p.ready, false);
    assert.match(p.checks.find((c) => !c.ok)!.reason!, /split brain.*stop here/);
  });
});
