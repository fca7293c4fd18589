// Online verify (DRBD `verify`), part of the pure machine: the node that runs it (VerifyS)
// walks the volume in 1 MiB chunks; for each it reads its own copy and asks the peer
// (VerifyT) for a SHA-256 of the same range. A chunk that differs is checked again block by
// block (4 KiB, DRBD's verify granularity); each differing block is set in both nodes'
// bitmaps (ov-result) and counted. Nothing is resynced: the bits are persisted, and the
// operator resyncs them with disconnect + connect (the handshake then finds equal UUIDs
// with bits set: see bitmapOnlySync).
// A range written by the application while it is being compared may differ only because
// the two reads straddled the write: it is compared again (at most OV_RETRIES times, then
// counted as out of sync, which is the safe side).
import { createHash } from 'node:crypto';
import { persistMeta } from './persist-meta.js';
import { overlaps } from './ranges.js';
import { BLOCK, type Action, type EngineState, type OvRange, type OvRead, type VolumeState } from './machine-types.js';
import { IdMap } from '../lib/id-map.js';

export const OV_CHUNK = 1024 * 1024;
export const OV_MAX_INFLIGHT = 8;
const OV_RETRIES = 3;

export function digestOf(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function ovReads(s: EngineState): IdMap<OvRead> {
  return (s.ovReads ??= new IdMap());
}

function diskBusy(s: EngineState, volume: number, r: { offset: number; length: number }): boolean {
  return [...s.diskInflight.values(), ...s.diskQueue].some((op) => op.volume === volume && overlaps(op, r));
}

/** Refusal text, or undefined when a verify may start on every volume. */
export function verifyRefusal(s: EngineState): string | undefined {
  if (s.conn !== 'Connected') return 'Need a connection to start verify or resync';
  for (const v of s.volumes) {
    if (v.sync || v.repl !== 'Established') return `Cannot start verify: volume ${v.volume} is ${v.repl}`;
    if (v.disk !== 'UpToDate' || v.peerDisk !== 'UpToDate') return `Cannot start verify: volume ${v.volume} is ${v.disk}/${v.peerDisk}; verify compares two UpToDate copies`;
  }
  return undefined;
}

export function startVerify(s: EngineState, v: VolumeState, out: Action[]): void {
  v.verify = { cursor: 0, total: Math.ceil(v.dataBytes / BLOCK), checked: 0, mismatch: 0, startedAt: s.now, again: [], pending: new Map() };
  v.verifyMismatch = 0;
  v.repl = 'VerifyS';
  out.push({ a: 'send', msg: { type: 'verify-state', volume: v.volume, active: true, mismatch: 0 } });
  out.push({ a: 'log', level: 'info', text: `online verify of volume ${v.volume} started` });
  pumpVerify(s, v, out);
}

function pumpVerify(s: EngineState, v: VolumeState, out: Action[]): void {
  const ov = v.verify;
  if (!ov) return;
  while (ov.pending.size < OV_MAX_INFLIGHT) {
    let r = ov.again.shift();
    if (!r && ov.cursor < v.dataBytes) {
      r = { offset: ov.cursor, length: Math.min(OV_CHUNK, v.dataBytes - ov.cursor), tries: 0 };
      ov.cursor += r.length;
    }
    if (!r) break;
    const id = s.nextToken++;
    ov.pending.set(id, { ...r, dirty: false });
    out.push({ a: 'send', msg: { type: 'ov-request', volume: v.volume, id, offset: r.offset, length: r.length } });
    readForVerify(s, { volume: v.volume, id, offset: r.offset, length: r.length, kind: 'local' }, out);
  }
  if (ov.pending.size === 0) finishVerify(s, v, out);
}

function finishVerify(s: EngineState, v: VolumeState, out: Action[]): void {
  const ov = v.verify!;
  v.verify = undefined;
  v.repl = 'Established';
  persistMeta(s, v, out);
  out.push({ a: 'send', msg: { type: 'verify-state', volume: v.volume, active: false, mismatch: ov.mismatch } });
  const kib = ov.mismatch * (BLOCK / 1024);
  out.push({
    a: 'log',
    level: ov.mismatch > 0 ? 'warn' : 'info',
    text:
      ov.mismatch > 0
        ? `online verify of volume ${v.volume} done: ${kib} KiB out of sync (${ov.mismatch} blocks); resync them with disconnect + connect`
        : `online verify of volume ${v.volume} done: no differences`,
  });
}

/** A disk read finished that the verify asked for; false if the token is not a verify read. */
export function onVerifyRead(s: EngineState, tok: number, data: Buffer, error: string | undefined, out: Action[]): boolean {
  const r = s.ovReads?.get(tok);
  if (!r) return false;
  s.ovReads!.delete(tok);
  // A failed read gets an empty digest: it never matches, so the range counts as out of sync.
  const digest = error ? new Uint8Array(0) : digestOf(data);
  if (r.kind === 'peer') {
    if (s.conn === 'Connected') out.push({ a: 'send', msg: { type: 'ov-reply', volume: r.volume, id: r.id, offset: r.offset, length: r.length, digest } });
    return true;
  }
  const v = s.volumes[r.volume];
  const e = v?.verify?.pending.get(r.id);
  if (v && e) {
    e.local = digest;
    compare(s, v, r.id, out);
  }
  return true;
}

/** VerifyT: a digest request from VerifyS. */
export function onOvRequest(s: EngineState, volume: number, id: number, offset: number, length: number, out: Action[]): void {
  const v = s.volumes[volume];
  if (!v || offset < 0 || offset + length > v.dataBytes) {
    out.push({ a: 'send', msg: { type: 'ov-reply', volume, id, offset, length, digest: new Uint8Array(0) } });
    return;
  }
  readForVerify(s, { volume, id, offset, length, kind: 'peer' }, out);
}

/**
 * Reads wait for overlapping writes already on their way to the disk: on both nodes a write
 * that arrived before the request is then part of what is compared, so it cannot cause a
 * false mismatch.
 */
function readForVerify(s: EngineState, r: OvRead, out: Action[]): void {
  if (diskBusy(s, r.volume, r)) {
    (s.ovDeferred ??= []).push(r);
    return;
  }
  const t = s.nextToken++;
  ovReads(s).set(t, r);
  out.push({ a: 'disk-read', token: t, volume: r.volume, offset: r.offset, length: r.length });
}

/** A disk write landed: deferred verify reads may go. */
export function issueVerifyReads(s: EngineState, out: Action[]): void {
  if (!s.ovDeferred?.length) return;
  const waiting = s.ovDeferred;
  s.ovDeferred = [];
  for (const r of waiting) readForVerify(s, r, out);
}

export function onOvReply(s: EngineState, volume: number, id: number, digest: Uint8Array, out: Action[]): void {
  const v = s.volumes[volume];
  const e = v?.verify?.pending.get(id);
  if (!v || !e) return;
  e.peer = digest;
  compare(s, v, id, out);
}

function compare(s: EngineState, v: VolumeState, id: number, out: Action[]): void {
  const ov = v.verify!;
  const e = ov.pending.get(id)!;
  if (!e.local || !e.peer) return;
  ov.pending.delete(id);
  const equal = e.local.length > 0 && sameBytes(e.local, e.peer);
  if (equal) {
    ov.checked += e.length / BLOCK;
  } else if (e.length > BLOCK) {
    // Find the blocks: check each again on its own, ahead of the walk.
    const blocks: OvRange[] = [];
    for (let off = e.offset; off < e.offset + e.length; off += BLOCK) blocks.push({ offset: off, length: Math.min(BLOCK, e.offset + e.length - off), tries: 0 });
    ov.again.unshift(...blocks);
  } else if (e.dirty && e.tries < OV_RETRIES) {
    ov.again.unshift({ offset: e.offset, length: e.length, tries: e.tries + 1 });
  } else {
    ov.checked += 1;
    ov.mismatch += 1;
    v.verifyMismatch = ov.mismatch;
    v.bitmap.setRange(e.offset, e.length);
    out.push({ a: 'send', msg: { type: 'ov-result', volume: v.volume, offset: e.offset, length: e.length } });
  }
  pumpVerify(s, v, out);
}

/** A write is about to reach the disk: a verify comparing that range must look again. */
export function verifySawWrite(s: EngineState, volume: number, r: { offset: number; length: number }): void {
  const ov = s.volumes[volume]?.verify;
  if (!ov) return;
  for (const e of ov.pending.values()) if (overlaps(e, r)) e.dirty = true;
}

/** VerifyT side: the peer reports a differing block, or starts / ends its run. */
export function onOvResult(s: EngineState, volume: number, offset: number, length: number): void {
  const v = s.volumes[volume];
  if (!v) return;
  v.bitmap.setRange(offset, length);
  v.verifyMismatch = (v.verifyMismatch ?? 0) + 1;
}

export function onVerifyState(s: EngineState, volume: number, active: boolean, mismatch: number, out: Action[]): void {
  const v = s.volumes[volume];
  if (!v || v.sync) return;
  if (active) {
    v.verifyMismatch = 0;
    if (v.repl === 'Established') v.repl = 'VerifyT';
    return;
  }
  v.verifyMismatch = mismatch;
  if (v.repl === 'VerifyT') v.repl = 'Established';
  persistMeta(s, v, out);
  if (mismatch > 0) out.push({ a: 'log', level: 'warn', text: `online verify of volume ${volume} (run by the peer) done: ${mismatch * (BLOCK / 1024)} KiB out of sync` });
}

/** The connection is gone: a verify in progress ends (its bits so far stay set). */
export function abortVerify(s: EngineState, v: VolumeState, out: Action[]): void {
  s.ovReads?.clear();
  s.ovDeferred = [];
  if (!v.verify) return;
  out.push({ a: 'log', level: 'warn', text: `online verify of volume ${v.volume} interrupted at ${Math.floor(verifyDone(v) ?? 0)}% (${v.verify.mismatch} blocks out of sync so far)` });
  v.verify = undefined;
}

/** Percent of the volume checked, while this node runs a verify. */
export function verifyDone(v: VolumeState): number | undefined {
  if (!v.verify) return undefined;
  return v.verify.total === 0 ? 100 : (100 * v.verify.checked) / v.verify.total;
}
