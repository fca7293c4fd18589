// Host trouble and failed actions on screen: the error text and what to do, within 80×24.
import './setup.js';
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setReachability } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';
import { renderApp, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.unmount();
  h = undefined;
});

function fits(text: string, width = 80, height = 24): void {
  const lines = text.split('\n');
  assert.ok(lines.length <= height, `${lines.length} lines:\n${text}`);
  for (const l of lines) assert.ok([...l].length <= width, `line wider than ${width}: '${l}'`);
}

describe('trouble on screen', () => {
  test('an unreachable host: its error and what the operator can do', async () => {
    h = await renderApp(loadScenario('unreachable'), { width: 80, height: 24 });
    const text = h.text();
    assert.match(text, /✖ ha-b unreachable: connect ETIMEDOUT 10\.77\.0\.12:22/);
    assert.match(text, /→ check that ha-b is powered on and reachable/);
    fits(text);
  });

  test('an agent that is not running, in read-only mode: how to start it', async () => {
    const m = setReachability(loadScenario('healthy', { readOnly: true }), 0, { state: 'agent-not-running' }, { time: '2026-11-22T00:00:00Z' });
    h = await renderApp(m, { width: 80, height: 24 });
    const text = h.text();
    assert.match(text, /ha-a agent not running/);
    assert.match(text, /→ start it on ha-a \(drbd-agent daemon\)/);
    fits(text);
  });

  test('a multi-line SSH error takes one line: the verdict, not the banner', async () => {
    const error = '@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nHost key for ha-b has changed and drbd-tui refuses to connect.';
    const m = setReachability(loadScenario('healthy'), 1, { state: 'unreachable', error }, { time: '2026-11-22T00:00:00Z' });
    h = await renderApp(m, { width: 80, height: 24 });
    const text = h.text();
    assert.match(text, /✖ ha-b unreachable: Host key for ha-b has changed/);
    assert.match(text, /→ verify ha-b's key out of band/);
    fits(text);
  });

  test("a failed command: the agent's whole reason, on two lines when it is long", async () => {
    const reason = 'State change failed: (-12) Device is held open by someone; 2 initiators logged in: iqn.1991-05.com.microsoft:sql01';
    h = await renderApp(loadScenario('healthy'), { width: 80, height: 24, outcome: { ok: false, message: reason } });
    await h.press('s', 'y');
    const text = h.text();
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('✖ ha-a: drbd-agent secondary r0: State change failed'));
    assert.ok(at >= 0, text);
    assert.match(lines[at + 1]!, /sql01$/, 'the end of the reason is on the next line');
    assert.match(lines.at(-1)!, /p promote/, 'the footer is still there');
    fits(text);
  });
});
