// What this node last knew of its peer's data, and the refusals that follow from it. A peer
// that cannot be seen is not a peer without data (DESIGN.md, rule of safety): its last known
// generation and disk state are kept in the agent's state dir, which outlives a replaced
// backing disk, and `primary --force` / `create-md --force` are judged against them with the
// engine's own sync decision (data-refusals.ts). Pure: the runtime observes, the daemon stores and asks.
import type { Role } from '../drbd-states.js';
import type { KnownPeer, KnownVolume } from '../data-refusals.js';
import type { EngineState, HelloState } from './machine-types.js';
import { formatUuid } from './uuid.js';

export interface PeerMemory extends KnownPeer {
  /** Connected when observed: the next observation without a connection dates the loss. */
  live: boolean;
}

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
  let volumes: KnownVolume[] | undefined;
  let role: Role = prev?.role ?? 'Unknown';
  if (s.conn === 'Connected') {
    role = s.peerRole;
    volumes = s.volumes.map((v, i): KnownVolume => {
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

