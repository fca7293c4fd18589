// What this node last knew of its peer's data, and the refusals that follow from it. A peer
// that cannot be seen is not a peer without data (DESIGN.md, rule of safety): its last known
// generation and disk state are kept in the agent's state dir, which outlives a replaced
// backing disk, and `primary --force` / `create-md --force` are judged against them with the
// engine's own sync decision. Pure: the runtime observes, the daemon stores and asks.
import type { DiskState, Role } from '../protocol.js';
import { decideSync, holdsData, sideFromWire, type SideGi, type WireGi } from '../sync-decision.js';
import type { EngineState, HelloState } from './machine-types.js';
import { formatUuid } from './uuid.js';

export interface RememberedVolume {
  disk: DiskState;
  current: string;
  /** The bitmap UUID the peer held for this node. */
  bitmap: string;
  history: string[];
}

export interface PeerMemory {
  /** The peer's host name, as the resource file names it. */
  peer: string;
  peerNodeId: number;
  /** When the peer's state was last heard (ISO time). */
  seen: string;
  /** Connected when observed: the next observation without a connection dates the loss. */
  live: boolean;
  role: Role;
  volumes: RememberedVolume[];
}

/** A volume's identifiers, wire spelling. */
export type LocalVolume = WireGi;

const sameContent = (a: PeerMemory | undefined, b: PeerMemory | undefined): boolean =>
  a !== undefined && b !== undefined && a.role === b.role && JSON.stringify(a.volumes) === JSON.stringify(b.volumes);

/**
 * The memory after the engine changed. While connected the engine knows the peer: in sync
 * (Established, peer UpToDate) it holds this node's generation, else what its handshake said.
 * A handshake the engine refused (unrelated data, split brain) still told what the peer holds:
 * `hello` is that message. Otherwise nothing new is known and the memory stands; losing the
 * peer stamps the moment it was last seen.
 */
export function observePeer(prev: PeerMemory | undefined, s: EngineState, peerName: string, now: string, hello?: HelloState): PeerMemory | undefined {
  let volumes: RememberedVolume[] | undefined;
  let role: Role = prev?.role ?? 'Unknown';
  if (s.conn === 'Connected') {
    role = s.peerRole;
    volumes = s.volumes.map((v, i): RememberedVolume => {
      const before = prev?.volumes[i];
      if (v.repl === 'Established' && v.peerDisk === 'UpToDate') {
        return { disk: v.peerDisk, current: formatUuid(v.meta.gi.current), bitmap: formatUuid(0n), history: v.meta.gi.history.map(formatUuid) };
      }
      const gi = v.peerGi;
      return {
        disk: v.peerDisk,
        current: gi?.current ?? before?.current ?? formatUuid(0n),
        bitmap: gi?.bitmap ?? before?.bitmap ?? formatUuid(0n),
        history: gi?.history ?? before?.history ?? [],
      };
    });
  } else if (hello) {
    role = hello.role;
    volumes = hello.volumes.map((p) => ({ disk: p.disk, current: p.current, bitmap: p.bitmap, history: [...p.history] }));
  }
  if (!volumes) {
    // Not connected: the last word stands; the first such change after a connection dates it.
    return prev?.live ? { ...prev, live: false, seen: now } : prev;
  }
  const live = s.conn === 'Connected';
  const next: PeerMemory = { peer: peerName, peerNodeId: s.peerNodeId, seen: now, live, role, volumes };
  return sameContent(prev, next) && prev!.live === live ? prev : next;
}


function rememberedSide(m: PeerMemory, i: number): SideGi | undefined {
  const v = m.volumes[i];
  return v ? sideFromWire(m.peerNodeId, m.role === 'Primary', v) : undefined;
}

const short = (uuid: string) => `${uuid.slice(0, 8)}…`;

function lastKnown(m: PeerMemory, i: number): string {
  const v = m.volumes[i]!;
  return `${m.peer} last had ${v.disk} data (generation ${short(v.current)}, last seen ${m.seen || 'while connected'})`;
}


/**
 * `primary --force` with the peer out of sight: refused when the peer's last known data is
 * newer or better than this node's (the decision makes this node SyncTarget, or the data is
 * unrelated / split and the peer held more than this node does). Forcing anyway would serve
 * this node's older or blank data and, when the peer returns, fork or overwrite it.
 */
export function forcePrimaryRefusal(resource: string, local: readonly LocalVolume[], localNodeId: number, m: PeerMemory | undefined): string | undefined {
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
export function createMdRefusal(resource: string, local: readonly LocalVolume[], localNodeId: number, m: PeerMemory | undefined): string | undefined {
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
