// The row and the detail view of a host the console cannot see: its last known role and disk
// with their age, never the link state it had when it was last heard ("Connected").
import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setHeard, setReachability } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';
import { blankSurvivor, SEEN } from '../cluster/pair-fixtures.js';
import { renderApp, type Harness } from './harness.js';

const MIN = 60_000;
const seen = Date.parse(SEEN);
let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});
const rowOf = (text: string) => text.split('\n').find((l) => l.startsWith('r0/0')) ?? '';

describe('a host out of sight on screen', () => {
  test('cut off from the console and from ha-a: its row says what it last was and how long ago, not Connected', async () => {
    const m = setReachability(setHeard(loadScenario('peer-down'), 1, seen), 1, { state: 'unreachable', error: 'connect ETIMEDOUT' });
    h = await renderApp(m, { now: seen + 4 * MIN });
    const row = rowOf(h.text());
    assert.match(row, /Secondary UpToDate +✖ 4 min ago/, row);
    assert.doesNotMatch(row.slice(row.indexOf('✖')), /Connected|Established/, 'no link state claimed for ha-b');
    await h.press('\r');
    assert.match(h.text(), /ha-b Secondary UpToDate 4 min ago, unreachable/);
    assert.doesNotMatch(h.text(), /ha-b Secondary UpToDate Connected/);
    assert.match(h.text(), /last seen by the console: GI C /, 'its generation, labelled as last seen');
  });

  test('seed disaster: ha-b down, known only from ha-a’s agent — "UpToDate 4 min ago", not "?"', async () => {
    h = await renderApp(blankSurvivor(), { now: seen + 4 * MIN + 30_000 });
    const row = rowOf(h.text());
    assert.match(row, /Primary +UpToDate +✖ 4 min ago/, row);
    await h.press('\r');
    assert.match(h.text(), /ha-b Primary UpToDate 4 min ago \(ha-a's agent remembers\), unreachable/);
  });

  test('out of sight of the console only: ha-a still connected to it tells its state now', async () => {
    h = await renderApp(loadScenario('unreachable'), { now: seen });
    assert.match(rowOf(h.text()), /Secondary UpToDate +✖ via ha-a/);
  });
});
