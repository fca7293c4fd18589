import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { burstKeys, confirmKey, keyIntent, NO_KEY, type KeyContext } from '../../../src/ui/keys.js';
import { initialUiState, uiReducer, type UiState } from '../../../src/ui/state.js';
import { checkAction } from '../../../src/cluster/guards.js';
import { resourceRows } from '../../../src/cluster/model.js';
import { loadScenario } from '../cluster/fixtures.js';

const NO: Key = NO_KEY;
const k = (over: Partial<Key>): Key => ({ ...NO, ...over });

function ctxOf(scenario: Parameters<typeof loadScenario>[0]): KeyContext {
  const model = loadScenario(scenario);
  return { model, rows: resourceRows(model), logLength: model.recent.length, logPage: 10 };
}

describe('keys → intents', () => {
  test('selection moves within the rows, Tab switches host, Enter toggles detail, e the log', () => {
    const ctx = ctxOf('healthy');
    let s: UiState = initialUiState;
    const step = (input: string, key: Key = NO) => {
      const i = keyIntent(s, input, key, ctx);
      assert.equal(i.type, 'ui', `${input}`);
      if (i.type === 'ui') s = uiReducer(s, i.action);
    };
    step('k');
    assert.equal(s.selected, 0);
    step('j');
    step('', k({ downArrow: true }));
    step('j');
    assert.equal(s.selected, 2, 'stops at the last row');
    step('', k({ tab: true }));
    assert.equal(s.host, 1);
    step('', k({ return: true }));
    assert.equal(s.view, 'detail');
    step('', k({ escape: true }));
    assert.equal(s.view, 'overview');
    step('e');
    assert.equal(s.view, 'log');
    step('q');
    assert.equal(s.view, 'overview', 'q leaves a sub-view first');
    assert.deepEqual(keyIntent(s, 'q', NO, ctx), { type: 'quit' });
  });

  test('action letters open the guarded confirmation for the selected resource and host', () => {
    const ctx = ctxOf('primary-iscsi');
    const cases: Array<[string, string]> = [
      ['p', 'drbd-agent primary r0'],
      ['s', 'drbd-agent secondary r0'],
      ['c', 'drbd-agent connect r0'],
      ['d', 'drbd-agent disconnect r0'],
      ['t', 'drbd-agent target stop r0'],
      ['F', 'drbd-agent primary --force r0'],
      ['X', 'drbd-agent connect --discard-my-data r0'],
      ['W', 'drbd-agent create-md --force r0'],
    ];
    for (const [key, command] of cases) {
      const i = keyIntent(initialUiState, key, NO, ctx);
      assert.ok(i.type === 'ui' && i.action.type === 'confirm', key);
      if (i.type === 'ui' && i.action.type === 'confirm') assert.equal(i.action.guard.command, command);
    }
    const onB = { ...initialUiState, host: 1 as const };
    const t = keyIntent(onB, 't', NO, ctx);
    assert.ok(t.type === 'ui' && t.action.type === 'confirm' && t.action.guard.command === 'drbd-agent target start r0' && t.action.guard.hostName === 'ha-b');
  });

  test('confirm: y runs an allowed ordinary action; a destructive one needs the exact name then Enter', () => {
    const ctx = ctxOf('split-brain');
    const demote = checkAction(ctx.model, 'demote', 'r0', 0);
    assert.deepEqual(confirmKey(demote, '', 'y', NO, ctx), { type: 'run', guard: demote });
    assert.deepEqual(confirmKey(demote, '', 'x', NO, ctx), { type: 'none' });
    const discard = checkAction(ctx.model, 'discard-my-data', 'r0', 1);
    assert.equal(discard.allowed, true);
    const entry = (text: string, rejected = false) => ({ type: 'ui', action: { type: 'entry', text, rejected } });
    assert.deepEqual(confirmKey(discard, '', 'y', NO, ctx), entry('y'));
    assert.deepEqual(confirmKey(discard, 'r', '\r', k({ return: true }), ctx), entry('r', true), 'Enter on a prefix says it does not match');
    assert.deepEqual(confirmKey(discard, 'r0', '\r', k({ return: true }), ctx), { type: 'run', guard: discard });
    assert.deepEqual(confirmKey(discard, '', 'r0\r', NO, ctx), { type: 'run', guard: discard }, 'name and Enter in one read');
    assert.deepEqual(confirmKey(discard, '', 'r1\r', NO, ctx), entry('r1', true));
    assert.deepEqual(confirmKey(discard, 'r0xx', '\x7f\x7f', NO, ctx), entry('r0'), 'two Backspaces in one read');
    assert.deepEqual(confirmKey(discard, 'r0', '', k({ upArrow: true }), ctx), { type: 'none' });
    assert.deepEqual(confirmKey(discard, 'r0', '', k({ escape: true }), ctx), { type: 'ui', action: { type: 'close' } });
  });

  test('confirm: a guard that names the text to type (typeToConfirm) takes that text, destructive or not', () => {
    const ctx = ctxOf('split-brain');
    const discard = { ...checkAction(ctx.model, 'discard-my-data', 'r0', 1), typeToConfirm: 'ha-a' };
    assert.deepEqual(confirmKey(discard, '', 'r0\r', NO, ctx), { type: 'ui', action: { type: 'entry', text: 'r0', rejected: true } });
    assert.deepEqual(confirmKey(discard, '', 'ha-a\r', NO, ctx), { type: 'run', guard: discard });
    const demote = { ...checkAction(ctx.model, 'demote', 'r0', 0), typeToConfirm: 'ha-b' };
    assert.deepEqual(confirmKey(demote, '', 'y', NO, ctx), { type: 'ui', action: { type: 'entry', text: 'y', rejected: false } }, 'y is typing, not a yes');
    assert.deepEqual(confirmKey(demote, 'ha-b', '', k({ return: true }), ctx), { type: 'run', guard: demote });
  });

  test('confirm: a refused action never runs; f opens the suggestion', () => {
    const ctx = ctxOf('healthy');
    const g = checkAction(ctx.model, 'demote', 'r0', 1);
    assert.equal(g.allowed, false);
    assert.deepEqual(confirmKey(g, '', 'y', NO, ctx), { type: 'none' });
    assert.deepEqual(confirmKey(g, '', '\r', k({ return: true }), ctx), { type: 'ui', action: { type: 'close' } });
    const iscsi = ctxOf('primary-iscsi');
    const held = checkAction(iscsi.model, 'demote', 'r0', 0);
    const f = confirmKey(held, '', 'f', NO, iscsi);
    assert.ok(f.type === 'ui' && f.action.type === 'confirm' && f.action.guard.action === 'target-stop');
  });

  test('confirm: f opens the suggestion on the host it names', () => {
    const ctx = ctxOf('healthy');
    const g = checkAction(ctx.model, 'demote', 'r0', 1);
    const elsewhere = { ...g, suggestion: { action: 'demote' as const, host: 0 as const, text: 'demote ha-a instead' } };
    const f = confirmKey(elsewhere, '', 'f', NO, ctx);
    assert.ok(f.type === 'ui' && f.action.type === 'confirm');
    if (f.type === 'ui' && f.action.type === 'confirm') assert.deepEqual([f.action.guard.hostName, f.action.guard.command, f.action.guard.allowed], ['ha-a', 'drbd-agent secondary r0', true]);
    const here = { ...g, suggestion: { action: 'demote' as const, text: 'demote' } };
    const f2 = confirmKey(here, '', 'f', NO, ctx);
    assert.ok(f2.type === 'ui' && f2.action.type === 'confirm' && f2.action.guard.hostName === 'ha-b', 'no host: the guard\'s own');
  });

  test('log view scrolls within bounds', () => {
    const ctx = { ...ctxOf('peer-down'), logPage: 5 };
    let s: UiState = { ...initialUiState, view: 'log' };
    for (let n = 0; n < 20; n++) {
      const i = keyIntent(s, 'k', NO, ctx);
      if (i.type === 'ui') s = uiReducer(s, i.action);
    }
    assert.equal(s.logScroll, ctx.logLength - 5);
    const i = keyIntent(s, '', k({ pageDown: true }), ctx);
    if (i.type === 'ui') s = uiReducer(s, i.action);
    assert.equal(s.logScroll, ctx.logLength - 10);
  });
});

describe('UI state reducer', () => {
  test('toasts replace each other and dismiss only themselves', () => {
    let s = uiReducer(initialUiState, { type: 'toast', kind: 'running', text: 'a' });
    const first = s.toast!.id;
    s = uiReducer(s, { type: 'toast', kind: 'success', text: 'b' });
    assert.equal(uiReducer(s, { type: 'toast-dismiss', id: first }).toast?.text, 'b');
    assert.equal(uiReducer(s, { type: 'toast-dismiss', id: s.toast!.id }).toast, undefined);
  });

  test('typing only goes to an open confirmation', () => {
    assert.equal(uiReducer(initialUiState, { type: 'entry', text: 'x', rejected: false }), initialUiState);
    const g = checkAction(loadScenario('healthy'), 'force-primary', 'r0', 1);
    let s = uiReducer(initialUiState, { type: 'confirm', guard: g });
    s = uiReducer(s, { type: 'entry', text: 'r9', rejected: true });
    assert.ok(s.overlay.kind === 'confirm' && s.overlay.typed === 'r9' && s.overlay.rejected);
  });
});

describe('a burst of keys in one read', () => {
  test('is taken key by key, control characters as the keys Ink gives them alone', () => {
    assert.deepEqual(burstKeys('Ffa\r', NO), [
      ['F', k({ shift: true })],
      ['f', NO],
      ['a', NO],
      ['', k({ return: true })],
    ]);
    assert.deepEqual(burstKeys('\x7f\b\t\x15', NO), [
      ['', k({ delete: true })],
      ['', k({ backspace: true })],
      ['', k({ tab: true })],
      ['u', k({ ctrl: true })],
    ]);
  });
  test('a lone key or one Ink parsed passes as it came', () => {
    assert.deepEqual(burstKeys('p', NO), [['p', NO]]);
    assert.deepEqual(burstKeys('', k({ return: true })), [['', k({ return: true })]]);
    assert.deepEqual(burstKeys('[A', k({ upArrow: true })), [['[A', k({ upArrow: true })]]);
  });
});
