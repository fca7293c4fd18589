// `drbd-tui runbook NAME [--dry-run] HOST_A HOST_B`: a runbook from the command line. The dry
// run takes one snapshot of both hosts (collectStatus, as `drbd-tui status` does) and prints
// the plan. The run keeps a live model as the console does (ClusterSession: snapshot, then
// the event stream) and goes step by step: the step with its checks, a question answered on
// stdin (a line each, so answers can be piped), the action sent as the console sends it
// (runGuarded), then a wait until the model shows the step's effect. Each step is recorded on
// the agents as the console records it (RunJournal), so a run stopped here is taken up again
// by the next `drbd-tui runbook` or console where it stands. The decisions are pure
// (plan-text.ts, choose.ts, step-prompt.ts); this file is the loop with the streams.
import { createInterface } from 'node:readline';
import type { GuardResult } from '../cluster/guards.js';
import type { ClusterModel, HostIndex } from '../cluster/model.js';
import { ClusterSession } from '../ssh/cluster-session.js';
import { runGuarded } from '../ssh/run-action.js';
import { RunJournal } from '../ssh/runbook-journal.js';
import { collectStatus } from '../status/collect.js';
import type { ActionOutcome } from '../ui/actions.js';
import { chooseRun } from './choose.js';
import { nextStep, nextStepLines, paint, passedOver, reachLines, planLines, planState, planVerdict, VERDICT_EXIT, verdictLine, wantsColor, type PlanLine, type PlanState, type Verdict } from './plan-text.js';
import { buildRunbook, type RunbookId, type RunbookProgress, type RunbookStep } from './runbooks.js';
import { accepts, stepPrompt, stepTimeoutMs, unblockPrompt, variantAnswer, variantPrompt, WAIT_LINE_EVERY_MS, waitText } from './step-prompt.js';

export interface RunbookCliOptions {
  id: RunbookId;
  hosts: [string, string];
  dryRun: boolean;
  resource?: string;
  /** The subject host, by the name given on the command line. */
  host?: string;
  configFile?: string;
  identityFile?: string;
  /** Overrides every wait's default (step-prompt.ts stepTimeoutMs). */
  timeoutMs?: number;
  input?: NodeJS.ReadableStream;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** How long the run waits for both hosts to answer (or fail) before judging the plan. */
const SETTLE_MS = 30_000;
/** How long a step refused right after the previous one waits for the model to catch up. */
const CATCH_UP_MS = 10_000;

class Stopped extends Error {}

/** stdin one line at a time; undefined at end of input. */
class Lines {
  #buf: string[] = [];
  #ended = false;
  #waiter?: () => void;
  readonly #rl;

  constructor(input: NodeJS.ReadableStream) {
    this.#rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
    this.#rl.on('line', (l) => {
      this.#buf.push(l);
      this.#waiter?.();
    });
    this.#rl.on('close', () => {
      this.#ended = true;
      this.#waiter?.();
    });
  }

  async next(signal: AbortSignal): Promise<string | undefined> {
    while (this.#buf.length === 0 && !this.#ended) {
      await abortable(new Promise<void>((r) => (this.#waiter = r)), signal);
      this.#waiter = undefined;
    }
    return this.#buf.shift();
  }

  close(): void {
    this.#rl.close();
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

interface Terminal {
  lines(l: readonly PlanLine[]): void;
  text(s: string): void;
  tty: boolean;
}

function terminal(out: NodeJS.WritableStream & { isTTY?: boolean }): Terminal {
  const color = wantsColor(out, process.env);
  return { lines: (l) => out.write(paint(l, color)), text: (s) => out.write(s), tty: out.isTTY === true };
}

export async function runRunbookCli(opts: RunbookCliOptions): Promise<number> {
  const term = terminal(opts.out ?? process.stdout);
  if (opts.dryRun) {
    const m = await collectStatus(opts.hosts, { configFile: opts.configFile, identityFile: opts.identityFile, deploy: { log: (l) => process.stderr.write(`${l}\n`) } });
    const r = chooseRun(m, opts.id, opts.resource, opts.host);
    if (!r.ok) {
      term.text(`${r.message}\n`);
      return r.exitCode;
    }
    const s = planState(buildRunbook(m, opts.id, r.resource, r.subject), m, r.resume?.completed ?? []);
    term.lines(planLines(m, s, { note: r.note }));
    return VERDICT_EXIT[planVerdict(m, s).kind];
  }
  return runLive(opts, term);
}

interface Wait {
  what: string;
  timeoutMs: number;
}

/**
 * Resolves with the seconds it took once `done(model)` holds, undefined after the timeout
 * (said), showing the elapsed time meanwhile: one line rewritten on a terminal, a line every
 * WAIT_LINE_EVERY_MS on a pipe.
 */
async function waitUntil(session: ClusterSession, done: (m: ClusterModel) => boolean, w: Wait, term: Terminal, signal: AbortSignal): Promise<number | undefined> {
  const t0 = Date.now();
  const secs = () => Math.round((Date.now() - t0) / 1000);
  if (done(session.model)) return 0;
  let onChange: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastLine = -Infinity;
  const tick = () => {
    const elapsed = Date.now() - t0;
    if (term.tty) term.text(`\r\x1b[K${waitText(w.what, elapsed, w.timeoutMs)}`);
    else if (elapsed - lastLine >= WAIT_LINE_EVERY_MS) {
      lastLine = elapsed;
      term.text(`${waitText(w.what, elapsed, w.timeoutMs)}\n`);
    }
  };
  tick();
  try {
    const reached = await abortable(
      new Promise<boolean>((resolve) => {
        onChange = () => {
          if (done(session.model)) resolve(true);
        };
        session.on('change', onChange);
        timer = setInterval(() => {
          if (Date.now() - t0 >= w.timeoutMs) resolve(false);
          else tick();
        }, 1000);
      }),
      signal,
    );
    if (term.tty) term.text('\r\x1b[K');
    if (reached) return secs();
    term.lines([{ text: `✗ gave up waiting for ${w.what} after ${secs()} s`, tone: 'bad' }]);
    return undefined;
  } finally {
    clearInterval(timer);
    session.off('change', onChange);
  }
}

async function runLive(opts: RunbookCliOptions, term: Terminal): Promise<number> {
  const session = new ClusterSession({
    hosts: opts.hosts,
    readOnly: false,
    configFile: opts.configFile,
    identityFile: opts.identityFile,
    deploy: { log: (l) => process.stderr.write(`${l}\n`) },
  });
  const stop = new AbortController();
  let signals = 0;
  const onSigint = () => {
    // A second Ctrl-C: the operator insists, even with an action still on its way.
    if (++signals > 1) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const input = new Lines(opts.input ?? process.stdin);
  const journal = new RunJournal(session, (t) => term.lines([{ text: `⚠ ${t}`, tone: 'bad' }]));
  session.start();
  try {
    return await steps(session, opts, term, input, stop.signal, journal);
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    term.text('\nstopped (Ctrl-C): nothing more was run\n');
    return 130;
  } finally {
    process.off('SIGINT', onSigint);
    input.close();
    // What was recorded reaches the agents before the session goes.
    await journal.flushed();
    await session.close();
  }
}

/** The run's fixed choices and its progress: the steps the operator completed, by id. */
interface Run {
  session: ClusterSession;
  opts: RunbookCliOptions;
  term: Terminal;
  input: Lines;
  signal: AbortSignal;
  resource: string;
  subject: HostIndex;
  completed: string[];
  journal: RunJournal;
}


/** Rebuilt from the live model every time, as the console does: titles and checks follow the state. */
const stateOf = (r: Run, x: ClusterModel): PlanState => planState(buildRunbook(x, r.opts.id, r.resource, r.subject), x, r.completed);

/** The runbook can go on from here: its next step may run, waits only for the cluster, or there is none. */
const goesAhead = (r: Run, x: ClusterModel): boolean => VERDICT_EXIT[planVerdict(x, stateOf(r, x)).kind] === 0;

async function ask(r: Run, question: string): Promise<string | undefined> {
  r.term.text(question);
  const a = await r.input.next(r.signal);
  if (a === undefined) r.term.text('\n');
  return a;
}

function refused(r: Run, p: RunbookProgress): number {
  r.term.lines([{ text: `✗ refused: ${p.checks.find((c) => !c.ok)?.reason ?? 'precondition failed'}`, tone: 'bad' }]);
  return 1;
}

/** Sends a confirmed action as the console does, says the agent's answer and records the step; a confirm step (no guard) only records. */
async function send(r: Run, g: GuardResult | undefined, step: RunbookStep, advance = true): Promise<ActionOutcome> {
  if (g) r.term.text(`running ${g.command} on ${g.hostName}…\n`);
  const outcome: ActionOutcome = g ? await runGuarded(r.session, g) : { ok: true, message: 'confirmed' };
  const rb = buildRunbook(r.session.model, r.opts.id, r.resource, r.subject);
  const result = outcome.ok ? (g ? 'ran' : 'confirmed') : outcome.refused ? 'refused' : 'failed';
  await r.journal.step(rb, r.subject, step.id, result, { ...(g ? { guard: g } : {}), ...(outcome.ok ? {} : { detail: outcome.message }), advance });
  if (g) r.term.lines([{ text: `${g.hostName}: ${g.command}: ${outcome.message || (outcome.ok ? 'done' : 'failed')}`, tone: outcome.ok ? 'ok' : 'bad' }]);
  return outcome;
}

/** The operator declined a step where only optional ones are left: the run is complete. */
const FINISHED = 'finished';

/**
 * The next step, asked and run: 'ran', FINISHED, 'again' when the state changed while asking (the step
 * is shown again as it is now), or the exit code when the run ends here.
 */
async function runStep(r: Run, s: PlanState, step: RunbookStep, n: number): Promise<'ran' | 'again' | typeof FINISHED | number> {
  const optional = s.progress.finishable;
  const declined = (answer: string | undefined) => (optional ? FINISHED : notRun(r.term, n, answer));
  let force = false;
  if (s.forced) {
    const choice = await ask(r, variantPrompt(step));
    const v = choice === undefined ? undefined : variantAnswer(choice);
    if (v === undefined) return declined(choice);
    force = v;
  }
  const chosen = force ? s.forced! : s.progress;
  if (!chosen.ready) return refused(r, chosen);
  const prompt = stepPrompt(step, chosen.guard, optional);
  const answer = await ask(r, prompt.text);
  if (answer === undefined || !accepts(prompt, answer)) return declined(answer);
  // The operator answered on what he saw: the live state decides whether it still goes ahead.
  const now = stateOf(r, r.session.model);
  const live = force && now.forced ? now.forced : now.progress;
  if (now.progress.next !== s.progress.next || JSON.stringify(stepPrompt(step, live.guard, now.progress.finishable)) !== JSON.stringify(prompt)) {
    r.term.text('the cluster changed while asking: the step again, as it is now\n');
    return 'again';
  }
  if (!live.ready) return refused(r, live);
  if (!(await send(r, live.guard, step)).ok) return 1;
  if (r.signal.aborted) throw new Stopped();
  r.completed.push(step.id);
  return 'ran';
}

/** A wait that cannot finish without an action (the resource down, a side StandAlone): asked, then run as a step is. */
async function runUnblock(r: Run, g: GuardResult, step: RunbookStep, n: number): Promise<'ran' | number> {
  const p = unblockPrompt(g);
  const answer = await ask(r, p.text);
  if (answer === undefined || !accepts(p, answer)) return notRun(r.term, n, answer);
  const live = stateOf(r, r.session.model).progress.unblock;
  if (!live?.allowed || live.command !== g.command || live.host !== g.host) return 'ran';
  if (!(await send(r, live, step, false)).ok) return 1;
  if (r.signal.aborted) throw new Stopped();
  return 'ran';
}

async function steps(session: ClusterSession, opts: RunbookCliOptions, term: Terminal, input: Lines, signal: AbortSignal, journal: RunJournal): Promise<number> {
  await waitUntil(session, (m) => m.hosts.every((h) => h.reach.state !== 'connecting'), { what: `${opts.hosts.join(' and ')} to answer`, timeoutMs: SETTLE_MS }, term, signal);
  const chosen = chooseRun(session.model, opts.id, opts.resource, opts.host);
  if (!chosen.ok) {
    term.text(`${chosen.message}\n`);
    return chosen.exitCode;
  }
  const r: Run = { session, opts, term, input, signal, resource: chosen.resource, subject: chosen.subject, completed: [...(chosen.resume?.completed ?? [])], journal };
  const first = stateOf(r, session.model);
  term.lines(planLines(session.model, first, { note: chosen.note }));
  if (chosen.resume) await journal.resumed(chosen.resume, first.runbook, first.progress.next);
  let shown = first.progress.next;
  let ranStep = false;
  // The plan ends with its verdict: an end right away says it once.
  let fresh = true;
  // An optional wait is asked for once; the wait itself may come round again after a catch-up.
  let askedWait: string | undefined;
  const end = async (verdict: Verdict, m: ClusterModel, s: PlanState) => {
    if (!fresh) term.lines([verdictLine(verdict, m, s)]);
    if (verdict.kind === 'finished') await journal.finished(s.runbook);
    return VERDICT_EXIT[verdict.kind];
  };
  const finish = async (n: number, s: PlanState) => {
    await journal.finished(s.runbook);
    return finishHere(term, n);
  };
  for (;;) {
    const m = session.model;
    const s = stateOf(r, m);
    const step = nextStep(s.runbook, s.progress);
    const verdict = planVerdict(m, s);
    if (!step) return end(verdict, m, s);
    const n = s.progress.next! + 1;
    if (shown !== s.progress.next) term.lines([...(shown !== undefined ? passedOver(s.runbook, shown, s.progress.next!) : []), { text: `▶ ${n}. ${step.title}`, tone: 'next' }, ...nextStepLines(m, s)]);
    shown = s.progress.next;
    if (step.kind === 'wait' && (verdict.kind === 'waiting' || verdict.kind === 'optional')) {
      fresh = false;
      if (s.progress.finishable && askedWait !== step.id) {
        const p = stepPrompt(step, undefined, true);
        const a = await ask(r, p.text);
        if (a === undefined || !accepts(p, a)) return finish(n, s);
        askedWait = step.id;
      }
      if (s.progress.unblock?.allowed) {
        const ran = await runUnblock(r, s.progress.unblock, step, n);
        if (ran !== 'ran') return ran;
        ranStep = true;
        continue;
      }
      const took = await waitUntil(session, (x) => step.doneWhen?.(x) === true, { what: step.doneText, timeoutMs: stepTimeoutMs(step, opts.timeoutMs) }, term, signal);
      if (took === undefined) {
        const why = stateOf(r, session.model).progress.blocker;
        term.lines([...reachLines(session.model), ...(why ? [{ text: `⏸ ${why.reason}`, tone: 'bad' as const }] : [])]);
        return 1;
      }
      term.lines([{ text: `✓ ${step.doneText} (${took} s)`, tone: 'ok' }]);
      await journal.step(s.runbook, r.subject, step.id, 'waited', { detail: `${step.doneText} after ${took} s` });
      continue;
    }
    if (verdict.kind === 'optional') {
      term.lines([{ text: `step ${n} cannot run now: ${s.progress.checks.find((c) => !c.ok)?.reason ?? 'precondition failed'}`, tone: 'plain' }]);
      return finish(n, s);
    }
    if (verdict.kind !== 'runnable') {
      // Right after a step, the peer's view of it may be an event behind (ha-b still sees ha-a
      // Primary): the refusal counts once the model has had time to catch up.
      if (ranStep && (await waitUntil(session, (x) => goesAhead(r, x), { what: `the checks of step ${n}`, timeoutMs: CATCH_UP_MS }, term, signal)) !== undefined) {
        ranStep = false;
        continue;
      }
      return end(verdict, m, s);
    }
    fresh = false;
    const ran = await runStep(r, s, step, n);
    if (ran === FINISHED) return finish(n, s);
    if (typeof ran === 'number') return ran;
    ranStep = ran === 'ran';
    if (ran === 'again') {
      shown = undefined;
      continue;
    }
    // The step's effect, as the model shows it; where the model cannot show it (metadata of a
    // resource that is down), the next step's checks passing is the sign. The last step's
    // effect is always waited for.
    const effect = step.doneWhen ?? (() => true);
    const shows = (x: ClusterModel) => effect(x) || (stateOf(r, x).progress.next !== undefined && goesAhead(r, x));
    const took = await waitUntil(session, shows, { what: step.doneText, timeoutMs: stepTimeoutMs(step, opts.timeoutMs) }, term, signal);
    if (took === undefined) return 1;
    if (step.doneWhen?.(session.model)) term.lines([{ text: `✓ ${step.doneText} (${took} s)`, tone: 'ok' }]);
  }
}

/** The operator left out what remains, which is optional: the runbook is complete. */
function finishHere(term: Terminal, n: number): number {
  term.lines([{ text: `✓ runbook complete: step ${n} and the steps after it are optional, not run`, tone: 'done' }]);
  return 0;
}

function notRun(term: Terminal, n: number, answer: string | undefined): number {
  term.text(answer === undefined ? `end of input: step ${n} not run, nothing more was run\n` : `not confirmed: step ${n} not run, nothing more was run\n`);
  return 1;
}
