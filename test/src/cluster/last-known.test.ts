// A host out of sight shows what was last known of it and how old that is, never its last link state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { outOfSight, outOfSightChangeAt, outOfSightText } from '../../../src/cluster/last-known.js';
import { resourceRows, setHeard, setReachability, type ClusterModel } from '../../../src/cluster/model.js';
import { loadScenario } from './fixtures.js';
import { blankSurvivor, pair, SEEN } from './pair-fixtures.js';

const MIN = 60_000;
const seen = Date.parse(SEEN);
/** ha-b heard at `at`, then cut off from the console; ha-a still connected to it or not as the fixture says. */
const cutOff = (m: ClusterModel, at: number) => setReachability(setHeard(m, 1, at), 1, { state: 'unreachable', error: 'connect ETIMEDOUT' });

describe('last known state of a host out of sight', () => {
  const cases: { name: string; model: () => ClusterModel; now: number; known?: object; text?: string }[] = [
    { name: 'in sight: nothing to say', model: () => loadScenario('healthy'), now: seen },
    {
      name: 'down and unreachable, remembered by ha-a’s agent',
      model: blankSurvivor,
      now: seen + 4 * MIN + 10_000,
      known: { role: 'Primary', disk: 'UpToDate', via: 'ha-a', at: seen },
      text: 'Primary UpToDate 4 min ago (ha-a\'s agent remembers), unreachable',
    },
    {
      name: 'cut off from the console only: ha-a still sees it, now',
      model: () => cutOff(loadScenario('healthy'), seen),
      now: seen + 4 * MIN,
      known: { role: 'Secondary', disk: 'UpToDate', via: 'ha-a' },
      text: "Secondary UpToDate (ha-a's agent sees it now), unreachable",
    },
    {
      name: 'cut off from both: the console’s own last view, from when it was last heard',
      model: () => cutOff(loadScenario('peer-down'), seen),
      now: seen + 12_000,
      known: { role: 'Secondary', disk: 'UpToDate', at: seen },
      text: 'Secondary UpToDate 12 s ago, unreachable',
    },
    { name: 'never seen, nobody remembers it', model: () => pair({ up: true, r: { disk: 'Inconsistent', current: '0000000000000004' } }, { up: false }), now: seen },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const m = c.model();
      const row = resourceRows(m)[0]!;
      const k = outOfSight(m, row, 1);
      assert.deepEqual(k, c.known);
      if (k) assert.equal(outOfSightText(k, c.now), c.text);
    });
  }

  test('the screen is redrawn when an age shown moves on', () => {
    const m = blankSurvivor();
    assert.equal(outOfSightChangeAt(m, resourceRows(m), seen + 4 * MIN + 10_000), seen + 5 * MIN);
    assert.equal(outOfSightChangeAt(loadScenario('healthy'), resourceRows(loadScenario('healthy')), seen), undefined);
  });
});
