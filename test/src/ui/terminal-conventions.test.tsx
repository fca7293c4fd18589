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
    const marked = h.text().split('\n').filter((x) => /^[✖▲•] \S/.test(x));
    assert.ok(marked.length > 0, 'problem lines carry their severity mark, not colour alone');
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

describe('/ filters the resource table', () => {
  test('typing narrows the table at once, Enter keeps the filter, Esc clears it', async () => {
    h = await renderApp(loadScenario('healthy'));
    await h.press('/', 'r', '1');
    let t = h.text();
    assert.match(t, /^\/ r1 +· 1 hidden by filter/m);
    assert.doesNotMatch(t, /^r0\/0/m);
    assert.match(t, /^r1\/0/m);
    assert.match(t, /⏎ keep filter Esc clear filter/);
    await h.press(KEY.enter);
    t = h.text();
    assert.match(t, /^\/ r1 +· 1 hidden by filter/m);
    assert.match(t, /p promote/, 'the usual keys again');
    await h.press('/', KEY.backspace, KEY.backspace, 'z');
    assert.match(h.text(), /no resource matches the filter/);
    await h.press(KEY.esc);
    t = h.text();
    assert.match(t, /^r0\/0/m);
    assert.doesNotMatch(t, /hidden by filter/);
  });

  test('the problems of hidden resources stay in the panel and are counted on the filter line', async () => {
    h = await renderApp(loadScenario('split-brain'));
    await h.press('/', 'n', 'o', 'n', 'e', KEY.enter);
    const t = h.text();
    assert.match(t, /SPLIT BRAIN on r0/);
    assert.match(t, /hidden by filter \(\d+ problems? among them\)/);
  });
});

describe('H hides the key hint bar', () => {
  test('H hides it, the table gets the line, H shows it again; ? still helps', async () => {
    h = await renderApp(loadScenario('healthy'), { height: 30 });
    assert.match(h.text().split('\n').at(-1)!, /p promote/);
    await h.press('H');
    assert.doesNotMatch(h.text(), /p promote/);
    await h.press('?');
    assert.match(h.text(), /hide the key bar/);
    await h.press(KEY.esc, 'H');
    assert.match(h.text().split('\n').at(-1)!, /p promote/);
  });
});

describe('the help fits 80×30', () => {
  for (const theme of [{ color: true, unicode: true }, { color: false, unicode: false }]) {
    test(`? at 80×30 (unicode ${theme.unicode}): at most 30 lines, none wider than 80, every key listed`, async () => {
      h = await renderApp(loadScenario('healthy'), { width: 80, height: 30, theme });
      await h.press('?');
      const lines = h.text().replace(/\n$/, '').split('\n');
      assert.ok(lines.length <= 30, `${lines.length} lines`);
      for (const l of lines) assert.ok([...l].length <= 80, `wider than 80: ${l}`);
      assert.doesNotMatch(h.text(), /more: a taller terminal shows them/);
      assert.match(h.text(), /quit \(the agents/);
    });
  }
});
