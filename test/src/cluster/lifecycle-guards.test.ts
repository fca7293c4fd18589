import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkAction, MSG, syncToggle, type GuardResult } from '../../../src/cluster/guards.js';
import { confirmationText } from '../../../src/ui/text-entry.js';
import { inSync, pair, X, Y } from './pair-fixtures.js';
import { loadScenario } from './fixtures.js';

const reasons = (g: GuardResult) => g.checks.filter((c) => !c.ok).map((c) => c.reason);

describe('guards: verify', () => {
  test('connected, idle, both UpToDate: allowed, not destructive', () => {
    const g = checkAction(inSync(), 'verify', 'r0', 0);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.destructive, false);
  });
  test('refused while disconnected, while syncing, and on an Outdated copy', () => {
    assert.match(reasons(checkAction(inSync('Secondary', { conn: 'Connecting', repl: 'Off' }), 'verify', 'r0', 0))[0]!, /Need a connection to start verify or resync/);
    assert.deepEqual(reasons(checkAction(inSync('Secondary', { repl: 'SyncSource' }), 'verify', 'r0', 0)), ['volume 0 is SyncSource']);
    assert.deepEqual(reasons(checkAction(inSync('Secondary', { peerDisk: 'Outdated' }), 'verify', 'r0', 0)), ['verify compares two UpToDate copies (UpToDate/Outdated)']);
  });
});

describe('guards: invalidate', () => {
  test('a Secondary in sync: allowed, destructive (typed name), forecast a full resync onto it, no loss', () => {
    const g = checkAction(inSync('Primary'), 'invalidate', 'r0', 1);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.destructive, true);
    assert.equal(confirmationText(g), 'r0');
    assert.deepEqual(g.forecast, ['r0/0: on connect ha-a → ha-b, full resync of the whole volume']);
    assert.equal(g.loss, undefined, 'ha-a holds everything ha-b has');
  });
  test('a copy the other does not contain: the loss line names it', () => {
    const g = checkAction(inSync('Primary', { current: Y }), 'invalidate', 'r0', 1);
    assert.equal(g.loss?.length, 1);
    assert.match(g.loss![0]!, /^ha-b's .*generation 0537EC29… will be overwritten by ha-a's data \(generation 7A1B2C3D…\)$/);
  });
  test('refused on the Primary, and without an UpToDate peer (DRBD wording)', () => {
    assert.deepEqual(reasons(checkAction(inSync('Primary'), 'invalidate', 'r0', 0)), ['Refusing to invalidate a Primary: demote it first (secondary)']);
    assert.deepEqual(reasons(checkAction(inSync('Secondary', { peerDisk: 'Outdated' }), 'invalidate', 'r0', 0)), [`${MSG.needUpToDate}: ha-b's is Outdated`]);
  });
});

describe('guards: pause / resume sync', () => {
  test('z picks resume on a paused resync, pause otherwise; each refused when it does not apply', () => {
    const running = inSync('Primary', { repl: 'SyncSource' }, { repl: 'SyncTarget', disk: 'Inconsistent' });
    const paused = inSync('Primary', { repl: 'PausedSyncS' }, { repl: 'PausedSyncT', disk: 'Inconsistent' });
    assert.equal(syncToggle(running, 'r0', 0), 'pause-sync');
    assert.equal(syncToggle(paused, 'r0', 0), 'resume-sync');
    assert.equal(checkAction(running, 'pause-sync', 'r0', 0).allowed, true);
    assert.equal(checkAction(paused, 'resume-sync', 'r0', 1).allowed, true);
    assert.deepEqual(reasons(checkAction(paused, 'pause-sync', 'r0', 0)), ['already paused']);
    assert.deepEqual(reasons(checkAction(inSync(), 'pause-sync', 'r0', 0)), ['No resync in progress']);
  });
});

describe('guards: attach, detach, down', () => {
  test('attach is up without connecting: only where the resource is down', () => {
    const m = pair({ up: true }, { up: true, r: { disk: 'UpToDate', current: X } });
    assert.equal(checkAction(m, 'attach', 'r0', 0).allowed, true);
    assert.deepEqual(reasons(checkAction(m, 'attach', 'r0', 1)), ['already up']);
  });
  test('detach of a Primary without a peer: allowed, confirmed by name; of a Secondary: ordinary', () => {
    const alone = pair({ up: true, r: { role: 'Primary', disk: 'UpToDate', current: X, conn: 'Connecting' } }, { up: false });
    const g = checkAction(alone, 'detach', 'r0', 0);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.equal(g.destructive, true);
    assert.ok(g.checks.some((c) => /served by no node/.test(c.text)));
    const sec = checkAction(inSync('Primary'), 'detach', 'r0', 1);
    assert.equal(sec.allowed, true);
    assert.equal(sec.destructive, false);
    assert.equal(checkAction(inSync('Primary'), 'down', 'r0', 0).destructive, false, 'a connected UpToDate peer can take over, no target runs');
  });
});

describe('guards: adjust and resize', () => {
  test('adjust applies up or down', () => {
    assert.equal(checkAction(inSync(), 'adjust', 'r0', 0).allowed, true);
    assert.equal(checkAction(pair({ up: true }, { up: true, r: { disk: 'UpToDate', current: X } }), 'adjust', 'r0', 0).allowed, true);
    assert.equal(checkAction(pair({ up: false }, { up: true, r: { disk: 'UpToDate', current: X } }), 'adjust', 'r0', 0).allowed, false);
  });
  test('resize needs the pair connected, idle and UpToDate, and says the size now', () => {
    const g = checkAction(inSync('Primary'), 'resize', 'r0', 0);
    assert.equal(g.allowed, true, JSON.stringify(g.checks));
    assert.ok(g.checks.some((c) => c.text === 'r0/0 UpToDate on both hosts (128.0 MiB now)'), JSON.stringify(g.checks));
    assert.match(reasons(checkAction(inSync('Primary', { conn: 'Connecting', repl: 'Off' }), 'resize', 'r0', 0))[0]!, /Need a connection/);
    assert.deepEqual(reasons(checkAction(inSync('Primary', { repl: 'VerifyS' }), 'resize', 'r0', 0)), ['volume 0 is VerifyS']);
  });
  test('read-only consoles are refused every lifecycle verb', () => {
    const ro = loadScenario('healthy', { readOnly: true });
    for (const a of ['attach', 'detach', 'verify', 'invalidate', 'pause-sync', 'resume-sync', 'adjust', 'resize'] as const) assert.equal(checkAction(ro, a, 'r0', 1).allowed, false, a);
  });
});
