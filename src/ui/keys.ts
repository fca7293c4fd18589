// Keys → intents, as a pure function of the UI state and the model, so every binding is
// testable without a terminal. The input hook only forwards Ink's keypresses here.
import type { Key } from 'ink';
import { checkAction, syncToggle, targetToggle, type GuardResult } from '../cluster/guards.js';
import { ACTION_KINDS, actionSpec, type ActionKind } from '../cluster/actions.js';
import type { ClusterModel, HostIndex, ResourceRow } from '../cluster/model.js';
import type { RunbookChoice } from '../runbooks/runbooks.js';
import type { RunbookRecord } from '../../agent/protocol/messages.js';
import { activeRunLine, currentRun, runChoice } from '../runbooks/journal.js';
import { applicableRunbooks, buildRunbook, runbookProgress, RUNBOOK_TITLES, waitClock } from '../runbooks/runbooks.js';
import { overlayRun, type Overlay, type UiAction, type UiState } from './state.js';
import { confirmationText, textEntry } from './text-entry.js';

export type Intent =
  | { type: 'ui'; action: UiAction }
  | { type: 'run'; guard: GuardResult }
  /**
   * Runs the next runbook step `stepId` through `guard`; the step counts as done when the agent
   * agrees. With `unblocks`, the action only clears what holds the wait `stepId` up.
   */
  | { type: 'run-step'; guard: GuardResult; stepId: string; unblocks?: boolean }
  /** The menu's first entry: the stored run of `choice` taken up where it stands. */
  | { type: 'runbook-resume'; choice: RunbookChoice; record: RunbookRecord }
  /** "abandon" typed in the open runbook: its stored run ends abandoned. */
  | { type: 'runbook-abandon' }
  /** L: the runbook audit log of `resource`, as the agents keep it. */
  | { type: 'runbook-log'; resource: string }
  /** C: the selected host's resource file for `resource`, put on both hosts. */
  | { type: 'config-copy'; resource: string; host: HostIndex }
  | { type: 'quit' }
  | { type: 'none' };

const none: Intent = { type: 'none' };
const ui = (action: UiAction): Intent => ({ type: 'ui', action });

/** A key two actions share picks one of them from the model: stop a running target, resume a paused resync. */
const TOGGLES = { t: targetToggle, z: syncToggle } as const;

type KeyAction = ActionKind | keyof typeof TOGGLES;

/**
 * Letter → action on the selected resource and host, and what it does (for the notice when
 * there is nothing to act on), from the keys in ACTIONS.
 */
export const ACTION_KEYS: Record<string, { action: KeyAction; does: string }> = actionKeys();

function actionKeys(): Record<string, { action: KeyAction; does: string }> {
  const out: Record<string, { action: KeyAction; does: string }> = {};
  for (const action of ACTION_KINDS) {
    const { key, does } = actionSpec(action);
    if (key === undefined) continue;
    const toggle = key in TOGGLES;
    if (out[key] && !toggle) throw new Error(`key ${key} is bound to ${out[key].action} and ${action}, and it toggles nothing`);
    if (out[key]) continue;
    if (does === undefined) throw new Error(`ACTIONS.${action} has key ${key} but does not say what it does`);
    out[key] = { action: toggle ? (key as keyof typeof TOGGLES) : action, does };
  }
  return out;
}

/** A key that has no resource to act on says so instead of doing nothing. */
function noResource(input: string, what: string): Intent {
  return ui({ type: 'toast', kind: 'error', text: `${input} ${what} the selected resource: there is none (no resources yet; the hosts know of none that is up)` });
}

export interface KeyContext {
  model: ClusterModel;
  rows: ResourceRow[];
  /** Events in the log, for scrolling bounds. */
  logLength: number;
  logPage: number;
  /** The time the screen shows (epoch ms): what a runbook wait's clock reads. */
  now?: number;
}

function guardFor(kind: KeyAction, s: UiState, ctx: KeyContext): GuardResult | undefined {
  const row = ctx.rows[s.selected];
  if (!row) return undefined;
  const action = kind in TOGGLES ? TOGGLES[kind as keyof typeof TOGGLES](ctx.model, row.resource, s.host) : (kind as ActionKind);
  return checkAction(ctx.model, action, row.resource, s.host);
}

/**
 * Typing toward `expected`: Enter on the exact text gives `done`; Enter on anything else says
 * so on screen (never a silent no-op); other input edits the text.
 */
function typedKey(expected: string, typed: string, input: string, key: Key, done: Intent): Intent {
  const e = textEntry(typed, input, key);
  if (e.submit) return e.text === expected ? done : ui({ type: 'entry', text: e.text, rejected: true });
  return e.text === typed ? none : ui({ type: 'entry', text: e.text, rejected: false });
}

/** The confirmation dialog's keys: y for ordinary actions, the exact confirmation text + Enter where one is needed. */
export function confirmKey(guard: GuardResult, typed: string, input: string, key: Key, ctx: KeyContext): Intent {
  if (key.escape) return ui({ type: 'close' });
  if (!guard.allowed) {
    if (input === 'f' && guard.suggestion?.action) {
      const g = checkAction(ctx.model, guard.suggestion.action, guard.resource, guard.suggestion.host ?? guard.host);
      return ui({ type: 'confirm', guard: g });
    }
    if (key.return || input === 'n' || input === 'q') return ui({ type: 'close' });
    return none;
  }
  const expected = confirmationText(guard);
  if (expected === undefined) {
    if (input === 'y' || input === 'Y') return { type: 'run', guard };
    if (input === 'n' || input === 'N' || key.return || input === 'q') return ui({ type: 'close' });
    return none;
  }
  return typedKey(expected, typed, input, key, { type: 'run', guard });
}

/** `r`: the runbooks for the selected resource; one in progress there comes first, to be resumed, and no other may start. */
export function runbookMenu(m: ClusterModel, resource: string): UiAction {
  const run = currentRun(m, resource);
  const resume = run && runChoice(m, run);
  return { type: 'runbook-menu', resource, choices: [...(resume ? [resume] : []), ...applicableRunbooks(m, resource)], ...(run ? { run, resumes: resume !== undefined } : {}) };
}

export const ABANDON_WORD = 'abandon';

export function runbookMenuKey(o: Extract<Overlay, { kind: 'runbook-menu' }>, input: string, key: Key, ctx?: KeyContext): Intent {
  if (key.escape || input === 'q') return ui({ type: 'close' });
  if (key.upArrow || input === 'k') return ui({ type: 'menu-move', delta: -1 });
  if (key.downArrow || input === 'j') return ui({ type: 'menu-move', delta: 1 });
  if (input === 'L') return { type: 'runbook-log', resource: o.resource };
  const choice = o.choices[o.cursor];
  if (!key.return || !choice) return none;
  if (o.run && o.resumes && o.cursor === 0) return { type: 'runbook-resume', choice, record: o.run };
  if (o.run) return ui({ type: 'toast', kind: 'error', text: `finish or abandon the active runbook first: ${ctx ? activeRunLine(ctx.model, o.run).replace(/^runbook active: /, '') : o.run.runbook}` });
  return ui({ type: 'runbook-open', choice });
}

/** X in an open runbook: ask for "abandon" typed, where there is a stored run to end and the console may. */
function abandonKey(o: Extract<Overlay, { kind: 'runbook' }>, ctx: KeyContext): Intent {
  if (ctx.model.readOnly) return ui({ type: 'toast', kind: 'error', text: 'read-only console: runbooks cannot be abandoned here' });
  const run = overlayRun(o, ctx.model);
  if (run?.state !== 'active') return ui({ type: 'toast', kind: 'error', text: `nothing to abandon: no step of this ${RUNBOOK_TITLES[o.choice.id]} has run yet (Esc closes it)` });
  return ui({ type: 'runbook-abandon-ask' });
}

/**
 * Enter runs the next step only when its checks pass; a step that needs a text typed (resource
 * or host name) takes it first. On a wait, Enter runs what unblocks it, `w` keeps waiting past
 * a timeout; `F` finishes where only optional steps are left.
 */
export function runbookKey(o: Extract<Overlay, { kind: 'runbook' }>, input: string, key: Key, ctx: KeyContext): Intent {
  if (o.abandoning) {
    if (key.escape) return ui({ type: 'runbook-abandon-cancel' });
    return typedKey(ABANDON_WORD, o.typed, input, key, { type: 'runbook-abandon' });
  }
  // Esc closes the view only: the run stays active with the agents, to be resumed.
  if (key.escape) return ui({ type: 'close' });
  const rb = buildRunbook(ctx.model, o.choice.id, o.resource, o.choice.host);
  const p = runbookProgress(rb, ctx.model, o.completed, o.force);
  const step = p.next === undefined ? undefined : rb.steps[p.next];
  const expected = step && p.ready && !o.busy ? confirmationText(p.guard ?? step) : undefined;
  // X and L are keys unless a name is being typed that they could be part of.
  const isKey = expected === undefined || (o.typed === '' && !expected.startsWith(input));
  if (isKey && input === 'L') return { type: 'runbook-log', resource: o.resource };
  if (isKey && input === 'X') return abandonKey(o, ctx);
  if (!step) return key.return ? ui({ type: 'close' }) : none;
  if (key.tab) return step.forceAction ? ui({ type: 'runbook-force' }) : none;
  const stored = o.started === undefined ? undefined : overlayRun(o, ctx.model);
  if (stored?.state === 'abandoned' && key.return) return ui({ type: 'toast', kind: 'error', text: `this run was abandoned by ${stored.by}: Esc, then r starts a new one` });
  if (o.busy) return none;
  if (input === 'F' && p.finishable) return ui({ type: 'runbook-step-done', id: rb.steps[rb.steps.length - 1]!.id });
  if (step.kind === 'wait') {
    const now = ctx.now ?? Date.now();
    if (input === 'w' && waitClock(step, o.since?.step === step.id ? o.since.at : undefined, now).timedOut) return ui({ type: 'runbook-since', step: step.id, at: now });
    return key.return && p.unblock?.allowed ? { type: 'run-step', guard: p.unblock, stepId: step.id, unblocks: true } : none;
  }
  if (!p.ready) return none;
  const run: Intent = p.guard ? { type: 'run-step', guard: p.guard, stepId: step.id } : ui({ type: 'runbook-step-done', id: step.id });
  if (expected === undefined) return key.return ? run : none;
  return typedKey(expected, o.typed, input, key, run);
}

/** The audit log's keys: scroll, and Esc (or L, q) back to where it was opened. */
export function runbookLogKey(o: Extract<Overlay, { kind: 'runbook-log' }>, input: string, key: Key, ctx: KeyContext): Intent {
  if (key.escape || input === 'q' || input === 'L') return ui({ type: 'runbook-log-close' });
  const max = Math.max(0, (o.entries?.length ?? 0) - ctx.logPage);
  if (key.upArrow || input === 'k') return ui({ type: 'scroll-log', delta: 1, max });
  if (key.downArrow || input === 'j') return ui({ type: 'scroll-log', delta: -1, max });
  if (key.pageUp) return ui({ type: 'scroll-log', delta: ctx.logPage, max });
  if (key.pageDown) return ui({ type: 'scroll-log', delta: -ctx.logPage, max });
  return none;
}

/** No key flag set: a plain character. */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** A character of a burst as Ink would have delivered it alone (text-entry.ts lists how). */
function lone(c: string): [string, Key] {
  if (c === '\r' || c === '\n') return ['', { ...NO_KEY, return: true }];
  if (c === '\t') return ['', { ...NO_KEY, tab: true }];
  if (c === '\x7f') return ['', { ...NO_KEY, delete: true }];
  if (c === '\b') return ['', { ...NO_KEY, backspace: true }];
  const code = c.codePointAt(0)!;
  if (code >= 1 && code <= 26) return [String.fromCodePoint(code + 96), { ...NO_KEY, ctrl: true }];
  return [c, { ...NO_KEY, shift: /^[A-Z]$/.test(c) }];
}

/**
 * One input from Ink as the keys it holds. Ink hands a run of plain characters (fast typing,
 * a paste, tmux in one burst) over as ONE input; the console's keys are single characters, so
 * the run is taken key by key, each in the state the one before left (`F` opens a dialog, the
 * `f` after it acts in that dialog). A lone key, or one Ink parsed, passes as it came.
 */
export function burstKeys(input: string, key: Key): Array<[string, Key]> {
  const chars = [...input];
  const flagged = key.return || key.escape || key.ctrl || key.meta || key.tab || key.backspace || key.delete || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown || key.home || key.end;
  if (chars.length <= 1 || flagged) return [[input, key]];
  return chars.map(lone);
}

/** The filter line's keys: typing edits it (the table follows), Enter keeps it, Esc clears it. */
export function filterKey(typed: string, input: string, key: Key): Intent {
  if (key.escape) return ui({ type: 'filter-clear' });
  const e = textEntry(typed, input, key);
  if (e.submit) return ui({ type: 'filter-keep' });
  return e.text === typed ? none : ui({ type: 'filter-typed', text: e.text });
}

export function keyIntent(s: UiState, input: string, key: Key, ctx: KeyContext): Intent {
  if (s.overlay.kind === 'filter') return filterKey(s.overlay.typed, input, key);
  if (s.overlay.kind === 'confirm') return confirmKey(s.overlay.guard, s.overlay.typed, input, key, ctx);
  if (s.overlay.kind === 'runbook-menu') return runbookMenuKey(s.overlay, input, key, ctx);
  if (s.overlay.kind === 'runbook') return runbookKey(s.overlay, input, key, ctx);
  if (s.overlay.kind === 'runbook-log') return runbookLogKey(s.overlay, input, key, ctx);
  if (s.overlay.kind === 'help') {
    return key.escape || input === '?' || input === 'q' || key.return ? ui({ type: 'help' }) : none;
  }
  if (input === 'q') return s.view === 'overview' ? { type: 'quit' } : ui({ type: 'view', view: 'overview' });
  if (input === '?') return ui({ type: 'help' });
  if (input === 'H') return ui({ type: 'hide-keys' });
  // Esc on the overview drops a kept filter, as in k9s.
  if (key.escape) return s.view === 'overview' ? (s.filter ? ui({ type: 'filter-clear' }) : none) : ui({ type: 'view', view: 'overview' });
  if (input === '/' && s.view !== 'log') return ui({ type: 'filter-open' });
  if (s.view === 'log') {
    if (key.upArrow || input === 'k') return ui({ type: 'scroll-log', delta: 1, max: Math.max(0, ctx.logLength - ctx.logPage) });
    if (key.downArrow || input === 'j') return ui({ type: 'scroll-log', delta: -1, max: Math.max(0, ctx.logLength - ctx.logPage) });
    if (key.pageUp) return ui({ type: 'scroll-log', delta: ctx.logPage, max: Math.max(0, ctx.logLength - ctx.logPage) });
    if (key.pageDown) return ui({ type: 'scroll-log', delta: -ctx.logPage, max: Math.max(0, ctx.logLength - ctx.logPage) });
    if (input === 'e') return ui({ type: 'view', view: 'overview' });
  }
  if (key.upArrow || input === 'k') return ui({ type: 'move', delta: -1, rows: ctx.rows.length });
  if (key.downArrow || input === 'j') return ui({ type: 'move', delta: 1, rows: ctx.rows.length });
  if (key.tab) return ui({ type: 'switch-host' });
  if (key.return) return ui({ type: 'view', view: s.view === 'detail' ? 'overview' : 'detail' });
  if (input === 'e' && s.view !== 'log') return ui({ type: 'view', view: 'log' });
  if (input === 'r') {
    const row = ctx.rows[s.selected];
    return row ? ui(runbookMenu(ctx.model, row.resource)) : noResource(input, 'opens the runbooks of');
  }
  if (input === 'L') {
    const row = ctx.rows[s.selected];
    return row ? { type: 'runbook-log', resource: row.resource } : noResource(input, 'opens the runbook log of');
  }
  if (input === 'C') {
    const row = ctx.rows[s.selected];
    if (!row) return ui({ type: 'toast', kind: 'error', text: 'C copies a resource file from one host to the other: no resource is selected' });
    if (ctx.model.readOnly) return ui({ type: 'toast', kind: 'error', text: 'read-only console: resource files cannot be written' });
    return { type: 'config-copy', resource: row.resource, host: s.host };
  }
  const bound = ACTION_KEYS[input];
  if (bound) {
    const g = guardFor(bound.action, s, ctx);
    return g ? ui({ type: 'confirm', guard: g }) : noResource(input, bound.does);
  }
  return none;
}
