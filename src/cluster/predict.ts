// What an action will do to the data, before it is sent: the engine's own sync decision
// (agent/sync-decision.ts, never copied) on both hosts' generation identifiers, as best known
// (a host out of sight answers with what its peer's agent remembers), after the change the
// action makes to them. Guards show the forecast and call an action destructive when it
// overwrites data that no other copy holds.
import type { GenerationIds } from '../../agent/protocol/messages.js';
import { fmtKiB } from '../ui/format.js';
import { knownFrom, type ClusterModel, type HostIndex, type ResourceRow } from './model.js';
import { UUID_JUST_CREATED, decideSync, discardResolution, formatUuid, holdsData, newGenerationIds, sideFromWire, type KnownPeer, type SideGi, type SyncDecision, type WireGi, uuidEq } from '../../agent/protocol/decisions.js';

/** One host's identifiers for one volume, with where the knowledge comes from. */
export interface KnownGi {
  side: SideGi;
  wire: WireGi;
  /** Not the host's word now (its peer's memory, or the console's last view of it). */
  stale: boolean;
  /** When it was last true (ISO time), for stale knowledge. */
  seen?: string;
  sizeKiB?: number;
}

const ZERO = formatUuid(0n);

function bitmapFor(u: GenerationIds, peerNodeId: number | undefined): string {
  return (peerNodeId !== undefined ? u.bitmap[String(peerNodeId)] : undefined) ?? Object.values(u.bitmap)[0] ?? ZERO;
}

/** Host i's identifiers for the row's volume, from where knownFrom says the best knowledge is. */
export function knownGi(row: ResourceRow, i: HostIndex): KnownGi | undefined {
  const s = row.sides[i];
  const o = row.sides[i === 0 ? 1 : 0];
  const own = (stale: boolean): KnownGi | undefined => {
    const d = s.device;
    if (!d || !s.resource) return undefined;
    const wire: WireGi = { current: d.uuids.current, bitmap: bitmapFor(d.uuids, s.conn?.peerNodeId), history: d.uuids.history, disk: s.disk };
    return { side: sideFromWire(s.resource.nodeId, s.role === 'Primary', wire), wire, stale, sizeKiB: d.size };
  };
  const from = knownFrom(row, i);
  const pd = o.peerDevice;
  if (from === 'peer' && o.conn && pd?.peerLastUuid !== undefined) {
    const live = o.connection === 'Connected';
    const wire: WireGi = { current: pd.peerLastUuid, bitmap: pd.peerLastBitmap ?? ZERO, history: pd.peerLastHistory ?? [], disk: live ? o.peerDisk : (pd.peerLastDisk ?? 'DUnknown') };
    const primary = (live ? o.conn.role : o.conn.peerLastRole) === 'Primary';
    return { side: sideFromWire(o.conn.peerNodeId, primary, wire), wire, stale: !live, seen: o.conn.peerLastSeen, sizeKiB: o.device?.size };
  }
  // The peer knows the disk state but not the identifiers: the console's last view, if any.
  return from === 'own' ? own(false) : s.present ? own(true) : undefined;
}

/** Host i as the other host's agent would judge it: the input of the shared data refusals. */
export function knownPeer(m: ClusterModel, rows: readonly ResourceRow[], i: HostIndex): KnownPeer | undefined {
  const gis = rows.map((r) => knownGi(r, i));
  if (gis.length === 0 || gis.some((g) => g === undefined)) return undefined;
  const first = gis[0]!;
  return {
    peer: m.hosts[i].name,
    peerNodeId: first.side.nodeId,
    seen: first.seen ?? '',
    role: first.side.primaryNow ? 'Primary' : 'Secondary',
    volumes: gis.map((g) => ({ disk: g!.wire.disk, current: g!.wire.current, bitmap: g!.wire.bitmap, history: [...g!.wire.history] })),
  };
}

/** The actions whose effect on the identifiers a forecast plays through. */
export type Hypothesis = 'create-md' | 'force-primary' | 'promote' | 'discard-my-data' | 'invalidate';

/** Stands for the generation an action would create: equal to nothing anyone holds. */
const NEW_GENERATION = 0xfffffffffffffff0n;

/** The identifiers after `h`, as the engine changes them (metadata.ts createMetadata; machine.ts promote). */
export function afterAction(side: SideGi, h: Hypothesis | undefined): SideGi {
  if (h === 'create-md') return { ...side, current: UUID_JUST_CREATED, bitmapForPeer: 0n, history: [], disk: 'Inconsistent', crashedPrimary: false, primaryNow: false };
  if (h === 'force-primary' || h === 'promote') {
    // Apart from the peer, the first write as Primary (at once when forced) starts a generation.
    const g = newGenerationIds({ current: side.current, bitmap: side.bitmapForPeer, history: side.history }, NEW_GENERATION, false);
    return { ...side, current: g.current, bitmapForPeer: g.bitmap, history: g.history, disk: 'UpToDate', primaryNow: true };
  }
  return side;
}

export type Outcome =
  | { kind: 'unknown'; host: HostIndex }
  | { kind: 'none' }
  | { kind: 'sync'; source: HostIndex; target: HostIndex; over: 'full' | 'bitmap' | 'activity-log' }
  | { kind: 'split-brain'; automatic: boolean }
  | { kind: 'unrelated' };

export interface VolumeForecast {
  key: string;
  outcome: Outcome;
  /** One line naming what is overwritten and by what, when the outcome loses data no other copy holds. */
  loss?: string;
}

/** The side holds `u` as its generation, its bitmap base or in its history: data it descends from. */
function descendsFrom(side: SideGi, u: bigint): boolean {
  return uuidEq(side.current, u) || (side.bitmapForPeer !== 0n && uuidEq(side.bitmapForPeer, u)) || side.history.some((h) => uuidEq(h, u));
}

export const shortGeneration = (u: bigint) => `${formatUuid(u).slice(0, 8)}…`;

function outcomeOf(d: SyncDecision, i: HostIndex): Outcome {
  const other = (i === 0 ? 1 : 0) as HostIndex;
  switch (d.kind) {
    case 'none':
      return { kind: 'none' };
    case 'source':
      return { kind: 'sync', source: i, target: other, over: d.over };
    case 'target':
      return { kind: 'sync', source: other, target: i, over: d.over };
    case 'split-brain':
      return { kind: 'split-brain', automatic: d.automatic };
    case 'unrelated':
      return { kind: 'unrelated' };
  }
}

/**
 * What connecting the pair does to each volume (`rows`: one resource's), after `action` on `host` (none:
 * as things stand). The loss names data that would be overwritten or wiped with no copy of it
 * left on the other host.
 */
export function forecast(m: ClusterModel, rows: readonly ResourceRow[], change?: { host: HostIndex; action: Hypothesis }): VolumeForecast[] {
  return rows.map((row) => {
    const known = [knownGi(row, 0), knownGi(row, 1)] as const;
    const missing = known.findIndex((k) => k === undefined);
    if (missing >= 0) return { key: row.key, outcome: { kind: 'unknown', host: missing as HostIndex } };
    const before = [known[0]!.side, known[1]!.side] as const;
    const after = before.map((s, i) => (change?.host === i ? afterAction(s, change.action) : s)) as [SideGi, SideGi];
    let d = decideSync(after[0], after[1]);
    if (change?.action === 'discard-my-data') d = discardResolution(d, change.host === 0, change.host === 1) ?? d;
    // invalidate decides by itself, whatever the identifiers say: a full resync onto this host.
    const outcome: Outcome = change?.action === 'invalidate' ? { kind: 'sync', source: (1 - change.host) as HostIndex, target: change.host, over: 'full' } : outcomeOf(d, 0);
    const name = (i: HostIndex) => m.hosts[i].name;
    const what = (i: HostIndex) => {
      const k = known[i]!;
      const size = k.sizeKiB ? `${fmtKiB(k.sizeKiB)}, ` : '';
      return `${name(i)}'s ${size}generation ${shortGeneration(before[i].current)}${k.stale && k.seen ? `, last seen ${k.seen}` : ''}`;
    };
    // Wiped by the action itself: its data must be whole on the other host.
    if (change?.action === 'create-md' && holdsData(before[change.host])) {
      const o = (change.host === 0 ? 1 : 0) as HostIndex;
      const safe = before[o].disk === 'UpToDate' && descendsFrom(before[o], before[change.host].current);
      if (!safe) return { key: row.key, outcome, loss: `${what(change.host)} will be wiped: ${name(o)} holds no copy of it` };
    }
    // Serving data that does not contain the other host's: its newer data is no longer served,
    // and the pair can only meet again by discarding one side.
    if ((change?.action === 'force-primary' || change?.action === 'promote') && holdsData(before[1 - change.host]!)) {
      const h = change.host;
      const o = (h === 0 ? 1 : 0) as HostIndex;
      if (!descendsFrom(before[h], before[o].current)) {
        const mine = holdsData(before[h]) ? `its own older data (generation ${shortGeneration(before[h].current)})` : 'its blank disk';
        return { key: row.key, outcome, loss: `${what(o)} is left behind: ${name(h)} serves ${mine} instead, and one of the two must be discarded when ${name(o)} returns` };
      }
    }
    const wipedFirst = change?.action === 'create-md' && outcome.kind === 'sync' && outcome.target === change.host;
    if (outcome.kind === 'sync' && !wipedFirst && holdsData(before[outcome.target])) {
      const t = outcome.target;
      const s = outcome.source;
      const by = holdsData(before[s]) ? `${name(s)}'s data (generation ${shortGeneration(before[s].current)})` : `${name(s)}'s blank disk`;
      const mine = change?.action === 'discard-my-data' && change.host === t;
      // What invalidate overwrites is lost only where the source's data does not contain it.
      if (change?.action === 'invalidate') return { key: row.key, outcome, ...(descendsFrom(after[s], before[t].current) ? {} : { loss: `${what(t)} will be overwritten by ${by}` }) };
      if (mine || !descendsFrom(after[s], before[t].current)) return { key: row.key, outcome, loss: `${what(t)} will be overwritten by ${by}` };
      // An older state of the source's data, but every block of it is rewritten: if the
      // identifiers are wrong about it, nothing is left to go back to.
      if (outcome.over === 'full') return { key: row.key, outcome, loss: `${what(t)} (older than ${name(s)}'s) will be overwritten by a full resync from ${name(s)}` };
    }
    return { key: row.key, outcome };
  });
}

/** One line per volume: who syncs from whom and how, or that the pair will refuse. */
export function outcomeText(m: ClusterModel, f: VolumeForecast): string {
  const name = (i: HostIndex) => m.hosts[i].name;
  const o = f.outcome;
  switch (o.kind) {
    case 'unknown':
      return `${f.key}: ${name(o.host)}'s data is not known; the engine decides on connect`;
    case 'none':
      return `${f.key}: no resync needed on connect (same generation)`;
    case 'sync':
      return `${f.key}: on connect ${name(o.source)} → ${name(o.target)}, ${o.over === 'full' ? 'full resync of the whole volume' : o.over === 'bitmap' ? 'resync of the changed blocks' : 'resync of the hot extents'}`;
    case 'split-brain':
      return `${f.key}: on connect the pair refuses: split brain (both wrote since they split)`;
    case 'unrelated':
      return `${f.key}: on connect the pair refuses: unrelated data (no shared generation)`;
  }
}
