import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { NO_KEY } from '../../../src/ui/keys.js';
import { initialUiState, uiReducer } from '../../../src/ui/state.js';
import { applyHostEvent, setReachability } from '../../../src/cluster/model.js';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { loadScenario } from '../cluster/fixtures.js';
import { ctxOf, press } from './press-keys.js';

const NO: Key = NO_KEY;
const ENTER: Key = { ...NO, return: true };
const TAB: Key = { ...NO, tab: true };
const T = '2026-11-22T04:00:00.000000+00:00';


describe('runbook keys', () => {
  test('disk replacement: Tab picks create-md --force, which then needs the resource name', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 1, parseEventLine(`${T} destroy resource name:r0`)!);
    const ctx = ctxOf(m);
    // ha-b's r0 is down: the menu offers disk replacement on ha-b (r0 is the first row)
    let { s } = press(initialUiState, ctx, [['r']]);
    assert.equal(s.overlay.kind, 'runbook-menu');
    if (s.overlay.kind !== 'runbook-menu') return;
    const idx = s.overlay.choices.findIndex((c) => c.id === 'disk-replacement' && c.host === 1);
    assert.ok(idx >= 0, JSON.stringify(s.overlay.choices));
    ({ s } = press(s, ctx, [...Array<[string, Key]>(idx).fill(['j', NO]), ['', ENTER]]));
    assert.equal(s.overlay.kind, 'runbook');

    // plain create-md runs on Enter
    let r = press(s, ctx, [['', ENTER]]);
    assert.equal(r.last?.type, 'run-step');
    if (r.last?.type === 'run-step') assert.equal(r.last.guard.command, 'drbd-agent create-md r0');

    // the --force variant refuses Enter until r0 is typed
    r = press(s, ctx, [['', TAB], ['', ENTER]]);
    assert.equal(r.last, undefined);
    r = press(r.s, ctx, [['x'], ['', { ...NO, backspace: true }], ['r'], ['0'], ['', ENTER]]);
    assert.equal(r.last?.type, 'run-step');
    if (r.last?.type === 'run-step') {
      assert.equal(r.last.guard.command, 'drbd-agent create-md --force r0');
      assert.equal(r.last.stepId, 'create-md');
    }
  });

  test('failover: confirming the host is down takes its name typed, sends nothing; then promote runs', () => {
    let m = setReachability(loadScenario('healthy'), 0, { state: 'unreachable', error: 'no route' });
    m = applyHostEvent(m, 1, parseEventLine(`${T} change connection name:r0 peer-node-id:0 conn-name:ha-a connection:Connecting role:Unknown`)!);
    const ctx = ctxOf(m);
    let r = press(initialUiState, ctx, [['r'], ['', ENTER], ['', ENTER]]);
    assert.ok(r.s.overlay.kind === 'runbook' && r.s.overlay.completed.length === 0 && r.s.overlay.rejected, 'Enter alone is refused, and says so');
    r = press(r.s, ctx, [['ha-b\r']]);
    assert.ok(r.s.overlay.kind === 'runbook' && r.s.overlay.completed.length === 0 && r.s.overlay.typed === 'ha-b', 'the survivor\'s name is not the dead host\'s');
    r = press(r.s, ctx, [['', { ...NO, ctrl: true }], ['u', { ...NO, ctrl: true }], ['ha-a\r']]);
    assert.equal(r.last, undefined);
    assert.ok(r.s.overlay.kind === 'runbook' && r.s.overlay.completed.includes('confirm-down'));
    const r2 = press(r.s, ctx, [['', ENTER]]);
    assert.equal(r2.last?.type, 'run-step');
    if (r2.last?.type === 'run-step') assert.equal(r2.last.guard.command, 'drbd-agent primary r0');
  });

  test('step done clears typing and force; Esc closes', () => {
    const m = loadScenario('split-brain');
    const ctx = ctxOf(m);
    let { s } = press(initialUiState, ctx, [['r'], ['', ENTER]]);
    s = uiReducer(s, { type: 'runbook-step-done', id: 'victim-secondary' });
    assert.ok(s.overlay.kind === 'runbook' && s.overlay.completed.length === 1 && !s.overlay.busy);
    ({ s } = press(s, ctx, [['', { ...NO, escape: true }]]));
    assert.equal(s.overlay.kind, 'none');
  });
});
