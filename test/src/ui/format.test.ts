import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { clockOf, fit, fmtEta, fmtKiB, progressBar, sparkline, truncate } from '../../../src/ui/format.js';
import { overviewBudget, tableColumns, hostBlockWidth } from '../../../src/ui/layout.js';
import { stateStyle } from '../../../src/ui/colors.js';

describe('formatters', () => {
  test('fit and truncate never exceed the width', () => {
    assert.equal(fit('Inconsistent', 12), 'Inconsistent');
    assert.equal(fit('NetworkFailure', 11), 'NetworkFai…');
    assert.equal(fit('ab', 4), 'ab  ');
    assert.equal(truncate('abcdef', 3), 'ab…');
    assert.equal(truncate('abc', 0), '');
  });

  test('progress bar, sparkline, ETA, sizes, clock', () => {
    assert.equal(progressBar(50, 12), '[█████░░░░░]');
    assert.equal(progressBar(150, 4), '[██]');
    assert.equal(sparkline([0, 1, 2, 4], 4), '▁▃▅█');
    assert.equal(sparkline([0, 0], 2), '▁▁');
    assert.equal(sparkline([1, 2, 3, 4, 5], 2), '▇█');
    assert.equal(fmtEta(10), '10s');
    assert.equal(fmtEta(125), '2m05s');
    assert.equal(fmtEta(7260), '2h01m');
    assert.equal(fmtKiB(393216), '384.0 MiB');
    assert.equal(fmtKiB(1048576), '1.00 GiB');
    assert.equal(clockOf('2026-11-22T03:58:12.000000+00:00'), '03:58:12');
    assert.equal(clockOf(''), '--:--:--');
  });

  test("DRBD's palette", () => {
    assert.deepEqual(stateStyle('Primary'), { color: 'cyan' });
    assert.deepEqual(stateStyle('UpToDate'), { color: 'green' });
    assert.deepEqual(stateStyle('Consistent'), { bold: true });
    for (const w of ['Inconsistent', 'Outdated', 'StandAlone', 'Connecting', 'SyncSource', 'SyncTarget', 'PausedSyncT']) assert.deepEqual(stateStyle(w), { color: 'red' }, w);
    assert.deepEqual(stateStyle('Secondary'), {});
  });
});

describe('layout', () => {
  test('80 columns: two host blocks and a name column fill exactly 80', () => {
    const c = tableColumns(80, 4);
    assert.equal(c.peerDisk, 0);
    assert.equal(c.name + 2 * hostBlockWidth(c) + 1, 80);
  });

  test('wide terminals get the peer-disk column and a longer name column', () => {
    const c = tableColumns(140, 12);
    assert.equal(c.peerDisk, 12);
    assert.equal(c.name, 13);
    assert.ok(c.name + 2 * hostBlockWidth(c) + 1 <= 140);
  });

  test('the vertical budget never exceeds the height', () => {
    for (const height of [10, 24, 50]) {
      for (const tableLines of [2, 5, 40]) {
        for (const problems of [0, 3, 30]) {
          const b = overviewBudget(height, tableLines, problems, { toast: true });
          const used = 2 + 1 + b.table + 1 + b.problems + (b.events > 0 ? b.events + 1 : 0);
          assert.ok(used <= Math.max(height, 6), `${height}/${tableLines}/${problems}: ${JSON.stringify(b)}`);
        }
      }
    }
  });
});
