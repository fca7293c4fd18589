// The console's UI state as a pure reducer: selection, selected host, view, the overlay
// (help or a confirmation) and the outcome toast. Nothing here knows about SSH or the agent.
import { checkAction, type GuardResult } from '../cluster/guards.js';
import type { RunbookLogEntry, RunbookRecord } from '../../agent/protocol/messages.js';
import type { ClusterModel, HostIndex } from '../cluster/model.js';
import { currentRun, lastRun, nodeName } from '../runbooks/journal.js';
import type { RunbookChoice } from '../runbooks/runbooks.js';

export type View = 'overview' | 'detail' | 'log';

export type Overlay =
  | { kind: 'none' }
  | { kind: 'help' }
  /**
   * `typed` is what the operator typed so far (destructive actions need the resource name);
   * `rejected`: Enter was pressed on it and it does not match.
   */
  | { kind: 'confirm'; guard: GuardResult; typed: string; rejected: boolean }
  /**
   * `r`: the runbooks that apply to the selected resource. With `run`, the run in progress there:
   * no other may start; `resumes`: choices[0] takes it up.
   */
  | { kind: 'runbook-menu'; resource: string; choices: RunbookChoice[]; cursor: number; run?: RunbookRecord; resumes?: boolean }
  /**
   * A runbook in progress: the steps the operator completed (by id), the text typed for a step
   * that needs one (as in 'confirm'), whether the step's --force variant is chosen, whether a step runs now,
   * and since when (epoch ms) the step `since.step` has been the next one: what a wait's clock counts from.
   * `started` pins the agents' record of this run once there is one (withLiveRun adds its steps);
   * `resumed`: where it stood when this console took it up; `abandoning`: `typed` is toward "abandon".
   */
  | {
      kind: 'runbook';
      resource: string;
      choice: RunbookChoice;
      completed: string[];
      typed: string;
      rejected: boolean;
      force: boolean;
      busy: boolean;
      since?: { step: string; at: number };
      started?: string;
      resumed?: { step: number; by: string; started: string };
      abandoning?: boolean;
    }
  /** `/`: the resource filter being typed (the table follows each key); Enter keeps it, Esc clears it. */
  | { kind: 'filter'; typed: string }
  /** `L`: the runbook audit log of a resource as the agents keep it (loading while `entries` is absent); Esc returns to `back`. */
  | { kind: 'runbook-log'; resource: string; entries?: RunbookLogEntry[]; error?: string; back: Overlay };

export interface Toast {
  id: number;
  kind: 'running' | 'success' | 'error';
  text: string;
}

export interface UiState {
  /** Index into the stable row order (resource name, then volume). */
  selected: number;
  host: HostIndex;
  view: View;
  overlay: Overlay;
  toast?: Toast;
  nextToastId: number;
  /** Lines scrolled back from the newest event in the log view. */
  logScroll: number;
  /** The resource filter kept with Enter (filter.ts); absent or '' shows all. */
  filter?: string;
  /** `H`: the key hint bar is hidden (`?` still shows every key). */
  hideKeys?: boolean;
}

export type UiAction =
  | { type: 'move'; delta: number; rows: number }
  | { type: 'switch-host' }
  | { type: 'view'; view: View }
  | { type: 'help' }
  | { type: 'filter-open' }
  | { type: 'filter-typed'; text: string }
  | { type: 'filter-keep' }
  | { type: 'filter-clear' }
  | { type: 'hide-keys' }
  | { type: 'confirm'; guard: GuardResult }
  /** The typed text of the open confirmation or runbook step is now `text`. */
  | { type: 'entry'; text: string; rejected: boolean }
  | { type: 'close' }
  | { type: 'toast'; kind: Toast['kind']; text: string }
  | { type: 'toast-dismiss'; id: number }
  | { type: 'scroll-log'; delta: number; max: number }
  | { type: 'runbook-menu'; resource: string; choices: RunbookChoice[]; run?: RunbookRecord; resumes?: boolean }
  | { type: 'menu-move'; delta: number }
  | { type: 'runbook-open'; choice: RunbookChoice; resume?: { record: RunbookRecord; step: number } }
  /** The agents now keep this run: it started at `started`. */
  | { type: 'runbook-run'; started: string }
  | { type: 'runbook-abandon-ask' }
  | { type: 'runbook-abandon-cancel' }
  | { type: 'runbook-log-open'; resource: string }
  | { type: 'runbook-log-loaded'; resource: string; entries?: RunbookLogEntry[]; error?: string }
  | { type: 'runbook-log-close' }
  | { type: 'runbook-force' }
  | { type: 'runbook-busy'; busy: boolean }
  | { type: 'runbook-step-done'; id: string }
  /** `step` is the next one since `at` (a new step, or the operator chose to keep waiting). */
  | { type: 'runbook-since'; step: string; at: number };

export const initialUiState: UiState = { selected: 0, host: 0, view: 'overview', overlay: { kind: 'none' }, nextToastId: 1, logScroll: 0 };

export function uiReducer(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'move':
      return { ...s, selected: a.rows === 0 ? 0 : Math.max(0, Math.min(a.rows - 1, s.selected + a.delta)) };
    case 'switch-host':
      return { ...s, host: s.host === 0 ? 1 : 0 };
    case 'view':
      return { ...s, view: a.view, logScroll: 0 };
    case 'filter-open':
      return { ...s, overlay: { kind: 'filter', typed: s.filter ?? '' } };
    case 'filter-typed':
      return s.overlay.kind === 'filter' ? { ...s, selected: 0, overlay: { kind: 'filter', typed: a.text } } : s;
    case 'filter-keep':
      return s.overlay.kind === 'filter' ? { ...s, filter: s.overlay.typed, overlay: { kind: 'none' } } : s;
    case 'filter-clear':
      return { ...s, filter: '', selected: 0, overlay: s.overlay.kind === 'filter' ? { kind: 'none' } : s.overlay };
    case 'hide-keys':
      return { ...s, hideKeys: !s.hideKeys };
    case 'help':
      return { ...s, overlay: s.overlay.kind === 'help' ? { kind: 'none' } : { kind: 'help' } };
    case 'confirm':
      return { ...s, overlay: { kind: 'confirm', guard: a.guard, typed: '', rejected: false } };
    case 'entry':
      return s.overlay.kind === 'confirm' || s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, typed: a.text, rejected: a.rejected } } : s;
    case 'runbook-menu':
      return { ...s, overlay: { kind: 'runbook-menu', resource: a.resource, choices: a.choices, cursor: 0, ...(a.run ? { run: a.run, resumes: a.resumes === true } : {}) } };
    case 'menu-move':
      if (s.overlay.kind !== 'runbook-menu') return s;
      return { ...s, overlay: { ...s.overlay, cursor: Math.max(0, Math.min(s.overlay.choices.length - 1, s.overlay.cursor + a.delta)) } };
    case 'runbook-open':
      if (s.overlay.kind !== 'runbook-menu') return s;
      return {
        ...s,
        overlay: {
          kind: 'runbook',
          resource: s.overlay.resource,
          choice: a.choice,
          completed: a.resume ? [...a.resume.record.completed] : [],
          typed: '',
          rejected: false,
          force: false,
          busy: false,
          ...(a.resume ? { started: a.resume.record.started, resumed: { step: a.resume.step, by: a.resume.record.by, started: a.resume.record.started } } : {}),
        },
      };
    case 'runbook-run':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, started: a.started } } : s;
    case 'runbook-abandon-ask':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, abandoning: true, typed: '', rejected: false } } : s;
    case 'runbook-abandon-cancel':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, abandoning: false, typed: '', rejected: false } } : s;
    case 'runbook-log-open':
      return { ...s, logScroll: 0, overlay: { kind: 'runbook-log', resource: a.resource, back: s.overlay.kind === 'runbook-log' ? s.overlay.back : s.overlay } };
    case 'runbook-log-loaded':
      if (s.overlay.kind !== 'runbook-log' || s.overlay.resource !== a.resource) return s;
      return { ...s, overlay: { kind: 'runbook-log', resource: a.resource, back: s.overlay.back, ...(a.entries ? { entries: a.entries } : {}), ...(a.error !== undefined ? { error: a.error } : {}) } };
    case 'runbook-log-close':
      return s.overlay.kind === 'runbook-log' ? { ...s, logScroll: 0, overlay: s.overlay.back } : s;
    case 'runbook-force':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, force: !s.overlay.force, typed: '', rejected: false } } : s;
    case 'runbook-busy':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, busy: a.busy } } : s;
    case 'runbook-step-done':
      if (s.overlay.kind !== 'runbook') return s;
      return { ...s, overlay: { ...s.overlay, completed: [...s.overlay.completed, a.id], typed: '', rejected: false, force: false, busy: false } };
    case 'runbook-since':
      return s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, since: { step: a.step, at: a.at } } } : s;
    case 'close':
      return { ...s, overlay: { kind: 'none' } };
    case 'toast':
      return { ...s, toast: { id: s.nextToastId, kind: a.kind, text: a.text }, nextToastId: s.nextToastId + 1 };
    case 'toast-dismiss':
      return s.toast?.id === a.id ? { ...s, toast: undefined } : s;
    case 'scroll-log':
      return { ...s, logScroll: Math.max(0, Math.min(a.max, s.logScroll + a.delta)) };
  }
}

/**
 * The run an open runbook view shows, as the agents keep it: the pinned one (`started`), any
 * state; before this console ran a step of it, the resource's active run of the same runbook
 * and host (another console's, or one resumed elsewhere).
 */
export function overlayRun(o: Extract<Overlay, { kind: 'runbook' }>, m: ClusterModel): RunbookRecord | undefined {
  const same = (r: RunbookRecord | undefined) => r !== undefined && r.runbook === o.choice.id && r.subject === nodeName(m, o.choice.host) && (o.started === undefined || r.started === o.started);
  const r = o.started === undefined ? currentRun(m, o.resource) : lastRun(m, o.resource);
  return same(r) ? r : undefined;
}

/** An open runbook with the steps its stored run has done added: what another console did, or one that died, counts. */
export function withLiveRun(s: UiState, m: ClusterModel): UiState {
  const o = s.overlay;
  if (o.kind !== 'runbook') return s;
  const run = overlayRun(o, m);
  const extra = run?.completed.filter((id) => !o.completed.includes(id)) ?? [];
  return extra.length === 0 ? s : { ...s, overlay: { ...o, completed: [...o.completed, ...extra] } };
}

/**
 * The state as the operator sees it: an open confirmation judged on the live model (the
 * reducer keeps the guard it opened with), so what was refused on a view one update old turns
 * allowed, and what was allowed is refused the moment a check stops holding, before y runs it.
 */
export function withLiveGuard(s: UiState, m: ClusterModel): UiState {
  const o = s.overlay;
  if (o.kind !== 'confirm') return s;
  return { ...s, overlay: { ...o, guard: checkAction(m, o.guard.action, o.guard.resource, o.guard.host) } };
}

/** The filter the table applies now: the one being typed, else the one kept. */
export function activeFilter(s: UiState): string {
  return s.overlay.kind === 'filter' ? s.overlay.typed : (s.filter ?? '');
}
