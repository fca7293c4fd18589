// The UI's edges: terminal size (following resize), a frame-rate cap for fast-changing
// models, the outcome-toast timer and the keyboard. Everything they decide is in pure modules.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useInput, useStdout, type Key } from 'ink';
import type { ClusterModel, ResourceRow } from '../cluster/model.js';
import { outOfSightChangeAt } from '../cluster/last-known.js';
import type { ConsoleActions } from './actions.js';
import { headerChangeAt } from './Header.js';
import { burstKeys, keyIntent, type KeyContext } from './keys.js';
import { RunbookRecorder } from './runbook-recorder.js';
import { uiReducer, type UiAction, type UiState } from './state.js';
import { buildRunbook, runbookProgress, type Runbook, type RunbookProgress } from '../runbooks/runbooks.js';

/** Width and height from props when given (tests, embedding), else the terminal's, updated on resize. */
export function useTerminalSize(width?: number, height?: number): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({ width: width ?? stdout.columns ?? 80, height: height ?? stdout.rows ?? 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (width !== undefined && height !== undefined) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, width, height]);
  return width !== undefined && height !== undefined ? { width, height } : size;
}

/**
 * The value as of at most one update per `ms`: a resync can change the model many times a
 * second, the screen need not (~10 fps). No timer runs while nothing changes.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (ms <= 0) return;
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setShown(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return ms <= 0 ? value : shown;
}

/**
 * The time the screen reads (a fixed one in tests): taken at each frame, plus one frame at the
 * moment its words would change with time alone (a host going quiet, an age moving on in the
 * header or on a row of a host out of sight). While every host is heard from in time that is one
 * timer, re-armed by each sign of life; nothing ticks.
 */
export function useHeaderClock(model: ClusterModel, rows: readonly ResourceRow[], fixed?: number): number {
  const [, setTick] = useState(0);
  const now = fixed ?? Date.now();
  const at = fixed === undefined ? earliest(headerChangeAt(model.hosts, now), outOfSightChangeAt(model, rows, now)) : undefined;
  useEffect(() => {
    if (at === undefined) return;
    const t = setTimeout(() => setTick((n) => n + 1), Math.max(0, at - Date.now()));
    return () => clearTimeout(t);
  }, [at]);
  return now;
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * The open runbook on the live model, built once per frame for the view and the keys; it
 * notes when each step became the next one, and while a wait is next the clock ticks each
 * second so that its elapsed time and timeout read true.
 */
export function useRunbook(state: UiState, model: ClusterModel, dispatch: (a: UiAction) => void, fixedNow?: number): { runbook: Runbook; progress: RunbookProgress; now: number } | undefined {
  const o = state.overlay;
  const run = useMemo(() => {
    if (o.kind !== 'runbook') return undefined;
    const runbook = buildRunbook(model, o.choice.id, o.resource, o.choice.host);
    return { runbook, progress: runbookProgress(runbook, model, o.completed, o.force) };
  }, [o, model]);
  const step = run?.progress.next === undefined ? undefined : run.runbook.steps[run.progress.next];
  const since = o.kind === 'runbook' ? o.since?.step : undefined;
  useEffect(() => {
    if (step && since !== step.id) dispatch({ type: 'runbook-since', step: step.id, at: Date.now() });
  }, [step?.id, since, dispatch]);
  const [, setTick] = useState(0);
  const waiting = step?.kind === 'wait' && fixedNow === undefined;
  useEffect(() => {
    if (!waiting) return;
    const t = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [waiting]);
  return run && { ...run, now: fixedNow ?? Date.now() };
}

export const TOAST_MS = 6000;
/** A failure stays longer: the operator has to read why and decide what to do. */
export const ERROR_TOAST_MS = 30_000;

/** Outcome toasts go away by themselves; a running one stays until its outcome replaces it. */
export function useToastTimer(state: UiState, dispatch: (a: UiAction) => void, ms = TOAST_MS, errorMs = ERROR_TOAST_MS): void {
  const toast = state.toast;
  useEffect(() => {
    if (!toast || toast.kind === 'running') return;
    const t = setTimeout(() => dispatch({ type: 'toast-dismiss', id: toast.id }), toast.kind === 'error' ? errorMs : ms);
    return () => clearTimeout(t);
  }, [toast, dispatch, ms, errorMs]);
}

/** Keys → intents (keys.ts) → UI actions, agent actions through `actions`, or quit. */
export function useConsoleInput(state: UiState, dispatch: (a: UiAction) => void, ctx: KeyContext, actions: ConsoleActions, isActive = true): void {
  const stateRef = useRef(state);
  stateRef.current = state;
  const actionsRef = useRef(actions);
  actionsRef.current = actions;
  const recorderRef = useRef<RunbookRecorder>(undefined);
  recorderRef.current ??= new RunbookRecorder(() => actionsRef.current, dispatch);
  const recorder = recorderRef.current;
  // A run whose last step took effect on the live model ends `finished` with the agents.
  useEffect(() => {
    if (state.overlay.kind === 'runbook') recorder.finishIfDone(ctx.model, state.overlay);
  }, [state.overlay, ctx.model, recorder]);
  const onKey = (input: string, key: Key): void => {
    const before = stateRef.current;
    const intent = keyIntent(before, input, key, ctx);
    switch (intent.type) {
      case 'ui':
        dispatch(intent.action);
        stateRef.current = uiReducer(before, intent.action);
        // A confirm step is done by a key alone (the operator's confirmation is what the log keeps); F finishing early is logged as the run's end.
        if (intent.action.type === 'runbook-step-done' && before.overlay.kind === 'runbook') recorder.confirmed(ctx.model, before.overlay, intent.action.id);
        return;
      case 'runbook-resume': {
        const open = recorder.resume(ctx.model, intent.choice, intent.record);
        dispatch(open);
        stateRef.current = uiReducer(before, open);
        return;
      }
      case 'runbook-abandon':
        if (before.overlay.kind === 'runbook') recorder.abandon(ctx.model, before.overlay);
        stateRef.current = uiReducer(before, { type: 'close' });
        return;
      case 'runbook-log': {
        const open: UiAction = { type: 'runbook-log-open', resource: intent.resource };
        dispatch(open);
        stateRef.current = uiReducer(before, open);
        const loaded = (a: Omit<Extract<UiAction, { type: 'runbook-log-loaded' }>, 'type' | 'resource'>) => dispatch({ type: 'runbook-log-loaded', resource: intent.resource, ...a });
        if (!actions.runbookLog) {
          loaded({ error: 'not available here' });
          return;
        }
        actions.runbookLog(intent.resource).then(
          (entries) => loaded({ entries }),
          (err: unknown) => loaded({ error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      }
      case 'run': {
        const g = intent.guard;
        dispatch({ type: 'close' });
        dispatch({ type: 'toast', kind: 'running', text: `${g.command} on ${g.hostName}…` });
        stateRef.current = uiReducer(stateRef.current, { type: 'close' });
        actions.run(g).then(
          (o) => dispatch({ type: 'toast', kind: o.ok ? 'success' : 'error', text: `${g.hostName}: ${g.command}: ${o.message || (o.ok ? 'done' : 'failed')}` }),
          (err: unknown) => dispatch({ type: 'toast', kind: 'error', text: `${g.hostName}: ${g.command}: ${err instanceof Error ? err.message : String(err)}` }),
        );
        return;
      }
      case 'run-step': {
        const g = intent.guard;
        const overlay = before.overlay.kind === 'runbook' ? before.overlay : undefined;
        const model = ctx.model;
        const busy: UiAction = { type: 'runbook-busy', busy: true };
        dispatch(busy);
        stateRef.current = uiReducer(before, busy);
        dispatch({ type: 'toast', kind: 'running', text: `${g.command} on ${g.hostName}…` });
        const fail = (text: string, refused: boolean) => {
          if (overlay) recorder.step(model, overlay, intent.stepId, refused ? 'refused' : 'failed', { guard: g, detail: text });
          dispatch({ type: 'runbook-busy', busy: false });
          dispatch({ type: 'toast', kind: 'error', text: `${g.hostName}: ${g.command}: ${text}` });
        };
        actions.run(g).then(
          (o) => {
            if (!o.ok) return fail(o.message || 'failed', o.refused === true);
            // What unblocks a wait ran, but the wait itself is done only when the model gets there.
            if (overlay) recorder.step(model, overlay, intent.stepId, 'ran', { guard: g, advance: !intent.unblocks });
            dispatch(intent.unblocks ? { type: 'runbook-busy', busy: false } : { type: 'runbook-step-done', id: intent.stepId });
            dispatch({ type: 'toast', kind: 'success', text: `${g.hostName}: ${g.command}: ${o.message || 'done'}` });
          },
          (err: unknown) => fail(err instanceof Error ? err.message : String(err), false),
        );
        return;
      }
      case 'config-copy': {
        const what = `${intent.resource}: resource file from ${ctx.model.hosts[intent.host].name} to both hosts`;
        if (!actions.copyConfig) {
          dispatch({ type: 'toast', kind: 'error', text: `${what}: not available here` });
          return;
        }
        dispatch({ type: 'toast', kind: 'running', text: `${what}…` });
        actions.copyConfig(intent.resource, intent.host).then(
          (o) => dispatch({ type: 'toast', kind: o.ok ? 'success' : 'error', text: o.message }),
          (err: unknown) => dispatch({ type: 'toast', kind: 'error', text: `${what}: ${err instanceof Error ? err.message : String(err)}` }),
        );
        return;
      }
      case 'quit':
        actions.quit();
        return;
      case 'none':
        return;
    }
  };
  useInput(
    (input, key) => {
      for (const [i, k] of burstKeys(input, key)) onKey(i, k);
    },
    { isActive },
  );
}
