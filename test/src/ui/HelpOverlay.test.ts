import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HELP_LINES, helpLines } from '../../../src/ui/HelpOverlay.js';
import { ACTION_KEYS } from '../../../src/ui/keys.js';

test('help: every key where the rows allow; otherwise how many are left out, and q always last', () => {
  const cases: Array<[number, number, boolean]> = [
    // rows, lines shown, cut
    [HELP_LINES.length + 5, HELP_LINES.length, false],
    [HELP_LINES.length, HELP_LINES.length, false],
    [HELP_LINES.length - 1, HELP_LINES.length - 1, true],
    [10, 10, true],
    [2, 2, true],
  ];
  for (const [rows, shown, cut] of cases) {
    const l = helpLines(rows);
    assert.equal(l.length, shown, `rows ${rows}`);
    assert.equal(l.at(-1)![0], 'q', `rows ${rows}: q last`);
    const more = l.find(([k]) => k === '…');
    assert.equal(more !== undefined, cut, `rows ${rows}`);
    if (more) assert.equal(more[1], `${HELP_LINES.length - l.length + 1} more: a taller terminal shows them`);
  }
});

test('help: 22 lines, what a 30-row terminal has room for', () => {
  assert.ok(HELP_LINES.length <= 22, `${HELP_LINES.length} lines`);
});

test('help: every action key is listed', () => {
  const listed = new Set(HELP_LINES.flatMap(([k]) => k.split(/\s+/)));
  for (const key of Object.keys(ACTION_KEYS)) assert.ok(listed.has(key), `${key} (${ACTION_KEYS[key]!.does}) is not in the help`);
});
