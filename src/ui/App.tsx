// How the UI is organised
// - Props in, nothing else: `App` renders a ClusterModel (src/cluster/model.ts) and reports
//   what the operator wants through `actions` (ConsoleActions). The real controller (SSH +
//   agents) and the demo both plug in here; no SSH, socket or protocol code lives in src/ui.
// - Pure parts: state.ts (UI state reducer: selection, host, view, overlay, toast), keys.ts
//   (keys → intents; guards from src/cluster/guards.ts decide what an action may do),
//   layout.ts (columns and line budget for the terminal size), format.ts, colors.ts (DRBD's
//   palette). Each is unit-tested without a terminal.
// - Edges: hooks.ts (terminal size and resize, ~10 fps cap, toast timer, keyboard).
// - Views: Header, ResourceTable (+ SyncBar), ProblemsPanel, DetailView, EventLog, Footer,
//   HelpOverlay, ConfirmDialog, RunbookView (runbooks from src/runbooks/), Toast: functions
//   of their props only.
// - Nothing redraws on a timer: a frame happens when the model, the size or the UI state
//   changes; the only timers are the frame cap (only while updates arrive), a toast's expiry and
//   the header's clock (the moment a host would count as quiet; ages while one is).
import { useEffect, useMemo, useReducer } from 'react';
import { Box } from 'ink';
import { refusal } from '../cluster/guards.js';
import { deriveProblems } from '../cluster/problems.js';
import { resourceRows, type ClusterModel } from '../cluster/model.js';
import type { ConsoleActions } from './actions.js';
import { ConfirmDialog, suggestionLine } from './ConfirmDialog.js';
import { forecastHeight } from './ForecastLines.js';
import { DetailView } from './DetailView.js';
import { EventLog } from './EventLog.js';
import { filterRows, hiddenText } from './filter.js';
import { FilterLine } from './FilterLine.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { problemLines, withHostAdvice } from './host-trouble.js';
import { useConsoleInput, useHeaderClock, useRunbook, useTerminalSize, useThrottled, useToastTimer } from './hooks.js';
import { overviewBudget, tableColumns } from './layout.js';
import { ProblemsPanel } from './ProblemsPanel.js';
import { ResourceTable, tableLines } from './ResourceTable.js';
import { ActiveRunLine, activeRunText, RunbookFoot, runbookFootLines, RunbookLogView } from './RunbookJournal.js';
import { RunbookMenu, RunbookView, runbookViewHeight } from './RunbookView.js';
import { activeFilter, initialUiState, uiReducer, withLiveGuard, withLiveRun, type UiState } from './state.js';
import { confirmationText } from './text-entry.js';
import { Toast, toastLines } from './Toast.js';
import type { Theme } from './theme.js';
import { ThemeContext } from './theme-context.js';

export interface AppProps {
  model: ClusterModel;
  actions: ConsoleActions;
  /** Fixed size (tests, embedding); otherwise the terminal's, following resizes. */
  width?: number;
  height?: number;
  /** Minimum milliseconds between frames caused by model updates (default 100: ~10 fps). */
  minFrameMs?: number;
  /** Initial UI state (tests, the demo's scripted tours). */
  initialState?: UiState;
  /** Keyboard handling on (default); off when another component owns the input. */
  inputActive?: boolean;
  /** A fixed clock (epoch ms) for what the header says about quiet hosts (tests); else the real one. */
  now?: number;
  /** Colour and glyphs (theme.ts); else what the console around it set, else all of both. */
  theme?: Theme;
}

export function App({ model: liveModel, actions, width: w, height: h, minFrameMs = 100, initialState = initialUiState, inputActive = true, now: fixedNow, theme }: AppProps) {
  const model = useThrottled(liveModel, minFrameMs);
  const { width, height } = useTerminalSize(w, h);
  const allRows = useMemo(() => resourceRows(model), [model]);
  const now = useHeaderClock(model, allRows, fixedNow);
  const [stored, dispatch] = useReducer(uiReducer, initialState);
  const filter = activeFilter(stored);
  const filtered = filter !== '';
  const rows = useMemo(() => filterRows(allRows, filter), [allRows, filter]);
  const state = useMemo(() => withLiveRun(withLiveGuard(stored, model), model), [stored, model]);
  const problems = useMemo(() => withHostAdvice(deriveProblems(model), model), [model]);
  const hostNames = useMemo(() => [model.hosts[0].name, model.hosts[1].name] as [string, string], [model]);
  const cols = useMemo(() => tableColumns(width, Math.max(0, ...rows.map((r) => r.key.length))), [width, rows]);

  // Resources can vanish under the selection.
  useEffect(() => {
    if (state.selected >= rows.length && rows.length > 0) dispatch({ type: 'move', delta: rows.length - 1 - state.selected, rows: rows.length });
  }, [rows.length, state.selected]);

  const run = useRunbook(state, model, dispatch, fixedNow);
  const toastHeight = state.toast ? toastLines(state.toast, width).length : 0;
  const activeRun = activeRunText(model, state.overlay);
  const filterShown = state.overlay.kind === 'filter' || filtered;
  // Lines the optional rows take from the body: the filter line, the key bar given back when hidden.
  const optional = (filterShown ? 1 : 0) - (state.hideKeys ? 1 : 0);
  const bodyHeight = height - 2 - toastHeight - (activeRun ? 1 : 0) - optional;
  useToastTimer(state, dispatch);
  useConsoleInput(state, dispatch, { model, rows, logLength: model.recent.length, logPage: Math.max(1, bodyHeight - 1), now: run?.now ?? now }, actions, inputActive);

  const lines = tableLines(rows, hostNames).length + 1 + (rows.length === 0 ? 1 : 0);
  let body;
  if (state.overlay.kind === 'help') {
    body = <HelpOverlay width={width} height={bodyHeight} readOnly={model.readOnly} />;
  } else if (state.overlay.kind === 'confirm') {
    const g = state.overlay.guard;
    const inner = Math.min(width, 80) - 4;
    const wrapped = (text: string) => Math.max(1, Math.ceil(text.length / inner));
    const refusedLines = g.allowed ? 0 : wrapped(`refused: ${refusal(g) ?? ''}`) + (g.suggestion ? wrapped(`→ ${suggestionLine(g.suggestion)}`) : 0) + 1;
    const dialogLines = g.checks.length + 4 + forecastHeight(g, inner) + (g.allowed ? (confirmationText(g) !== undefined ? 2 : 1) : refusedLines);
    body = (
      <>
        <ResourceTable filtered={filtered} model={model} rows={rows} now={now} hostNames={hostNames} cols={cols} selected={state.selected} host={state.host} width={width} maxLines={Math.max(2, Math.min(lines, bodyHeight - dialogLines))} />
        <ConfirmDialog guard={g} typed={state.overlay.typed} rejected={state.overlay.rejected} width={width} />
      </>
    );
  } else if (state.overlay.kind === 'runbook-menu') {
    const o = state.overlay;
    const menuLines = Math.max(1, o.choices.length) + 4;
    body = (
      <>
        <ResourceTable filtered={filtered} model={model} rows={rows} now={now} hostNames={hostNames} cols={cols} selected={state.selected} host={state.host} width={width} maxLines={Math.max(2, Math.min(lines, bodyHeight - menuLines))} />
        <RunbookMenu resource={o.resource} choices={o.choices} cursor={o.cursor} width={width} />
      </>
    );
  } else if (state.overlay.kind === 'runbook' && run) {
    // The cluster stays in sight while a procedure runs: the table (with its sync bars) and the problems above the steps.
    const avail = bodyHeight - runbookFootLines(state.overlay, model);
    const viewLines = Math.min(avail - 2, runbookViewHeight(run.runbook, run.progress, Math.min(width, 80) - 4));
    const tableRoom = Math.max(2, Math.min(lines, avail - viewLines - 1));
    const problemRoom = problems.length > 0 ? Math.max(0, Math.min(4, avail - viewLines - tableRoom)) : 0;
    body = (
      <>
        <ResourceTable filtered={filtered} model={model} rows={rows} now={now} hostNames={hostNames} cols={cols} selected={state.selected} host={state.host} width={width} maxLines={tableRoom} />
        {problemRoom > 0 ? <ProblemsPanel problems={problems} width={width} maxLines={problemRoom} /> : null}
        <RunbookView overlay={state.overlay} model={model} runbook={run.runbook} progress={run.progress} now={run.now} width={width} height={avail - tableRoom - problemRoom} />
        <RunbookFoot overlay={state.overlay} model={model} width={width} />
      </>
    );
  } else if (state.overlay.kind === 'runbook-log') {
    body = <RunbookLogView overlay={state.overlay} width={width} height={bodyHeight} scroll={state.logScroll} />;
  } else if (state.view === 'detail') {
    body = <DetailView model={model} row={rows[state.selected]} now={now} hostNames={hostNames} problems={problems} events={model.recent} width={width} height={bodyHeight} />;
  } else if (state.view === 'log') {
    body = <EventLog events={model.recent} width={width} maxLines={bodyHeight - 1} scroll={state.logScroll} title="event log" />;
  } else {
    const budget = overviewBudget(height - Math.max(0, toastHeight - 1) - (activeRun ? 1 : 0) - optional, lines, problemLines(problems), { toast: toastHeight > 0 });
    body = (
      <>
        <ResourceTable filtered={filtered} model={model} rows={rows} now={now} hostNames={hostNames} cols={cols} selected={state.selected} host={state.host} width={width} maxLines={budget.table} />
        <ProblemsPanel problems={problems} width={width} maxLines={budget.problems} />
        {budget.events > 0 ? <EventLog events={model.recent} width={width} maxLines={budget.events} /> : null}
      </>
    );
  }

  const screen = (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Header model={model} host={state.host} width={width} now={now} />
      <Box flexDirection="column" flexGrow={1} overflow="hidden">
        {body}
      </Box>
      {state.toast ? <Toast toast={state.toast} width={width} /> : null}
      {activeRun ? <ActiveRunLine text={activeRun} width={width} /> : null}
      {filterShown ? <FilterLine text={filter} typing={state.overlay.kind === 'filter'} hidden={hiddenText(allRows, rows, problems)} width={width} /> : null}
      {state.hideKeys ? null : <Footer state={state} width={width} />}
    </Box>
  );
  return theme ? <ThemeContext value={theme}>{screen}</ThemeContext> : screen;
}
