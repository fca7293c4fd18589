// The keys of a resumable runbook: r offers the stored run first and refuses another, X asks
// for "abandon" typed, L opens the audit log from anywhere and Esc goes back.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { runbookToEvent } from '../../../agent/protocol/events2.js';
import type { RunbookRecord } from '../../../agent/protocol/messages.js';
import { applyHostEvent, type ClusterModel } from '../../../src/cluster/model.js';
import { NO_KEY } from '../../../src/ui/keys.js';
import { initialUiState, uiReducer, withLiveRun, type UiState } from '../../../src/ui/state.js';
import { footerText } from '../../../src/ui/Footer.js';
import { loadScenario } from '../cluster/fixtures.js';
import { ctxOf, press } from './press-keys.js';
import { runbookRecord } from '../../support/runbook-records.js';

const NO: Key = NO_KEY;
const ENTER: Key = { ...NO, return: true };
const ESC: Key = { ...NO, escape: true };
const run = (over: Partial<RunbookRecord> = {}): RunbookRecord => runbookRecord({ completed: ['stop-target', 'demote'], updated: '2026-12-07T12:41:00.000Z', seq: 3, ...over });
const keeps = (m: ClusterModel, r: RunbookRecord) => applyHostEvent(applyHostEvent(m, 0, runbookToEvent(r, { verb: 'change' })), 1, runbookToEvent(r, { verb: 'change' }));


describe('the r menu with a run in progress', () => {
  const m = keeps(loadScenario('healthy'), run());
  const ctx = ctxOf(m);
  test('its first entry resumes it, where it stands; Enter on it takes the stored run up', () => {
    const { s, last } = press(initialUiState, ctx, [['r'], ['', ENTER]]);
    assert.ok(s.overlay.kind === 'runbook-menu');
    assert.equal(s.overlay.choices[0]!.label, 'Resume: Planned switchover on ha-a — at step 4 of 5 (started 12:40 by root@laptop)');
    assert.deepEqual(last, { type: 'runbook-resume', choice: s.overlay.choices[0], record: run() });
    const opened = uiReducer(s, { type: 'runbook-open', choice: s.overlay.choices[0]!, resume: { record: run(), step: 3 } });
    assert.ok(opened.overlay.kind === 'runbook');
    assert.deepEqual(opened.overlay.completed, ['stop-target', 'demote']);
    assert.equal(opened.overlay.started, run().started);
  });
  test('another runbook is refused while it is active', () => {
    const { s } = press(initialUiState, ctx, [['r'], ['j'], ['', ENTER]]);
    assert.equal(s.overlay.kind, 'runbook-menu');
    assert.equal(s.toast?.kind, 'error');
    assert.equal(s.toast?.text, 'finish or abandon the active runbook first: Planned switchover r0 on ha-a (step 4/5) — r to resume');
  });
  test('a finished or abandoned run is not offered: the runbooks start afresh', () => {
    const { s, last } = press(initialUiState, ctxOf(keeps(loadScenario('healthy'), run({ state: 'finished', seq: 9 }))), [['r'], ['', ENTER]]);
    assert.equal(last, undefined);
    assert.ok(s.overlay.kind === 'runbook' && s.overlay.completed.length === 0 && s.overlay.started === undefined);
  });
});

describe('in an open runbook', () => {
  const m = keeps(loadScenario('healthy'), run());
  const ctx = ctxOf(m);
  const open = (): UiState => {
    const menu = uiReducer(initialUiState, { type: 'runbook-menu', resource: 'r0', choices: [{ id: 'switchover', host: 0, label: '' }] });
    return uiReducer(menu, { type: 'runbook-open', choice: { id: 'switchover', host: 0, label: '' } });
  };
  test('the stored run\'s steps count (withLiveRun), although this console ran none', () => {
    const s = withLiveRun(open(), m);
    assert.ok(s.overlay.kind === 'runbook');
    assert.deepEqual(s.overlay.completed, ['stop-target', 'demote']);
  });
  test('X asks for abandon typed; anything else is rejected; Esc keeps the run; abandon + Enter abandons', () => {
    let r = press(withLiveRun(open(), m), ctx, [['X']]);
    assert.ok(r.s.overlay.kind === 'runbook' && r.s.overlay.abandoning);
    assert.match(footerText(r.s, 80), /type abandon ⏎ abandon the run/);
    r = press(r.s, ctx, [['y'], ['e'], ['s'], ['', ENTER]]);
    assert.ok(r.s.overlay.kind === 'runbook' && r.s.overlay.rejected && r.last === undefined);
    const kept = press(r.s, ctx, [['', ESC]]);
    assert.ok(kept.s.overlay.kind === 'runbook' && !kept.s.overlay.abandoning, 'Esc leaves the question, not the runbook');
    r = press(kept.s, ctx, [['X'], ...[...'abandon'].map((c): [string] => [c]), ['', ENTER]]);
    assert.deepEqual(r.last, { type: 'runbook-abandon' });
  });
  test('X without a stored run, or on a read-only console, says why instead', () => {
    const fresh = loadScenario('healthy');
    let r = press(open(), ctxOf(fresh), [['X']]);
    assert.match(r.s.toast?.text ?? '', /^nothing to abandon: no step of this Planned switchover has run yet/);
    const ro = keeps(loadScenario('healthy', { readOnly: true }), run());
    r = press(withLiveRun(open(), ro), ctxOf(ro), [['X']]);
    assert.equal(r.s.toast?.text, 'read-only console: runbooks cannot be abandoned here');
  });
  test('a run another console abandoned meanwhile runs no further step here', () => {
    const pinned = uiReducer(open(), { type: 'runbook-run', started: run().started });
    const gone = keeps(loadScenario('healthy'), run({ state: 'abandoned', seq: 4, by: 'bob@desk' }));
    const r = press(withLiveRun(pinned, gone), ctxOf(gone), [['', ENTER]]);
    assert.equal(r.last, undefined);
    assert.equal(r.s.toast?.text, 'this run was abandoned by bob@desk: Esc, then r starts a new one');
  });
  test('Esc closes the view only; the footer line keeps it in sight', () => {
    const r = press(withLiveRun(open(), m), ctx, [['', ESC]]);
    assert.equal(r.s.overlay.kind, 'none');
    assert.match(footerText(withLiveRun(open(), m), 120), /X abandon L audit log Esc close \(run stays active\)/);
  });
  test('L opens the audit log of the resource, from the view, the menu and the overview; Esc goes back to where it was', () => {
    const fromView = press(withLiveRun(open(), m), ctx, [['L']]);
    assert.deepEqual(fromView.last, { type: 'runbook-log', resource: 'r0' });
    assert.deepEqual(press(initialUiState, ctx, [['L']]).last, { type: 'runbook-log', resource: 'r0' });
    assert.deepEqual(press(initialUiState, ctx, [['r'], ['L']]).last, { type: 'runbook-log', resource: 'r0' });
    const view = withLiveRun(open(), m);
    let s = uiReducer(view, { type: 'runbook-log-open', resource: 'r0' });
    s = uiReducer(s, { type: 'runbook-log-loaded', resource: 'r0', entries: [] });
    assert.equal(s.overlay.kind, 'runbook-log');
    const back = press(s, ctx, [['', ESC]]);
    assert.equal(back.s.overlay.kind, 'runbook');
  });
});
