// Why a runbook's wait cannot finish as things stand, and the one action that unblocks it: a
// wait for the pair to connect and sync goes nowhere while a host is away, the resource is
// down, a side is StandAlone or the resync is paused — the runner says so instead of spinning.
import type { ActionKind } from '../cluster/actions.js';
import { reachText, resourceRows, type ClusterModel, type HostIndex } from '../cluster/model.js';
import { hasSplitBrain, isUp, reachable, sidesOf, standalone } from './pair-state.js';

export interface WaitBlocker {
  /** Why the wait cannot finish ("ha-b is StandAlone: connect it"). */
  reason: string;
  /** The action on `host` that unblocks it, where the console can run one. */
  unblock?: { action: ActionKind; host: HostIndex };
}

/** Samples of a resync's rate (about one per second) all at zero before it counts as not moving. */
export const STALLED_SAMPLES = 10;

/**
 * What stops a wait for `resource` to be Connected (and synced) on both hosts, most fundamental
 * first: a host out of sight, a split brain, the resource down, a side StandAlone, the resync
 * paused or not moving. Undefined while nothing does (Connecting shortly after `up` is normal).
 */
export function connectionBlocker(m: ClusterModel, resource: string): WaitBlocker | undefined {
  const both = [0, 1] as const;
  const name = (h: HostIndex) => m.hosts[h].name;
  for (const h of both) if (!reachable(m, h)) return { reason: `${name(h)} is ${reachText(m.hosts[h].reach)}: the wait cannot finish until it answers` };
  if (hasSplitBrain(m, resource)) return { reason: 'split brain: the pair refuses to connect; use the split-brain runbook (r)' };
  for (const h of both) if (!isUp(m, resource, h)) return { reason: `${resource} is down on ${name(h)}: bring it up`, unblock: { action: 'up', host: h } };
  for (const h of both) {
    if (!standalone(m, resource, h)) continue;
    const err = sidesOf(m, resource, h).find((s) => s.lastError)?.lastError;
    return { reason: `${name(h)} is StandAlone${err ? ` (${err})` : ''}: connect it`, unblock: { action: 'connect', host: h } };
  }
  for (const h of both) {
    if (sidesOf(m, resource, h).some((s) => s.peerDevice?.resyncSuspended === 'user')) return { reason: `the resync is paused on ${name(h)}: resume it`, unblock: { action: 'resume-sync', host: h } };
  }
  const stalled = resourceRows(m).find((r) => r.resource === resource && r.sync && !r.sync.paused && r.sync.rateHistory.length >= STALLED_SAMPLES && r.sync.rateHistory.slice(-STALLED_SAMPLES).every((x) => x === 0));
  if (stalled) return { reason: `the resync of ${stalled.key} is not moving (0 MiB/s for the last ${STALLED_SAMPLES} samples): look at the peer link and both disks` };
  return undefined;
}

/** Where each host stands, for a wait that ran out of time: "ha-a Connecting, Inconsistent; ha-b …". */
export function standing(m: ClusterModel, resource: string): string {
  return ([0, 1] as const)
    .map((h) => {
      const s = sidesOf(m, resource, h);
      if (!s.some((x) => x.present)) return `${m.hosts[h].name} down`;
      const x = s[0]!;
      return `${m.hosts[h].name} ${x.connection}, ${x.disk}${x.replication !== 'Off' && x.replication !== 'Established' ? ` (${x.replication})` : ''}${x.lastError ? `, last error: ${x.lastError}` : ''}`;
    })
    .join('; ');
}
