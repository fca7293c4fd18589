// The seed article's disaster with the survivor still down: ha-a comes back with a blank disk,
// ha-b is unreachable, and ha-a's agent remembers ha-b UpToDate. No guard, problem or
// suggestion may treat ha-b as holding nothing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { knownDisk, resourceRows } from '../../../src/cluster/model.js';
import { checkAction } from '../../../src/cluster/guards.js';
import { deriveProblems } from '../../../src/cluster/problems.js';
import { blankSurvivor } from './pair-fixtures.js';

describe('last known state of a host out of sight', () => {
  test('the model knows ha-b UpToDate from ha-a agent memory, dated', () => {
    const row = resourceRows(blankSurvivor())[0]!;
    assert.deepEqual(knownDisk(row, 1), { disk: 'UpToDate', stale: true, seen: '2026-12-07T01:02:00.000Z' });
    assert.deepEqual(knownDisk(row, 0), { disk: 'Inconsistent', stale: false });
  });

  test('promote on the blank node suggests no force; force-primary is refused, naming ha-b', () => {
    const m = blankSurvivor();
    const p = checkAction(m, 'promote', 'r0', 0);
    assert.equal(p.allowed, false);
    assert.notEqual(p.suggestion?.action, 'force-primary');
    const f = checkAction(m, 'force-primary', 'r0', 0);
    assert.equal(f.allowed, false);
    assert.match(f.checks.find((c) => !c.ok)!.reason!, /ha-b has UpToDate data of r0\/0 \(last known, seen 2026-12-07T01:02:00.000Z; ha-b is out of sight, not without data\): promote it instead/);
  });

  test('problems: not "no UpToDate copy anywhere", but the only copy is out of sight', () => {
    const ps = deriveProblems(blankSurvivor());
    assert.ok(!ps.some((p) => p.id.startsWith('no-uptodate')), JSON.stringify(ps));
    const p = ps.find((x) => x.id === 'uptodate-out-of-sight:r0/0');
    assert.match(p?.text ?? '', /the only UpToDate copy of r0\/0 is on ha-b \(last known, seen 2026-12-07T01:02:00.000Z\), out of sight/);
  });
});
