// Persistent reservations (iSCSI PERSISTENT RESERVE OUT) as replicated metadata, part of the
// pure machine. The SCSI layer's state of a volume is an opaque blob in the volume's
// superblock (VolumeMeta.pr), so that a Windows cluster's reservations survive a failover.
//
// A save on the Primary completes like a protocol C write, whatever the resource's protocol:
// once the blob is in the local superblock and, while a link is up, the peer has written it
// to its own superblock and said so (pr-ack). Reservations change rarely, and a cluster that
// lost an acknowledged one after a failover could let two nodes write the same disk.
// If the link drops first, the save completes as a write does when its peer is lost.
//
// At connect the blob follows the data (prAdopts). A change the peer never received must
// therefore make this node the next sync source: on a Primary apart from its peer, a change
// starts the new data generation the first write would (machine.ts prSave), and a save whose
// pr-ack the link took with it counts as an unreplicated write (prLostPeer → lostPeer).
import type { Action, EngineState, HelloState, MetaContinuation, PeerMsg, VolumeState } from './machine-types.js';
import { PERSISTENT_RESERVATION_MAX } from './metadata.js';
import { persistMeta } from './persist-meta.js';

/** A link is up (connected, or in the handshake): the peer hears what we send. */
export function prLinked(s: EngineState): boolean {
  return s.conn === 'Connected' || s.handshake !== undefined;
}

/** Refusal text for a save, or undefined when it may go ahead. */
export function prSaveRefusal(s: EngineState, volume: number, blob: Buffer): string | undefined {
  const v = s.volumes[volume];
  if (!v) return 'no such volume';
  if (s.role !== 'Primary') return 'not Primary';
  if (v.disk !== 'UpToDate') return `local disk is ${v.disk}`;
  // The superblock could not hold more, and every later metadata write of the volume would fail.
  if (blob.length > PERSISTENT_RESERVATION_MAX) return `reservation state of ${blob.length} bytes exceeds the ${PERSISTENT_RESERVATION_MAX} bytes metadata keeps`;
  return undefined;
}

/** The Primary takes the new blob: on its disk, and to the peer when a link is up. */
export function startPrSave(s: EngineState, v: VolumeState, id: number, blob: Buffer, out: Action[]): void {
  v.meta.pr = blob;
  const linked = prLinked(s);
  s.prSaves.set(id, { volume: v.volume, localDone: false, peerDone: linked ? false : undefined, sentAt: s.now });
  persistMeta(s, v, out, { kind: 'pr-saved', id });
  if (linked) out.push({ a: 'send', msg: { type: 'pr-set', volume: v.volume, id, blob } });
}

/** A blob the superblock cannot hold would make every later metadata write of the volume fail. */
function fits(blob: Buffer, out: Action[]): boolean {
  if (blob.length <= PERSISTENT_RESERVATION_MAX) return true;
  out.push({ a: 'log', level: 'alert', text: `the peer sent ${blob.length} bytes of reservation state, more than the ${PERSISTENT_RESERVATION_MAX} metadata keeps; ignored` });
  return false;
}

function maybeDone(s: EngineState, id: number, out: Action[]): void {
  const p = s.prSaves.get(id);
  if (!p || !p.localDone || p.peerDone === false) return;
  s.prSaves.delete(id);
  out.push({ a: 'pr-done', id, ...(p.error !== undefined ? { error: p.error } : {}) });
}

export function onPrSet(s: EngineState, msg: Extract<PeerMsg, { type: 'pr-set' }>, out: Action[]): void {
  const v = s.volumes[msg.volume];
  // A Primary's reservations are its own; two Primaries are refused by the handshake, and the
  // sender's save completes when that drops the link.
  if (!v || s.role === 'Primary') return;
  if (!fits(msg.blob, out)) return;
  v.meta.pr = msg.blob;
  persistMeta(s, v, out, { kind: 'pr-ack', volume: v.volume, id: msg.id });
}

export function onPrAck(s: EngineState, msg: Extract<PeerMsg, { type: 'pr-ack' }>, out: Action[]): void {
  const p = s.prSaves.get(msg.id);
  if (!p || p.peerDone !== false) return;
  p.peerDone = true;
  maybeDone(s, msg.id, out);
}

/** `error`: the superblock write failed; no acknowledgement, and a local save fails. */
export function prMetaDone(s: EngineState, then: Extract<MetaContinuation, { kind: 'pr-saved' | 'pr-ack' }>, error: string | undefined, out: Action[]): void {
  if (then.kind === 'pr-ack') {
    if (prLinked(s) && error === undefined) out.push({ a: 'send', msg: { type: 'pr-ack', volume: then.volume, id: then.id } });
    return;
  }
  const p = s.prSaves.get(then.id);
  if (!p) return;
  p.localDone = true;
  if (error !== undefined) p.error = error;
  maybeDone(s, then.id, out);
}

/** The peer is gone: saves waiting for it complete. Returns the volumes whose blob it may lack. */
export function prLostPeer(s: EngineState, out: Action[]): Set<number> {
  const lacking = new Set<number>();
  for (const [id, p] of [...s.prSaves]) {
    if (p.peerDone !== false) continue;
    p.peerDone = undefined;
    lacking.add(p.volume);
    maybeDone(s, id, out);
  }
  return lacking;
}

/** A save the peer has not acknowledged within the ack timeout: the link is to be dropped. */
export function prAckOverdue(s: EngineState, now: number): boolean {
  for (const p of s.prSaves.values()) if (p.peerDone === false && now - p.sentAt > s.ackTimeout * 1000) return true;
  return false;
}

export function prForHello(v: VolumeState): { pr?: string } {
  return v.meta.pr ? { pr: Buffer.from(v.meta.pr).toString('base64') } : {};
}

/**
 * Whether a volume takes the peer's blob once the handshake decided `kind` for it (the peer
 * decides the mirror image, so exactly one side adopts, or neither when they agree):
 * - the SyncTarget adopts its source's blob: the reservations go with the data they guard;
 * - with no resync, a Secondary adopts a Primary peer's blob (the Primary's is the newest: a
 *   save reaches the peer only after it is the Primary's own);
 * - with no resync and no Primary, the higher node-id adopts the lower one's. They hold the
 *   same blob unless a save was cut short, which was never acknowledged either way.
 * A change made while apart never meets these rules with "no resync": it started a new
 * generation, so the node that made it is the sync source.
 */
export function prAdopts(s: EngineState, kind: 'none' | 'source' | 'target', peer: HelloState): boolean {
  if (kind === 'target') return true;
  if (kind === 'source') return false;
  if (s.role === 'Primary') return false;
  if (peer.role === 'Primary') return true;
  return s.nodeId > peer.nodeId;
}

/** The peer's blob from its hello; `keep` when it cannot be stored (the volume keeps its own). */
export function prFromHello(pr: string | undefined, out: Action[]): Buffer | undefined | 'keep' {
  if (pr === undefined) return undefined;
  const blob = Buffer.from(pr, 'base64');
  return fits(blob, out) ? blob : 'keep';
}
