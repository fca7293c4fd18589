import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { checkAction, MSG, READ_ONLY_REASON, refusal, targetToggle, type GuardResult } from '../../../src/cluster/guards.js';
import { agentRequest, type ActionKind } from '../../../src/cluster/actions.js';
import { loadScenario } from './fixtures.js';

function apply(m: ClusterModel, host: HostIndex, ...lines: string[]): ClusterModel {
  for (const l of lines) m = applyHostEvent(m, host, parseEventLine(l)!);
  return m;
}
const reasons = (g: GuardResult) => g.checks.filter((c) => !c.ok).map((c) => c.reason);

/** Both nodes freshly created and connected, nobody Primary: the state before the initial sync. */
function fresh(): ClusterModel {
  let m = loadScenario('initial-sync');
  for (const h of [0, 1] as const) {
    m = apply(
      m,
      h,
      'change resource name:r0 role:Secondary',
      'change device name:r0 volume:0 minor:1 disk:Inconsistent',
      `change connection name:r0 peer-node-id:${1 - h} conn-name:${h ? 'ha-a' : 'ha-b'} role:Secondary`,
      `change peer-device name:r0 peer-node-id:${1 - h} conn-name:${h ? 'ha-a' : 'ha-b'} volume:0 replication:Established peer-disk:Inconsistent`,
    );
  }
  return m;
}

describe('guards: promote', () => {
  test('healthy Secondary while the peer is Primary: refused with DRBD wording', () => {
    const g = checkAction(loadScenario('healthy'), 'promote', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.equal(g.command, 'drbd-agent primary r0');
    assert.equal(g.hostName, 'ha-b');
    assert.equal(g.destructive, false);
    assert.deepEqual(reasons(g), [MSG.multiplePrimaries]);
  });

  test('after a clean demote of the peer, promote is allowed', () => {
    let m = loadScenario('healthy');
    m = apply(m, 0, 'change resource name:r0 role:Secondary');
    m = apply(m, 1, 'change connection name:r0 peer-node-id:0 conn-name:ha-a role:Secondary');
    const g = checkAction(m, 'promote', 'r0', 1);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.ok(g.checks.every((c) => c.ok));
  });

  test('already Primary is refused', () => {
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'promote', 'r0', 0)), ['already Primary']);
  });

  test('trap: Inconsistent node (fresh disks) — refused; force suggested as destructive since nothing better exists', () => {
    const g = checkAction(fresh(), 'promote', 'r0', 0);
    assert.equal(g.allowed, false);
    assert.deepEqual(reasons(g), [`${MSG.needUpToDate} (disk is Inconsistent)`]);
    assert.equal(g.suggestion?.action, 'force-primary');
    const f = checkAction(fresh(), 'force-primary', 'r0', 0);
    assert.equal(f.allowed, true, JSON.stringify(f.checks));
    assert.equal(f.destructive, true);
    assert.equal(f.command, 'drbd-agent primary --force r0');
  });

  test('trap: SyncTarget mid-sync — refused, and force refused because the source has UpToDate data', () => {
    const m = loadScenario('initial-sync');
    const g = checkAction(m, 'promote', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.ok(reasons(g).includes(`${MSG.needUpToDate} (disk is Inconsistent)`));
    assert.notEqual(g.suggestion?.action, 'force-primary');
    const f = checkAction(m, 'force-primary', 'r0', 1);
    assert.equal(f.allowed, false);
    assert.ok(reasons(f).some((r) => /ha-a has UpToDate data/.test(r!)));
  });

  test('trap: Outdated node while the Primary lives — refused, no force suggestion, force refused', () => {
    const m = loadScenario('outdated-peer');
    const g = checkAction(m, 'promote', 'r0', 1);
    assert.deepEqual(reasons(g), [MSG.multiplePrimaries, `${MSG.needUpToDate} (disk is Outdated)`]);
    assert.equal(g.suggestion, undefined);
    assert.equal(checkAction(m, 'force-primary', 'r0', 1).allowed, false);
  });

  test('trap: Outdated node after the UpToDate Primary died — the Primary is out of sight, not without data: no force', () => {
    const m = setReachability(loadScenario('outdated-peer'), 0, { state: 'unreachable', error: 'no route to host' });
    const g = checkAction(m, 'promote', 'r0', 1);
    assert.deepEqual(reasons(g), [`${MSG.needUpToDate} (disk is Outdated)`]);
    assert.equal(g.suggestion?.action, undefined, 'ha-a cannot be promoted from here');
    assert.match(g.suggestion?.text ?? '', /^ha-a has UpToDate data \(last known; ha-a is out of sight, not without data\): bring ha-a back first, then promote it$/);
    const f = checkAction(m, 'force-primary', 'r0', 1);
    assert.equal(f.allowed, false);
    assert.match(refusal(f) ?? '', /ha-a has UpToDate data of r0\/0 \(last known; ha-a is out of sight, not without data\): promote it instead/);
  });

  test('trap: peer still Primary across a cut link — refused ("peer is not outdated")', () => {
    const g = checkAction(loadScenario('peer-down'), 'promote', 'r0', 1);
    assert.deepEqual(reasons(g), [MSG.multiplePrimaries, MSG.peerNotOutdated]);
  });

  test('failover: peer host gone, survivor UpToDate — allowed, with the gone host\'s name typed and the split brain named', () => {
    const m = setReachability(loadScenario('peer-down'), 0, { state: 'unreachable', error: 'timeout' });
    const g = checkAction(m, 'promote', 'r0', 1);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.typeToConfirm, 'ha-a', 'unreachable is not down: the operator vouches for it');
    assert.ok(g.checks.some((c) => c.text.includes('if ha-a is alive and its clients write, this makes a split brain')));
    const seen = setReachability(loadScenario('healthy'), 0, { state: 'unreachable', error: 'timeout' });
    assert.equal(checkAction(seen, 'promote', 'r0', 1).typeToConfirm, undefined, 'still connected to ha-a: the engine sees it, nothing to vouch for');
  });

  test('split brain pending: promote refused', () => {
    const g = checkAction(loadScenario('split-brain'), 'promote', 'r0', 1);
    assert.ok(reasons(g).includes('split brain: resolve it with the runbook first'));
  });
});

describe('guards: demote, connect, disconnect, target, create-md', () => {
  test('demote a Primary with no initiators: allowed', () => {
    const g = checkAction(loadScenario('healthy'), 'demote', 'r0', 0);
    assert.equal(g.allowed, true);
    assert.equal(g.command, 'drbd-agent secondary r0');
  });

  test('trap: demote while initiators are logged in — "Device is held open by someone"', () => {
    const g = checkAction(loadScenario('primary-iscsi'), 'demote', 'r0', 0);
    assert.equal(g.allowed, false);
    assert.equal(refusal(g), `${MSG.heldOpen}: 2 iSCSI sessions (iqn.1991-05.com.microsoft:win-fs01, iqn.2008-11.org.linux-kvm:vm-db01)`);
    assert.equal(g.suggestion?.action, 'target-stop');
  });

  test('demote a Secondary is refused', () => {
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'demote', 'r0', 1)), ['already Secondary']);
  });

  test('connect: StandAlone may connect; Connected refused; split brain points at discard-my-data on a Secondary, the runbook on the Primary', () => {
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'connect', 'r0', 0)), ['already connected']);
    const g = checkAction(loadScenario('split-brain'), 'connect', 'r0', 0);
    assert.equal(g.allowed, true);
    assert.equal(g.suggestion?.action, undefined, 'the Primary cannot discard its data');
    assert.match(g.suggestion?.text ?? '', /split-brain runbook \(r\)/);
    assert.equal(checkAction(loadScenario('split-brain'), 'connect', 'r0', 1).suggestion?.action, 'discard-my-data');
    assert.equal(checkAction(loadScenario('outdated-peer'), 'connect', 'r0', 1).allowed, true);
  });

  test('discard-my-data: destructive, only on a Secondary victim', () => {
    const m = loadScenario('split-brain');
    const victim = checkAction(m, 'discard-my-data', 'r0', 1);
    assert.equal(victim.allowed, true, JSON.stringify(victim.checks));
    assert.equal(victim.destructive, true);
    assert.equal(victim.command, 'drbd-agent connect --discard-my-data r0');
    assert.ok(reasons(checkAction(m, 'discard-my-data', 'r0', 0)).includes('the victim must be Secondary: demote it first'));
  });

  test('disconnect: allowed while connected, refused when StandAlone', () => {
    const g = checkAction(loadScenario('healthy'), 'disconnect', 'r0', 0);
    assert.equal(g.allowed, true);
    assert.ok(g.checks.some((c) => /ha-b will be marked Outdated/.test(c.text)));
    assert.deepEqual(reasons(checkAction(loadScenario('split-brain'), 'disconnect', 'r0', 0)), ['already StandAlone']);
  });

  test('target: t toggles; start only on the Primary; stop warns about sessions', () => {
    const m = loadScenario('primary-iscsi');
    assert.equal(targetToggle(m, 'r0', 0), 'target-stop');
    assert.equal(targetToggle(m, 'r0', 1), 'target-start');
    const stop = checkAction(m, 'target-stop', 'r0', 0);
    assert.equal(stop.allowed, true);
    assert.equal(stop.command, 'drbd-agent target stop r0');
    // Dropping sessions is a warning, never a passed check.
    assert.deepEqual(stop.warnings, ['2 initiator sessions will be dropped: iqn.1991-05.com.microsoft:win-fs01, iqn.2008-11.org.linux-kvm:vm-db01']);
    assert.ok(stop.checks.every((c) => !/dropped/.test(c.text)));
    assert.deepEqual(reasons(checkAction(m, 'target-start', 'r0', 1)), ['the target runs on the Primary only']);
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'target-start', 'r0', 0)), ['already running']);
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'target-start', 'r1', 0)), ['no iscsi section in the resource file']);
    const svc = (held: boolean) => parseEventLine(`change target name:r0 service-address:10.77.0.100/24 service-interface:eth0 service-held:${held ? 'yes' : 'no'}`)!;
    const stopped = applyHostEvent(loadScenario('healthy'), 0, parseEventLine('change target name:r0 state:stopped')!);
    assert.deepEqual(reasons(checkAction(applyHostEvent(applyHostEvent(stopped, 0, svc(false)), 1, svc(true)), 'target-start', 'r0', 0)), ['ha-b holds 10.77.0.100/24: stop its target first']);
    assert.deepEqual(reasons(checkAction(applyHostEvent(applyHostEvent(stopped, 0, svc(false)), 1, svc(false)), 'target-start', 'r0', 0)), []);
  });

  test('create-md --force: refused on an attached disk or the last good copy; allowed for a replaced disk', () => {
    const m = loadScenario('healthy');
    assert.deepEqual(reasons(checkAction(m, 'create-md-force', 'r0', 1)), ['detach the disk (or take the resource down) first']);
    const replaced = apply(m, 1, 'change device name:r0 volume:0 minor:1 disk:Diskless');
    const g = checkAction(apply(replaced, 0, 'change peer-device name:r0 peer-node-id:1 conn-name:ha-b volume:0 peer-disk:Diskless'), 'create-md-force', 'r0', 1);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.destructive, true);
    assert.equal(g.command, 'drbd-agent create-md --force r0');
    const wipeSurvivor = checkAction(replaced, 'create-md-force', 'r0', 0);
    assert.ok(reasons(wipeSurvivor).includes('wiping ha-a could destroy the last good copy'));
  });

  test('an unreachable host refuses every action on it', () => {
    const g = checkAction(loadScenario('unreachable'), 'demote', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.equal(refusal(g), 'ha-b is unreachable');
  });

  test('read-only refuses everything with the reason', () => {
    const m = loadScenario('healthy', { readOnly: true });
    const all: ActionKind[] = ['promote', 'demote', 'connect', 'disconnect', 'target-start', 'target-stop', 'force-primary', 'discard-my-data', 'create-md-force'];
    for (const a of all) {
      const g = checkAction(m, a, 'r0', 0);
      assert.equal(g.allowed, false, a);
      assert.deepEqual(reasons(g), [READ_ONLY_REASON], a);
    }
    assert.equal(READ_ONLY_REASON, 'read-only: started with --read-only');
  });

  test('unknown resource', () => {
    assert.deepEqual(reasons(checkAction(loadScenario('healthy'), 'promote', 'nope', 0)), ['no resource nope on either host']);
  });
});

describe('guards: down, up, create-md (runbook verbs)', () => {
  test('down on a Secondary is allowed; on the serving Primary confirmed by name (held open: refused); up only once down', () => {
    const m = loadScenario('healthy');
    const down = checkAction(m, 'down', 'r0', 1);
    assert.equal(down.allowed, true);
    assert.equal(down.command, 'drbd-agent down r0');
    assert.deepEqual(agentRequest('down', 'r0'), { method: 'down', params: { resource: 'r0' } });
    const primary = checkAction(m, 'down', 'r0', 0);
    assert.equal(primary.allowed, true, JSON.stringify(primary.checks));
    assert.equal(primary.destructive, true, 'its target runs: the volume is served by nobody afterwards');
    assert.deepEqual(reasons(checkAction(loadScenario('primary-iscsi'), 'down', 'r0', 0)), [`${MSG.heldOpen}: 2 iSCSI sessions (iqn.1991-05.com.microsoft:win-fs01, iqn.2008-11.org.linux-kvm:vm-db01)`]);
    assert.deepEqual(reasons(checkAction(m, 'up', 'r0', 1)), ['already up']);
    const gone = apply(m, 1, '2026-11-22T04:00:00.000000+00:00 destroy resource name:r0');
    assert.equal(checkAction(gone, 'up', 'r0', 1).allowed, true);
    assert.deepEqual(agentRequest('up', 'r0'), { method: 'up', params: { resource: 'r0' } });
  });

  test('create-md without --force is the same check, not destructive', () => {
    const gone = apply(loadScenario('healthy'), 1, '2026-11-22T04:00:00.000000+00:00 destroy resource name:r0');
    const g = checkAction(gone, 'create-md', 'r0', 1);
    assert.equal(g.allowed, true);
    assert.equal(g.destructive, false);
    assert.equal(g.command, 'drbd-agent create-md r0');
    assert.deepEqual(agentRequest('create-md', 'r0'), { method: 'create-md', params: { resource: 'r0' } });
    assert.equal(checkAction(gone, 'create-md-force', 'r0', 1).destructive, true);
  });
});
