// The console's UI state as a pure reducer: selection, selected host, view, the overlay
// (help or a confirmation) and the outcome toast. Nothing here knows about SSH or the agent.
import { checkAction, type GuardResult } from '../cluster/guards.js';
import type { ClusterModel, HostIndex } from '../cluster/model.js';
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
  /** `r`: the runbooks that apply to the selected resource. */
  | { kind: 'runbook-menu'; resource: string; choices: RunbookChoice[]; cursor: number }
  /**
   * A runbook in progress: the steps the operator completed (by id), the text typed for a step
   * that needs one (as in 'confirm'), whether the step's --force variant is chosen, whether a step runs now,
   * and since when (epoch ms) the step `since.step` has been the next one: what a wait's clock counts from.
   */
  | { kind: 'runbook'; resource: string; choice: RunbookChoice; completed: string[]; typed: string; rejected: boolean; force: boolean; busy: boolean; since?: { step: string; at: number } };

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
}

export type UiAction =
  | { type: 'move'; delta: number; rows: number }
  | { type: 'switch-host' }
  | { type: 'view'; view: View }
  | { type: 'help' }
  | { type: 'confirm'; guard: GuardResult }
  /** The typed text of the open confirmation or runbook step is now `text`. */
  | { type: 'entry'; text: string; rejected: boolean }
  | { type: 'close' }
  | { type: 'toast'; kind: Toast['kind']; text: string }
  | { type: 'toast-dismiss'; id: number }
  | { type: 'scroll-log'; delta: number; max: number }
  | { type: 'runbook-menu'; resource: string; choices: RunbookChoice[] }
  | { type: 'menu-move'; delta: number }
  | { type: 'runbook-open'; choice: RunbookChoice }
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
    case 'help':
      return { ...s, overlay: s.overlay.kind === 'help' ? { kind: 'none' } : { kind: 'help' } };
    case 'confirm':
      return { ...s, overlay: { kind: 'confirm', guard: a.guard, typed: '', rejected: false } };
    case 'entry':
      return s.overlay.kind === 'confirm' || s.overlay.kind === 'runbook' ? { ...s, overlay: { ...s.overlay, typed: a.text, rejected: a.rejected } } : s;
    case 'runbook-menu':
      return { ...s, overlay: { kind: 'runbook-menu', resource: a.resource, choices: a.choices, cursor: 0 } };
    case 'menu-move':
      if (s.overlay.kind !== 'runbook-menu') return s;
      return { ...s, overlay: { ...s.overlay, cursor: Math.max(0, Math.min(s.overlay.choices.length - 1, s.overlay.cursor + a.delta)) } };
    case 'runbook-open':
      if (s.overlay.kind !== 'runbook-menu') return s;
      return { ...s, overlay: { kind: 'runbook', resource: s.overlay.resource, choice: a.choice, completed: [], typed: '', rejected: false, force: false, busy: false } };
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
 * The state as the operator sees it: an open confirmation judged on the live model (the
 * reducer keeps the guard it opened with), so what was refused on a view one update old turns
 * allowed, and what was allowed is refused the moment a check stops holding, before y runs it.
 */
export function withLiveGuard(s: UiState, m: ClusterModel): UiState {
  const o = s.overlay;
  if (o.kind !== 'confirm') return s;
  return { ...s, overlay: { ...o, guard: checkAction(m, o.guard.action, o.guard.resource, o.guard.host) } };
}
