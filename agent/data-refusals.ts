// The refusals that protect the data of a node out of sight: `primary --force` over a peer
// last known to hold newer data, `create-md --force` over data found nowhere else. Judged with
// the engine's own sync decision on what is known of the peer (the agent's peer memory; the
// console's best knowledge of the other host). Beside the control protocol so that the agent,
// whose word is final, and the console, which warns before anything is sent, say the same.
import type { DiskState, Role } from './drbd-states.js';
import { decideSync, holdsData, sideFromWire, type SideGi, type WireGi } from './sync-decision.js';

export interface KnownVolume {
  disk: DiskState;
  current: string;
  /** The bitmap UUID the peer held for this node. */
  bitmap: string;
  history: string[];
}

/** What is known of the peer's data: its word while connected, else its last word and when. */
export interface KnownPeer {
  /** The peer's host name, as the resource file names it. */
  peer: string;
  peerNodeId: number;
  /** When the peer's state was last heard (ISO time). */
  seen: string;
  role: Role;
  volumes: KnownVolume[];
}

/** A volume's identifiers on this node, wire spelling. */
export type LocalVolume = WireGi;

function rememberedSide(m: KnownPeer, i: number): SideGi | undefined {
  const v = m.volumes[i];
  return v ? sideFromWire(m.peerNodeId, m.role === 'Primary', v) : undefined;
}

const short = (uuid: string) => `${uuid.slice(0, 8)}…`;

function lastKnown(m: KnownPeer, i: number): string {
  const v = m.volumes[i]!;
  return `${m.peer} last had ${v.disk} data (generation ${short(v.current)}, last seen ${m.seen || 'while connected'})`;
}

/**
 * `primary --force` with the peer out of sight: refused when the peer's last known data is
 * newer or better than this node's (the decision makes this node SyncTarget, or the data is
 * unrelated / split and the peer held more than this node does). Forcing anyway would serve
 * this node's older or blank data and, when the peer returns, fork or overwrite it.
 */
export function forcePrimaryRefusal(resource: string, local: readonly LocalVolume[], localNodeId: number, m: KnownPeer | undefined): string | undefined {
  if (!m) return undefined;
  for (const [i, v] of local.entries()) {
    const peer = rememberedSide(m, i);
    if (!peer || !holdsData(peer)) continue;
    const me = sideFromWire(localNodeId, false, v);
    const d = decideSync(me, peer);
    const peerNewer = d.kind === 'target' || ((d.kind === 'unrelated' || d.kind === 'split-brain') && !holdsData(me));
    if (!peerNewer) continue;
    const mine = holdsData(me) ? `this node's ${v.disk} data is older` : `this node's disk holds no data (${v.disk})`;
    return `Refusing to force Primary: ${lastKnown(m, i)} of ${resource} volume ${i}; ${mine}. Promote ${m.peer} instead; if ${m.peer} is gone for good: primary --force --forget-peer ${resource}`;
  }
  return undefined;
}

/**
 * `create-md --force` over metadata that holds data: refused unless the peer's last known data
 * contains this node's (the decision would make this node SyncTarget anyway, or both hold the
 * same generation and the peer is UpToDate). Otherwise this node's data is not anywhere else:
 * a peer whose data descends from a just-created disk, an unrelated or split peer, or one that
 * was never UpToDate.
 */
export function createMdRefusal(resource: string, local: readonly LocalVolume[], localNodeId: number, m: KnownPeer | undefined): string | undefined {
  if (!m) return undefined;
  for (const [i, v] of local.entries()) {
    const me = sideFromWire(localNodeId, false, v);
    if (!holdsData(me)) continue;
    const peer = rememberedSide(m, i);
    const d = peer ? decideSync(me, peer) : undefined;
    const peerHasMine = d !== undefined && peer !== undefined && (d.kind === 'target' || (d.kind === 'none' && peer.disk === 'UpToDate'));
    if (peerHasMine) continue;
    const why =
      !peer || !holdsData(peer)
        ? `${m.peer} holds no data of it`
        : d?.kind === 'unrelated'
          ? `${m.peer}'s data is unrelated to it (${m.peer}'s generation ${short(m.volumes[i]!.current)} does not descend from this node's; a blank disk was made the source there)`
          : d?.kind === 'split-brain'
            ? `${m.peer} wrote other data since they split (split brain)`
            : `${m.peer}'s last known data is older`;
    return `Refusing to wipe the metadata of ${resource} volume ${i}: this node holds ${v.disk} data (generation ${short(v.current)}) and ${why}; this would destroy the only copy. Serve it (promote this node) and rebuild ${m.peer} instead; if this node's data is truly not wanted: create-md --force --forget-peer ${resource}`;
  }
  return undefined;
}
