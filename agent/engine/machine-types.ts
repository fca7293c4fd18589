// Inputs, actions and state of the replication state machine (machine.ts). The machine is
// pure: the runtime feeds it inputs (admin commands, peer messages, I/O completions, ticks)
// and carries out the actions it returns (disk I/O, metadata writes, messages, replies).
import type { ConnState, DiskState, ReplState, Role } from '../drbd-states.js';
import type { UuidRng } from './uuid.js';
import type { SbPolicies } from './split-brain-policy.js';
import type { IdMap } from '../lib/id-map.js';
import type { Gi, SyncDecision } from '../sync-decision.js';

export const BLOCK = 4096;

/** The per-peer out-of-sync bitmap as the machine uses it (implemented in bitmap.ts). */
export interface OutOfSyncMap {
  readonly blocks: number;
  /** Number of set bits (blocks out of sync). */
  readonly weight: number;
  /** Sets every block touched by [offset, offset+length). */
  setRange(offset: number, length: number): void;
  /** Clears only blocks fully inside [offset, offset+length). */
  clearRange(offset: number, length: number): void;
  setAll(): void;
  clearAll(): void;
  test(block: number): boolean;
  /** First set block at or after `from`, or -1. */
  nextSet(from: number): number;
  /** OR another bitmap's on-wire bytes into this one. */
  orBytes(bytes: Uint8Array): void;
  toBytes(): Uint8Array;
}

/** What a volume persists in its superblock besides the bitmap. */
export interface VolumeMeta {
  gi: Gi;
  /** Last disk state we can vouch for after a restart. */
  disk: 'Inconsistent' | 'Outdated' | 'UpToDate' | 'Consistent';
  /** Set while Primary; found set at attach it means we crashed as Primary. */
  primary: boolean;
  crashedPrimary: boolean;
  peerOutdated: boolean;
  /**
   * The iSCSI target's persistent-reservation state of this volume (opaque here, at most
   * PERSISTENT_RESERVATION_MAX bytes): replicated metadata, so reservations survive a failover.
   */
  pr?: Buffer;
}

export interface SyncProgress {
  dir: 'source' | 'target';
  /** Blocks out of sync when the sync (re)started: `done` is measured against it. */
  total: number;
  startedAt: number;
  paused: boolean;
  /** Target: next block to look at for a request; wraps around until the bitmap is empty. */
  cursor: number;
  /** Target: requests in flight, by id. */
  inflight: IdMap<{ offset: number; length: number; stale: boolean }>;
  inflightBytes: number;
  /** Rate sampling: weight at the last tick and the computed rate in bytes/s. */
  lastWeight: number;
  lastTick: number;
  rate: number;
  /** Token bucket for the rate ceiling, in bytes. */
  budget: number;
}

export interface PendingWrite {
  id: number;
  volume: number;
  offset: number;
  length: number;
  localDone: boolean;
  /** undefined: not replicated (no peer); false: waiting for the peer; true: peer done per protocol. */
  peerDone?: boolean;
  seq?: number;
  sentAt: number;
  fua: boolean;
  /** The local disk write failed: the write completes with this error once the peer is done too. */
  error?: string;
}

export interface VolumeState {
  /** Position in the resource file's volume list (messages and actions use it, not the DRBD volume number). */
  volume: number;
  /** Failed data writes not yet alerted, and when the last alert went out (a failing disk fails every write). */
  ioErrors?: { unreported: number; alertedAt: number };
  dataBytes: number;
  disk: DiskState;
  meta: VolumeMeta;
  repl: ReplState;
  peerDisk: DiskState;
  /** The next write must start a new data generation first (lazy UUID). */
  newGenPending: boolean;
  bitmap: OutOfSyncMap;
  sync?: SyncProgress;
  /** Peer's identifiers, from the last handshake. */
  peerGi?: PeerVolumeInfo;
  /** Online verify running with this node as VerifyS (online-verify.ts). */
  verify?: VerifyProgress;
  /** Blocks found differing by the last or current verify (this side VerifyS or VerifyT). */
  verifyMismatch?: number;
  /** Consistent resync target: the undo journal of this SyncTarget (undo-decision.ts). */
  undo?: UndoState;
  stats: { read: number; written: number; sent: number; received: number };
  /**
   * Activity-log extents (EXTENT_BYTES) of writes completed since the last flush was issued:
   * what a failing flush may have lost. Extents, not ranges, so that it stays small without flushes.
   */
  unflushed: Set<number>;
}

export interface UndoState {
  /** The image at sync start was consistent: worth keeping. */
  hadData: boolean;
  /** pending: not decided yet; opening: the runtime creates the file; waiting: for the operator. */
  state: 'pending' | 'opening' | 'active' | 'waiting' | 'off' | 'rolling-back';
  capacity: number;
  /** v.stats.received when the sync began: unchanged means nothing has overwritten the image yet. */
  receivedAtStart?: number;
}

export interface PeerVolumeInfo {
  volume: number;
  current: string;
  bitmap: string;
  history: string[];
  crashedPrimary: boolean;
  disk: DiskState;
  dataBytes: number;
  /** Bitmap weight (blocks out of sync) at the handshake: split-brain policies compare it. */
  weight?: number;
  /** Persistent-reservation blob, base64 (absent: none): a node that adopts the peer's data adopts it too. */
  pr?: string;
}

export interface EngineState {
  resource: string;
  nodeId: number;
  peerNodeId: number;
  protocol: 'A' | 'B' | 'C';
  maxRate: number;
  /** Seconds an unacknowledged replicated write may wait before the peer is declared dead. */
  ackTimeout: number;
  role: Role;
  /** Operator wants a connection (connect) or not (disconnect / StandAlone). */
  wantConnect: boolean;
  conn: ConnState;
  peerRole: Role;
  /** Handshake bookkeeping for the current connection. */
  handshake?: {
    sentMine: boolean;
    peer?: HelloState;
    /** This node is a split-brain victim: its diverging blocks are being kept (sb-copy) or were. */
    copy?: 'saving' | 'kept';
    /** The handshake's decisions, waiting for the copy to be on disk. */
    decisions?: SyncDecision[];
  };
  splitBrain: boolean;
  lastError?: string;
  /** Set by `connect --discard-my-data`, used by the next handshake. */
  discardMyData: boolean;
  /** Set by `connect --discard-my-data --no-backup`: the victim's diverging blocks are discarded without a copy. */
  skipSbCopy: boolean;
  openCount: number;
  volumes: VolumeState[];
  /** Machine-assigned ids for disk operations and peer sequence numbers. */
  nextToken: number;
  nextSeq: number;
  writes: IdMap<PendingWrite>;
  /** Writes queued behind the new-generation metadata write. */
  waitingForGen: AppWrite[];
  /** Disk writes in flight per volume (for ordering overlapping writes). */
  diskInflight: IdMap<DiskOp>;
  diskQueue: DiskOp[];
  /** Application flushes in flight, by disk-flush token; `covers`: each volume's unflushed extents it took. */
  flushes: IdMap<{ id: number; localDone: boolean; peerDone: boolean; covers: Array<Set<number>>; error?: string }>;
  /** Peer flushes waiting for earlier peer writes to land: flush id -> newest token it must cover. */
  peerFlushes: Array<{ id: number; watermark: number; token?: number; covers?: Array<Set<number>> }>;
  seqToWrite: IdMap<number>;
  /**
   * Replicated writes the peer has not yet confirmed on its disk ('written' ack), by seq —
   * DRBD's transfer log. Under protocols A and B a write completes before that; if the link
   * drops first, these ranges are marked out of sync.
   */
  transferLog: IdMap<{ volume: number; offset: number; length: number }>;
  /** Disk reads for resync replies, by token. */
  rsReads: IdMap<{ volume: number; id: number; offset: number }>;
  /** Resync requests whose blocks have a local write in progress: read once it has landed. */
  rsDeferred: Array<{ volume: number; id: number; offset: number; length: number }>;
  /** Pending metadata writes and what waits for each to be durable. */
  metaWaits: IdMap<{ volume: number; then: MetaContinuation }>;
  now: number;
  /** Source of new generation identifiers; injected so simulations are reproducible. */
  rng: UuidRng;
  /** Automatic split-brain policies (absent: all disconnect). */
  afterSb?: SbPolicies;
  /** When this node last became Primary (s.now at promotion), for discard-younger/older-primary. */
  promotedAt?: number;
  /** Verify reads in flight, by token (online-verify.ts). */
  ovReads?: IdMap<OvRead>;
  /** Verify reads waiting for overlapping disk writes to land first. */
  ovDeferred?: OvRead[];
  /** Undo journal maximum per volume, bytes; absent: no undo journal (DRBD behaviour). */
  undoJournalMax?: number[];
  /** A resize in progress (resize.ts): asked of the peer, or growing here. */
  resizing?: Resizing;
  /** Persistent-reservation saves not yet complete, by id (pr-replication.ts). */
  prSaves: IdMap<PrSave>;
}

export interface PrSave {
  volume: number;
  localDone: boolean;
  /** As PendingWrite.peerDone: undefined not replicated, false waiting for the peer's pr-ack. */
  peerDone?: boolean;
  sentAt: number;
  /** The local metadata write failed: the save completes with this error. */
  error?: string;
}

/** A range an online verify has still to check, and how often its reads were tried. */
export interface OvRange {
  offset: number;
  length: number;
  tries: number;
}

/** The walk of an online verify run as VerifyS (online-verify.ts): state of the volume it checks. */
export interface VerifyProgress {
  /** Next byte offset of the sequential walk. */
  cursor: number;
  /** Blocks to check in total, and checked so far (for `done`). */
  total: number;
  checked: number;
  mismatch: number;
  startedAt: number;
  /** Ranges to check before the walk continues (blocks of a differing chunk, raced ranges). */
  again: OvRange[];
  pending: Map<number, OvRange & { local?: Uint8Array; peer?: Uint8Array; dirty: boolean }>;
}

export interface OvRead {
  volume: number;
  id: number;
  offset: number;
  length: number;
  /** 'local': VerifyS's own copy to compare; 'peer': VerifyT answering a request. */
  kind: 'local' | 'peer';
}

export type MetaContinuation =
  | { kind: 'none' }
  /** Queued application writes may go once the new generation is on disk. */
  | { kind: 'release-writes' }
  /** A SyncTarget may write resync data once "Inconsistent" is on disk. */
  | { kind: 'start-requests'; volume: number }
  /** A SyncSource tells the target its bitmap UUID only once that UUID is on its own disk. */
  | { kind: 'send-sync-started'; volume: number }
  /** A SyncTarget confirms the end of the resync once the adopted generation is on its disk. */
  | { kind: 'send-sync-finished-ack'; volume: number }
  /** Primary: a persistent-reservation save is on the local disk. */
  | { kind: 'pr-saved'; id: number }
  /** Peer: the reservation blob from the Primary is on disk; acknowledge it. */
  | { kind: 'pr-ack'; volume: number; id: number };

/**
 * A run of zero bytes that is never materialized: what a discard (UNMAP, WRITE SAME with
 * UNMAP) writes. It replicates as a length, like DRBD's P_ZEROES; each disk deallocates the
 * range where it can, and reads return zeros either way.
 */
export class Zeroes {
  constructor(readonly length: number) {}
}

/** What a write puts on the disk. */
export type WriteData = Buffer | Zeroes;

export interface DiskOp {
  token: number;
  volume: number;
  offset: number;
  length: number;
  data: WriteData;
  fua: boolean;
  origin: { kind: 'app'; id: number } | { kind: 'peer'; seq: number } | { kind: 'resync'; id: number };
  /** A peer write from a connection that has since been lost: it neither acks nor clears bits. */
  stale?: boolean;
  /** The Primary reported the range out of sync while this peer write was on its way: set the bits when it lands. */
  outOfSync?: boolean;
}

export interface AppWrite {
  id: number;
  volume: number;
  offset: number;
  data: WriteData;
  fua: boolean;
}

/** Handshake content: everything the peer needs to decide about sync. */
export interface HelloState {
  nodeId: number;
  role: Role;
  discardMyData: boolean;
  volumes: PeerVolumeInfo[];
  /** When this node last became Primary (its clock, ms), for discard-younger/older-primary. */
  promotedAt?: number;
  /** Its split-brain policies: automatic recovery only when both sides have the same. */
  afterSb?: Pick<SbPolicies, 'pri0' | 'pri1' | 'pri2'>;
}

// ---- messages between the two machines (carried by the peer link) ----
export type PeerMsg =
  | { type: 'hello-state'; state: HelloState }
  | { type: 'state'; role: Role; disks: DiskState[] }
  | { type: 'bitmap'; volume: number; bits: Uint8Array }
  | { type: 'data'; volume: number; seq: number; offset: number; fua: boolean; payload: WriteData }
  | { type: 'write-ack'; volume: number; seq: number; kind: 'received' | 'written' }
  | { type: 'neg-ack'; volume: number; seq: number }
  | { type: 'rs-request'; volume: number; id: number; offset: number; length: number }
  | { type: 'rs-reply'; volume: number; id: number; offset: number; payload: Buffer }
  | { type: 'rs-ack'; volume: number; offset: number; length: number }
  /** Target to source: every block is in; source answers with sync-finished. */
  | { type: 'resync-done'; volume: number }
  /** Primary to peer: this range may differ (a write failed on the Primary's disk); DRBD's P_OUT_OF_SYNC. */
  | { type: 'out-of-sync'; volume: number; offset: number; length: number }
  /** Source to target: adopt `current`; `synced` is the bitmap UUID the resync ran under. */
  | { type: 'sync-finished'; volume: number; current: string; synced: string }
  /** Target to source: the end of the resync is on the target's disk; only now may the source forget its bitmap UUID. */
  | { type: 'sync-finished-ack'; volume: number }
  | { type: 'sync-started'; volume: number; bitmapUuid: string }
  | { type: 'new-uuid'; volume: number; current: string }
  | { type: 'flush'; id: number }
  /** error: the flush failed on the peer's disk, which is Outdated now (its out-of-sync ranges went ahead). */
  | { type: 'flush-ack'; id: number; error?: string }
  /** A graceful parting: the Secondary of the pair becomes Outdated, the Primary records it. */
  | { type: 'outdating' }
  /** Online verify (online-verify.ts): digest of a range, its answer, a mismatch, start/stop. */
  | { type: 'ov-request'; volume: number; id: number; offset: number; length: number }
  | { type: 'ov-reply'; volume: number; id: number; offset: number; length: number; digest: Uint8Array }
  | { type: 'ov-result'; volume: number; offset: number; length: number }
  | { type: 'verify-state'; volume: number; active: boolean; mismatch: number }
  /** `invalidate` on the peer: it becomes SyncTarget of a full sync from us. */
  | { type: 'invalidate-peer'; volume: number }
  /** Primary to peer: the volume's persistent-reservation state; answered by pr-ack once on disk. */
  | { type: 'pr-set'; volume: number; id: number; blob: Buffer }
  | { type: 'pr-ack'; volume: number; id: number }
  /** resize (resize.ts): grow every volume to these sizes; answered once the peer's disks have grown, or why not. */
  | { type: 'resize-request'; id: number; dataBytes: number[] }
  | { type: 'resize-reply'; id: number; error?: string };

/** One victim volume to keep a copy of: its out-of-sync ranges, before the resync overwrites them. */
export interface SbCopyVolume {
  volume: number;
  ranges: Array<{ offset: number; length: number }>;
  /** Current UUID before the discard. */
  generation: string;
  peerChangedBlocks: number;
  resync: 'bitmap' | 'full';
}

export interface Resizing {
  id: number;
  /** The admin request to answer (on the node the operator ran resize on). */
  req?: number;
  dataBytes: number[];
  phase: 'peer' | 'local';
}

export type AdminCommand =
  | { cmd: 'primary'; force: boolean }
  | { cmd: 'secondary' }
  | { cmd: 'connect'; discardMyData: boolean; skipBackup?: boolean }
  | { cmd: 'disconnect' }
  | { cmd: 'new-current-uuid'; clearBitmap: boolean }
  | { cmd: 'invalidate' }
  | { cmd: 'verify' }
  | { cmd: 'pause-sync' }
  | { cmd: 'resume-sync' }
  | { cmd: 'down' }
  /** Grow to `dataBytes` per volume: what this node's backing disks leave (the runtime measured them). */
  | { cmd: 'resize'; dataBytes: number[] };

export type Input =
  | { t: 'admin'; req: number; command: AdminCommand }
  | { t: 'app-write'; write: AppWrite }
  | { t: 'app-flush'; id: number }
  | { t: 'disk-done'; token: number; error?: string }
  | { t: 'disk-read-done'; token: number; data: Buffer; error?: string }
  | { t: 'disk-flush-done'; token: number; error?: string }
  | { t: 'meta-done'; token: number; error?: string }
  | { t: 'link-up' }
  | { t: 'link-down'; reason: LinkDownReason }
  | { t: 'peer'; msg: PeerMsg }
  | { t: 'open'; delta: 1 | -1 }
  | { t: 'tick'; now: number }
  /** The peer link's failed attempts say why it does not connect (peer-retry.ts), or that reason cleared. */
  | { t: 'link-problem'; text: string | undefined }
  /** The runtime created the undo journal (or could not). */
  | { t: 'undo-opened'; volume: number; error?: string }
  /** The journal could not take a write (full, I/O error): the target is no longer recoverable. */
  | { t: 'undo-lost'; volume: number; reason: string }
  /** The journal was replayed: these blocks hold the pre-sync image again. */
  | { t: 'undo-rolled-back'; volume: number; blocks: number[]; error?: string }
  /** The runtime kept the split-brain victim's diverging blocks (sb-copy), or could not: why, as the refusal. */
  | { t: 'sb-copied'; error?: string }
  /** The iSCSI target changed a volume's persistent reservations (PERSISTENT RESERVE OUT). */
  | { t: 'pr-save'; id: number; volume: number; blob: Buffer }
  /** The runtime grew the disks for resize `id` (their new bitmaps), or could not. */
  | { t: 'grown'; id: number; origin: 'local' | 'peer'; volumes?: Array<{ dataBytes: number; bitmap: OutOfSyncMap }>; error?: string };

export type LinkDownReason = 'timeout' | 'broken-pipe' | 'network-failure' | 'protocol-error' | 'auth-failed' | 'closed-by-peer' | 'local';

export type Action =
  | { a: 'send'; msg: PeerMsg }
  | { a: 'disk-write'; token: number; volume: number; offset: number; data: WriteData; fua: boolean }
  | { a: 'disk-read'; token: number; volume: number; offset: number; length: number }
  | { a: 'disk-flush'; token: number; volume: number }
  /** Persist the volume's superblock (and dirty bitmap pages); reply with meta-done token. */
  | { a: 'persist-meta'; token: number; volume: number }
  | { a: 'write-done'; id: number; error?: string }
  /** A pr-save is durable (here, and on the peer while connected) or was refused. */
  | { a: 'pr-done'; id: number; error?: string }
  | { a: 'flush-done'; id: number; error?: string }
  | { a: 'reply'; req: number; error?: string }
  | { a: 'link'; op: 'start' | 'stop' | 'drop' }
  | { a: 'log'; level: 'info' | 'warn' | 'alert'; text: string }
  /** Undo journal of a SyncTarget: create it, replay it (source lost), or drop it (sync done). */
  | { a: 'undo-open'; volume: number; capacity: number }
  | { a: 'undo-rollback'; volume: number }
  | { a: 'undo-drop'; volume: number }
  /**
   * This node is a split-brain victim about to become SyncTarget: keep its diverging blocks
   * durably (split-brain-copy.ts), nothing else happening meanwhile; answer with `sb-copied`.
   */
  | { a: 'sb-copy'; volumes: SbCopyVolume[] }
  /** Grow every volume's disk and metadata to `dataBytes` (writes held meanwhile); answer with `grown`. */
  | { a: 'grow'; id: number; origin: 'local' | 'peer'; dataBytes: number[] };
