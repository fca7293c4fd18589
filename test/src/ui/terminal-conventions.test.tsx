// NO_COLOR and --no-unicode on the real App: every fixture and the screens its keys open, as
// ink-testing-library renders them.
import './setup.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenario, SCENARIOS } from '../cluster/fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';
import type { Theme } from '../../../src/ui/theme.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

// SGR foreground/background colours: 30–39, 40–49 (with 38/48 extended), 90–97, 100–107.
// eslint-disable-next-line no-control-regex
const COLOUR = /\u001B\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m/;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/** The screens to look at: the overview, then what keys open from it. */
const SCREENS: Array<[string, string[]]> = [
  ['overview', []],
  ['help', ['?']],
  ['detail', [KEY.enter]],
  ['event log', ['e']],
  ['confirm', ['p']],
  ['destructive confirm', ['F']],
  ['runbook menu', ['r']],
  ['filter', ['/', 'r']],
];

async function each(theme: Theme, check: (frame: string, what: string) => void): Promise<void> {
  for (const s of SCENARIOS) {
    for (const [name, keys] of SCREENS) {
      h = await renderApp(loadScenario(s), { width: 80, height: 24, theme });
      await h.press(...keys);
      check(h.frame(), `${s}, ${name}`);
      await h.unmount();
      h = undefined;
    }
  }
}

describe('terminal conventions', () => {
  test('NO_COLOR: no colour escape on any screen; bold, inverse and the words stay', async () => {
    await each({ color: false, unicode: true }, (f, what) => assert.doesNotMatch(f, COLOUR, `${what}:\n${JSON.stringify(f)}`));
  });

  test('NO_COLOR: the split brain banner is inverse video, and each problem has its severity mark', async () => {
    h = await renderApp(loadScenario('split-brain'), { theme: { color: false, unicode: true } });
    const line = h.frame().split('\n').find((l) => l.includes('SPLIT BRAIN'))!;
    assert.ok(line.includes('\u001B[7m'), 'inverse');
    for (const l of h.text().split('\n').filter((x) => /^[✖▲•] /.test(x))) assert.match(l, /^[✖▲•] \S/);
    assert.match(h.text(), /problems: 1 alert/);
  });

  test('--no-unicode: every screen is pure ASCII, borders included', async () => {
    await each({ color: true, unicode: false }, (f, what) => assert.match(f, ASCII, `${what}:\n${f}`));
  });

  test('--no-unicode: the sync bar is [###...] and the dialogs have +-| borders', async () => {
    h = await renderApp(loadScenario('initial-sync'), { theme: { color: false, unicode: false } });
    assert.match(h.text(), /> ha-a>ha-b \[#+\.+\] 62\.50%/);
    await h.press('?');
    assert.match(h.text(), /\+-{10,}\+/);
    assert.match(h.text(), /\| keys/);
    assert.match(h.text(), /Up Dn {2}j k/);
  });
});
