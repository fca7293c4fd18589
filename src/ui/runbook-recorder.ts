// The edge between an open runbook and the agents' record of it: each thing the operator does
// in a runbook becomes a runbook-put through ConsoleActions.recordRunbook, one at a time and
// in order, from the newest record this console knows (its own last put, or the agents' newer
// one). What to put is decided by src/runbooks/journal.ts; this only stamps the time and sends.
import type { RunbookLogEntry, RunbookRecord, RunbookResult } from '../../agent/protocol/messages.js';
import type { GuardResult } from '../cluster/guards.js';
import type { ClusterModel } from '../cluster/model.js';
import { endRun, entryOf, newer, PLACEHOLDER_USER, startRun, stepDone, stepEntry, type Stamp } from '../runbooks/journal.js';
import { buildRunbook, runbookProgress, RUNBOOK_TITLES, type Runbook, type RunbookChoice } from '../runbooks/runbooks.js';
import type { ConsoleActions } from './actions.js';
import { overlayRun, type Overlay, type UiAction } from './state.js';

type RunbookOverlay = Extract<Overlay, { kind: 'runbook' }>;

export class RunbookRecorder {
  /** This console's last put per resource: newer than the model until the agents' event arrives. */
  private readonly mine = new Map<string, RunbookRecord>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly ended = new Set<string>();

  constructor(
    /** The current actions (a re-render may bring new ones). */
    private readonly actions: () => ConsoleActions,
    private readonly dispatch: (a: UiAction) => void,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  private can(m: ClusterModel): boolean {
    return !m.readOnly && this.actions().recordRunbook !== undefined;
  }

  private stamp(): Stamp {
    return { time: this.now(), by: PLACEHOLDER_USER };
  }

  /** The newest record of the overlay's run: the agents' or this console's own last put. */
  private latest(m: ClusterModel, o: RunbookOverlay): RunbookRecord | undefined {
    const stored = overlayRun(o, m);
    const own = this.mine.get(o.resource);
    const ownFits = own && own.runbook === o.choice.id && (o.started === undefined ? own.state === 'active' : own.started === o.started);
    if (!ownFits) return stored;
    return stored ? newer(stored, own) : own;
  }

  private put(record: RunbookRecord, entry?: RunbookLogEntry): Promise<void> {
    this.mine.set(record.resource, record);
    const send = () =>
      this.actions().recordRunbook!(record, entry).catch((e: unknown) =>
        this.dispatch({ type: 'toast', kind: 'error', text: `${record.resource}: runbook progress not recorded on the agents: ${e instanceof Error ? e.message : String(e)}` }),
      );
    const run = this.tail.then(send, send);
    this.tail = run;
    return run;
  }

  /** The run this step belongs to, started (put, pinned in the overlay) when it is the first step that runs. */
  private runFor(m: ClusterModel, o: RunbookOverlay, rb: Runbook): RunbookRecord {
    const known = this.latest(m, o);
    if (known) return known;
    const { record, entry } = startRun(m, rb, o.choice, this.stamp());
    void this.put(record, entry);
    this.dispatch({ type: 'runbook-run', started: record.started });
    return record;
  }

  /** A step's outcome: `ran` and `confirmed` advance the run; `refused` and `failed` only log. */
  step(m: ClusterModel, o: RunbookOverlay, stepId: string, result: Extract<RunbookResult, 'ran' | 'confirmed' | 'refused' | 'failed'>, opts: { guard?: GuardResult; detail?: string; advance?: boolean } = {}): void {
    if (!this.can(m)) return;
    const rb = buildRunbook(m, o.choice.id, o.resource, o.choice.host);
    const run = this.runFor(m, o, rb);
    const at = this.stamp();
    const advances = (result === 'ran' || result === 'confirmed') && opts.advance !== false;
    const record = advances ? stepDone(run, rb, stepId, at) : run;
    void this.put(record, stepEntry(m, record, rb, stepId, result, at, opts));
  }

  /** A key marked `stepId` done: the next step's confirmation, or F finishing where only optional steps are left (finishIfDone logs that). */
  confirmed(m: ClusterModel, o: RunbookOverlay, stepId: string): void {
    const rb = buildRunbook(m, o.choice.id, o.resource, o.choice.host);
    const p = runbookProgress(rb, m, o.completed);
    const next = p.next === undefined ? undefined : rb.steps[p.next];
    if (next?.id === stepId && next.kind === 'confirm') this.step(m, o, stepId, 'confirmed');
  }

  /** The menu's resume entry chosen: the run taken up by this console, said in the log; returns the view to open. */
  resume(m: ClusterModel, choice: RunbookChoice, record: RunbookRecord): UiAction {
    const rb = buildRunbook(m, choice.id, record.resource, choice.host);
    const p = runbookProgress(rb, m, record.completed);
    const open: UiAction = { type: 'runbook-open', choice, resume: { record, step: (p.next ?? rb.steps.length - 1) + 1 } };
    if (!this.can(m)) return open;
    const at = this.stamp();
    const next = { ...record, updated: at.time, seq: record.seq + 1, by: at.by };
    void this.put(next, entryOf(next, 'resumed', at, p.next !== undefined ? { step: rb.steps[p.next]!.id, title: rb.steps[p.next]!.title } : {}));
    return open;
  }

  abandon(m: ClusterModel, o: RunbookOverlay): void {
    const run = this.latest(m, o);
    if (!this.can(m) || !run) return;
    const rb = buildRunbook(m, o.choice.id, o.resource, o.choice.host);
    const p = runbookProgress(rb, m, o.completed);
    const at = this.stamp();
    const record = endRun(run, 'abandoned', at);
    const step = p.next === undefined ? {} : { step: rb.steps[p.next]!.id, title: rb.steps[p.next]!.title };
    void this.put(record, entryOf(record, 'abandoned', at, { ...step, detail: `abandoned at step ${(p.next ?? rb.steps.length - 1) + 1} of ${rb.steps.length}` }));
    this.dispatch({ type: 'close' });
    this.dispatch({ type: 'toast', kind: 'success', text: `${RUNBOOK_TITLES[o.choice.id]} ${o.resource} abandoned (the audit log keeps what ran: L)` });
  }

  /** The open run is complete on the live model: put it finished, once. */
  finishIfDone(m: ClusterModel, o: RunbookOverlay): void {
    if (!this.can(m)) return;
    const run = this.latest(m, o);
    if (run?.state !== 'active' || this.ended.has(`${run.resource} ${run.started}`)) return;
    const rb = buildRunbook(m, o.choice.id, o.resource, o.choice.host);
    if (!runbookProgress(rb, m, o.completed).finished) return;
    this.ended.add(`${run.resource} ${run.started}`);
    const at = this.stamp();
    const record = endRun(stepDone(run, rb, rb.steps.at(-1)!.id, at), 'finished', at);
    void this.put({ ...record, seq: run.seq + 1 }, entryOf(record, 'finished', at, { title: rb.title }));
  }
}
