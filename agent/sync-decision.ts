// The connect-time decision: which side becomes SyncSource, and over what, from both sides'
// generation identifiers (engine-semantics.md, "On connect, decide by the first rule that
// matches"). Pure: both peers run it on the same inputs (mirrored) and reach mirrored answers.
// Beside the control protocol because the console predicts with it what a connect, a promote
// or a create-md will do to the data: one decision, the engine's, on both sides.

import type { DiskState } from './drbd-states.js';
import { parseUuid } from './engine/uuid.js';
import { UUID_JUST_CREATED, uuidEq } from './engine/uuid.js';

/** One volume's generation identifiers, as the engine keeps and persists them. */
export interface Gi {
  current: bigint;
  /** Bitmap UUID for the (single) peer. */
  bitmap: bigint;
  history: bigint[];
}

/** One side's identifiers for one volume, as exchanged in the handshake. */
export interface SideGi {
  nodeId: number;
  current: bigint;
  /** Bitmap UUID this side holds for the other side (0 while in sync). */
  bitmapForPeer: bigint;
  history: bigint[];
  /** Crashed while Primary (persisted flag): its activity-log extents may hold unreplicated writes. */
  crashedPrimary: boolean;
  primaryNow: boolean;
  disk: 'Inconsistent' | 'Outdated' | 'Consistent' | 'UpToDate' | 'Diskless' | 'DUnknown';
}

export type SyncDecision =
  | { kind: 'none'; rule: number }
  | { kind: 'source' | 'target'; over: 'full' | 'bitmap' | 'activity-log'; rule: number }
  | { kind: 'split-brain'; rule: 8 | 9; automatic: boolean }
  | { kind: 'unrelated'; rule: 10 };

/** One volume's identifiers in wire spelling (hex strings), as handshakes, snapshots and peer memory carry them. */
export interface WireGi {
  current: string;
  /** The bitmap UUID this side holds for the other side. */
  bitmap: string;
  history: readonly string[];
  crashedPrimary?: boolean;
  disk: DiskState;
}

export function sideFromWire(nodeId: number, primaryNow: boolean, w: WireGi): SideGi {
  return {
    nodeId,
    current: parseUuid(w.current),
    bitmapForPeer: parseUuid(w.bitmap),
    history: w.history.map(parseUuid),
    crashedPrimary: w.crashedPrimary ?? false,
    primaryNow,
    disk: toSideDisk(w.disk),
  };
}

function toSideDisk(d: DiskState): SideGi['disk'] {
  return d === 'Inconsistent' || d === 'Outdated' || d === 'Consistent' || d === 'UpToDate' || d === 'Diskless' ? d : 'DUnknown';
}

/**
 * The side holds data someone may want: a disk with a real generation that is not half-written.
 * A just-created disk (C = 4) or an Inconsistent one holds nothing a sync onto it could lose.
 */
export function holdsData(side: SideGi): boolean {
  if (strip(side.current) === UUID_JUST_CREATED || strip(side.current) === 0n) return false;
  return side.disk === 'UpToDate' || side.disk === 'Consistent' || side.disk === 'Outdated';
}

function strip(u: bigint): bigint {
  return u & ~1n;
}

const diskRank = { Diskless: 0, DUnknown: 0, Inconsistent: 1, Outdated: 2, Consistent: 3, UpToDate: 4 } as const;

/**
 * The bitmap UUID `side` should hold for `other`, when the one it holds names a resync `other`
 * has finished (DRBD's "peer missed the resync finished event", rules 34/35): the source keeps
 * its bitmap UUID until the target confirms the end, and that confirmation was lost with the
 * link. The target's history holds the UUID the resync ran under (it pushes it when it adopts
 * the source's generation) and its current generation is the source's, or one the source has
 * moved on from since (it wrote apart): then the source's bitmap covers exactly what differs
 * from that generation, which becomes its bitmap UUID (0 when it is the current one). Anything
 * else (the target never got the end, or wrote on its own since) leaves the UUID alone.
 * Returns undefined when there is nothing to correct.
 */
export function resyncEndFixup(side: SideGi, other: SideGi): bigint | undefined {
  const b = strip(side.bitmapForPeer);
  if (b === 0n || !other.history.some((h) => uuidEq(h, b))) return undefined;
  const at = strip(other.current);
  if (uuidEq(at, side.current)) return 0n;
  if (side.history.some((h) => uuidEq(h, at))) return at;
  return undefined;
}

function corrected(side: SideGi, other: SideGi): SideGi {
  const b = resyncEndFixup(side, other);
  return b === undefined ? side : { ...side, bitmapForPeer: b, history: [strip(side.bitmapForPeer), ...side.history] };
}

export function decideSync(me: SideGi, peer: SideGi): SyncDecision {
  const d = rawDecision(corrected(me, peer), corrected(peer, me));
  // Post-processing: with no sync and exactly one side Inconsistent, the better disk is source.
  const mine = diskRank[me.disk];
  const theirs = diskRank[peer.disk];
  const iAmWorse = me.disk === 'Inconsistent' && peer.disk !== 'Inconsistent' && theirs > mine;
  const peerIsWorse = peer.disk === 'Inconsistent' && me.disk !== 'Inconsistent' && mine > theirs;
  if (d.kind === 'none') {
    if (iAmWorse) return { kind: 'target', over: 'full', rule: d.rule };
    if (peerIsWorse) return { kind: 'source', over: 'full', rule: d.rule };
  }
  // [sim fix] Nor may a rule make an Inconsistent side the source over a side with data (as DRBD's
  // handshake does, by disk state): the crash tie-break of rule 4 chose a half-synced node that
  // had crashed as Primary, and it overwrote its UpToDate peer. The bitmaps still cover the
  // difference (its missing blocks and the peer's changes), so only the direction flips.
  if (d.kind === 'source' && iAmWorse) return { ...d, kind: 'target' };
  if (d.kind === 'target' && peerIsWorse) return { ...d, kind: 'source' };
  return d;
}

function rawDecision(me: SideGi, peer: SideGi): SyncDecision {
  const myC = strip(me.current);
  const peerC = strip(peer.current);
  // Rule 1–3: just-created metadata.
  if (myC === UUID_JUST_CREATED && peerC === UUID_JUST_CREATED) return { kind: 'none', rule: 1 };
  if (myC === UUID_JUST_CREATED) return { kind: 'target', over: 'full', rule: 2 };
  if (peerC === UUID_JUST_CREATED) return { kind: 'source', over: 'full', rule: 3 };
  // Rule 4: same generation; only crashes can leave differences (in the AL extents).
  if (myC === peerC) {
    // One crashed as Primary: its hot extents may hold writes the peer never acknowledged.
    // It is source over them, unless the peer has been promoted since: what the new
    // Primary serves is what initiators saw, so it is source (over the same extents).
    if (me.crashedPrimary && !peer.crashedPrimary) return { kind: peer.primaryNow ? 'target' : 'source', over: 'activity-log', rule: 4 };
    if (peer.crashedPrimary && !me.crashedPrimary) return { kind: me.primaryNow ? 'source' : 'target', over: 'activity-log', rule: 4 };
    if (me.crashedPrimary && peer.crashedPrimary) {
      // Both crashed: the one that is Primary now wins, else the lower node-id.
      const iWin = me.primaryNow !== peer.primaryNow ? me.primaryNow : me.nodeId < peer.nodeId;
      return { kind: iWin ? 'source' : 'target', over: 'activity-log', rule: 4 };
    }
    return { kind: 'none', rule: 4 };
  }
  // Rule 5/6: one side's generation is the other's bitmap base.
  if (peer.bitmapForPeer !== 0n && uuidEq(myC, peer.bitmapForPeer)) return { kind: 'target', over: 'bitmap', rule: 5 };
  if (me.bitmapForPeer !== 0n && uuidEq(me.bitmapForPeer, peerC)) return { kind: 'source', over: 'bitmap', rule: 6 };
  // Rule 7: one side's current generation is history to the other.
  const inPeerHistory = peer.history.some((h) => h !== 0n && uuidEq(h, myC));
  const inMyHistory = me.history.some((h) => h !== 0n && uuidEq(h, peerC));
  if (inPeerHistory && !inMyHistory) return { kind: 'target', over: 'full', rule: 7 };
  if (inMyHistory && !inPeerHistory) return { kind: 'source', over: 'full', rule: 7 };
  // Rule 8: both wrote since they split from the same generation.
  if (me.bitmapForPeer !== 0n && uuidEq(me.bitmapForPeer, peer.bitmapForPeer)) return { kind: 'split-brain', rule: 8, automatic: true };
  // Rule 9: related through history only.
  const shared = me.history.some((h) => h !== 0n && strip(h) !== UUID_JUST_CREATED && peer.history.some((p) => uuidEq(p, h)));
  if (shared) return { kind: 'split-brain', rule: 9, automatic: false };
  return { kind: 'unrelated', rule: 10 };
}

/**
 * Manual split-brain recovery: the side that said `connect --discard-my-data` becomes target
 * over the union of both bitmaps (engine-semantics "Split brain"). Undefined when the flags
 * settle nothing (neither or both said it).
 */
export function discardResolution(d: SyncDecision, meDiscards: boolean, peerDiscards: boolean): SyncDecision | undefined {
  if (d.kind !== 'split-brain' || meDiscards === peerDiscards) return undefined;
  return { kind: meDiscards ? 'target' : 'source', over: 'bitmap', rule: d.rule };
}

const HISTORY_SLOTS = 32;

/** `u` pushed into the history, unless it is nothing, just-created, or already held. */
export function withHistory(gi: Gi, u: bigint): Gi {
  const x = u & ~1n;
  if (x === 0n || x === UUID_JUST_CREATED) return gi;
  if (uuidEq(x, gi.current) || (gi.bitmap !== 0n && uuidEq(x, gi.bitmap))) return gi;
  if (gi.history.some((h) => uuidEq(h, x))) return gi;
  return { ...gi, history: [x, ...gi.history].slice(0, HISTORY_SLOTS) };
}

/**
 * The identifiers once this side starts generation `fresh` (a promotion's first write, a forced
 * promotion). Apart from the peer the old generation becomes the bitmap base, so the next
 * handshake resyncs only what changed (rule 5/6); otherwise it goes into the history.
 * The engine applies it; the console predicts with it.
 */
export function newGenerationIds(gi: Gi, fresh: bigint, connected: boolean): Gi {
  const old = gi.current;
  // [sim fix] Replace C first, then push the old one: pushing skips values equal to C, so
  // pushing before the change was a no-op and the old generation never reached the history
  // (a forced node's new C then looked unrelated, rule 9/10, instead of rule 7).
  const next = { ...gi, current: fresh };
  if (!connected && (gi.bitmap === 0n || uuidEq(gi.bitmap, old))) {
    // [sim fix] Never B = 4: two nodes forced Primary apart from blank disks both had B = 4 and
    // matched rule 8 (split brain, open to automatic discard policies) instead of rule 10.
    return uuidEq(old, UUID_JUST_CREATED) ? next : { ...next, bitmap: old & ~1n };
  }
  return withHistory(next, old);
}

/** The decision as the peer sees it, for checking that both sides agree. */
export function mirror(d: SyncDecision): SyncDecision {
  if (d.kind === 'source') return { ...d, kind: 'target' };
  if (d.kind === 'target') return { ...d, kind: 'source' };
  return d;
}
