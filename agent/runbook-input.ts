// runbook-put's params judged at the boundary: every field typed and capped, so that what the
// agent stores and prints (runbook-log, events2 lines) is bounded and cannot break a line.
// Pure: the request in, a validated copy or the reason out.
import { resourceNameProblem } from './config/resource-files.js';
import type { RunbookLogEntry, RunbookPutParams, RunbookRecord, RunbookResult } from './protocol/messages.js';

export const MAX_STEP_ID = 64;
export const MAX_STEPS = 64;
const MAX_NAME = 64;
const MAX_USER = 128;
const MAX_TITLE = 200;
const MAX_COMMAND = 400;
const MAX_DETAIL = 1000;
const MAX_TIME = 40;

const STATES: ReadonlySet<string> = new Set<RunbookRecord['state']>(['active', 'finished', 'abandoned']);
const RESULTS: ReadonlySet<string> = new Set<RunbookResult>(['started', 'ran', 'refused', 'failed', 'confirmed', 'waited', 'finished', 'abandoned', 'resumed']);
/** Step ids travel comma-separated in events2 (`completed:a,b`): no commas, blanks or quotes. */
const STEP_ID = /^[A-Za-z0-9_.-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

class Invalid extends Error {}

function str(o: Record<string, unknown>, key: string, max: number, what: string, opts: { optional?: boolean; multiline?: boolean } = {}): string | undefined {
  const v = o[key];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string' || v === '') throw new Invalid(`${what}.${key} must be a non-empty string`);
  if (v.length > max) throw new Invalid(`${what}.${key} is longer than ${max} characters`);
  if (!opts.multiline && CONTROL.test(v)) throw new Invalid(`${what}.${key} holds control characters`);
  return v;
}

function time(o: Record<string, unknown>, key: string, what: string): string {
  const v = str(o, key, MAX_TIME, what)!;
  if (!Number.isFinite(Date.parse(v))) throw new Invalid(`${what}.${key} is not an ISO time: ${v}`);
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Invalid(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function resource(o: Record<string, unknown>, what: string): string {
  const r = str(o, 'resource', MAX_NAME, what)!;
  const problem = resourceNameProblem(r);
  if (problem) throw new Invalid(problem);
  return r;
}

function runbookId(o: Record<string, unknown>, what: string): string {
  const id = str(o, 'runbook', MAX_NAME, what)!;
  if (!/^[a-z0-9-]+$/.test(id)) throw new Invalid(`${what}.runbook must be a runbook id (lower-case letters, digits, '-')`);
  return id;
}

function stepId(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > MAX_STEP_ID || !STEP_ID.test(v)) {
    throw new Invalid(`${what} must be a step id of at most ${MAX_STEP_ID} letters, digits, '_', '.', '-'`);
  }
  return v;
}

export function validRecord(v: unknown): RunbookRecord {
  const o = object(v, 'record');
  const state = o.state;
  if (typeof state !== 'string' || !STATES.has(state)) throw new Invalid(`record.state must be active, finished or abandoned`);
  const completed = o.completed;
  if (!Array.isArray(completed)) throw new Invalid('record.completed must be an array of step ids');
  if (completed.length > MAX_STEPS) throw new Invalid(`record.completed holds more than ${MAX_STEPS} steps`);
  const seq = o.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new Invalid('record.seq must be a non-negative integer');
  const steps = o.steps;
  if (steps !== undefined && (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS)) throw new Invalid(`record.steps must be an integer from 1 to ${MAX_STEPS}`);
  return {
    resource: resource(o, 'record'),
    runbook: runbookId(o, 'record'),
    subject: str(o, 'subject', MAX_NAME, 'record')!,
    state: state as RunbookRecord['state'],
    completed: completed.map((c, i) => stepId(c, `record.completed[${i}]`)),
    ...(steps !== undefined ? { steps } : {}),
    started: time(o, 'started', 'record'),
    updated: time(o, 'updated', 'record'),
    seq,
    by: str(o, 'by', MAX_USER, 'record')!,
  };
}

export function validEntry(v: unknown): RunbookLogEntry {
  const o = object(v, 'entry');
  const result = o.result;
  if (typeof result !== 'string' || !RESULTS.has(result)) throw new Invalid(`entry.result must be one of ${[...RESULTS].join(', ')}`);
  const step = o.step === undefined ? undefined : stepId(o.step, 'entry.step');
  const optional = { optional: true };
  const e: RunbookLogEntry = {
    time: time(o, 'time', 'entry'),
    resource: resource(o, 'entry'),
    runbook: runbookId(o, 'entry'),
    subject: str(o, 'subject', MAX_NAME, 'entry')!,
    ...(step !== undefined ? { step } : {}),
    result: result as RunbookResult,
    user: str(o, 'user', MAX_USER, 'entry')!,
  };
  const title = str(o, 'title', MAX_TITLE, 'entry', optional);
  const host = str(o, 'host', MAX_NAME, 'entry', optional);
  const command = str(o, 'command', MAX_COMMAND, 'entry', optional);
  const detail = str(o, 'detail', MAX_DETAIL, 'entry', { optional: true, multiline: true });
  if (title !== undefined) e.title = title;
  if (host !== undefined) e.host = host;
  if (command !== undefined) e.command = command;
  if (detail !== undefined) e.detail = detail;
  return e;
}

/** The params of a runbook-put, validated; or why not, in words for the operator's client. */
export function validRunbookPut(params: unknown): RunbookPutParams | { error: string } {
  try {
    const p = object(params, 'params');
    const record = validRecord(p.record);
    const entry = p.entry === undefined ? undefined : validEntry(p.entry);
    if (entry && entry.resource !== record.resource) throw new Invalid(`entry.resource (${entry.resource}) is not record.resource (${record.resource})`);
    return { record, ...(entry ? { entry } : {}), ...(p.converge === true ? { converge: true } : {}) };
  } catch (e) {
    if (e instanceof Invalid) return { error: `runbook-put refused: ${e.message}` };
    throw e;
  }
}
