// `drbd-tui runbook NAME`: which resource and which subject host (the old Primary, the dead
// host, the node with the new disk, the victim) the command line means, decided on the
// model. Pure; a refusal carries the exit code and the text that says why.
import type { RunbookRecord } from '../../agent/protocol/messages.js';
import { resourceRows, type ClusterModel, type HostIndex } from '../cluster/model.js';
import { activeRunLine, currentRun, hostOfNode } from './journal.js';
import { applicableRunbooks, hasSplitBrain, neverHeldData, primaryHost, RUNBOOK_TITLES, type RunbookId } from './runbooks.js';
import { reachLines } from './plan-text.js';

export type Chosen<T> = { ok: true; value: T; note?: string } | { ok: false; exitCode: 1 | 2; message: string };

export const RUNBOOK_IDS = Object.keys(RUNBOOK_TITLES) as RunbookId[];

export const isRunbookId = (s: string): s is RunbookId => (RUNBOOK_IDS as string[]).includes(s);

const unreachable = (m: ClusterModel): string | undefined => {
  const lines = reachLines(m);
  return lines.length > 0 ? lines.map((l) => l.text).join('\n') : undefined;
};

/** `--resource`, or the only resource either host knows. */
export function chooseResource(m: ClusterModel, requested?: string): Chosen<string> {
  const names = [...new Set(resourceRows(m).map((r) => r.resource))];
  const down = unreachable(m);
  if (requested !== undefined) {
    if (names.includes(requested)) return { ok: true, value: requested };
    return down ? { ok: false, exitCode: 2, message: `${down}\nno resource ${requested} on the hosts that answer` } : { ok: false, exitCode: 1, message: `no resource ${requested} on either host (known: ${names.join(', ') || 'none'})` };
  }
  if (names.length === 1) return { ok: true, value: names[0]! };
  if (names.length === 0) return down ? { ok: false, exitCode: 2, message: `${down}\nno resource on the hosts that answer` } : { ok: false, exitCode: 1, message: 'no resource on either host' };
  return { ok: false, exitCode: 1, message: `several resources: ${names.join(', ')}; pass --resource NAME` };
}

/** Why runbook `id` is not among the ones that apply to `resource` now: the state it needs. */
export function notApplicableReason(m: ClusterModel, id: RunbookId, resource: string): string {
  const both = m.hosts.every((h) => h.reach.state === 'up');
  if (id !== 'split-brain' && hasSplitBrain(m, resource)) return `${resource} is in split brain: only the split-brain runbook applies`;
  switch (id) {
    case 'split-brain':
      return `${resource} is not in split brain`;
    case 'new-resource':
      return neverHeldData(m, resource) ? 'it needs both hosts reachable' : `${resource} holds data on a host already`;
    case 'switchover':
      return primaryHost(m, resource) === undefined ? `no host is Primary of ${resource}: nothing to switch over` : 'it needs both hosts reachable';
    case 'failover':
      return both ? 'both hosts answer: a failover is for a host that is down (use the switchover runbook)' : `the host that answers is not an UpToDate Secondary of ${resource} whose Primary is gone`;
    case 'disk-replacement':
      return `no node of ${resource} has a disk to replace (Failed, Diskless, Inconsistent or down) beside an UpToDate peer, both reachable`;
  }
}

/**
 * `--host` (a host of the command line), or the only subject for which `id` applies now. A
 * subject given for a runbook that does not apply is taken, with a note saying why: its plan
 * shows the checks that fail.
 */
export function chooseSubject(m: ClusterModel, id: RunbookId, resource: string, hostName?: string): Chosen<HostIndex> {
  const choices = applicableRunbooks(m, resource).filter((c) => c.id === id);
  const why = () => `${RUNBOOK_TITLES[id]} does not apply to ${resource} now: ${notApplicableReason(m, id, resource)}`;
  if (hostName !== undefined) {
    const h = m.hosts.findIndex((x) => x.name === hostName);
    if (h < 0) return { ok: false, exitCode: 1, message: `--host ${hostName}: not one of ${m.hosts.map((x) => x.name).join(', ')}` };
    const host = h as HostIndex;
    return choices.some((c) => c.host === host) ? { ok: true, value: host } : { ok: true, value: host, note: `note: ${why()}` };
  }
  if (choices.length === 1) return { ok: true, value: choices[0]!.host };
  if (choices.length > 1) {
    return { ok: false, exitCode: 1, message: [`${RUNBOOK_TITLES[id]} of ${resource}: several choices, pass --host:`, ...choices.map((c) => `  --host ${m.hosts[c.host].name}  ${c.label}`)].join('\n') };
  }
  const down = unreachable(m);
  if (down) return { ok: false, exitCode: 2, message: `${down}\n${why()}` };
  const others = applicableRunbooks(m, resource);
  const apply = others.length > 0 ? `applies now: ${others.map((c) => c.label).join('; ')}` : `no runbook applies to ${resource} now`;
  return { ok: false, exitCode: 1, message: `${why()}\n${apply}` };
}

/**
 * The resource, then the subject: what a run of runbook `id` works on, or why there is none. A
 * run of the resource still active on the agents is taken up where it stands (`resume`), its
 * subject the one it was started about; another runbook's active run refuses a new one, as the
 * console's `r` does.
 */
export function chooseRun(
  m: ClusterModel,
  id: RunbookId,
  resource?: string,
  hostName?: string,
): { ok: true; resource: string; subject: HostIndex; note?: string; resume?: RunbookRecord } | { ok: false; exitCode: 1 | 2; message: string } {
  const r = chooseResource(m, resource);
  if (!r.ok) return r;
  const run = currentRun(m, r.value);
  if (run) {
    const line = activeRunLine(m, run).replace(/^runbook active: /, '').replace(/ — r to resume$/, '');
    if (run.runbook !== id) return { ok: false, exitCode: 1, message: `${r.value} has an active runbook: ${line}\nfinish it (drbd-tui runbook ${run.runbook}) or abandon it in the console (r, then X)` };
    const subject = hostOfNode(m, run.subject);
    if (subject === undefined) return { ok: false, exitCode: 1, message: `the active run of ${r.value} is about ${run.subject}, neither host of the command line\nabandon it in the console (r, then X) from a console that reaches ${run.subject}` };
    if (hostName !== undefined && m.hosts[subject].name !== hostName) return { ok: false, exitCode: 1, message: `--host ${hostName}: the active run of ${r.value} is about ${m.hosts[subject].name} (${line})` };
    return { ok: true, resource: r.value, subject, resume: run, note: `resuming ${line}, started by ${run.by}` };
  }
  const s = chooseSubject(m, id, r.value, hostName);
  if (!s.ok) return s;
  return { ok: true, resource: r.value, subject: s.value, ...(s.note ? { note: s.note } : {}) };
}
