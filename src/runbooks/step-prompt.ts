// The questions `drbd-tui runbook` asks on a terminal or a pipe, one answer per line, and
// what each answer means. Pure. The texts to type are the console's (confirmationText): a
// destructive step takes the resource name, a step that hinges on a host takes that host's.
import type { GuardResult } from '../cluster/guards.js';
import { confirmationText } from '../ui/text-entry.js';
import type { RunbookStep } from './runbooks.js';
import { variantTitle } from './plan-text.js';

export type StepPrompt = { kind: 'yes-no'; text: string } | { kind: 'type'; expected: string; text: string };

function prompt(expected: string | undefined, destructive: boolean, question: string, optional: boolean): StepPrompt {
  if (expected !== undefined) return { kind: 'type', expected, text: `${destructive ? 'DESTRUCTIVE. ' : ''}Type ${expected} to confirm${optional ? ' (optional: anything else finishes here)' : ''}: ` };
  return { kind: 'yes-no', text: `${question} [y/N]${optional ? ' (N finishes here)' : ''} ` };
}

/** `optional`: what remains may be left out, and declining ends the runbook there (the console's finish). */
export function stepPrompt(step: RunbookStep, guard: GuardResult | undefined, optional = false): StepPrompt {
  const question = step.kind === 'wait' ? `Wait until ${step.doneText}?` : step.kind === 'confirm' ? 'Confirm?' : 'Run?';
  return prompt(confirmationText(guard ?? step), guard?.destructive === true, question, optional);
}

/** The action that unblocks a wait (bring the resource up, connect, resume), asked as any action is. */
export function unblockPrompt(g: GuardResult): StepPrompt {
  return prompt(confirmationText(g), g.destructive, `Unblock it: run ${g.command} on ${g.hostName}?`, false);
}

/** Only `y`/`yes`, or exactly the text asked for, goes ahead; anything else (an empty line included) does not. */
export function accepts(p: StepPrompt, answer: string): boolean {
  const a = answer.trim();
  return p.kind === 'type' ? a === p.expected : /^y(es)?$/i.test(a);
}

/** The choice between a step and its forceful variant, numbered as the plan shows them. */
export function variantPrompt(step: RunbookStep): string {
  return `1) ${variantTitle(step, false)}  2) ${variantTitle(step, true)}\nChoose 1 or 2 (anything else stops): `;
}

/** false for the plain step, true for the variant, undefined to stop. */
export function variantAnswer(answer: string): boolean | undefined {
  const a = answer.trim();
  return a === '1' ? false : a === '2' ? true : undefined;
}

/** Waits on a resync get long; any other step's effect shows within seconds or not at all. */
export const WAIT_TIMEOUT_MS = 10 * 60_000;
export const EFFECT_TIMEOUT_MS = 60_000;

/** --timeout, else the step's own, else by kind. */
export function stepTimeoutMs(step: RunbookStep, overrideMs?: number): number {
  return overrideMs ?? step.timeoutMs ?? (step.kind === 'wait' ? WAIT_TIMEOUT_MS : EFFECT_TIMEOUT_MS);
}

/** The elapsed counter of a wait: one line, rewritten in place on a terminal. */
export function waitText(what: string, elapsedMs: number, timeoutMs: number): string {
  return `waiting for ${what}… ${Math.floor(elapsedMs / 1000)} s (gives up after ${Math.round(timeoutMs / 1000)} s)`;
}

/** On a pipe the counter is a line every this often, not a line a second. */
export const WAIT_LINE_EVERY_MS = 10_000;
