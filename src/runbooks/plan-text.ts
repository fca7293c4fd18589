// `drbd-tui runbook`: a runbook's plan as text lines, evaluated against one model, and the
// verdict that becomes the exit code. Pure: model and runbook in, lines out; the terminal
// runner (run-terminal.ts) prints them and the colours are applied last (paint), if at all.
// Pending steps show the command they would run, never checks: evaluated now, their guards
// would refuse for want of the earlier steps.
import type { Check, GuardResult } from '../cluster/guards.js';
import { ACTIONS, agentCommand } from '../cluster/actions.js';
import { reachText, type ClusterModel } from '../cluster/model.js';
import { runbookProgress, stepConsequence, type Runbook, type RunbookProgress, type RunbookStep, type StepStatus } from './runbooks.js';

export type Tone = 'title' | 'done' | 'next' | 'ok' | 'bad' | 'warn' | 'loss' | 'dim' | 'plain';

export interface PlanLine {
  text: string;
  tone: Tone;
}

/** The next step evaluated both ways, where it has a variant: the operator picks one. */
export interface PlanState {
  runbook: Runbook;
  progress: RunbookProgress;
  /** The next step's forceAction variant; absent when the next step has none. */
  forced?: RunbookProgress;
}

export type Verdict =
  | { kind: 'finished' }
  | { kind: 'runnable' }
  | { kind: 'waiting'; what: string }
  | { kind: 'optional' }
  | { kind: 'blocked'; reason: string }
  | { kind: 'unreachable'; hosts: string[] };

export const VERDICT_EXIT: Record<Verdict['kind'], 0 | 1 | 2> = { finished: 0, runnable: 0, waiting: 0, optional: 0, blocked: 1, unreachable: 2 };

const MARK: Record<StepStatus, string> = { done: '✓', next: '▶', pending: '·' };
const STEP_TONE: Record<StepStatus, Tone> = { done: 'done', next: 'next', pending: 'plain' };
const INDENT = '     ';

const line = (text: string, tone: Tone = 'plain'): PlanLine => ({ text, tone });

export function planState(runbook: Runbook, m: ClusterModel, completed: readonly string[]): PlanState {
  const progress = runbookProgress(runbook, m, completed);
  const step = nextStep(runbook, progress);
  return step?.forceAction ? { runbook, progress, forced: runbookProgress(runbook, m, completed, true) } : { runbook, progress };
}

export function nextStep(runbook: Runbook, p: RunbookProgress): RunbookStep | undefined {
  return p.next === undefined ? undefined : runbook.steps[p.next];
}

const notUp = (m: ClusterModel) => m.hosts.filter((h) => h.reach.state !== 'up');

/** A host that does not answer decides the verdict unless the next step can go ahead without it (a failover). */
export function planVerdict(m: ClusterModel, s: PlanState): Verdict {
  const p = s.progress;
  const step = nextStep(s.runbook, p);
  if (!step) return { kind: 'finished' };
  if (p.ready || s.forced?.ready) return { kind: 'runnable' };
  // What remains is optional (a failback, the lost host's rejoin): the procedure is complete.
  if (p.finishable) return { kind: 'optional' };
  const down = notUp(m);
  if (down.length > 0) return { kind: 'unreachable', hosts: down.map((h) => `${h.name} ${reachText(h.reach)}`) };
  if (step.kind === 'wait') return { kind: 'waiting', what: step.doneText };
  return { kind: 'blocked', reason: p.checks.find((c) => !c.ok)?.reason ?? (m.readOnly ? 'read-only' : 'precondition failed') };
}

export function checkLines(checks: readonly Check[], indent = INDENT): PlanLine[] {
  return checks.map((c) => line(`${indent}${c.ok ? '✓' : '✗'} ${c.text}${c.reason ? ` — ${c.reason}` : ''}`, c.ok ? 'ok' : 'bad'));
}

/** What the action does to the data, then what it loses: every line, never shortened. */
export function forecastLines(g: Pick<GuardResult, 'forecast' | 'loss'> | undefined, indent = INDENT): PlanLine[] {
  return [...(g?.forecast ?? []).map((f) => line(`${indent}⇄ ${f}`, 'dim')), ...(g?.loss ?? []).map((l) => line(`${indent}LOST: ${l}`, 'loss'))];
}

/** What the step says beside its command and checks; a new optional field of RunbookStep adds its line here. */
function stepNotes(step: RunbookStep, p: RunbookProgress, force: boolean, indent: string): PlanLine[] {
  const consequence = stepConsequence(step, force);
  const u = p.unblock;
  return [
    ...(p.blocker ? [line(`${indent}⏸ ${p.blocker.reason}`, 'bad')] : []),
    ...(u ? [line(`${indent}unblocks it: ${u.command} on ${u.hostName}${u.allowed ? '' : ` (refused: ${u.checks.find((c) => !c.ok)?.reason ?? 'precondition failed'})`}`)] : []),
    ...(consequence ? [line(`${indent}⚠ ${consequence}`, 'warn')] : []),
    line(`${indent}why: ${step.why}`, 'dim'),
  ];
}

function commandLine(m: ClusterModel, step: RunbookStep, g: GuardResult | undefined, indent: string): PlanLine {
  const host = m.hosts[step.host].name;
  if (g) return line(`${indent}runs on ${g.hostName}: ${g.command}`);
  if (step.kind === 'wait') return line(`${indent}waits until ${step.doneText}`);
  return line(`${indent}on ${host}: no command; ${step.typeToConfirm !== undefined ? `typing ${step.typeToConfirm} confirms` : 'the operator confirms'}`);
}

/** One way of running the next step: its command, every check, the forecast and the consequence. */
function evaluated(m: ClusterModel, step: RunbookStep, p: RunbookProgress, force: boolean, indent: string): PlanLine[] {
  return [commandLine(m, step, p.guard, indent), ...checkLines(p.checks, indent), ...forecastLines(p.guard, indent), ...stepNotes(step, p, force, indent)];
}

/** How the choice names each way: the action, or what the variant accepts (`drop the 2 sessions`). */
export const variantTitle = (step: RunbookStep, force: boolean): string => (force ? (step.forceLabel ?? ACTIONS[step.forceAction!].title) : ACTIONS[step.action!].title);

/** The next step in full; with a variant, both ways numbered as the choice prompt numbers them. */
export function nextStepLines(m: ClusterModel, s: PlanState): PlanLine[] {
  const step = nextStep(s.runbook, s.progress);
  if (!step) return [];
  if (!s.forced) return evaluated(m, step, s.progress, false, INDENT);
  const deeper = `${INDENT}   `;
  return [
    line(`${INDENT}1) ${variantTitle(step, false)}`, 'next'),
    ...evaluated(m, step, s.progress, false, deeper),
    line(`${INDENT}2) ${variantTitle(step, true)}`, 'next'),
    ...evaluated(m, step, s.forced, true, deeper),
  ];
}

function pendingLines(m: ClusterModel, runbook: Runbook, step: RunbookStep): PlanLine[] {
  const host = m.hosts[step.host].name;
  if (step.action) {
    const variant = step.forceAction && step.forceAction !== step.action ? ` (or: ${agentCommand(step.forceAction, runbook.resource)})` : '';
    return [line(`${INDENT}would run on ${host}: ${agentCommand(step.action, runbook.resource)}${variant}`, 'dim')];
  }
  return [{ ...commandLine(m, step, undefined, INDENT), tone: 'dim' }];
}

/** The steps after `from` and before `to` (indexes), which the state had already: said done, not run. */
export function passedOver(runbook: Runbook, from: number, to: number): PlanLine[] {
  return runbook.steps.slice(from + 1, to).map((step, i) => line(`✓ ${from + i + 2}. ${step.title}: in effect already`, 'done'));
}

export function verdictLine(v: Verdict, m: ClusterModel, s: PlanState): PlanLine {
  const n = (s.progress.next ?? 0) + 1;
  switch (v.kind) {
    case 'finished':
      return line('✓ runbook complete', 'done');
    case 'runnable':
      return line(`→ step ${n} can run`, 'ok');
    case 'waiting':
      return line(`… step ${n} waits until ${v.what}`, 'plain');
    case 'optional':
      return line(`✓ complete: step ${n} and after are optional`, 'done');
    case 'blocked':
      return line(`✗ blocked at step ${n}: ${v.reason}`, 'bad');
    case 'unreachable':
      return line(`✗ step ${n} cannot go ahead: ${v.hosts.join('; ')}`, 'bad');
  }
}

/** Host lines for the hosts that do not answer, shown under the title. */
export function reachLines(m: ClusterModel): PlanLine[] {
  return notUp(m).map((h) => line(`✖ ${h.name} ${reachText(h.reach)}`, 'bad'));
}

/** The whole plan: title, hosts that do not answer, each step with its status, the next in full, the verdict. */
export function planLines(m: ClusterModel, s: PlanState, opts: { note?: string } = {}): PlanLine[] {
  const { runbook, progress } = s;
  const out: PlanLine[] = [line(runbook.title, 'title'), ...(opts.note ? [line(opts.note, 'warn')] : []), ...reachLines(m)];
  runbook.steps.forEach((step, i) => {
    const status = progress.status[i]!;
    out.push(line(`${MARK[status]} ${i + 1}. ${step.title}`, STEP_TONE[status]));
    if (status === 'next') out.push(...nextStepLines(m, s));
    else if (status === 'pending') out.push(...pendingLines(m, runbook, step));
  });
  out.push(verdictLine(planVerdict(m, s), m, s));
  return out;
}

const ANSI: Record<Tone, string> = { title: '1;36', done: '32', next: '1;36', ok: '32', bad: '31', warn: '1;33', loss: '1;31', dim: '2', plain: '' };

/** The lines as the terminal gets them: coloured only where asked (a TTY without NO_COLOR). */
export function paint(lines: readonly PlanLine[], color: boolean): string {
  return lines.map((l) => (color && ANSI[l.tone] ? `\x1b[${ANSI[l.tone]}m${l.text}\x1b[0m` : l.text)).join('\n') + (lines.length > 0 ? '\n' : '');
}

/** Colour when the stream is a terminal and NO_COLOR (https://no-color.org) is unset or empty. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}
