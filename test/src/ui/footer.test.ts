import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fittingKeys, footerKeys, footerText } from '../../../src/ui/Footer.js';
import { initialUiState, type UiState } from '../../../src/ui/state.js';

const views: Array<[string, UiState]> = [
  ['overview', initialUiState],
  ['detail', { ...initialUiState, view: 'detail' }],
  ['log', { ...initialUiState, view: 'log' }],
  ['help', { ...initialUiState, overlay: { kind: 'help' } }],
];

describe('footer', () => {
  test('fits the width in every view, and keeps the way to help', () => {
    for (const width of [40, 60, 80, 100, 200]) {
      for (const [name, s] of views) {
        const t = footerText(s, width);
        assert.ok([...t].length <= width, `${name} at ${width}: '${t}'`);
        if (name !== 'help' && width >= 40) assert.match(t, /\? help/, `${name} at ${width}: '${t}'`);
      }
    }
  });

  test('at 80 columns the overview shows the action keys, host switch, help and quit', () => {
    const t = footerText(initialUiState, 80);
    for (const k of ['p promote', 's demote', 'Tab host', 'c/d (dis)connect', 't target', 'r runbooks', '? help', 'q quit']) assert.ok(t.includes(k), `'${k}' in '${t}'`);
    assert.match(footerText({ ...initialUiState, view: 'detail' }, 80), /Esc back \? help$/);
  });

  test('wide terminals show every key in the listed order', () => {
    const all = footerKeys(initialUiState);
    assert.deepEqual(fittingKeys(all, 500), [...all.filter((k) => !k[2]), ...all.filter((k) => k[2])]);
  });
});
