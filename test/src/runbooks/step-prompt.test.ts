import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkAction } from '../../../src/cluster/guards.js';
import { accepts, EFFECT_TIMEOUT_MS, stepPrompt, unblockPrompt, stepTimeoutMs, variantAnswer, variantPrompt, WAIT_TIMEOUT_MS, waitText } from '../../../src/runbooks/step-prompt.js';
import { buildRunbook, runbookProgress } from '../../../src/runbooks/runbooks.js';
import { loadScenario } from '../cluster/fixtures.js';
import { pair, replaceA, X } from '../cluster/pair-fixtures.js';

const stepOf = (rb: ReturnType<typeof buildRunbook>, id: string) => rb.steps.find((s) => s.id === id)!;

describe('runbook CLI: the questions', () => {
  test('an ordinary step: Run? [y/N]; only y or yes runs it', () => {
    const m = loadScenario('primary-iscsi');
    const rb = buildRunbook(m, 'switchover', 'r0', 0);
    const p = stepPrompt(rb.steps[0]!, runbookProgress(rb, m, []).guard);
    assert.deepEqual(p, { kind: 'yes-no', text: 'Run? [y/N] ' });
    assert.deepEqual(['y', 'Y', 'yes', ' y ', 'n', '', 'yep', 'r0'].map((a) => accepts(p, a)), [true, true, true, true, false, false, false, false]);
  });
  test('a step that hinges on a host: that host typed exactly, y is no answer', () => {
    const m = pair({ up: false }, { up: true, r: { disk: 'UpToDate', current: X, conn: 'Connecting', last: { disk: 'UpToDate', uuid: X, role: 'Primary' } } });
    const rb = buildRunbook(m, 'failover', 'r0', 0);
    const p = stepPrompt(rb.steps[0]!, undefined);
    assert.deepEqual(p, { kind: 'type', expected: 'ha-a', text: 'Type ha-a to confirm: ' });
    assert.deepEqual(['ha-a', 'ha-a\r', 'y', 'ha-b', 'HA-A'].map((a) => accepts(p, a)), [true, true, false, false, false]);
  });
  test('an optional step: declining finishes the runbook, and the question says so; an optional wait is asked too', () => {
    const m = loadScenario('primary-iscsi');
    const rb = buildRunbook(m, 'failover', 'r0', 1);
    assert.equal(stepPrompt(stepOf(rb, 'rejoin-secondary'), undefined, true).text, 'Run? [y/N] (N finishes here) ');
    assert.equal(stepPrompt(stepOf(rb, 'rejoin-wait'), undefined, true).text, 'Wait until ha-b reachable with r0 up? [y/N] (N finishes here) ');
    assert.equal(stepPrompt(stepOf(rb, 'confirm-down'), undefined, true).text, 'Type ha-b to confirm (optional: anything else finishes here): ');
  });
  test('the action that unblocks a wait is asked as any action: its command and host, y or the text to type', () => {
    const m = loadScenario('primary-iscsi');
    assert.deepEqual(unblockPrompt(checkAction(m, 'connect', 'r0', 1)), { kind: 'yes-no', text: 'Unblock it: run drbd-agent connect r0 on ha-b? [y/N] ' });
    const g = checkAction(m, 'discard-my-data', 'r0', 1);
    assert.equal(unblockPrompt(g).kind, 'type');
  });
  test('a destructive step: the resource name, said to be destructive', () => {
    const m = loadScenario('split-brain');
    const rb = buildRunbook(m, 'split-brain', 'r0', 0);
    const g = runbookProgress(rb, m, ['victim-stop-target', 'victim-secondary']).guard!;
    assert.deepEqual(stepPrompt(stepOf(rb, 'victim-discard'), g), { kind: 'type', expected: 'r0', text: 'DESTRUCTIVE. Type r0 to confirm: ' });
  });
  test('a step with a variant: an explicit choice, 1 or 2; anything else stops', () => {
    const rb = buildRunbook(replaceA(), 'disk-replacement', 'r0', 0);
    assert.equal(variantPrompt(stepOf(rb, 'create-md')), '1) Create metadata  2) Re-create metadata (WIPES the replication state)\nChoose 1 or 2 (anything else stops): ');
    assert.deepEqual(['1', ' 2 ', '', 'y', '3'].map(variantAnswer), [false, true, undefined, undefined, undefined]);
  });
  test('waits: 10 min for a wait step, 60 s for a step\'s effect, --timeout for both', () => {
    const rb = buildRunbook(replaceA(), 'disk-replacement', 'r0', 0);
    assert.equal(stepTimeoutMs(stepOf(rb, 'sync')), WAIT_TIMEOUT_MS);
    assert.equal(WAIT_TIMEOUT_MS, 600_000);
    assert.equal(stepTimeoutMs(stepOf(rb, 'connect')), EFFECT_TIMEOUT_MS);
    assert.equal(EFFECT_TIMEOUT_MS, 60_000);
    assert.equal(stepTimeoutMs(stepOf(rb, 'sync'), 5000), 5000);
    assert.equal(stepTimeoutMs({ ...stepOf(rb, 'sync'), timeoutMs: 90_000 }), 90_000, 'the step\'s own');
    assert.equal(stepTimeoutMs({ ...stepOf(rb, 'sync'), timeoutMs: 90_000 }, 5000), 5000);
    assert.equal(waitText('ha-b Primary', 12_400, 60_000), 'waiting for ha-b Primary… 12 s (gives up after 60 s)');
  });
});
