// What the console may say about a host it cannot see: its last known role and disk, from
// whom, and since when (DESIGN.md, rule of safety). Never its last link state: a cut-off host's
// "Connected" is exactly what is no longer known.
import type { DiskState, Role } from '../../agent/protocol/messages.js';
import { fmtAge, untilAgeChanges } from '../ui/format.js';
import { knownDisk, knownFrom, type ClusterModel, type HostIndex, type ResourceRow } from './model.js';

export interface OutOfSight {
  role: Role;
  disk: DiskState;
  /** The other host's agent tells (it is still connected to this one, or remembers it); else the console's own last view. */
  via?: string;
  /** Epoch ms when it was last true; absent while the other host's agent sees it now, or when nobody knows when. */
  at?: number;
}

/** Host i's side of the row while the console cannot reach it; undefined while it answers, or when nothing is known of it. */
export function outOfSight(m: ClusterModel, row: ResourceRow, i: HostIndex): OutOfSight | undefined {
  const s = row.sides[i];
  if (s.reachable) return undefined;
  const k = knownDisk(row, i);
  if (!k) return undefined;
  if (knownFrom(row, i) === 'peer') {
    const o = row.sides[i === 0 ? 1 : 0];
    const live = o.connection === 'Connected';
    const seen = o.conn?.peerLastSeen !== undefined ? Date.parse(o.conn.peerLastSeen) : NaN;
    const role = (live ? o.peerRole : o.conn?.peerLastRole) ?? 'Unknown';
    return { role, disk: k.disk, via: m.hosts[i === 0 ? 1 : 0].name, ...(!live && Number.isFinite(seen) ? { at: seen } : {}) };
  }
  const heard = m.hosts[i].lastHeard;
  return { role: s.role, disk: s.disk, ...(heard !== undefined ? { at: heard } : {}) };
}

/** How old the knowledge is, in a table cell: "4 min ago"; "via ha-a" while ha-a's agent sees it now. */
export function outOfSightAge(k: OutOfSight, now: number): string {
  if (k.at !== undefined) return `${fmtAge(now - k.at)} ago`;
  return k.via ? `via ${k.via}` : 'unreachable';
}

/** One line for the detail view: "UpToDate 4 min ago (ha-a's agent remembers), unreachable". */
export function outOfSightText(k: OutOfSight, now: number): string {
  const role = k.role === 'Unknown' ? '' : `${k.role} `;
  const when = k.at !== undefined ? `${fmtAge(now - k.at)} ago${k.via ? ` (${k.via}'s agent remembers)` : ''}` : k.via ? `(${k.via}'s agent sees it now)` : '(when is not known)';
  return `${role}${k.disk} ${when}, unreachable`;
}

/** When an age shown for a host out of sight next reads differently (epoch ms); undefined when none is shown. */
export function outOfSightChangeAt(m: ClusterModel, rows: readonly ResourceRow[], now: number): number | undefined {
  const times = rows.flatMap((r) => ([0, 1] as const).flatMap((i) => {
    const at = outOfSight(m, r, i)?.at;
    return at === undefined ? [] : [now + untilAgeChanges(now - at)];
  }));
  return times.length === 0 ? undefined : Math.min(...times);
}
