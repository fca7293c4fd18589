// The replication state machine of one resource (both nodes run one each). It performs no
// I/O and reads no clock: `step(state, input)` updates the state it owns and returns the
// actions for the runtime to carry out. Like etcd's raft, that is what makes it testable
// exhaustively and runnable under a simulated network and disk.
import { onGrown, onResizeReply, onResizeRequest, resizeCmd, resizeLinkLost, sizeMismatch } from './resize.js';
import type { DiskState, Role } from '../drbd-states.js';
import { decideSync, discardResolution, newGenerationIds, resyncEndFixup, sideFromWire, withHistory, type SideGi, type SyncDecision } from '../sync-decision.js';
import { formatUuid, newUuid, parseUuid, UUID_JUST_CREATED, uuidEq, withPrimaryBit, type UuidRng } from './uuid.js';
import {
  BLOCK,
  type Action,
  type AdminCommand,
  type AppWrite,
  type DiskOp,
  type EngineState,
  type HelloState,
  type Input,
  type LinkDownReason,
  type OutOfSyncMap,
  type PeerMsg,
  type PeerVolumeInfo,
  type VolumeMeta,
  type VolumeState,
} from './machine-types.js';
import { abortVerify, issueVerifyReads, onOvReply, onOvRequest, onOvResult, onVerifyRead, onVerifyState, startVerify, verifyRefusal, verifySawWrite } from './online-verify.js';
import { resolveSplitBrain, samePolicies, type SbPolicies } from './split-brain-policy.js';
import { outOfSyncRanges } from './split-brain-copy-decision.js';
import { decideUndo } from './undo-decision.js';
import { persistMeta } from './persist-meta.js';
import { overlaps } from './ranges.js';
import { onPrAck, onPrSet, prAckOverdue, prAdopts, prForHello, prFromHello, prLinked, prLostPeer, prMetaDone, prSaveRefusal, startPrSave } from './pr-replication.js';
import { IdMap } from '../lib/id-map.js';
import { EXTENT_BYTES } from './activity-log.js';

/** Largest resync request; the target keeps a few of them in flight. */
export const RS_CHUNK = 1024 * 1024;
export const RS_MAX_INFLIGHT = 16 * RS_CHUNK;

export interface VolumeInit {
  volume: number;
  dataBytes: number;
  meta: VolumeMeta;
  bitmap: OutOfSyncMap;
}

export interface EngineInit {
  resource: string;
  nodeId: number;
  peerNodeId: number;
  protocol: 'A' | 'B' | 'C';
  maxRate: number;
  ackTimeout: number;
  volumes: VolumeInit[];
  now: number;
  rng: UuidRng;
  /** Automatic split-brain policies from the resource file (default: all disconnect). */
  afterSb?: SbPolicies;
  /** Undo journal maximum per volume in bytes (consistent resync target); absent: off. */
  undoJournalMax?: number[];
}

export function createEngine(init: EngineInit): EngineState {
  return {
    resource: init.resource,
    nodeId: init.nodeId,
    peerNodeId: init.peerNodeId,
    protocol: init.protocol,
    maxRate: init.maxRate,
    ackTimeout: init.ackTimeout,
    role: 'Secondary',
    wantConnect: false,
    conn: 'StandAlone',
    peerRole: 'Unknown',
    splitBrain: false,
    discardMyData: false,
    skipSbCopy: false,
    openCount: 0,
    volumes: init.volumes.map((v) => ({
      volume: v.volume,
      dataBytes: v.dataBytes,
      disk: attachedDiskState(v.meta),
      meta: v.meta,
      repl: 'Off',
      peerDisk: v.meta.peerOutdated ? 'Outdated' : 'DUnknown',
      newGenPending: false,
      bitmap: v.bitmap,
      stats: { read: 0, written: 0, sent: 0, received: 0 },
      unflushed: new Set<number>(),
    })),
    nextToken: 1,
    nextSeq: 1,
    writes: new IdMap(),
    waitingForGen: [],
    diskInflight: new IdMap(),
    diskQueue: [],
    flushes: new IdMap(),
    peerFlushes: [],
    seqToWrite: new IdMap(),
    transferLog: new IdMap(),
    rsReads: new IdMap(),
    rsDeferred: [],
    metaWaits: new IdMap(),
    now: init.now,
    rng: init.rng,
    afterSb: init.afterSb,
    undoJournalMax: init.undoJournalMax,
    prSaves: new IdMap(),
  };
}

/** The disk state a volume comes up in, from what its metadata vouches for. */
export function attachedDiskState(meta: VolumeMeta): DiskState {
  if ((meta.gi.current & ~1n) === UUID_JUST_CREATED) return 'Inconsistent';
  return meta.disk;
}

export function step(s: EngineState, input: Input): Action[] {
  const out: Action[] = [];
  switch (input.t) {
    case 'admin':
      admin(s, input.req, input.command, out);
      break;
    case 'app-write':
      appWrite(s, input.write, out);
      break;
    case 'app-flush':
      appFlush(s, input.id, out);
      break;
    case 'disk-done':
      diskDone(s, input.token, input.error, out);
      break;
    case 'disk-read-done':
      diskReadDone(s, input.token, input.data, input.error, out);
      break;
    case 'disk-flush-done':
      diskFlushDone(s, input.token, input.error, out);
      break;
    case 'meta-done':
      metaDone(s, input.token, input.error, out);
      break;
    case 'link-up':
      linkUp(s, out);
      break;
    case 'link-down':
      linkDown(s, input.reason, out);
      break;
    case 'link-problem':
      linkProblem(s, input.text, out);
      break;
    case 'peer':
      peerMessage(s, input.msg, out);
      break;
    case 'open':
      s.openCount += input.delta;
      break;
    case 'tick':
      tick(s, input.now, out);
      break;
    case 'undo-opened':
      undoOpened(s, input.volume, input.error, out);
      break;
    case 'undo-lost':
      undoLost(s, input.volume, input.reason, out);
      break;
    case 'undo-rolled-back':
      undoRolledBack(s, input.volume, input.blocks, input.error, out);
      break;
    case 'pr-save':
      prSave(s, input.id, input.volume, input.blob, out);
      break;
    case 'grown':
      onGrown(s, input, out);
      break;
    case 'sb-copied':
      onSbCopied(s, input.error, out);
      break;
  }
  return out;
}

// ---------------------------------------------------------------- helpers

function token(s: EngineState): number {
  return s.nextToken++;
}


function pushHistory(meta: VolumeMeta, u: bigint): void {
  meta.gi.history = withHistory(meta.gi, u).history;
}

function connected(s: EngineState): boolean {
  return s.conn === 'Connected';
}

function hasData(d: DiskState): boolean {
  return d === 'UpToDate' || d === 'Consistent' || d === 'Outdated';
}

/** Whether an application write on this volume goes to the peer now. */
function replicating(s: EngineState, v: VolumeState): boolean {
  return connected(s) && v.peerDisk !== 'Diskless' && v.peerDisk !== 'DUnknown' && v.repl !== 'Off';
}

function sendState(s: EngineState, out: Action[]): void {
  if (connected(s) || s.handshake) out.push({ a: 'send', msg: { type: 'state', role: s.role, disks: s.volumes.map((v) => v.disk) } });
}

function helloState(s: EngineState): HelloState {
  return {
    nodeId: s.nodeId,
    role: s.role,
    discardMyData: s.discardMyData,
    volumes: s.volumes.map((v) => ({
      volume: v.volume,
      current: formatUuid(v.meta.gi.current),
      bitmap: formatUuid(v.meta.gi.bitmap),
      history: v.meta.gi.history.map(formatUuid),
      crashedPrimary: v.meta.crashedPrimary,
      disk: v.disk,
      dataBytes: v.dataBytes,
      weight: v.bitmap.weight,
      ...prForHello(v),
    })),
    promotedAt: s.promotedAt,
    afterSb: s.afterSb && { pri0: s.afterSb.pri0, pri1: s.afterSb.pri1, pri2: s.afterSb.pri2 },
  };
}

function setDisk(v: VolumeState, d: DiskState): void {
  v.disk = d;
  if (d === 'UpToDate' || d === 'Outdated' || d === 'Inconsistent' || d === 'Consistent') v.meta.disk = d;
}

function refuse(out: Action[], req: number, text: string): void {
  out.push({ a: 'reply', req, error: text });
}

// ---------------------------------------------------------------- admin

function admin(s: EngineState, req: number, c: AdminCommand, out: Action[]): void {
  switch (c.cmd) {
    case 'primary':
      return promote(s, req, c.force, out);
    case 'secondary':
      return demote(s, req, out);
    case 'connect':
      return connectCmd(s, req, c.discardMyData, c.skipBackup === true, out);
    case 'disconnect':
      gracefulPart(s, out);
      s.wantConnect = false;
      s.conn = 'StandAlone';
      out.push({ a: 'link', op: 'stop' });
      lostPeer(s, out);
      out.push({ a: 'reply', req });
      return;
    case 'down':
      if (s.openCount > 0) return refuse(out, req, 'Device is held open by someone');
      if (s.role === 'Primary' && writesInFlight(s)) return refuse(out, req, WRITES_IN_FLIGHT);
      if (s.role === 'Primary') {
        s.role = 'Secondary';
        for (const v of s.volumes) {
          v.meta.primary = false;
          persistMeta(s, v, out);
        }
      }
      gracefulPart(s, out);
      s.wantConnect = false;
      s.conn = 'StandAlone';
      out.push({ a: 'link', op: 'stop' });
      lostPeer(s, out);
      out.push({ a: 'reply', req });
      return;
    case 'new-current-uuid':
      return newCurrentUuid(s, req, c.clearBitmap, out);
    case 'pause-sync':
    case 'resume-sync': {
      const pause = c.cmd === 'pause-sync';
      const syncing = s.volumes.filter((v) => v.sync);
      if (syncing.length === 0) return refuse(out, req, 'No resync in progress');
      for (const v of syncing) {
        const sync = v.sync!;
        sync.paused = pause;
        v.repl = sync.dir === 'source' ? (pause ? 'PausedSyncS' : 'SyncSource') : pause ? 'PausedSyncT' : 'SyncTarget';
        if (!pause) undoOverride(s, v, out);
        if (!pause) pump(s, v, out);
      }
      out.push({ a: 'reply', req });
      return;
    }
    case 'invalidate':
      return invalidateCmd(s, req, out);
    case 'resize':
      return resizeCmd(s, req, c.dataBytes, out);
    case 'verify': {
      const why = verifyRefusal(s);
      if (why) return refuse(out, req, why);
      for (const v of s.volumes) startVerify(s, v, out);
      sendState(s, out);
      out.push({ a: 'reply', req });
      return;
    }
  }
}

/**
 * [sim fix] Application writes not yet completed. A Primary that demoted with one still waiting
 * for the peer lost the link as a Secondary: the write was marked out of sync but no new
 * generation started, so the next handshake found equal UUIDs (rule 4, no sync) and the peer
 * kept the old data of an acknowledged write.
 */
function writesInFlight(s: EngineState): boolean {
  // The transfer log too: under protocol A/B a completed write the peer has not confirmed on its
  // disk leaves the same gap if the link drops after the demotion.
  // And reservation saves: one waiting for the peer must still be able to start the new generation.
  return s.writes.size > 0 || s.waitingForGen.length > 0 || s.transferLog.size > 0 || s.prSaves.size > 0;
}

const WRITES_IN_FLIGHT = 'Application writes are still in flight; try again once they have completed';

function promote(s: EngineState, req: number, force: boolean, out: Action[]): void {
  if (s.role === 'Primary') return out.push({ a: 'reply', req }), undefined;
  // Mid-handshake the peer may be deciding on identifiers this promotion would change.
  if (s.handshake && !connected(s)) return refuse(out, req, 'In transient state, retry after next state change');
  if (connected(s) && s.peerRole === 'Primary') return refuse(out, req, 'Multiple primaries not allowed by config');
  for (const v of s.volumes) {
    if (v.disk === 'UpToDate') continue;
    if (!force || v.disk === 'Diskless' || v.disk === 'Failed') return refuse(out, req, 'Need access to UpToDate data');
    // Safer than DRBD: never force a node over a connected peer that has good data —
    // that is how a blank or stale disk becomes the sync source and both copies are lost.
    // Unless neither is UpToDate and nothing needs syncing: then both hold the same data (both
    // Outdated after a crash, say) and one of them must be forced or neither ever serves.
    const sameData = hasData(v.disk) && v.peerDisk !== 'UpToDate' && v.repl === 'Established';
    if (connected(s) && hasData(v.peerDisk) && !sameData)
      return refuse(out, req, `Refusing to force Primary: the peer has ${v.peerDisk} data on volume ${v.volume}; promote the peer instead, or disconnect first if you really mean to discard it`);
    if (v.sync) return refuse(out, req, 'Refusing to force Primary during a resync; wait for it to finish or disconnect first');
  }
  s.role = 'Primary';
  s.promotedAt = s.now;
  let uuidsChanged = false;
  for (const v of s.volumes) {
    v.meta.primary = true;
    if (v.disk !== 'UpToDate') {
      // Forced: this data is now authoritative, so it is a new generation right away.
      setDisk(v, 'UpToDate');
      newGeneration(s, v);
      uuidsChanged = true;
      // [sim fix] ...and, like the lazy rule, on disk before any write proceeds: otherwise a
      // crash could bring the node back with C = 4 / Inconsistent under acknowledged writes.
      persistMeta(s, v, out, { kind: 'release-writes' });
      continue;
    } else if (!connected(s)) {
      v.newGenPending = true;
    }
    // [sim fix] The Primary flag must be durable before the first write as Primary: a crash
    // before it was on disk came back as a plain Secondary (no crashedPrimary), the handshake
    // matched rule 4 without a sync, and writes that reached only this disk stayed diverged.
    persistMeta(s, v, out, { kind: 'release-writes' });
  }
  if (connected(s)) {
    if (uuidsChanged) startHandshake(s, out);
    else sendState(s, out);
  }
  out.push({ a: 'reply', req });
}

function demote(s: EngineState, req: number, out: Action[]): void {
  if (s.role !== 'Primary') return out.push({ a: 'reply', req }), undefined;
  if (s.openCount > 0) return refuse(out, req, 'Device is held open by someone');
  if (writesInFlight(s)) return refuse(out, req, WRITES_IN_FLIGHT);
  s.role = 'Secondary';
  for (const v of s.volumes) {
    v.meta.primary = false;
    v.newGenPending = false;
    persistMeta(s, v, out);
  }
  sendState(s, out);
  out.push({ a: 'reply', req });
}

function connectCmd(s: EngineState, req: number, discard: boolean, skipBackup: boolean, out: Action[]): void {
  const failed = s.volumes.find((v) => v.disk === 'Failed');
  if (failed) return refuse(out, req, `Disk of volume ${failed.volume} is Failed (a metadata write failed): repair it, then detach and attach`);
  if (discard && s.role === 'Primary') return refuse(out, req, 'Refusing to discard my data while Primary: demote first (secondary)');
  if (s.conn !== 'StandAlone') {
    if (discard) s.discardMyData = true;
    if (discard) s.skipSbCopy = skipBackup;
    return out.push({ a: 'reply', req }), undefined;
  }
  s.discardMyData = discard;
  s.skipSbCopy = discard && skipBackup;
  s.wantConnect = true;
  s.conn = 'Connecting';
  s.lastError = undefined;
  out.push({ a: 'link', op: 'start' });
  out.push({ a: 'reply', req });
}

function newCurrentUuid(s: EngineState, req: number, clearBitmap: boolean, out: Action[]): void {
  if (!clearBitmap) return refuse(out, req, 'Only new-current-uuid --clear-bitmap is supported');
  if (!connected(s)) return refuse(out, req, 'new-current-uuid --clear-bitmap needs a connected peer (both sides fresh)');
  for (const v of s.volumes) {
    if (v.disk !== 'Inconsistent' || v.peerDisk !== 'Inconsistent' || (v.meta.gi.current & ~1n) !== UUID_JUST_CREATED)
      return refuse(out, req, `new-current-uuid --clear-bitmap is only for two freshly created disks; volume ${v.volume} is ${v.disk}/${v.peerDisk}`);
  }
  for (const v of s.volumes) {
    const c = withPrimaryBit(newUuid(s.rng), s.role === 'Primary');
    adoptClearedUuid(s, v, c, out);
    out.push({ a: 'send', msg: { type: 'new-uuid', volume: v.volume, current: formatUuid(c) } });
  }
  sendState(s, out);
  out.push({ a: 'reply', req });
}

function adoptClearedUuid(s: EngineState, v: VolumeState, c: bigint, out: Action[]): void {
  v.meta.gi.current = c;
  v.meta.gi.bitmap = 0n;
  v.bitmap.clearAll();
  setDisk(v, 'UpToDate');
  v.peerDisk = 'UpToDate';
  v.repl = 'Established';
  persistMeta(s, v, out);
}

/** Start a new data generation now (the lazy rule, or a forced promotion). */
function newGeneration(s: EngineState, v: VolumeState): void {
  Object.assign(v.meta.gi, newGenerationIds(v.meta.gi, withPrimaryBit(newUuid(s.rng), s.role === 'Primary'), connected(s)));
  v.newGenPending = false;
}

// ---------------------------------------------------------------- persistent reservations

function prSave(s: EngineState, id: number, volume: number, blob: Buffer, out: Action[]): void {
  const why = prSaveRefusal(s, volume, blob);
  if (why) return out.push({ a: 'pr-done', id, error: why }), undefined;
  const v = s.volumes[volume]!;
  // A reservation change is a change of the replicated state like a write: apart from the peer
  // it starts the new generation the first write would, so the next handshake makes this node
  // the sync source and the peer adopts the blob, instead of finding equal generations and
  // nothing to sync. While a link is up the blob goes to the peer instead; should the link
  // drop before the peer's pr-ack, lostPeer starts the generation.
  if (v.newGenPending && !prLinked(s)) {
    newGeneration(s, v);
    persistMeta(s, v, out, { kind: 'release-writes' });
  }
  startPrSave(s, v, id, blob, out);
}

// ---------------------------------------------------------------- write path

function appWrite(s: EngineState, w: AppWrite, out: Action[]): void {
  const v = s.volumes[w.volume];
  if (!v) return out.push({ a: 'write-done', id: w.id, error: 'no such volume' }), undefined;
  if (s.role !== 'Primary') return out.push({ a: 'write-done', id: w.id, error: 'not Primary' }), undefined;
  if (v.disk !== 'UpToDate') return out.push({ a: 'write-done', id: w.id, error: `local disk is ${v.disk}` }), undefined;
  if (w.offset < 0 || w.offset + w.data.length > v.dataBytes)
    return out.push({ a: 'write-done', id: w.id, error: 'beyond the end of the device' }), undefined;
  // [sim fix] Also wait while a new generation is being persisted but nobody queued yet
  // (forced promotion, lost peer): the persist's release-writes continuation lets them go.
  if (s.waitingForGen.length > 0 || s.metaWaits.some((c) => c.then.kind === 'release-writes')) return s.waitingForGen.push(w), undefined;
  if (v.newGenPending) {
    // No write, no new UUID; this is the first write, so the generation starts now and
    // must be on disk before the data is.
    newGeneration(s, v);
    s.waitingForGen.push(w);
    persistMeta(s, v, out, { kind: 'release-writes' });
    return;
  }
  issueAppWrite(s, v, w, out);
}

function issueAppWrite(s: EngineState, v: VolumeState, w: AppWrite, out: Action[]): void {
  const pw = { id: w.id, volume: v.volume, offset: w.offset, length: w.data.length, localDone: false, peerDone: undefined as boolean | undefined, sentAt: s.now, fua: w.fua, seq: undefined as number | undefined, error: undefined as string | undefined };
  s.writes.set(w.id, pw);
  v.stats.written += w.data.length;
  if (replicating(s, v)) {
    const seq = s.nextSeq++;
    pw.seq = seq;
    s.seqToWrite.set(seq, w.id);
    s.transferLog.set(seq, { volume: v.volume, offset: w.offset, length: w.data.length });
    out.push({ a: 'send', msg: { type: 'data', volume: v.volume, seq, offset: w.offset, fua: w.fua, payload: w.data } });
    v.stats.sent += w.data.length;
    pw.peerDone = s.protocol === 'A';
    if (s.protocol === 'A') s.seqToWrite.delete(seq);
  } else {
    v.bitmap.setRange(w.offset, w.data.length);
  }
  submitDiskWrite(s, { token: token(s), volume: v.volume, offset: w.offset, length: w.data.length, data: w.data, fua: w.fua, origin: { kind: 'app', id: w.id } }, out);
}

/** Overlapping writes reach the disk in the order they were submitted. */
function submitDiskWrite(s: EngineState, op: DiskOp, out: Action[]): void {
  verifySawWrite(s, op.volume, op);
  const blocked =
    s.diskQueue.some((q) => q.volume === op.volume && overlaps(q, op)) ||
    s.diskInflight.some((q) => q.volume === op.volume && overlaps(q, op));
  if (blocked) {
    s.diskQueue.push(op);
    return;
  }
  s.diskInflight.set(op.token, op);
  out.push({ a: 'disk-write', token: op.token, volume: op.volume, offset: op.offset, data: op.data, fua: op.fua });
}

function releaseQueued(s: EngineState, out: Action[]): void {
  if (s.diskQueue.length === 0) return;
  const queue = s.diskQueue;
  s.diskQueue = [];
  for (const op of queue) submitDiskWrite(s, op, out);
}

function diskDone(s: EngineState, tok: number, error: string | undefined, out: Action[]): void {
  const op = s.diskInflight.get(tok);
  if (!op) return;
  s.diskInflight.delete(tok);
  releaseQueued(s, out);
  issueResyncReads(s, out);
  issueVerifyReads(s, out);
  const v = s.volumes[op.volume]!;
  switch (op.origin.kind) {
    case 'app': {
      const w = s.writes.get(op.origin.id);
      if (!w) break;
      if (error) {
        // The peer may have written it: the two copies may differ there now.
        v.bitmap.setRange(op.offset, op.length);
        ioAlert(s, v, `write failed on the local disk of volume ${v.volume} at ${op.offset}+${op.length}: ${error}; the range is out of sync`, out);
        // The peer marks it too: a SyncTarget clears bits for blocks the Primary writes, and a
        // source's bits do not outlive the resync.
        if (connected(s)) out.push({ a: 'send', msg: { type: 'out-of-sync', volume: v.volume, offset: op.offset, length: op.length } });
        w.error = error;
      }
      // A failed write, too, completes only once the peer is done with it: at write-done the
      // payload buffer goes back to its owner, and a frame still queued on the link reads it.
      else noteUnflushed(v, op);
      w.localDone = true;
      maybeComplete(s, w.id, out);
      break;
    }
    case 'peer':
      if (op.stale) break;
      // [sim fix] 'written' is sent under every protocol: under A and B it retires the sender's
      // transfer-log entry (DRBD's barrier ack) even though the write completed earlier.
      if (op.outOfSync) v.bitmap.setRange(op.offset, op.length);
      if (!error) {
        noteUnflushed(v, op);
        out.push({ a: 'send', msg: { type: 'write-ack', volume: op.volume, seq: op.origin.seq, kind: 'written' } });
      }
      if (error) {
        // The Primary acknowledges the write anyway (it marks the range on its side): this disk
        // now lacks an acknowledged write, so it must not count as UpToDate, here or after a
        // restart, until a resync has brought the range (DRBD would detach it).
        out.push({ a: 'send', msg: { type: 'neg-ack', volume: op.volume, seq: op.origin.seq } });
        v.bitmap.setRange(op.offset, op.length);
        ioAlert(s, v, `write failed on the local disk of volume ${v.volume} at ${op.offset}+${op.length}: ${error}; this disk is Outdated until a resync`, out);
        if (v.disk === 'UpToDate') {
          setDisk(v, 'Outdated');
          sendState(s, out);
        }
        persistMeta(s, v, out);
      } else if (v.sync?.dir === 'target' && !op.outOfSync) v.bitmap.clearRange(op.offset, op.length);
      break;
    case 'resync': {
      const sync = v.sync;
      const req = sync?.inflight.get(op.origin.id);
      if (sync && req) {
        sync.inflight.delete(op.origin.id);
        sync.inflightBytes -= req.length;
        if (!error) {
          noteUnflushed(v, op);
          v.bitmap.clearRange(req.offset, req.length);
          out.push({ a: 'send', msg: { type: 'rs-ack', volume: v.volume, offset: req.offset, length: req.length } });
        } else if (!sync.paused) {
          // Asking again at once would spin on a failing disk: wait for the operator.
          sync.paused = true;
          v.repl = 'PausedSyncT';
          s.lastError = `resync of volume ${v.volume} paused: write failed on the local disk at ${req.offset}+${req.length}: ${error}; repair the disk, then resume-sync`;
          out.push({ a: 'log', level: 'alert', text: s.lastError });
        }
        pump(s, v, out);
      }
      break;
    }
  }
  checkPeerFlushes(s, out);
}

const IO_ALERT_EVERY_MS = 5000;

/** At most one alert per volume every few seconds; the next one counts the failures in between. */
function ioAlert(s: EngineState, v: VolumeState, text: string, out: Action[]): void {
  const e = (v.ioErrors ??= { unreported: 0, alertedAt: -Infinity });
  if (s.now - e.alertedAt < IO_ALERT_EVERY_MS) {
    e.unreported++;
    return;
  }
  const more = e.unreported > 0 ? ` (and ${e.unreported} more failed writes since the last alert)` : '';
  out.push({ a: 'log', level: 'alert', text: text + more });
  e.unreported = 0;
  e.alertedAt = s.now;
}

function maybeComplete(s: EngineState, id: number, out: Action[]): void {
  const w = s.writes.get(id);
  if (!w || !w.localDone || w.peerDone === false) return;
  s.writes.delete(id);
  if (w.error !== undefined) return out.push({ a: 'write-done', id, error: w.error }), undefined;
  if (w.peerDone === true) {
    const v = s.volumes[w.volume]!;
    // The peer has this range now; blocks it fully covers are in sync.
    if (v.bitmap.weight > 0) v.bitmap.clearRange(w.offset, w.length);
  }
  out.push({ a: 'write-done', id });
}

function appFlush(s: EngineState, id: number, out: Action[]): void {
  const t = token(s);
  const f = { id, localDone: false, peerDone: true, covers: takeUnflushed(s), error: undefined as string | undefined };
  s.flushes.set(t, f);
  out.push({ a: 'disk-flush', token: t, volume: 0 });
  if (connected(s) && s.volumes.some((v) => replicating(s, v) && v.peerDisk === 'UpToDate')) {
    f.peerDone = false;
    out.push({ a: 'send', msg: { type: 'flush', id: t } });
  }
}

function diskFlushDone(s: EngineState, tok: number, error: string | undefined, out: Action[]): void {
  const f = s.flushes.get(tok);
  if (f) {
    if (error) {
      f.error = error;
      flushFailed(s, f.covers, error, out);
    }
    f.localDone = true;
    finishFlush(s, tok, out);
    return;
  }
  const pf = s.peerFlushes.find((p) => p.token === tok);
  if (!pf) return;
  s.peerFlushes = s.peerFlushes.filter((p) => p !== pf);
  if (error) {
    // As for a failed replicated write: this disk may lack acknowledged writes now.
    flushFailed(s, pf.covers ?? [], error, out);
    for (const v of s.volumes) if (v.disk === 'UpToDate') setDisk(v, 'Outdated');
    sendState(s, out);
  }
  out.push({ a: 'send', msg: { type: 'flush-ack', id: pf.id, ...(error ? { error } : {}) } });
}

/** A completed write is durable only once a flush covers it. */
function noteUnflushed(v: VolumeState, op: { offset: number; length: number }): void {
  const last = Math.floor((op.offset + op.length - 1) / EXTENT_BYTES);
  for (let e = Math.floor(op.offset / EXTENT_BYTES); e <= last; e++) v.unflushed.add(e);
}

/** What a flush issued now covers: every volume's writes completed since the last one. */
function takeUnflushed(s: EngineState): Array<Set<number>> {
  return s.volumes.map((v) => {
    const u = v.unflushed;
    if (u.size > 0) v.unflushed = new Set();
    return u;
  });
}

/**
 * fdatasync failed: the writes it covered may be gone from the disk (the kernel drops the pages
 * it could not write back) and the other copy may have them, so their extents are out of sync on
 * both nodes, as after a failed write; what this node vouches for is persisted.
 */
function flushFailed(s: EngineState, covers: Array<Set<number>>, error: string, out: Action[]): void {
  for (const v of s.volumes) {
    const extents = covers[v.volume];
    const n = extents?.size ?? 0;
    for (const e of extents ?? []) {
      const offset = e * EXTENT_BYTES;
      const length = Math.min(EXTENT_BYTES, v.dataBytes - offset);
      v.bitmap.setRange(offset, length);
      if (connected(s)) out.push({ a: 'send', msg: { type: 'out-of-sync', volume: v.volume, offset, length } });
    }
    ioAlert(s, v, `flush (fdatasync) failed on the local disk of volume ${v.volume}: ${error}; ${n} extent(s) of ${EXTENT_BYTES >> 20} MiB written since the last flush are out of sync`, out);
    persistMeta(s, v, out);
  }
}

function finishFlush(s: EngineState, tok: number, out: Action[]): void {
  const f = s.flushes.get(tok);
  if (!f || !f.localDone || !f.peerDone) return;
  s.flushes.delete(tok);
  out.push({ a: 'flush-done', id: f.id, ...(f.error !== undefined ? { error: f.error } : {}) });
}

/** A peer flush covers every peer write received before it: wait for those to land. */
function checkPeerFlushes(s: EngineState, out: Action[]): void {
  for (const pf of s.peerFlushes) {
    if (pf.token !== undefined) continue;
    const pending = [...s.diskInflight.values(), ...s.diskQueue].some((op) => op.token <= pf.watermark);
    if (pending) continue;
    pf.token = token(s);
    pf.covers = takeUnflushed(s);
    out.push({ a: 'disk-flush', token: pf.token, volume: 0 });
  }
}

function metaDone(s: EngineState, tok: number, error: string | undefined, out: Action[]): void {
  const wait = s.metaWaits.get(tok);
  s.metaWaits.delete(tok);
  if (!wait) return;
  const then = wait.then;
  // The continuations below check the volume's state: once it is Failed, none of them acts as
  // if the metadata were durable (queued writes are refused, no resync starts, no ack goes).
  if (error !== undefined) metaFailed(s, s.volumes[wait.volume]!, error, out);
  if (then.kind === 'release-writes') {
    const waiting = s.waitingForGen;
    s.waitingForGen = [];
    for (const w of waiting) appWrite(s, w, out);
  } else if (then.kind === 'start-requests') {
    const v = s.volumes[then.volume];
    if (v?.sync && undoGate(s, v, out)) pump(s, v, out);
  } else if (then.kind === 'send-sync-started') {
    const v = s.volumes[then.volume];
    if (v?.sync?.dir === 'source' && connected(s))
      out.push({ a: 'send', msg: { type: 'sync-started', volume: v.volume, bitmapUuid: formatUuid(v.meta.gi.bitmap) } });
  } else if (then.kind === 'send-sync-finished-ack') {
    if (connected(s) && s.volumes[then.volume]?.disk !== 'Failed') out.push({ a: 'send', msg: { type: 'sync-finished-ack', volume: then.volume } });
  } else if (then.kind === 'pr-saved' || then.kind === 'pr-ack') {
    prMetaDone(s, then, error, out);
  }
}

/**
 * DRBD's on-io-error detach for a metadata write that failed: what is on disk is the previous
 * superblock (writes are crash-safe), not the state in memory, so this node can vouch for
 * nothing any more. The volume is Failed (there is no diskless mode to go on in): it refuses
 * I/O and promotion, the resource leaves its peer (which then treats this node as lost: its
 * writes mark out of sync, a new generation starts), and only detach + attach after the disk
 * is repaired bring the volume back, from its metadata as last persisted.
 */
function metaFailed(s: EngineState, v: VolumeState, error: string, out: Action[]): void {
  if (v.disk === 'Failed') return;
  setDisk(v, 'Failed');
  s.lastError = `metadata write failed on volume ${v.volume}: ${error}; the disk is Failed: repair it, then detach and attach`;
  out.push({ a: 'log', level: 'alert', text: s.lastError });
  if (s.conn === 'StandAlone') return;
  // Not a graceful parting: that would outdate the peer, whose disk is the good one.
  s.wantConnect = false;
  s.conn = 'StandAlone';
  out.push({ a: 'link', op: 'stop' });
  lostPeer(s, out);
}

// ---------------------------------------------------------------- connection

function startHandshake(s: EngineState, out: Action[]): void {
  s.handshake = { sentMine: true };
  out.push({ a: 'send', msg: { type: 'hello-state', state: helloState(s) } });
}

function linkUp(s: EngineState, out: Action[]): void {
  if (!s.wantConnect) {
    out.push({ a: 'link', op: 'drop' });
    return;
  }
  startHandshake(s, out);
}

function linkDown(s: EngineState, reason: LinkDownReason, out: Action[]): void {
  if (s.wantConnect) {
    s.conn = 'Connecting';
    if (reason === 'timeout') s.lastError = 'peer did not answer in time (ping timeout)';
    else if (reason === 'protocol-error') s.lastError = 'protocol error on the peer link';
  } else {
    s.conn = 'StandAlone';
  }
  lostPeer(s, out);
}

/**
 * A connection attempt failed in a way worth telling (authentication, protocol): the link
 * goes on trying (peer-retry.ts), so this is the reason shown while Connecting, logged once
 * per change. Only disconnect makes the resource StandAlone.
 */
function linkProblem(s: EngineState, text: string | undefined, out: Action[]): void {
  if (text === undefined || !s.wantConnect || s.conn === 'Connected' || s.conn === 'StandAlone') return;
  s.lastError = text;
  const hint = text.startsWith('authentication failed') ? ': check that net.shared-secret is the same on both hosts; the link keeps trying' : '; the link keeps trying';
  out.push({ a: 'log', level: 'alert', text: `peer link: ${text}${hint}` });
}

/** Whatever the reason the peer went away: unacknowledged writes become out of sync. */
function lostPeer(s: EngineState, out: Action[]): void {
  resizeLinkLost(s, out);
  const wasConnected = s.handshake !== undefined || s.volumes.some((v) => v.repl !== 'Off');
  s.handshake = undefined;
  s.peerRole = 'Unknown';
  const unreplicated = new Set<number>();
  for (const w of [...s.writes.values()]) {
    // [sim fix] Also writes the peer has "done" per protocol A/B but not confirmed on its disk:
    // with peerDone left true, their later local completion cleared the bits set below.
    const unconfirmed = w.seq !== undefined && s.transferLog.has(w.seq);
    if (w.peerDone !== false && !unconfirmed) continue;
    const v = s.volumes[w.volume]!;
    v.bitmap.setRange(w.offset, w.length);
    unreplicated.add(v.volume);
    w.peerDone = undefined;
    if (w.seq !== undefined) s.seqToWrite.delete(w.seq);
    maybeComplete(s, w.id, out);
  }
  // [sim fix] Writes already completed under protocol A or B that the peer never confirmed on
  // its disk may be lost with the link (or with a crashed peer): out of sync, like DRBD's tl_clear.
  for (const t of s.transferLog.values()) {
    s.volumes[t.volume]!.bitmap.setRange(t.offset, t.length);
    unreplicated.add(t.volume);
  }
  s.transferLog.clear();
  for (const vol of prLostPeer(s, out)) unreplicated.add(vol);
  for (const [tok, f] of s.flushes) {
    if (!f.peerDone) {
      f.peerDone = true;
      finishFlush(s, tok, out);
    }
  }
  s.peerFlushes = s.peerFlushes.filter((p) => p.token !== undefined);
  s.rsReads.clear();
  s.rsDeferred = [];
  // [sim fix] Peer writes still on their way to the disk belong to the lost connection. Landing
  // later, they cleared SyncTarget bits of a new resync (the block then kept data its new
  // source never had) and acked a seq of the old connection on the new one. Now they do
  // neither, and their blocks are out of sync: the peer may not have that data any more.
  for (const op of [...s.diskInflight.values(), ...s.diskQueue]) {
    if (op.origin.kind !== 'peer' || op.stale) continue;
    op.stale = true;
    s.volumes[op.volume]!.bitmap.setRange(op.offset, op.length);
  }
  for (const v of s.volumes) {
    const hadData = hasData(v.peerDisk) && v.repl !== 'Off';
    undoOnLostPeer(s, v, out);
    if (v.sync?.dir === 'target') {
      // The source vanished mid-resync: we stay Inconsistent; the bitmap says what is left.
      out.push({ a: 'log', level: 'warn', text: `resync of volume ${v.volume} interrupted with ${(v.bitmap.weight * BLOCK) / 1024} KiB left` });
    }
    abortVerify(s, v, out);
    v.sync = undefined;
    v.repl = 'Off';
    if (v.peerDisk !== 'Outdated' || !v.meta.peerOutdated) v.peerDisk = 'DUnknown';
    const sharedGen = v.peerGi !== undefined && uuidEq(parseUuid(v.peerGi.current), v.meta.gi.current);
    v.peerGi = undefined;
    // [sim fix] Also a peer that was mid-resync (Inconsistent) may share our C (rule 4 AL sync,
    // "better disk" full sync): writes made after losing it without a new generation were later
    // judged by rule 4 again and overwritten from the peer's side.
    if (s.role === 'Primary' && (hadData || sharedGen) && wasConnected) v.newGenPending = true;
    // [sim fix] Writes the peer never acknowledged are writes after losing it: they must start
    // the new generation now. Left lazy, a Primary that wrote nothing more kept C equal to the
    // peer's, the next handshake matched rule 4 (no sync) and those bits were never resynced.
    if (v.newGenPending && unreplicated.has(v.volume)) {
      newGeneration(s, v);
      persistMeta(s, v, out, { kind: 'release-writes' });
      continue;
    }
    persistMeta(s, v, out);
  }
}

/** A graceful parting while connected: the Secondary side is outdated (engine-semantics "Outdated"). */
function gracefulPart(s: EngineState, out: Action[]): void {
  if (!connected(s)) return;
  out.push({ a: 'send', msg: { type: 'outdating' } });
  applyOutdating(s, out);
}

function applyOutdating(s: EngineState, out: Action[]): void {
  for (const v of s.volumes) {
    if (s.role === 'Primary' && s.peerRole !== 'Primary') {
      if (v.peerDisk === 'UpToDate') {
        v.peerDisk = 'Outdated';
        v.meta.peerOutdated = true;
        persistMeta(s, v, out);
      }
    } else if (s.role === 'Secondary' && s.peerRole === 'Primary' && v.disk === 'UpToDate') {
      setDisk(v, 'Outdated');
      persistMeta(s, v, out);
    }
  }
}

function peerMessage(s: EngineState, msg: PeerMsg, out: Action[]): void {
  switch (msg.type) {
    case 'hello-state':
      return onHello(s, msg.state, out);
    case 'state':
      s.peerRole = msg.role;
      s.volumes.forEach((v, i) => {
        const d = msg.disks[i];
        if (d && !(v.sync?.dir === 'source' && d === 'UpToDate')) v.peerDisk = d;
      });
      return;
    case 'outdating':
      return applyOutdating(s, out);
    case 'new-uuid': {
      const v = s.volumes[msg.volume];
      if (v) adoptClearedUuid(s, v, parseUuid(msg.current), out);
      sendState(s, out);
      return;
    }
    case 'data':
      return onPeerData(s, msg, out);
    case 'write-ack': {
      if (msg.kind === 'written') s.transferLog.delete(msg.seq);
      const id = s.seqToWrite.get(msg.seq);
      if (id === undefined) return;
      const wanted = s.protocol === 'B' ? 'received' : 'written';
      if (msg.kind !== wanted) return;
      s.seqToWrite.delete(msg.seq);
      const w = s.writes.get(id);
      if (w) {
        w.peerDone = true;
        maybeComplete(s, id, out);
      }
      return;
    }
    case 'neg-ack': {
      const tl = s.transferLog.get(msg.seq);
      s.transferLog.delete(msg.seq);
      if (tl) s.volumes[tl.volume]!.bitmap.setRange(tl.offset, tl.length);
      const id = s.seqToWrite.get(msg.seq);
      s.seqToWrite.delete(msg.seq);
      const w = id === undefined ? undefined : s.writes.get(id);
      if (w) {
        s.volumes[w.volume]!.bitmap.setRange(w.offset, w.length);
        w.peerDone = undefined;
        maybeComplete(s, w.id, out);
      }
      return;
    }
    case 'flush': {
      const newest = Math.max(0, ...[...s.diskInflight.values(), ...s.diskQueue].filter((o) => o.origin.kind === 'peer').map((o) => o.token));
      s.peerFlushes.push({ id: msg.id, watermark: newest });
      checkPeerFlushes(s, out);
      return;
    }
    case 'flush-ack': {
      // The peer's disk failed the flush and is Outdated now: the flush completes on what this
      // node's disk did, as DRBD completes it once the failing peer has detached.
      if (msg.error !== undefined) out.push({ a: 'log', level: 'alert', text: `flush failed on the peer's disk (${msg.error}): the peer is Outdated until a resync` });
      const f = s.flushes.get(msg.id);
      if (f) {
        f.peerDone = true;
        finishFlush(s, msg.id, out);
      }
      return;
    }
    case 'bitmap':
      return onPeerBitmap(s, msg.volume, msg.bits, out);
    case 'sync-started':
      return onSyncStarted(s, msg.volume, parseUuid(msg.bitmapUuid), out);
    case 'rs-request': {
      if (!s.volumes[msg.volume]) return;
      s.rsDeferred.push({ volume: msg.volume, id: msg.id, offset: msg.offset, length: msg.length });
      issueResyncReads(s, out);
      return;
    }
    case 'rs-reply':
      return onRsReply(s, msg.volume, msg.id, msg.offset, msg.payload, out);
    case 'rs-ack': {
      const v = s.volumes[msg.volume];
      if (v?.sync?.dir === 'source') v.bitmap.clearRange(msg.offset, msg.length);
      return;
    }
    case 'out-of-sync': {
      const v = s.volumes[msg.volume];
      if (!v) return;
      v.bitmap.setRange(msg.offset, msg.length);
      // A write of the range still on its way here must not clear the bits when it lands.
      for (const op of [...s.diskInflight.values(), ...s.diskQueue]) if (op.volume === v.volume && op.origin.kind === 'peer' && overlaps(op, msg)) op.outOfSync = true;
      if (v.sync?.dir === 'target') {
        for (const r of v.sync.inflight.values()) if (overlaps(r, msg)) r.stale = true;
        pump(s, v, out);
      }
      persistMeta(s, v, out);
      return;
    }
    case 'resync-done':
      return onResyncDone(s, msg.volume, out);
    case 'sync-finished':
      return onSyncFinished(s, msg.volume, parseUuid(msg.current), parseUuid(msg.synced), out);
    case 'sync-finished-ack':
      return onSyncFinishedAck(s, msg.volume, out);
    case 'ov-request':
      return onOvRequest(s, msg.volume, msg.id, msg.offset, msg.length, out);
    case 'ov-reply':
      return onOvReply(s, msg.volume, msg.id, msg.digest, out);
    case 'ov-result':
      return onOvResult(s, msg.volume, msg.offset, msg.length);
    case 'verify-state':
      return onVerifyState(s, msg.volume, msg.active, msg.mismatch, out);
    case 'invalidate-peer':
      return onInvalidatePeer(s, msg.volume, out);
    case 'pr-set':
      return onPrSet(s, msg, out);
    case 'pr-ack':
      return onPrAck(s, msg, out);
    case 'resize-request':
      return onResizeRequest(s, msg.id, msg.dataBytes, out);
    case 'resize-reply':
      return onResizeReply(s, msg.id, msg.error, out);
  }
}

function sideGi(nodeId: number, role: Role, p: PeerVolumeInfo): SideGi {
  return sideFromWire(nodeId, role === 'Primary', p);
}

function onHello(s: EngineState, peer: HelloState, out: Action[]): void {
  if (!s.handshake || s.handshake.peer) startHandshake(s, out);
  s.handshake!.peer = peer;
  const mine = helloState(s);
  if (peer.volumes.length !== s.volumes.length) return standAlone(s, `the peer has ${peer.volumes.length} volumes, this node ${s.volumes.length}`, out);
  // The on-disk layout follows from the disk's size: the two data areas must be equal (resize.ts).
  const unequal = s.volumes.find((v, i) => peer.volumes[i]!.dataBytes !== v.dataBytes);
  if (unequal) return standAlone(s, sizeMismatch(unequal.volume, unequal.dataBytes, peer.volumes[s.volumes.indexOf(unequal)]!.dataBytes), out);

  const decisions: SyncDecision[] = s.volumes.map((_, i) => {
    const me = sideGi(s.nodeId, s.role, mine.volumes[i]!);
    const them = sideGi(peer.nodeId, peer.role, peer.volumes[i]!);
    return decideSync(me, them);
  });
  decisions.forEach((d, i) => (decisions[i] = syncLeftoverBits(s, peer, i, d)));
  // The decision saw through a bitmap UUID whose end-of-resync confirmation was lost; this side
  // corrects the one it keeps, as decideSync did on both sides' copies.
  s.volumes.forEach((v, i) => {
    const fix = resyncEndFixup(sideGi(s.nodeId, s.role, mine.volumes[i]!), sideGi(peer.nodeId, peer.role, peer.volumes[i]!));
    if (fix === undefined) return;
    out.push({ a: 'log', level: 'info', text: `volume ${v.volume}: the peer finished the last resync from this node, whose confirmation was lost; bitmap UUID corrected` });
    forgetBitmapUuid(s, v, fix, out);
  });

  /** Volumes whose data this node discards to resolve a split brain. */
  const discarded: number[] = [];
  for (const [i, d] of decisions.entries()) {
    if (d.kind === 'split-brain') {
      const manual = discardResolution(d, s.discardMyData, peer.discardMyData);
      if (manual) decisions[i] = manual;
      else if (d.automatic && autoSplitBrain(s, peer, decisions, i, out)) {
        // resolved by an after-sb policy: decisions[i] names the direction
      } else {
        s.splitBrain = true;
        out.push({ a: 'log', level: 'alert', text: `Split-Brain detected (rule ${d.rule}), dropping connection; resolve with a runbook or connect --discard-my-data on the victim` });
        return standAlone(s, `split brain detected (rule ${d.rule}): both nodes wrote since they split; nothing was synced`, out);
      }
    }
    if (d.kind === 'split-brain' && decisions[i]!.kind === 'target') discarded.push(i);
    if (d.kind === 'unrelated') return standAlone(s, 'unrelated data: the nodes share no generation history; refusing to connect', out);
    if (decisions[i]!.kind === 'target' && s.role === 'Primary' && s.volumes[i]!.disk === 'UpToDate')
      return standAlone(s, 'rr-conflict: this node is Primary with UpToDate data and would become SyncTarget', out);
    if (decisions[i]!.kind === 'source' && peer.role === 'Primary' && peer.volumes[i]!.disk === 'UpToDate')
      return standAlone(s, 'rr-conflict: the peer is Primary with UpToDate data and would become SyncTarget', out);
  }
  if (s.role === 'Primary' && peer.role === 'Primary') return standAlone(s, 'Multiple primaries not allowed by config', out);
  if (discarded.length > 0 && keepVictimCopy(s, peer, decisions, discarded, out)) return;
  connectWith(s, peer, decisions, out);
}

/**
 * A split-brain victim keeps its diverging blocks before anything can overwrite them: the
 * handshake waits here (no resync, no replicated write yet) until the copy is on disk. Every
 * discard of this node's data by a split brain passes here, manual or by an after-sb policy.
 * Returns true when the handshake waits for sb-copied.
 */
function keepVictimCopy(s: EngineState, peer: HelloState, decisions: SyncDecision[], discarded: number[], out: Action[]): boolean {
  const hs = s.handshake!;
  if (s.skipSbCopy) {
    const blocks = discarded.reduce((n, i) => n + s.volumes[i]!.bitmap.weight, 0);
    out.push({ a: 'log', level: 'alert', text: `discarding ${blocks} diverging blocks of this node without a copy (--no-backup)` });
    return false;
  }
  hs.copy = 'saving';
  hs.decisions = decisions;
  out.push({
    a: 'sb-copy',
    volumes: discarded.map((i) => {
      const v = s.volumes[i]!;
      return {
        volume: i,
        ranges: outOfSyncRanges(v.bitmap, v.dataBytes),
        generation: formatUuid(v.meta.gi.current),
        peerChangedBlocks: peer.volumes[i]?.weight ?? 0,
        resync: decisions[i]!.kind === 'target' && decisions[i]!.over === 'full' ? 'full' : 'bitmap',
      };
    }),
  });
  return true;
}

function onSbCopied(s: EngineState, error: string | undefined, out: Action[]): void {
  const hs = s.handshake;
  // The link went down while the copy was made: the next handshake decides again.
  if (hs?.copy !== 'saving' || !hs.peer || !hs.decisions) return;
  if (error !== undefined) {
    s.splitBrain = true;
    s.discardMyData = false;
    s.skipSbCopy = false;
    out.push({ a: 'log', level: 'alert', text: error });
    return standAlone(s, error, out);
  }
  hs.copy = 'kept';
  connectWith(s, hs.peer, hs.decisions, out);
}

function connectWith(s: EngineState, peer: HelloState, decisions: SyncDecision[], out: Action[]): void {
  s.conn = 'Connected';
  s.peerRole = peer.role;
  s.splitBrain = false;
  s.discardMyData = false;
  s.skipSbCopy = false;
  s.lastError = undefined;
  for (const [i, d] of decisions.entries()) {
    const v = s.volumes[i]!;
    const p = peer.volumes[i]!;
    v.peerGi = p;
    v.peerDisk = p.disk;
    v.newGenPending = false;
    // Persisted below, by the "none" branch or by beginSync.
    if (d.kind !== 'split-brain' && d.kind !== 'unrelated' && prAdopts(s, d.kind, peer)) {
      const pr = prFromHello(p.pr, out);
      if (pr !== 'keep') v.meta.pr = pr;
    }
    if (d.kind === 'none') {
      v.repl = 'Established';
      if (v.disk === 'Outdated' && p.disk === 'UpToDate') setDisk(v, 'UpToDate');
      if (v.peerDisk === 'UpToDate') v.meta.peerOutdated = false;
      v.meta.crashedPrimary = false;
      persistMeta(s, v, out);
    } else if (d.kind === 'source' || d.kind === 'target') {
      beginSync(s, v, d.kind, d.over, out);
    }
  }
  sendState(s, out);
}

function standAlone(s: EngineState, why: string, out: Action[]): void {
  s.lastError = why;
  s.wantConnect = false;
  s.conn = 'StandAlone';
  out.push({ a: 'link', op: 'stop' });
  out.push({ a: 'log', level: 'warn', text: why });
  lostPeer(s, out);
}

// ---------------------------------------------------------------- resync

function beginSync(s: EngineState, v: VolumeState, dir: 'source' | 'target', over: 'full' | 'bitmap' | 'activity-log', out: Action[]): void {
  v.sync = {
    dir,
    total: 0,
    startedAt: s.now,
    paused: false,
    cursor: 0,
    inflight: new IdMap(),
    inflightBytes: 0,
    lastWeight: 0,
    lastTick: s.now,
    rate: 0,
    budget: Math.min(s.maxRate, RS_MAX_INFLIGHT),
  };
  if (dir === 'target') {
    noteUndoBase(s, v);
    // Resync data may land from now on: the disk must say Inconsistent before it does.
    // [sim fix] v.peerDisk keeps the source's real disk state from the handshake (it was forced
    // to UpToDate here): the target takes that state when the resync ends.
    setDisk(v, 'Inconsistent');
  } else {
    v.peerDisk = 'Inconsistent';
  }
  if (over === 'full') {
    v.bitmap.setAll();
    startSyncProper(s, v, out);
  } else {
    v.repl = dir === 'source' ? 'WFBitMapS' : 'WFBitMapT';
    out.push({ a: 'send', msg: { type: 'bitmap', volume: v.volume, bits: v.bitmap.toBytes() } });
  }
  persistMeta(s, v, out);
}

function onPeerBitmap(s: EngineState, vol: number, bits: Uint8Array, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v?.sync) return;
  v.bitmap.orBytes(bits);
  startSyncProper(s, v, out);
}

function startSyncProper(s: EngineState, v: VolumeState, out: Action[]): void {
  const sync = v.sync!;
  sync.total = v.bitmap.weight;
  sync.lastWeight = sync.total;
  if (sync.dir === 'source') {
    const g = v.meta.gi;
    // [sim fix] The sync gets its own bitmap UUID (DRBD's sync UUID), not a copy of C: a fresh
    // target adopts it as its C, and only if it differs from our C does an interrupted initial
    // sync match rule 5 (resume from the bitmap); with B = C, rule 4 + "better disk is source"
    // matched first and the sync restarted in full.
    if (g.bitmap === 0n) g.bitmap = newUuid(s.rng);
    v.repl = 'SyncSource';
    // [sim fix] Send it only once it is durable here: a target persists it as its C at once, and
    // a source that crashed before persisting it came back unrelated to its target (rule 10).
    persistMeta(s, v, out, { kind: 'send-sync-started', volume: v.volume });
  } else {
    v.repl = 'WFSyncUUID';
  }
}

function onSyncStarted(s: EngineState, vol: number, bitmapUuid: bigint, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v?.sync || v.sync.dir !== 'target') return;
  // A fresh target takes the source's bitmap UUID as its own, so an interrupted initial
  // sync resumes from the bitmap (rule 5) instead of starting over.
  if ((v.meta.gi.current & ~1n) === UUID_JUST_CREATED) v.meta.gi.current = bitmapUuid;
  v.repl = 'SyncTarget';
  v.sync.total = v.bitmap.weight;
  v.sync.lastWeight = v.sync.total;
  persistMeta(s, v, out, { kind: 'start-requests', volume: v.volume });
}

/** SyncTarget: keep resync requests in flight within the rate ceiling. */
function pump(s: EngineState, v: VolumeState, out: Action[]): void {
  const sync = v.sync;
  if (!sync || sync.dir !== 'target' || sync.paused || v.repl !== 'SyncTarget') return;
  if (v.undo && v.undo.state !== 'active' && v.undo.state !== 'off') return;
  const blocks = v.bitmap.blocks;
  let wrapped = false;
  while (sync.inflightBytes < resyncWindow(s) && sync.budget > 0) {
    const b = v.bitmap.nextSet(sync.cursor);
    if (b < 0) {
      if (wrapped || sync.cursor === 0) break;
      wrapped = true;
      sync.cursor = 0;
      continue;
    }
    // Skip blocks already requested (after a wrap, or stale replies being retried).
    const offset = b * BLOCK;
    const busy = [...sync.inflight.values()].find((r) => offset >= r.offset && offset < r.offset + r.length);
    if (busy) {
      sync.cursor = (busy.offset + busy.length) / BLOCK;
      if (sync.cursor >= blocks) {
        if (wrapped) break;
        wrapped = true;
        sync.cursor = 0;
      }
      continue;
    }
    let end = b + 1;
    while (end < blocks && end - b < RS_CHUNK / BLOCK && v.bitmap.test(end)) end++;
    const length = Math.min((end - b) * BLOCK, v.dataBytes - offset);
    const id = token(s);
    sync.inflight.set(id, { offset, length, stale: false });
    sync.inflightBytes += length;
    sync.budget -= length;
    sync.cursor = end;
    out.push({ a: 'send', msg: { type: 'rs-request', volume: v.volume, id, offset, length } });
  }
  if (sync.inflight.size === 0 && v.bitmap.weight === 0) {
    out.push({ a: 'send', msg: { type: 'resync-done', volume: v.volume } });
    sync.paused = true; // nothing more to request; waiting for sync-finished
  }
}

/**
 * [sim fix] A resync read must not race a local write to the same blocks: it could return the
 * old data while the write lands after it, and the target would keep the old data with both
 * bitmaps clear (a write from before a reconnect is not replicated in the new connection, so
 * nothing marks the target's request stale). Reads wait until overlapping writes are done.
 */
function issueResyncReads(s: EngineState, out: Action[]): void {
  if (s.rsDeferred.length === 0) return;
  const waiting: EngineState['rsDeferred'] = [];
  for (const r of s.rsDeferred) {
    const busy = [...s.diskInflight.values(), ...s.diskQueue].some((op) => op.volume === r.volume && overlaps(op, r));
    if (busy) {
      waiting.push(r);
      continue;
    }
    const t = token(s);
    s.rsReads.set(t, { volume: r.volume, id: r.id, offset: r.offset });
    out.push({ a: 'disk-read', token: t, volume: r.volume, offset: r.offset, length: r.length });
  }
  s.rsDeferred = waiting;
}

function diskReadDone(s: EngineState, tok: number, data: Buffer, error: string | undefined, out: Action[]): void {
  const r = s.rsReads.get(tok);
  if (!r) return void onVerifyRead(s, tok, data, error, out);
  s.rsReads.delete(tok);
  if (error || !connected(s)) return;
  const v = s.volumes[r.volume]!;
  v.stats.sent += data.length;
  out.push({ a: 'send', msg: { type: 'rs-reply', volume: r.volume, id: r.id, offset: r.offset, payload: data } });
}

function onPeerData(s: EngineState, msg: Extract<PeerMsg, { type: 'data' }>, out: Action[]): void {
  const v = s.volumes[msg.volume];
  if (!v || s.role === 'Primary' || msg.offset + msg.payload.length > v.dataBytes) {
    out.push({ a: 'send', msg: { type: 'neg-ack', volume: msg.volume, seq: msg.seq } });
    return;
  }
  v.stats.received += msg.payload.length;
  if (s.protocol === 'B') out.push({ a: 'send', msg: { type: 'write-ack', volume: msg.volume, seq: msg.seq, kind: 'received' } });
  // Newer application data beats any resync reply still on its way for the same blocks.
  if (v.sync?.dir === 'target') for (const r of v.sync.inflight.values()) if (overlaps(r, { offset: msg.offset, length: msg.payload.length })) r.stale = true;
  submitDiskWrite(s, { token: token(s), volume: v.volume, offset: msg.offset, length: msg.payload.length, data: msg.payload, fua: msg.fua, origin: { kind: 'peer', seq: msg.seq } }, out);
}

function onRsReply(s: EngineState, vol: number, id: number, offset: number, payload: Buffer, out: Action[]): void {
  const v = s.volumes[vol];
  const req = v?.sync?.inflight.get(id);
  if (!v || !req) return;
  v.stats.received += payload.length;
  if (req.stale) {
    // Application data overtook this reply: drop it; bits not covered by that write stay set.
    v.sync!.inflight.delete(id);
    v.sync!.inflightBytes -= req.length;
    v.sync!.cursor = Math.min(v.sync!.cursor, offset / BLOCK);
    pump(s, v, out);
    return;
  }
  submitDiskWrite(s, { token: token(s), volume: vol, offset, length: payload.length, data: payload, fua: false, origin: { kind: 'resync', id } }, out);
}

/**
 * The source's side of the end of a resync. Its bitmap UUID stays until the target confirms it
 * adopted the new generation (sync-finished-ack): should the link drop before the target got
 * sync-finished, the next handshake finds the target still at that UUID and resumes over the
 * bitmap (rule 5/6) instead of seeing an old generation in the history (rule 7, full). Should
 * only the confirmation be lost, sync-decision's resyncEndFixup recognises the finished target.
 */
function onResyncDone(s: EngineState, vol: number, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v?.sync || v.sync.dir !== 'source') return;
  const g = v.meta.gi;
  v.bitmap.clearAll();
  v.sync = undefined;
  v.repl = 'Established';
  v.peerDisk = v.disk;
  v.meta.peerOutdated = false;
  v.meta.crashedPrimary = false;
  persistMeta(s, v, out);
  out.push({ a: 'send', msg: { type: 'sync-finished', volume: vol, current: formatUuid(g.current), synced: formatUuid(g.bitmap) } });
  out.push({ a: 'log', level: 'info', text: `resync of volume ${vol} finished (SyncSource)` });
}

function onSyncFinishedAck(s: EngineState, vol: number, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v || v.sync) return;
  forgetBitmapUuid(s, v, 0n, out);
}

/** The peer is at `next` now (0: at our current generation): the old bitmap UUID goes into history. */
function forgetBitmapUuid(s: EngineState, v: VolumeState, next: bigint, out: Action[]): void {
  const g = v.meta.gi;
  const old = g.bitmap;
  if (old === 0n) return;
  g.bitmap = next;
  pushHistory(v.meta, old);
  persistMeta(s, v, out);
}

function onSyncFinished(s: EngineState, vol: number, current: bigint, synced: bigint, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v?.sync || v.sync.dir !== 'target') return;
  const g = v.meta.gi;
  const old = g.current;
  const oldBitmap = g.bitmap;
  g.current = current;
  g.bitmap = 0n;
  // The source keeps `synced` until our confirmation arrives: with it in our history, a handshake
  // that finds the confirmation lost knows this node finished that resync (resyncEndFixup).
  pushHistory(v.meta, synced);
  pushHistory(v.meta, oldBitmap);
  pushHistory(v.meta, old);
  v.sync = undefined;
  v.repl = 'Established';
  // [sim fix] The target takes the source's disk state, not UpToDate regardless: a source that is
  // itself Inconsistent (rule 3 from a half-synced node to a blank one) passes on no good data.
  setDisk(v, hasData(v.peerDisk) ? v.peerDisk : 'Inconsistent');
  v.meta.crashedPrimary = false;
  persistMeta(s, v, out, { kind: 'send-sync-finished-ack', volume: v.volume });
  sendState(s, out);
  out.push({ a: 'log', level: 'info', text: `resync of volume ${vol} finished (SyncTarget)` });
  undoFinished(s, v, out);
}

// ---------------------------------------------------------------- time

function tick(s: EngineState, now: number, out: Action[]): void {
  const dt = Math.max(0, now - s.now);
  s.now = now;
  // Protocol C/B: a write the peer never acknowledges must not hang forever (DRBD's ko-count).
  if (connected(s) && s.protocol !== 'A') {
    for (const w of s.writes.values()) {
      if (w.peerDone === false && now - w.sentAt > s.ackTimeout * 1000) {
        out.push({ a: 'log', level: 'warn', text: `peer did not acknowledge a write within ${s.ackTimeout}s; dropping the connection` });
        out.push({ a: 'link', op: 'drop' });
        linkDown(s, 'timeout', out);
        break;
      }
    }
  }
  if (prLinked(s) && prAckOverdue(s, now)) {
    out.push({ a: 'log', level: 'warn', text: `peer did not acknowledge a reservation change within ${s.ackTimeout}s; dropping the connection` });
    out.push({ a: 'link', op: 'drop' });
    linkDown(s, 'timeout', out);
  }
  for (const v of s.volumes) {
    const sync = v.sync;
    if (!sync) continue;
    sync.budget = Math.min(sync.budget + (s.maxRate * dt) / 1000, Math.max(s.maxRate, RS_MAX_INFLIGHT));
    if (now - sync.lastTick >= 1000) {
      const moved = (sync.lastWeight - v.bitmap.weight) * BLOCK;
      const inst = (moved * 1000) / (now - sync.lastTick);
      sync.rate = sync.rate === 0 ? inst : 0.5 * sync.rate + 0.5 * inst;
      sync.lastWeight = v.bitmap.weight;
      sync.lastTick = now;
      // Lazy bitmap write-out during a resync (DRBD does it too): resync writes bypass the AL,
      // so nothing else saves the cleared bits, and a node that lost power mid-sync would come
      // back with its bitmap all set and sync in full. Safe on the source as well: the target
      // saves its bits only after its data is on disk, and reconnecting ORs both bitmaps.
      if (moved > 0) persistMeta(s, v, out);
    }
    pump(s, v, out);
  }
}

// ---------------------------------------------------------------- derived figures

/** DRBD's `done`: 100 × (total − out-of-sync) / total, total fixed at resync start. */
export function syncDone(v: VolumeState): number | undefined {
  if (!v.sync || v.sync.total === 0) return v.sync ? 100 : undefined;
  return (100 * (v.sync.total - v.bitmap.weight)) / v.sync.total;
}

export function syncEta(v: VolumeState): number | undefined {
  if (!v.sync || v.sync.rate <= 0) return undefined;
  return Math.round((v.bitmap.weight * BLOCK) / v.sync.rate);
}

// ---------------------------------------------------------------- split-brain policies, invalidate, throttling

/**
 * Rule 8 split brain with an after-sb policy (split-brain-policy.ts). Both sides decide from the
 * same exchanged facts; the victim becomes SyncTarget over the union of bitmaps, as with a
 * manual connect --discard-my-data. Returns false (and explains) when the policy says disconnect.
 */
function autoSplitBrain(s: EngineState, peer: HelloState, decisions: SyncDecision[], i: number, out: Action[]): boolean {
  const p = s.afterSb;
  if (!p) return false;
  if (!samePolicies(p, peer.afterSb)) {
    if (p.pri0 !== 'disconnect' || p.pri1 !== 'disconnect' || p.pri2 !== 'disconnect')
      out.push({ a: 'log', level: 'warn', text: 'split-brain policies differ between the two resource files: no automatic recovery' });
    return false;
  }
  const v = s.volumes[i]!;
  const verdict = resolveSplitBrain(
    p,
    { nodeId: s.nodeId, primary: s.role === 'Primary', changes: v.bitmap.weight, promotedAt: s.promotedAt },
    { nodeId: peer.nodeId, primary: peer.role === 'Primary', changes: peer.volumes[i]?.weight ?? 0, promotedAt: peer.promotedAt },
  );
  if (verdict.victim === 'none') {
    out.push({ a: 'log', level: 'warn', text: `split brain on volume ${v.volume}: no automatic recovery (${verdict.why})` });
    return false;
  }
  const rule = decisions[i]!.rule;
  decisions[i] = { kind: verdict.victim === 'me' ? 'target' : 'source', over: 'bitmap', rule };
  out.push({
    a: 'log',
    level: 'alert',
    text: `Split-Brain detected on volume ${v.volume}, automatically resolved: ${verdict.victim === 'me' ? 'discarding the data of this node' : 'discarding the data of the peer'} (${verdict.why})`,
  });
  return true;
}

/**
 * Equal generations but blocks marked out of sync (by online verify, which never resyncs on
 * its own): the operator's disconnect + connect resyncs them, DRBD's way. Direction: the
 * Primary if there is one, else the better disk, else the lower node-id.
 */
function syncLeftoverBits(s: EngineState, peer: HelloState, i: number, d: SyncDecision): SyncDecision {
  if (d.kind !== 'none' || d.rule !== 4) return d;
  const v = s.volumes[i]!;
  const p = peer.volumes[i];
  if (!p || (v.bitmap.weight === 0 && (p.weight ?? 0) === 0)) return d;
  if (!hasData(v.disk) || !hasData(p.disk)) return d;
  if (s.role === 'Primary' && peer.role === 'Primary') return d;
  const rank = { Outdated: 1, Consistent: 2, UpToDate: 3 } as Record<string, number>;
  let iAmSource: boolean;
  if (s.role !== peer.role) iAmSource = s.role === 'Primary';
  else if (rank[v.disk] !== rank[p.disk]) iAmSource = (rank[v.disk] ?? 0) > (rank[p.disk] ?? 0);
  else iAmSource = s.nodeId < peer.nodeId;
  return { kind: iAmSource ? 'source' : 'target', over: 'bitmap', rule: 4 };
}

/** `invalidate`: this Secondary's data is discarded and fully resynced from its UpToDate peer. */
function invalidateCmd(s: EngineState, req: number, out: Action[]): void {
  if (!connected(s)) return refuse(out, req, 'invalidate needs a connected peer with UpToDate data (Need a connection to start verify or resync)');
  if (s.role === 'Primary') return refuse(out, req, 'Refusing to invalidate a Primary: demote it first (secondary)');
  for (const v of s.volumes) {
    if (v.sync || v.verify || v.repl !== 'Established') return refuse(out, req, `Cannot invalidate while volume ${v.volume} is ${v.repl}`);
    if (v.peerDisk !== 'UpToDate') return refuse(out, req, `Need access to UpToDate data: the peer's volume ${v.volume} is ${v.peerDisk}`);
  }
  for (const v of s.volumes) {
    out.push({ a: 'send', msg: { type: 'invalidate-peer', volume: v.volume } });
    // The operator declared this data bad: no undo journal keeps it.
    setDisk(v, 'Inconsistent');
    beginSync(s, v, 'target', 'full', out);
    out.push({ a: 'log', level: 'warn', text: `volume ${v.volume} invalidated: full sync from the peer` });
  }
  sendState(s, out);
  out.push({ a: 'reply', req });
}

function onInvalidatePeer(s: EngineState, vol: number, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v || !connected(s) || v.sync) return;
  beginSync(s, v, 'source', 'full', out);
  sendState(s, out);
}

/**
 * Resync requests a SyncTarget keeps in flight. While application writes are in flight on this
 * resource (local ones as Primary, or replicated ones arriving from the Primary) the window
 * shrinks to a quarter, so resync traffic queues less in front of them (DRBD's c-min-rate
 * idea); it never drops below one request, so the resync always makes progress.
 */
export function resyncWindow(s: EngineState): number {
  const appIo = s.writes.size > 0 || s.diskInflight.some((op) => op.origin.kind !== 'resync') || s.diskQueue.some((op) => op.origin.kind !== 'resync');
  return appIo ? RS_THROTTLED_INFLIGHT : RS_MAX_INFLIGHT;
}

export const RS_THROTTLED_INFLIGHT = Math.max(RS_CHUNK, RS_MAX_INFLIGHT / 4);

// ---------------------------------------------------------------- consistent resync target (undo journal)

/** A sync makes this node target: remember whether its image is worth keeping (before it turns Inconsistent). */
function noteUndoBase(s: EngineState, v: VolumeState): void {
  if (!s.undoJournalMax) return;
  if (v.undo?.state === 'rolling-back') return;
  v.undo = { hadData: hasData(v.disk) && (v.meta.gi.current & ~1n) !== UUID_JUST_CREATED, state: 'pending', capacity: 0, receivedAtStart: v.stats.received };
}

/** Before the first resync request: journal, no journal, or wait for the operator. True: requests may go. */
function undoGate(s: EngineState, v: VolumeState, out: Action[]): boolean {
  const u = v.undo;
  if (!u || u.state !== 'pending') return !u || u.state === 'active' || u.state === 'off';
  const d = decideUndo({ hadConsistentData: u.hadData, outOfSyncBlocks: v.bitmap.weight, maxBytes: s.undoJournalMax?.[v.volume] ?? 0 });
  if (d.kind === 'without') {
    u.state = 'off';
    return true;
  }
  if (d.kind === 'journal') {
    u.state = 'opening';
    u.capacity = d.capacity;
    out.push({ a: 'undo-open', volume: v.volume, capacity: d.capacity });
    return false;
  }
  waitForOperator(s, v, d.why, out);
  return false;
}

function waitForOperator(s: EngineState, v: VolumeState, why: string, out: Action[]): void {
  v.undo!.state = 'waiting';
  v.sync!.paused = true;
  v.repl = 'PausedSyncT';
  s.lastError = `resync of volume ${v.volume} not started: ${why}; this node's data is still consistent. resume-sync proceeds without the undo journal (Inconsistent until the sync ends); disconnect keeps the data consistent (Outdated) as long as the Primary has not written meanwhile`;
  out.push({ a: 'log', level: 'alert', text: s.lastError });
}

function undoOpened(s: EngineState, vol: number, error: string | undefined, out: Action[]): void {
  const v = s.volumes[vol];
  const u = v?.undo;
  if (!v || !u || u.state !== 'opening') {
    // Nobody waits for this journal any more (the sync ended while it was created): remove it,
    // or a later crash would replay it over data it does not describe.
    if (!error) out.push({ a: 'undo-drop', volume: vol });
    return;
  }
  if (!v.sync || v.sync.dir !== 'target') {
    // The sync went away while the file was being created.
    v.undo = undefined;
    out.push({ a: 'undo-drop', volume: vol });
    return;
  }
  if (error) return waitForOperator(s, v, `the undo journal could not be created (${error})`, out);
  u.state = 'active';
  out.push({ a: 'log', level: 'info', text: `resync of volume ${vol}: undo journal of up to ${u.capacity} bytes keeps the pre-sync image` });
  pump(s, v, out);
}

/** `resume-sync` on a target waiting for journal space: the operator accepts a DRBD-style resync. */
function undoOverride(s: EngineState, v: VolumeState, out: Action[]): void {
  if (v.undo?.state !== 'waiting') return;
  v.undo.state = 'off';
  s.lastError = undefined;
  out.push({ a: 'log', level: 'warn', text: `resync of volume ${v.volume} proceeds without an undo journal at the operator's request: Inconsistent until it ends` });
}

function undoLost(s: EngineState, vol: number, reason: string, out: Action[]): void {
  const v = s.volumes[vol];
  if (v?.undo?.state !== 'active') return;
  v.undo.state = 'off';
  out.push({ a: 'undo-drop', volume: vol });
  out.push({ a: 'log', level: 'alert', text: `undo journal of volume ${vol} given up (${reason}): this resync target can no longer roll back; it is Inconsistent until the sync ends` });
}

function undoFinished(s: EngineState, v: VolumeState, out: Action[]): void {
  if (!v.undo) return;
  if (v.undo.state === 'active' || v.undo.state === 'opening') out.push({ a: 'undo-drop', volume: v.volume });
  v.undo = undefined;
}

/** The source went away mid-resync: with a journal, go back to the pre-sync image. */
function undoOnLostPeer(s: EngineState, v: VolumeState, out: Action[]): void {
  const u = v.undo;
  if (!u || u.state === 'rolling-back') return;
  if (u.state === 'active' && v.sync?.dir === 'target') {
    u.state = 'rolling-back';
    out.push({ a: 'undo-rollback', volume: v.volume });
    out.push({ a: 'log', level: 'warn', text: `resync source of volume ${v.volume} lost: rolling back to the last consistent image` });
    return;
  }
  if (u.state === 'opening' || u.state === 'active') out.push({ a: 'undo-drop', volume: v.volume });
  // Nothing was overwritten yet (the sync never got past the journal decision, and no
  // replicated write arrived): the image is still the consistent one it was.
  if (u.hadData && (u.state === 'pending' || u.state === 'opening' || u.state === 'waiting') && v.stats.received === u.receivedAtStart && v.disk === 'Inconsistent') {
    setDisk(v, 'Outdated');
    out.push({ a: 'log', level: 'info', text: `volume ${v.volume}: resync ended before anything was overwritten; the data is consistent (Outdated)` });
  }
  v.undo = undefined;
}

function undoRolledBack(s: EngineState, vol: number, blocks: number[], error: string | undefined, out: Action[]): void {
  const v = s.volumes[vol];
  if (!v || v.undo?.state !== 'rolling-back') return;
  v.undo = undefined;
  if (error) {
    out.push({ a: 'log', level: 'alert', text: `rollback of volume ${vol} failed (${error}): it stays Inconsistent` });
    return;
  }
  // The restored blocks differ from the source again.
  for (const b of blocks) v.bitmap.setRange(b * BLOCK, BLOCK);
  if (v.disk === 'Inconsistent') setDisk(v, 'Outdated');
  persistMeta(s, v, out);
  sendState(s, out);
  out.push({ a: 'log', level: 'warn', text: `volume ${vol} rolled back to its last consistent image (${blocks.length} blocks restored): Outdated; primary --force promotes it` });
}
