// Two-host models built from a few fields per host (events2 lines folded like the console
// does), and the seed's disaster step by step: the scenarios of issue 14's mistake catalogue.
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, createModel, setReachability, type ClusterModel, type HostIndex } from '../../../src/cluster/model.js';

export const X = '0537EC2900000000';
export const Y = '7A1B2C3D00000000';
export const G = '5E5E5E5E00000000';
const ZERO = '0000000000000000';
export const SEEN = '2026-12-07T01:02:00.000Z';
const NAMES = ['ha-a', 'ha-b'] as const;

export interface Spec {
  /** Unreachable hosts keep nothing in the console's view: only the other host's memory tells. */
  up: boolean;
  /** r0 is down on this host for this reason (the agent's not-up object); with `r` absent. */
  notUp?: string;
  /** Absent: r0 is down on this host. */
  r?: {
    role?: string;
    disk: string;
    current: string;
    bitmap?: string;
    history?: string[];
    conn?: string;
    peerRole?: string;
    peerDisk?: string;
    repl?: string;
    lastError?: string;
    splitBrain?: boolean;
    /** What this host's agent remembers of the other. */
    last?: { disk: string; uuid: string; bitmap?: string; history?: string[]; role?: string };
  };
}

export function pair(a: Spec, b: Spec): ClusterModel {
  let m = createModel('ha-a', 'ha-b');
  for (const [i, s] of [a, b].entries()) {
    const h = i as HostIndex;
    const peer = 1 - i;
    m = setReachability(m, h, s.up ? { state: 'up' } : { state: 'unreachable', error: 'connect ETIMEDOUT' });
    if (s.up && s.notUp) m = applyHostEvent(m, h, parseEventLine(`exists not-up name:r0 file:/etc/drbd-tui/r0.yaml cause:${s.notUp} reason:"as the fixture says" next:"drbd-agent up r0" volumes:0`)!);
    if (!s.up || !s.r) continue;
    const r = s.r;
    const last = r.last
      ? [` peer-last-disk:${r.last.disk} peer-last-uuid:${r.last.uuid} peer-last-bitmap:${r.last.bitmap ?? ZERO} peer-last-history:${(r.last.history ?? []).join(',')}`, ` peer-last-seen:${SEEN} peer-last-role:${r.last.role ?? 'Secondary'}`]
      : ['', ''];
    for (const l of [
      `exists resource name:r0 role:${r.role ?? 'Secondary'} node:${NAMES[i]} node-id:${i}`,
      `exists device name:r0 volume:0 minor:1 disk:${r.disk} size:131072 current-uuid:${r.current} bitmap-uuids:${peer}=${r.bitmap ?? ZERO} history-uuids:${(r.history ?? []).join(',')}`,
      `exists connection name:r0 peer-node-id:${peer} conn-name:${NAMES[peer]} connection:${r.conn ?? 'Connecting'} role:${r.peerRole ?? 'Unknown'}${r.splitBrain ? ' split-brain:yes' : ''}${r.lastError ? ` last-error:"${r.lastError}"` : ''}${last[1]}`,
      `exists peer-device name:r0 peer-node-id:${peer} conn-name:${NAMES[peer]} volume:0 replication:${r.repl ?? 'Off'} peer-disk:${r.peerDisk ?? 'DUnknown'}${last[0]}`,
      'exists -',
    ]) m = applyHostEvent(m, h, parseEventLine(l)!);
  }
  return m;
}

/** Both up, Connected, Established, UpToDate on generation X; ha-a's role as given, each side's fields overridable. */
export function inSync(roleA = 'Secondary', overA: Partial<NonNullable<Spec['r']>> = {}, overB: Partial<NonNullable<Spec['r']>> = {}): ClusterModel {
  const side = (role: string, peerRole: string) => ({ role, disk: 'UpToDate', current: X, conn: 'Connected', peerRole, peerDisk: 'UpToDate', repl: 'Established' });
  return pair({ up: true, r: { ...side(roleA, 'Secondary'), ...overA } }, { up: true, r: { ...side('Secondary', roleA), ...overB } });
}

// The seed's disaster, step by step (issue 14, "What happened").
/** 1–2: ha-a back with a blank disk (create-md, up); ha-b, the only copy, still down. */
export const blankSurvivor = () => pair({ up: true, r: { disk: 'Inconsistent', current: '0000000000000004', last: { disk: 'UpToDate', uuid: X, role: 'Primary' } } }, { up: false });
/** 3–4: the blank disk was forced Primary (a fresh generation); ha-b is back and refused it as unrelated, then taken down for the runbook. */
export const blankPromoted = (bUp: boolean) =>
  pair(
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: G, conn: 'StandAlone', lastError: 'unrelated data', last: { disk: 'UpToDate', uuid: X } } },
    bUp ? { up: true, r: { disk: 'UpToDate', current: X, conn: 'StandAlone', last: { disk: 'UpToDate', uuid: G, role: 'Primary' } } } : { up: true },
  );
/** A healthy disk replacement: ha-a's disk failed and it is down; ha-b Primary, last in sync with it. */
export const replaceA = () => pair({ up: true }, { up: true, r: { role: 'Primary', disk: 'UpToDate', current: X, bitmap: X, conn: 'Connecting', last: { disk: 'UpToDate', uuid: X } } });
/** ha-b Outdated at X, long ago; ha-a moved on past it (X in its history, its bitmap lost): a full sync onto ha-b. */
export const staleB = () =>
  pair(
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: Y, history: [X], conn: 'StandAlone', last: { disk: 'Outdated', uuid: X } } },
    { up: true, r: { disk: 'Outdated', current: X, conn: 'StandAlone', last: { disk: 'UpToDate', uuid: Y, history: [X] } } },
  );
/** Both wrote apart from X: split brain, both StandAlone. */
export const split = () =>
  pair(
    { up: true, r: { disk: 'UpToDate', current: Y, bitmap: X, conn: 'StandAlone', splitBrain: true, last: { disk: 'UpToDate', uuid: G, bitmap: X } } },
    { up: true, r: { role: 'Primary', disk: 'UpToDate', current: G, bitmap: X, conn: 'StandAlone', splitBrain: true, last: { disk: 'UpToDate', uuid: Y, bitmap: X } } },
  );

