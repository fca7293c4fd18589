// The set-up runbook over pair fixtures: offered only where nothing was ever written, each
// step's guard on the live state, the initial sync source chosen with its consequence, and
// the skip (Tab) refused wherever a disk is not blank.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAction } from '../../../src/cluster/guards.js';
import { applicableRunbooks, buildRunbook, neverHeldData, runbookProgress, stepGuard } from '../../../src/runbooks/runbooks.js';
import { blankSurvivor, pair, X, type Spec } from '../cluster/pair-fixtures.js';

const NEW = '0000000000000004';
const fresh = (conn = 'Connected'): Spec => ({ up: true, r: { disk: 'Inconsistent', current: NEW, conn, peerDisk: conn === 'Connected' ? 'Inconsistent' : 'DUnknown', repl: conn === 'Connected' ? 'Established' : 'Off' } });
const ids = (m: ReturnType<typeof pair>) => applicableRunbooks(m, 'r0').map((c) => `${c.id}@${c.host}`);

describe('new-resource runbook', () => {
  test('offered once per possible sync source on a pair that never held data; never where data is or may be', () => {
    assert.deepEqual(ids(pair(fresh(), fresh())), ['new-resource@0', 'new-resource@1']);
    assert.deepEqual(ids(pair(fresh('Connecting'), { up: true, notUp: 'metadata-missing' })), ['new-resource@0', 'new-resource@1'], 'ha-b without metadata yet: metadata and up come first');
    assert.deepEqual(ids(pair({ up: true, notUp: 'backing-disk-missing' }, { up: true, notUp: 'backing-disk-missing' })), ['new-resource@0', 'new-resource@1'], 'a file on both, no disk yet');
    assert.deepEqual(ids(pair(fresh('Connecting'), { up: true, notUp: 'down' })), [], 'valid metadata on ha-b, down: it may hold data');
    assert.deepEqual(ids(pair(fresh('Connecting'), { up: true, notUp: 'metadata-invalid' })), [], 'damaged metadata: the data may be intact');
    assert.equal(neverHeldData(blankSurvivor(), 'r0'), false, 'ha-b, out of sight, is remembered UpToDate');
    const written = pair({ up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerDisk: 'Inconsistent', repl: 'Established' } }, fresh());
    assert.ok(!ids(written).some((x) => x.startsWith('new-resource')), ids(written).join());
    assert.deepEqual(ids(pair(fresh(), { up: false })), [], 'both hosts must answer');
  });

  test('steps: create-md and up done where the resource is up; waits for Connected; the initial sync source is typed, its consequence named', () => {
    const half = pair(fresh('Connecting'), { up: true, notUp: 'metadata-missing' });
    const rb = buildRunbook(half, 'new-resource', 'r0', 0);
    assert.deepEqual(rb.steps.map((s) => s.id), ['create-md-0', 'create-md-1', 'up-0', 'up-1', 'connected', 'initial-sync', 'sync', 'promote', 'start-target']);
    const p = runbookProgress(rb, half, []);
    assert.equal(rb.steps[p.next!]!.id, 'create-md-1');
    assert.equal(p.guard?.command, 'drbd-agent create-md r0');
    assert.ok(p.guard?.allowed && !p.guard.destructive, JSON.stringify(p.guard?.checks));

    const m = pair(fresh(), fresh());
    const ready = buildRunbook(m, 'new-resource', 'r0', 0);
    const q = runbookProgress(ready, m, []);
    const step = ready.steps[q.next!]!;
    assert.equal(step.id, 'initial-sync');
    assert.match(step.consequence!, /ha-b's content \(128\.0 MiB\) is overwritten by ha-a's/);
    const g = stepGuard(m, ready, step)!;
    assert.equal(g.command, 'drbd-agent primary --force r0');
    assert.ok(g.allowed && g.destructive, JSON.stringify(g.checks));
    assert.deepEqual(g.forecast, ['r0/0: on connect ha-a → ha-b, full resync of the whole volume']);
    const skip = stepGuard(m, ready, step, true)!;
    assert.equal(skip.command, 'drbd-agent new-current-uuid --clear-bitmap r0');
    assert.ok(skip.allowed && skip.destructive);
    assert.ok(skip.checks.some((c) => /correct only if both disks are blank or identical/.test(c.text)));
  });

  test('skipping the initial sync is refused where a disk is not blank or the pair is not Connected', () => {
    const written = pair({ up: true, r: { disk: 'UpToDate', current: X, conn: 'Connected', peerDisk: 'Inconsistent', repl: 'Established' } }, fresh());
    const g = checkAction(written, 'skip-initial-sync', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.match(g.checks.find((c) => !c.ok)!.reason!, /ha-a's r0\/0 is UpToDate, generation 0537EC29…: choose an initial sync source instead/);
    const apart = checkAction(pair(fresh('Connecting'), fresh('Connecting')), 'skip-initial-sync', 'r0', 0);
    assert.match(apart.checks.find((c) => !c.ok)!.reason!, /ha-a is not Connected/);
  });
});
