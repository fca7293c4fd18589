// A runbook's run as the agents keep it (RunbookRecord, runbook-put): which run of a resource
// is current across both hosts' views, where it stands, and the next record and audit entry
// for what the operator just did. Pure: the time and the user are passed in.
import { sameRunbookRun, type RunbookLogEntry, type RunbookRecord, type RunbookResult } from '../../agent/protocol/messages.js';
import type { GuardResult } from '../cluster/guards.js';
import type { ClusterModel, HostIndex } from '../cluster/model.js';
import { clockOf } from '../ui/format.js';
import { buildRunbook, runbookProgress, RUNBOOK_TITLES, type Runbook, type RunbookChoice, type RunbookId } from './runbooks.js';

/** Who did it and when: `user@console-host`, an ISO time. */
export interface Stamp {
  time: string;
  by: string;
}

/** Who a record names before it is put: the controller stamps it with each host's login user. */
export const PLACEHOLDER_USER = 'console';

/** DRBD's refusals can be long; the agent caps an entry's detail. */
const MAX_DETAIL = 1000;

/** The node name of host `h`, as records name their subject (the ssh alias until the agent has said). */
export function nodeName(m: ClusterModel, h: HostIndex): string {
  return m.hosts[h].view.node || m.hosts[h].name;
}

export function hostOfNode(m: ClusterModel, node: string): HostIndex | undefined {
  return ([0, 1] as const).find((h) => m.hosts[h].view.node === node) ?? ([0, 1] as const).find((h) => m.hosts[h].name === node);
}

/** Of two records of a resource, the newer: the same run by seq, different runs by when they were last updated. */
export function newer(a: RunbookRecord, b: RunbookRecord): RunbookRecord {
  if (sameRunbookRun(a, b)) return b.seq > a.seq ? b : a;
  const [ta, tb] = [Date.parse(a.updated), Date.parse(b.updated)];
  return tb > ta || (tb === ta && b.seq > a.seq) ? b : a;
}

function records(m: ClusterModel, resource: string): RunbookRecord[] {
  return m.hosts.flatMap((h) => h.view.runbooks.filter((r) => r.resource === resource));
}

/** The newest record of `resource` either host keeps, finished or abandoned included. */
export function lastRun(m: ClusterModel, resource: string): RunbookRecord | undefined {
  return records(m, resource).reduce<RunbookRecord | undefined>((best, r) => (best ? newer(best, r) : r), undefined);
}

/** The run of `resource` in progress: the newest record, when it is active. */
export function currentRun(m: ClusterModel, resource: string): RunbookRecord | undefined {
  const r = lastRun(m, resource);
  return r?.state === 'active' ? r : undefined;
}

/** Every active run either host keeps, one per resource, by resource name. */
export function activeRuns(m: ClusterModel): RunbookRecord[] {
  const names = [...new Set(m.hosts.flatMap((h) => h.view.runbooks.map((r) => r.resource)))].sort();
  return names.map((n) => currentRun(m, n)).filter((r): r is RunbookRecord => r !== undefined);
}

const RUNBOOK_IDS = new Set(Object.keys(RUNBOOK_TITLES));

/** The menu choice that reopens a stored run; undefined when this console does not know the runbook or its host. */
export function runChoice(m: ClusterModel, r: RunbookRecord): RunbookChoice | undefined {
  const host = hostOfNode(m, r.subject);
  if (host === undefined || !RUNBOOK_IDS.has(r.runbook)) return undefined;
  const id = r.runbook as RunbookId;
  const { at, of } = position(m, r, id, host);
  return { id, host, label: `Resume: ${RUNBOOK_TITLES[id]} on ${r.subject} — at step ${at} of ${of} (started ${clockOf(r.started).slice(0, 5)} by ${r.by})` };
}

function position(m: ClusterModel, r: RunbookRecord, id: RunbookId, host: HostIndex): { at: number; of: number } {
  const rb = buildRunbook(m, id, r.resource, host);
  const p = runbookProgress(rb, m, r.completed);
  return { at: (p.next ?? rb.steps.length - 1) + 1, of: rb.steps.length };
}

/** The line that keeps an active run in sight while its view is closed. */
export function activeRunLine(m: ClusterModel, r: RunbookRecord): string {
  const host = hostOfNode(m, r.subject);
  const title = RUNBOOK_TITLES[r.runbook as RunbookId] ?? r.runbook;
  const at = host !== undefined && RUNBOOK_IDS.has(r.runbook) ? position(m, r, r.runbook as RunbookId, host) : { at: r.completed.length + 1, of: r.steps ?? 0 };
  return `runbook active: ${title} ${r.resource} on ${r.subject} (step ${at.at}/${at.of || '?'}) — r to resume`;
}

/** A new run of `rb` about `choice.host`, and its `started` entry. */
export function startRun(m: ClusterModel, rb: Runbook, choice: RunbookChoice, at: Stamp): { record: RunbookRecord; entry: RunbookLogEntry } {
  const record: RunbookRecord = {
    resource: rb.resource,
    runbook: rb.id,
    subject: nodeName(m, choice.host),
    state: 'active',
    completed: [],
    steps: rb.steps.length,
    started: at.time,
    updated: at.time,
    seq: 1,
    by: at.by,
  };
  return { record, entry: entryOf(record, 'started', at, { title: rb.title }) };
}

/**
 * The run with `stepId` done: every step up to it counts as done (runbookProgress reads the
 * last completed one that way), so the record's length is where the run stands.
 */
export function stepDone(r: RunbookRecord, rb: Runbook, stepId: string, at: Stamp): RunbookRecord {
  const upTo = rb.steps.findIndex((s) => s.id === stepId);
  const done = new Set([...r.completed, ...rb.steps.slice(0, upTo + 1).map((s) => s.id)]);
  const ordered = [...rb.steps.map((s) => s.id).filter((id) => done.has(id)), ...[...done].filter((id) => !rb.steps.some((s) => s.id === id))];
  return touched({ ...r, completed: ordered, steps: rb.steps.length }, at);
}

/** The run ended: every step done (`finished`) or given up (`abandoned`). */
export function endRun(r: RunbookRecord, state: 'finished' | 'abandoned', at: Stamp): RunbookRecord {
  return touched({ ...r, state }, at);
}

function touched(r: RunbookRecord, at: Stamp): RunbookRecord {
  return { ...r, updated: at.time, seq: r.seq + 1, by: at.by };
}

/** The audit entry of a step: what ran, on which host (node name), and how it came out. */
export function stepEntry(m: ClusterModel, r: RunbookRecord, rb: Runbook, stepId: string, result: RunbookResult, at: Stamp, opts: { guard?: GuardResult; detail?: string } = {}): RunbookLogEntry {
  const step = rb.steps.find((s) => s.id === stepId);
  const host = opts.guard?.host ?? step?.host;
  return entryOf(r, result, at, {
    step: stepId,
    ...(step ? { title: step.title } : {}),
    ...(host !== undefined ? { host: nodeName(m, host) } : {}),
    ...(opts.guard ? { command: opts.guard.command } : {}),
    ...(opts.detail ? { detail: opts.detail.slice(0, MAX_DETAIL) } : {}),
  });
}

/** An entry about the run as a whole (started, finished, abandoned, resumed). */
export function entryOf(r: RunbookRecord, result: RunbookResult, at: Stamp, more: Partial<RunbookLogEntry> = {}): RunbookLogEntry {
  return { time: at.time, resource: r.resource, runbook: r.runbook, subject: r.subject, ...more, result, user: at.by };
}

/**
 * What a console re-puts so that both agents keep the same runs: for each resource, the newest
 * record either host holds goes to the reachable host that holds an older one or none.
 */
export function convergePuts(m: ClusterModel): Array<{ host: HostIndex; record: RunbookRecord }> {
  if (!m.hosts.every((h) => h.reach.state === 'up' && h.view.ready)) return [];
  const names = [...new Set(m.hosts.flatMap((h) => h.view.runbooks.map((r) => r.resource)))].sort();
  const out: Array<{ host: HostIndex; record: RunbookRecord }> = [];
  for (const name of names) {
    const best = lastRun(m, name)!;
    for (const h of [0, 1] as const) {
      const mine = m.hosts[h].view.runbooks.find((r) => r.resource === name);
      // A tie (the same run at the same seq) keeps `mine`: nothing to copy.
      if (!mine || (mine !== best && newer(mine, best) === best)) out.push({ host: h, record: best });
    }
  }
  return out;
}
