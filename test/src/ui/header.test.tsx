import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, KEEPALIVE_MS, quietFrom, setHeard, setLatency, setReachability, silentFor, type ClusterModel, type HostState } from '../../../src/cluster/model.js';
import { headerChangeAt, hostSummary } from '../../../src/ui/Header.js';
import { fmtAge, untilAgeChanges } from '../../../src/ui/format.js';
import { loadScenario } from '../cluster/fixtures.js';
import { renderApp, styleAt, type Harness } from './harness.js';

const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);
const YELLOW = 33;

/** ha-a up and heard at T0 (2 ms ping), ha-b as given. */
function hosts(b: (m: ClusterModel) => ClusterModel = (m) => m): ClusterModel {
  let m = createModel('ha-a', 'ha-b');
  m = setHeard(setLatency(setReachability(m, 0, { state: 'up' }, { agentVersion: '0.1.0' }), 0, 2), 0, T0);
  return b(m);
}
const up = (m: ClusterModel) => setHeard(setReachability(m, 1, { state: 'up' }, { latencyMs: 3 }), 1, T0);
const lost = (m: ClusterModel) => setReachability(up(m), 1, { state: 'unreachable', error: 'connection lost: ECONNRESET' });

describe('a host heard from, or not', () => {
  test('setHeard is a pure update; the same time gives the same model', () => {
    const m = hosts();
    assert.equal(setHeard(m, 0, T0), m);
    const n = setHeard(m, 0, T0 + 1);
    assert.equal(n.hosts[0].lastHeard, T0 + 1);
    assert.equal(m.hosts[0].lastHeard, T0);
  });

  test('quiet after one keepalive and half an interval of grace, only while it says up', () => {
    const a: HostState = hosts().hosts[0];
    assert.equal(quietFrom(a), T0 + KEEPALIVE_MS * 1.5);
    assert.equal(silentFor(a, T0 + KEEPALIVE_MS), undefined);
    assert.equal(silentFor(a, T0 + KEEPALIVE_MS * 1.5), undefined);
    assert.equal(silentFor(a, T0 + 12_000), 12_000);
    assert.equal(silentFor({ ...a, reach: { state: 'unreachable', error: 'x' } }, T0 + 60_000), undefined, 'an unreachable host says so itself');
    assert.equal(silentFor({ ...a, lastHeard: undefined }, T0 + 60_000), undefined, 'never heard: nothing to judge (fixtures, a host still connecting)');
  });

  const cases: Array<[what: string, model: ClusterModel, at: number, summary: string]> = [
    ['up and heard in time', hosts(), T0 + 4_000, 'up 2ms v0.1.0'],
    ['up, a ping late but within grace', hosts(), T0 + 7_000, 'up 2ms v0.1.0'],
    ['up by the link\'s word, but quiet for 12 s (a cut link before SSH gives up)', hosts(), T0 + 12_400, 'not heard for 12 s'],
    ['quiet for minutes', hosts(), T0 + 4 * 60_000 + 5_000, 'not heard for 4 min'],
  ];
  for (const [what, m, at, summary] of cases) test(`ha-a ${what}: "${summary}"`, () => assert.equal(hostSummary(m.hosts[0], at), summary));

  test('a host that is not up says when it was last heard from, before the error', () => {
    assert.equal(hostSummary(hosts(lost).hosts[1], T0 + 40_000), 'unreachable, heard 40 s ago: connection lost: ECONNRESET');
    assert.equal(hostSummary(hosts((m) => setReachability(up(m), 1, { state: 'connecting' })).hosts[1], T0 + 3_000), 'connecting, heard 3 s ago');
    assert.equal(hostSummary(hosts().hosts[1], T0), 'connecting', 'never heard from');
  });

  test('the header\'s clock: the moment a host goes quiet, then each second of its age; nothing for hosts never heard', () => {
    assert.equal(headerChangeAt(createModel('a', 'b').hosts, T0), undefined);
    assert.equal(headerChangeAt(hosts().hosts, T0 + 1_000), T0 + KEEPALIVE_MS * 1.5 + 1);
    assert.equal(headerChangeAt(hosts().hosts, T0 + 12_400), T0 + 13_000);
    assert.equal(headerChangeAt(hosts(lost).hosts, T0 + 2_500), T0 + 3_000, 'the unreachable host\'s age moves first');
    assert.equal(headerChangeAt(hosts().hosts, T0 + 3 * 60_000 + 10), T0 + 4 * 60_000, 'minutes once past a minute');
  });

  test('fmtAge / untilAgeChanges', () => {
    const cases: Array<[number, string, number]> = [
      [0, '0 s', 1000],
      [12_400, '12 s', 600],
      [59_999, '59 s', 1],
      [60_000, '1 min', 60_000],
      [3 * 3600_000 + 1, '3 h', 3600_000 - 1],
      [-5, '0 s', 1000],
    ];
    for (const [ms, text, until] of cases) assert.deepEqual([fmtAge(ms), untilAgeChanges(ms)], [text, until], String(ms));
  });
});

describe('the header in the App', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.unmount();
    h = undefined;
  });

  test('a quiet host shows "not heard for 12 s" in yellow, not "up"', async () => {
    let m = loadScenario('healthy');
    m = setHeard(setHeard(m, 0, T0 + 12_000), 1, T0);
    h = await renderApp(m, { now: T0 + 12_300 });
    assert.match(h.text(), /● ha-a up 2ms v0\.1\.0/);
    assert.match(h.text(), /◌ ha-b not heard for 12 s/);
    assert.doesNotMatch(h.text(), /ha-b up/);
    assert.equal(styleAt(h.frame(), 'ha-b not heard')?.fg, YELLOW);
  });
});
