import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';
import { App } from '../../../src/ui/App.js';
import { initialUiState } from '../../../src/ui/state.js';
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

  test('a step runs on Enter, is marked done, and the next one follows the live state; the cluster stays in sight', async () => {
    let m = loadScenario('primary-iscsi');
    h = await renderApp(m);
    await h.press('r', KEY.enter);
    assert.match(h.text(), /runs on ha-a: drbd-agent target stop r0/);
    assert.match(h.text(), /why: the device is free to demote only when no initiator writes through ha-a/);
    assert.match(h.text(), /r0\/0.*Primary/, 'the live table above the steps');
    // Logged-in initiators: a failed check; Tab accepts dropping them, which takes the resource name.
    assert.match(h.text(), /refused: 2 sessions: iqn\.1991-05\.com\.microsoft:win-fs01/);
    assert.match(h.text(), /Tab drop the 2 sessions/);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 0);
    await h.press(KEY.tab);
    assert.match(h.text(), /2 sessions will be dropped \(accepted\)/);
    await h.press('r', '0', KEY.enter);
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

describe('the runner on waits and long runbooks', () => {
  test('a wait that cannot finish says why and Enter runs the step that unblocks it, not the wait', async () => {
    let m = loadScenario('healthy');
    m = apply(m, 0, `${T} change target name:r0 state:stopped`, `${T} change resource name:r0 role:Secondary`);
    m = apply(m, 1, `${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:StandAlone role:Unknown`);
    h = await renderApp(m, { initialState: { ...initialUiState, overlay: { kind: 'runbook', resource: 'r0', choice: { id: 'switchover', host: 0, label: '' }, completed: ['demote'], typed: '', rejected: false, force: false, busy: false } } });
    const t = h.text();
    assert.match(t, /▶ 3\. wait until ha-b is UpToDate and Established/);
    assert.match(t, /waiting \d+s for ha-b UpToDate and Established on ha-b \(gives up after 1m00s\)/);
    assert.match(t, /✗ cannot finish: ha-b is StandAlone: connect it/);
    assert.match(t, /⏎ run on ha-b: drbd-agent connect r0/);
    fits(t);
    await h.press(KEY.enter);
    assert.equal(h.runs.length, 1);
    assert.equal(h.runs[0]!.command, 'drbd-agent connect r0');
    assert.match(h.text(), /▶ 3\. wait until/, 'the wait is still the next step');
  });

  test('disk replacement (13 steps) fits 80×24 with the table above it; the optional failback can be skipped with F', async () => {
    let m = loadScenario('healthy');
    m = apply(m, 1, `${T} change device name:r0 volume:0 minor:1 disk:UpToDate`);
    h = await renderApp(m, { initialState: { ...initialUiState, overlay: { kind: 'runbook', resource: 'r0', choice: { id: 'disk-replacement', host: 1, label: '' }, completed: ['down', 'create-md', 'attach', 'connect'], typed: '', rejected: false, force: false, busy: false } } });
    const t = h.text();
    fits(t);
    assert.match(t, /r0\/0/);
    assert.match(t, /▶ 10\. failback \(optional\): stop the iSCSI target on ha-a/);
    assert.match(t, /F finish here \(the rest is optional\)/);
    await h.press('F');
    assert.match(h.text(), /✓ runbook complete/);
    assert.equal(h.runs.length, 0);
  });
});
