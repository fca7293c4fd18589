import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { App } from '../../../src/ui/App.js';
import { loadScenario } from '../cluster/fixtures.js';
import { KEY, renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

const T = '2026-11-22T04:00:00.000000+00:00';
function apply(m: ClusterModel, host: HostIndex, ...lines: string[]): ClusterModel {
  for (const l of lines) m = applyHostEvent(m, host, parseEventLine(l)!);
  return m;
}
function fits(text: string): void {
  const lines = text.split('\n');
  assert.ok(lines.length <= 24, `${lines.length} lines:\n${text}`);
  for (const l of lines) assert.ok([...l].length <= 80, `line wider than 80: '${l}'`);
}

describe('runbooks in the console', () => {
  test('r on a split brain offers only the split-brain runbook, once per victim, with each side\'s changes', async () => {
    h = await renderApp(loadScenario('split-brain'));
    await h.press('r');
    const t = h.text();
    assert.match(t, /Runbooks for r0/);
    assert.match(t, /victim ha-a \(8192 KiB changed there\)/);
    assert.match(t, /victim ha-b \(2048 KiB changed there\)/);
    assert.doesNotMatch(t, /switchover|Failover|Disk replacement/);
    fits(t);
    await h.press(KEY.esc);
    assert.doesNotMatch(h.text(), /Runbooks for/);
  });

  test('r on a healthy pair: switchover and disk replacement; a refused step shows its reason and Enter sends nothing', async () => {
    h = await renderApp(loadScenario('initial-sync'));
    await h.press('r');
    assert.match(h.text(), /Planned switchover: ha-a → ha-b/);
    await h.press(KEY.enter);
    const t = h.text();
    // no iSCSI target in this fixture: stopping it is already done
    assert.match(t, /✓ 1\. stop the iSCSI target on ha-a/);
    assert.match(t, /▶ 2\. demote ha-a to Secondary/);
    assert.match(t, /runs on ha-a: drbd-agent secondary r0/);
    assert.match(t, /✗ ha-b Connected and UpToDate — ha-b must hold UpToDate/);
    assert.match(t, /refused: ha-b must hold UpToDate data before the switch/);
    fits(t);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 0);
  });

  test('a step runs on Enter, is marked done, and the next one follows the live state', async () => {
    let m = loadScenario('primary-iscsi');
    h = await renderApp(m);
    await h.press('r', KEY.enter);
    assert.match(h.text(), /runs on ha-a: drbd-agent target stop r0/);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent target stop r0');
    assert.equal(h.runs[0]!.hostName, 'ha-a');
    assert.match(h.text(), /✓ 1\. stop the iSCSI target on ha-a/);
    assert.match(h.text(), /▶ 2\. demote ha-a to Secondary/);
    m = apply(m, 0, `${T} change target name:r0 state:stopped`);
    await h.rerender(<App model={m} actions={{ run: async (g) => (h!.runs.push(g), { ok: true, message: 'done' }), quit: () => {} }} width={80} height={24} minFrameMs={0} />);
    assert.match(h.text(), /runs on ha-a: drbd-agent secondary r0/);
    fits(h.text());
  });

  test('a destructive step needs the resource name typed', async () => {
    let m = loadScenario('split-brain');
    m = apply(m, 0, `${T} change resource name:r0 role:Secondary`);
    h = await renderApp(m);
    await h.press('r', KEY.enter);
    assert.match(h.text(), /runs on ha-a: drbd-agent connect --discard-my-data r0/);
    assert.match(h.text(), /DESTRUCTIVE\. Type r0/);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 0);
    await h.press('r', '0', KEY.enter);
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent connect --discard-my-data r0');
  });
});
