// Issue 14, deliver 7: a suggestion acts on the host it names. Over every fixture, action and
// host, a suggestion with an action must be one the guard allows there (f opens that dialog);
// one that cannot be taken from the console names no action and says what to do first.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { checkAction } from '../../../src/cluster/guards.js';
import { ACTION_KINDS } from '../../../src/cluster/actions.js';
import { loadScenario, SCENARIOS } from './fixtures.js';
import { blankPromoted, blankSurvivor, replaceA, split, staleB } from './pair-fixtures.js';

/** Every action the console has (its one table of titles). */

const gone = (m: ClusterModel, i: HostIndex) => setReachability(m, i, { state: 'unreachable', error: 'no route to host' });

const MODELS: [string, ClusterModel][] = [
  ...SCENARIOS.flatMap((s): [string, ClusterModel][] => [
    [s, loadScenario(s)],
    [`${s}, ha-a gone`, gone(loadScenario(s), 0)],
    [`${s}, ha-b gone`, gone(loadScenario(s), 1)],
  ]),
  ['blank survivor', blankSurvivor()],
  ['blank promoted, ha-b up', blankPromoted(true)],
  ['blank promoted, ha-b down', blankPromoted(false)],
  ['replace ha-a', replaceA()],
  ['stale ha-b', staleB()],
  ['split brain', split()],
];

describe('suggestions act on the host they name', () => {
  let taken = 0;
  for (const [name, m] of MODELS) {
    test(name, () => {
      for (const action of ACTION_KINDS) {
        for (const host of [0, 1] as const) {
          const g = checkAction(m, action, 'r0', host);
          const s = g.suggestion;
          if (!s) continue;
          if (!s.action) {
            assert.ok(s.text.length > 0, `${action} on ${g.hostName}: a suggestion without an action says what to do first`);
            continue;
          }
          taken++;
          const there = checkAction(m, s.action, 'r0', s.host ?? host);
          const where = `${action} on ${g.hostName} suggests ${s.action} on ${there.hostName} ("${s.text}")`;
          assert.equal(there.allowed, true, `${where}, refused there: ${there.checks.filter((c) => !c.ok).map((c) => c.reason).join('; ')}`);
          for (const [, named] of s.text.matchAll(/\b(?:promote|demote|connect|disconnect|wipe|start|stop) (ha-[ab])\b/g)) {
            assert.equal(named, there.hostName, `${where}: says it acts on another host`);
          }
        }
      }
    });
  }

  test('the fixtures reach suggestions with an action (the loop above checks some)', () => {
    assert.ok(taken >= 5, `${taken} suggestions with an action checked`);
  });

  test('blank ha-a, ha-b last known UpToDate but out of sight: bring ha-b back first, no action', () => {
    const g = checkAction(blankSurvivor(), 'promote', 'r0', 0);
    assert.equal(g.suggestion?.action, undefined);
    assert.match(g.suggestion?.text ?? '', /^ha-b has UpToDate data \(last known, seen 2026-12-07T01:02:00.000Z; .*\): bring ha-b back first, then promote it$/);
  });
});
