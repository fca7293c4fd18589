import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceRows } from '../../../src/cluster/model.js';
import type { Problem } from '../../../src/cluster/problems.js';
import { filterRows, hiddenText } from '../../../src/ui/filter.js';
import { loadScenario } from '../cluster/fixtures.js';

const rows = resourceRows(loadScenario('healthy')); // r0/0, r1/0, r1/1

test('filter: substring of name/volume, case-insensitive; empty or blank shows all', () => {
  const cases: Array<[string, string[]]> = [
    ['', ['r0/0', 'r1/0', 'r1/1']],
    ['  ', ['r0/0', 'r1/0', 'r1/1']],
    ['r1', ['r1/0', 'r1/1']],
    ['R1', ['r1/0', 'r1/1']],
    ['/1', ['r1/1']],
    ['0', ['r0/0', 'r1/0']],
    ['nope', []],
  ];
  for (const [text, keys] of cases) assert.deepEqual(filterRows(rows, text).map((r) => r.key), keys, JSON.stringify(text));
});

test('filter: what it hides, with the problems of resources out of sight', () => {
  const p = (resource: string): Problem => ({ severity: 'alert', id: `x:${resource}`, resource, text: 'x' });
  const cases: Array<[string, Problem[], string]> = [
    ['', [p('r0')], ''],
    ['r1', [], '1 hidden by filter'],
    ['r1', [p('r0')], '1 hidden by filter (1 problem among them)'],
    ['nope', [p('r0'), p('r1')], '3 hidden by filter (2 problems among them)'],
    // r1/0 hidden but r1/1 shown: r1's problem is in sight.
    ['/1', [p('r1')], '2 hidden by filter'],
  ];
  for (const [text, problems, want] of cases) assert.equal(hiddenText(rows, filterRows(rows, text), problems), want, text);
});
