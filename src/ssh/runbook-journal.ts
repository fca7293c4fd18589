// The runbook records and audit logs of both hosts' agents, through the console's session:
// every put goes to each reachable agent stamped with the login user there, the logs are read
// from both and merged, and a host that missed updates (it was out of sight) gets the newer
// record once it is back, so that both agents keep the same run.
import { hostname, userInfo } from 'node:os';
import type { RunbookLogEntry, RunbookLogResult, RunbookPutParams, RunbookRecord } from '../../agent/protocol.js';
import type { HostIndex } from '../cluster/model.js';
import { convergePuts } from '../runbooks/journal.js';
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
