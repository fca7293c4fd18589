// The runbook records and audit logs of both hosts' agents, through the console's session:
// every put goes to each reachable agent stamped with the login user there, the logs are read
// from both and merged, and a host that missed updates (it was out of sight) gets the newer
// record once it is back, so that both agents keep the same run.
import { hostname, userInfo } from 'node:os';
import type { RunbookLogEntry, RunbookLogResult, RunbookPutParams, RunbookRecord, RunbookResult } from '../../agent/protocol/messages.js';
import type { GuardResult } from '../cluster/guards.js';
import type { HostIndex } from '../cluster/model.js';
import { convergePuts, endRun, entryOf, PLACEHOLDER_USER, startRun, stepDone, stepEntry, type Stamp } from '../runbooks/journal.js';
import type { Runbook } from '../runbooks/runbooks.js';
import type { ClusterSession } from './cluster-session.js';

/** `user@console-host`: who ran it, as the audit log names them. */
export function operatorOn(session: ClusterSession, i: HostIndex): string {
  return `${session.links[i].user ?? userInfo().username}@${hostname()}`;
}

const reachable = (session: ClusterSession): HostIndex[] => ([0, 1] as const).filter((i) => session.model.hosts[i].reach.state === 'up');

/** Rejects, naming each host, when an agent did not take it; hosts out of sight are caught up later (watchRunbooks). */
export async function recordRunbook(session: ClusterSession, record: RunbookRecord, entry?: RunbookLogEntry): Promise<void> {
  const hosts = reachable(session);
  if (hosts.length === 0) throw new Error('no host is reachable');
  const results = await Promise.allSettled(
    hosts.map((i) => {
      const who = operatorOn(session, i);
      const params: RunbookPutParams = { record: { ...record, by: who }, ...(entry ? { entry: { ...entry, user: who } } : {}) };
      return session.request(i, 'runbook-put', params);
    }),
  );
  const failed = results.flatMap((r, k) => (r.status === 'rejected' ? [`${session.model.hosts[hosts[k]!].name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
  if (failed.length > 0) throw new Error(failed.join('; '));
}

/** Both reachable agents' logs of `resource`, merged without repeats, oldest first. */
export async function runbookLog(session: ClusterSession, resource?: string): Promise<RunbookLogEntry[]> {
  const hosts = reachable(session);
  if (hosts.length === 0) throw new Error('no host is reachable');
  const logs = await Promise.allSettled(hosts.map((i) => session.request<RunbookLogResult>(i, 'runbook-log', { ...(resource !== undefined ? { resource } : {}), limit: 1000 })));
  if (logs.every((l) => l.status === 'rejected')) throw (logs[0] as PromiseRejectedResult).reason;
  const seen = new Map<string, RunbookLogEntry>();
  for (const l of logs) if (l.status === 'fulfilled') for (const e of l.value.entries) seen.set(JSON.stringify(e), e);
  return [...seen.values()].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** Re-puts the newer record on a host that holds an older one, each copy once; returns the unsubscribe. */
export function watchRunbooks(session: ClusterSession): () => void {
  const tried = new Set<string>();
  const onChange = () => {
    if (session.model.readOnly) return;
    for (const { host, record } of convergePuts(session.model)) {
      const key = `${host} ${record.resource} ${record.runbook} ${record.started} ${record.seq}`;
      if (tried.has(key)) continue;
      tried.add(key);
      session.request(host, 'runbook-put', { record, converge: true } satisfies RunbookPutParams).catch((e: Error) => session.emit('log', `${session.model.hosts[host].name}: runbook record not copied: ${e.message}`));
    }
  };
  session.on('change', onChange);
  onChange();
  return () => session.off('change', onChange);
}

/**
 * The record of one run kept by a process that runs it step by step (`drbd-tui runbook`): puts
 * in order, each from the last; a put that fails is said and the run goes on, as in the console.
 */
export class RunJournal {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly session: ClusterSession,
    private readonly warn: (text: string) => void,
  ) {}

  private record?: RunbookRecord;

  private stamp(): Stamp {
    return { time: new Date().toISOString(), by: PLACEHOLDER_USER };
  }

  private put(record: RunbookRecord, entry: RunbookLogEntry): Promise<void> {
    this.record = record;
    this.tail = this.tail.then(() => recordRunbook(this.session, record, entry).catch((e: Error) => this.warn(`${record.resource}: runbook progress not recorded on the agents: ${e.message}`)));
    return this.tail;
  }

  private runOf(rb: Runbook, subject: HostIndex): RunbookRecord {
    if (this.record) return this.record;
    const { record, entry } = startRun(this.session.model, rb, { id: rb.id, host: subject, label: rb.title }, this.stamp());
    void this.put(record, entry);
    return record;
  }

  /** `r`, active on the agents, taken up by this process: said in the log. */
  resumed(r: RunbookRecord, rb: Runbook, next: number | undefined): Promise<void> {
    const at = this.stamp();
    const step = next === undefined ? {} : { step: rb.steps[next]!.id, title: rb.steps[next]!.title };
    return this.put({ ...r, updated: at.time, seq: r.seq + 1, by: at.by }, entryOf(r, 'resumed', at, step));
  }

  /** A step's outcome: `ran` and `confirmed` advance the run unless `advance` is false (an unblocking action); the others only log. */
  step(rb: Runbook, subject: HostIndex, stepId: string, result: Extract<RunbookResult, 'ran' | 'confirmed' | 'refused' | 'failed' | 'waited'>, opts: { guard?: GuardResult; detail?: string; advance?: boolean } = {}): Promise<void> {
    const run = this.runOf(rb, subject);
    const at = this.stamp();
    const record = (result === 'ran' || result === 'confirmed') && opts.advance !== false ? stepDone(run, rb, stepId, at) : run;
    return this.put(record, stepEntry(this.session.model, record, rb, stepId, result, at, opts));
  }

  /** Every step done, or the operator left out what remains, which is optional. */
  finished(rb: Runbook): Promise<void> {
    if (!this.record || this.record.state !== 'active') return this.tail;
    const at = this.stamp();
    const record = endRun(stepDone(this.record, rb, rb.steps.at(-1)!.id, at), 'finished', at);
    return this.put({ ...record, seq: this.record.seq + 1 }, entryOf(record, 'finished', at, { title: rb.title }));
  }

  /** Resolves once every put so far has been answered (or said to have failed). */
  flushed(): Promise<void> {
    return this.tail;
  }
}
