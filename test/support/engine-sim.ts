// A deterministic two-node simulation around the pure replication machine (machine.ts):
// simulated disks, persisted metadata, a FIFO network per direction and a seeded scheduler
// that completes disk operations and delivers messages in a random but reproducible order.
// It plays the runtime's part (carrying out actions, feeding completions back), so tests can
// drive failovers, crashes and link cuts and check DRBD's guarantees against the data.
import { Bitmap } from '../../agent/engine/bitmap.js';
import { createEngine, step } from '../../agent/engine/machine.js';
import { BLOCK, Zeroes, type Action, type AdminCommand, type EngineState, type Input, type LinkDownReason, type PeerMsg, type VolumeMeta, type WriteData } from '../../agent/engine/machine-types.js';
import { createPrng, type Prng } from './prng.js';
import { UUID_JUST_CREATED } from '../../agent/engine/uuid.js';

export type NodeId = 0 | 1;
export const NODE_NAMES = ['ha-a', 'ha-b'] as const;

export interface SimOptions {
  seed: number;
  protocol?: 'A' | 'B' | 'C';
  volumes?: number;
  /** Data bytes per volume (a multiple of 4 KiB). */
  volumeBytes?: number;
  /** Resync rate ceiling, bytes/s. */
  maxRate?: number;
  /** Seconds before an unacknowledged write drops the link. */
  ackTimeout?: number;
  /** Activity-log model: extent size in blocks and how many extents stay hot. */
  alExtentBlocks?: number;
  alExtents?: number;
}

export interface WriteHandle {
  readonly id: number;
  readonly node: NodeId;
  readonly volume: number;
  readonly offset: number;
  readonly data: Buffer;
  done: boolean;
  error?: string;
  /** Acknowledged to the application (write-done without error). */
  acked: boolean;
  /** The node crashed before the write completed: it may or may not have reached a disk. */
  lost: boolean;
}

/** A persistent-reservation save (what the iSCSI target's ReservationStore.save does). */
export interface PrHandle {
  readonly id: number;
  readonly node: NodeId;
  readonly volume: number;
  readonly blob: Buffer;
  done: boolean;
  error?: string;
  acked: boolean;
  lost: boolean;
  discarded: boolean;
}

export interface Reply {
  ok: boolean;
  error?: string;
}

type Completion =
  | { node: NodeId; kind: 'disk-write'; token: number; volume: number; offset: number; data: Buffer }
  | { node: NodeId; kind: 'disk-read'; token: number; volume: number; offset: number; length: number }
  | { node: NodeId; kind: 'disk-flush'; token: number }
  | { node: NodeId; kind: 'persist-meta'; token: number; volume: number };

type Wire = { kind: 'msg'; msg: PeerMsg } | { kind: 'fin' };

interface Connection {
  /** A side is attached until it closes its socket or sees the peer's FIN. */
  open: [boolean, boolean];
  /** q[i]: from node i to node 1-i, FIFO like a TCP stream. */
  q: [Wire[], Wire[]];
}

interface Persisted {
  meta: VolumeMeta;
  bits: Buffer;
}

interface SimNode {
  id: NodeId;
  engine: EngineState;
  disks: Buffer[];
  persisted: Persisted[];
  /** The runtime's PeerLink: wants a connection between `link start` and `link stop`. */
  linkWanted: boolean;
  rng: Prng;
  replies: Map<number, Reply>;
  logs: Array<{ level: string; text: string }>;
  /** Activity log per volume: hot extents, most recently used first. */
  hot: number[][];
  diskStalled: boolean;
  /** Data writes fail (EIO): completions report an error and nothing lands. */
  diskFailing: boolean;
  /**
   * Flushes fail (fdatasync EIO). The simulated disk has no cache, so nothing is lost: what the
   * ledger checks is that the engine's bookkeeping of the failure keeps both copies reconcilable.
   */
  flushFailing: boolean;
  /** Metadata writes fail: the persisted superblock and bitmap stay as they were. */
  metaFailing: boolean;
  /** What the runtime kept for each sb-copy (the victim's ranges and their bytes then), or the refusal it answers. */
  sbCopies: Array<{ volume: number; ranges: Array<{ offset: number; length: number; data: Buffer }> }>;
  sbCopyRefusal?: string;
}

/** One application write as the ledger sees it, per 4 KiB block. */
interface LedgerEntry {
  write: WriteHandle;
  data: Buffer;
  discarded: boolean;
}

const WIRE_REASON_CUT: LinkDownReason = 'network-failure';

/** The bytes a write puts on the disk, in a buffer of their own. */
function bytesOf(data: WriteData): Buffer {
  return data instanceof Zeroes ? Buffer.alloc(data.length) : Buffer.from(data);
}

/** The error of a disk write that failDiskWrites fails. */
const SIM_IO_ERROR = 'Input/output error';

function cloneMsg(msg: PeerMsg): PeerMsg {
  // The wire copies: a receiver must never see a buffer the sender may reuse.
  switch (msg.type) {
    case 'data':
      return { ...msg, payload: msg.payload instanceof Zeroes ? msg.payload : Buffer.from(msg.payload) };
    case 'rs-reply':
      return { ...msg, payload: Buffer.from(msg.payload) };
    case 'bitmap':
      return { ...msg, bits: Uint8Array.from(msg.bits) };
    case 'pr-set':
      return { ...msg, blob: Buffer.from(msg.blob) };
    default:
      return structuredClone(msg);
  }
}

/** structuredClone would turn the reservation blob into a plain Uint8Array. */
function cloneMeta(m: VolumeMeta): VolumeMeta {
  const { pr, ...rest } = m;
  return pr ? { ...structuredClone(rest), pr: Buffer.from(pr) } : structuredClone(rest);
}

export function freshMeta(): VolumeMeta {
  return { gi: { current: UUID_JUST_CREATED, bitmap: 0n, history: [] }, disk: 'Inconsistent', primary: false, crashedPrimary: false, peerOutdated: false };
}

export class EngineSim {
  readonly opts: Required<SimOptions>;
  readonly nodes: [SimNode, SimNode];
  now = 0;
  cableUp = true;
  conn: Connection | undefined;
  private readonly prng: Prng;
  private completions: Completion[] = [];
  private inputs: Array<{ node: NodeId; input: Input }> = [];
  private draining = false;
  private nextReq = 1;
  private nextWriteId = 1;
  private readonly handles = new Map<number, WriteHandle>();
  private readonly flushes = new Map<number, { done: boolean; error?: string }>();
  /** Reservation saves per volume, in submission order (the ledger of reservation state). */
  private readonly prLedger: PrHandle[][];
  private readonly netStalled: [boolean, boolean] = [false, false];
  /** Message types whose next delivery the network loses (see loseNext). */
  private readonly losing = new Set<PeerMsg['type']>();
  /** ledger[volume][block]: writes touching the block, in submission order. */
  private readonly ledger: LedgerEntry[][][];
  readonly blocks: number;
  events = 0;

  constructor(options: SimOptions) {
    this.opts = {
      protocol: 'C',
      volumes: 1,
      volumeBytes: 1 << 20,
      maxRate: 1 << 30,
      ackTimeout: 5,
      alExtentBlocks: 16,
      alExtents: 4,
      ...options,
    };
    if (this.opts.volumeBytes % BLOCK !== 0) throw new RangeError('volumeBytes must be a multiple of 4 KiB');
    this.blocks = this.opts.volumeBytes / BLOCK;
    this.prng = createPrng(this.opts.seed);
    this.ledger = Array.from({ length: this.opts.volumes }, () => Array.from({ length: this.blocks }, () => []));
    this.prLedger = Array.from({ length: this.opts.volumes }, () => []);
    this.nodes = [this.makeNode(0), this.makeNode(1)];
  }

  private makeNode(id: NodeId): SimNode {
    const persisted = Array.from({ length: this.opts.volumes }, () => ({ meta: freshMeta(), bits: new Bitmap(this.blocks).toBytes() }));
    const node: SimNode = {
      id,
      engine: undefined as unknown as EngineState,
      disks: Array.from({ length: this.opts.volumes }, () => Buffer.alloc(this.opts.volumeBytes)),
      persisted,
      linkWanted: false,
      rng: createPrng(this.opts.seed * 2 + id + 1),
      replies: new Map(),
      logs: [],
      hot: Array.from({ length: this.opts.volumes }, () => []),
      diskStalled: false,
      diskFailing: false,
      flushFailing: false,
      metaFailing: false,
      sbCopies: [],
    };
    node.engine = this.engineFromPersisted(node);
    return node;
  }

  private engineFromPersisted(node: SimNode): EngineState {
    return createEngine({
      resource: 'r0',
      nodeId: node.id,
      peerNodeId: 1 - node.id,
      protocol: this.opts.protocol,
      maxRate: this.opts.maxRate,
      ackTimeout: this.opts.ackTimeout,
      now: this.now,
      rng: node.rng,
      volumes: node.persisted.map((p, volume) => ({
        volume,
        dataBytes: this.opts.volumeBytes,
        meta: cloneMeta(p.meta),
        bitmap: Bitmap.fromBytes(p.bits, this.blocks),
      })),
    });
  }

  // ------------------------------------------------------------ accessors

  engine(node: NodeId): EngineState {
    return this.nodes[node].engine;
  }

  disk(node: NodeId, volume = 0): Buffer {
    return this.nodes[node].disks[volume]!;
  }

  persisted(node: NodeId, volume = 0): { meta: VolumeMeta; bitmap: Bitmap } {
    const p = this.nodes[node].persisted[volume]!;
    return { meta: p.meta, bitmap: Bitmap.fromBytes(p.bits, this.blocks) };
  }

  logs(node: NodeId): ReadonlyArray<{ level: string; text: string }> {
    return this.nodes[node].logs;
  }

  read(node: NodeId, volume: number, offset: number, length: number): Buffer {
    return Buffer.from(this.disk(node, volume).subarray(offset, offset + length));
  }

  pendingEvents(): number {
    return this.completions.length + (this.conn ? this.conn.q[0].length + this.conn.q[1].length : 0);
  }

  // ------------------------------------------------------------ operations

  admin(node: NodeId, command: AdminCommand): Reply {
    const req = this.nextReq++;
    this.feed(node, { t: 'admin', req, command });
    const r = this.nodes[node].replies.get(req);
    if (!r) throw new Error(`${NODE_NAMES[node]}: no reply to ${command.cmd}`);
    this.nodes[node].replies.delete(req);
    return r;
  }

  /** admin() that must succeed. */
  ok(node: NodeId, command: AdminCommand): void {
    const r = this.admin(node, command);
    if (!r.ok) throw new Error(`${NODE_NAMES[node]} ${command.cmd}: ${r.error}`);
  }

  /** An application write; Zeroes is a discard (UNMAP), which the ledger expects to read as zeros. */
  write(node: NodeId, volume: number, offset: number, data: WriteData, fua = false): WriteHandle {
    const id = this.nextWriteId++;
    const h: WriteHandle = { id, node, volume, offset, data: bytesOf(data), done: false, acked: false, lost: false };
    this.handles.set(id, h);
    for (let b = Math.floor(offset / BLOCK); b < Math.ceil((offset + data.length) / BLOCK); b++) {
      const lo = Math.max(offset, b * BLOCK);
      const hi = Math.min(offset + data.length, (b + 1) * BLOCK);
      // The ledger judges whole 4 KiB blocks, so writes must cover whole blocks.
      if (lo !== b * BLOCK || hi !== (b + 1) * BLOCK) throw new RangeError('the sim ledger needs block-aligned writes');
      this.ledger[volume]![b]!.push({ write: h, data: h.data.subarray(lo - offset, hi - offset), discarded: false });
    }
    this.feed(node, { t: 'app-write', write: { id, volume, offset, data: data instanceof Zeroes ? data : Buffer.from(data), fua } });
    return h;
  }

  /** An application flush (SYNCHRONIZE CACHE); `done` once the machine reports flush-done. */
  flush(node: NodeId): { done: boolean; error?: string } {
    const id = this.nextWriteId++;
    const h: { done: boolean; error?: string } = { done: false };
    this.flushes.set(id, h);
    this.feed(node, { t: 'app-flush', id });
    return h;
  }

  /** A persistent-reservation save on `node`; `acked` once the machine reports pr-done. */
  prSave(node: NodeId, volume: number, blob: Buffer): PrHandle {
    const id = this.nextWriteId++;
    const h: PrHandle = { id, node, volume, blob: Buffer.from(blob), done: false, acked: false, lost: false, discarded: false };
    this.prLedger[volume]!.push(h);
    this.feed(node, { t: 'pr-save', id, volume, blob: Buffer.from(blob) });
    return h;
  }

  /** The id the next write will get: writes from `mark` on can later be discarded. */
  writeMark(): number {
    return this.nextWriteId;
  }

  /** An operator decision threw these writes away (discard-my-data, force over newer data). */
  discardWrites(node: NodeId, fromMark: number): void {
    for (const vol of this.ledger) for (const blk of vol) for (const e of blk) if (e.write.node === node && e.write.id >= fromMark) e.discarded = true;
    for (const vol of this.prLedger) for (const h of vol) if (h.node === node && h.id >= fromMark) h.discarded = true;
  }

  open(node: NodeId, delta: 1 | -1): void {
    this.feed(node, { t: 'open', delta });
  }

  connect(): void {
    for (const n of [0, 1] as const) if (this.nodes[n].engine.conn === 'StandAlone') this.ok(n, { cmd: 'connect', discardMyData: false });
  }

  cutLink(): void {
    this.cableUp = false;
    if (!this.conn) return;
    const c = this.conn;
    this.conn = undefined;
    for (const n of this.order()) if (c.open[n]) this.feed(n, { t: 'link-down', reason: WIRE_REASON_CUT });
  }

  restoreLink(): void {
    this.cableUp = true;
    this.tryConnect();
  }

  stallDisk(node: NodeId, stalled: boolean): void {
    this.nodes[node].diskStalled = stalled;
  }

  /** From now on this node's disk writes fail (an I/O error) until set back. */
  failDiskWrites(node: NodeId, failing: boolean): void {
    this.nodes[node].diskFailing = failing;
  }

  /** From now on this node's flushes fail until set back. */
  failDiskFlushes(node: NodeId, failing: boolean): void {
    this.nodes[node].flushFailing = failing;
  }

  /** The split-brain copies this node's runtime kept. */
  sbCopies(node: NodeId): SimNode['sbCopies'] {
    return this.nodes[node].sbCopies;
  }

  /** From now on this node's split-brain copies are refused with `why` (undefined: kept again). */
  refuseSbCopies(node: NodeId, why: string | undefined): void {
    this.nodes[node].sbCopyRefusal = why;
  }

  /** From now on this node's metadata writes fail until set back. */
  failMetaWrites(node: NodeId, failing: boolean): void {
    this.nodes[node].metaFailing = failing;
  }

  /**
   * The next message of this type never arrives: TCP loses nothing without the connection, so
   * the link breaks right there (both sides see it drop) and comes back at the next tick.
   */
  loseNext(type: PeerMsg['type']): void {
    this.losing.add(type);
  }

  /** Hold messages from `from` in the network (still FIFO, still delivered later). */
  stallNet(from: NodeId, stalled: boolean): void {
    this.netStalled[from] = stalled;
  }

  tick(ms: number): void {
    this.now += ms;
    for (const n of this.order()) this.feed(n, { t: 'tick', now: this.now });
    // The PeerLink retries on its own timer while a side wants a connection.
    this.tryConnect();
  }

  /**
   * Kill the node: completions in flight are dropped (writes optionally land), then it comes
   * back from its persisted metadata the way the runtime attaches after a crash: a persisted
   * Primary flag becomes crashedPrimary, and the hot activity-log extents go into the bitmap.
   */
  crash(node: NodeId, opts: { applyInflightWrites?: boolean | 'random'; connect?: boolean } = {}): void {
    const n = this.nodes[node];
    const apply = opts.applyInflightWrites ?? false;
    const mine = this.completions.filter((c) => c.node === node);
    this.completions = this.completions.filter((c) => c.node !== node);
    for (const c of mine) {
      if (c.kind !== 'disk-write') continue;
      if (apply === true || (apply === 'random' && this.prng.int(2) === 1)) c.data.copy(n.disks[c.volume]!, c.offset);
    }
    this.inputs = this.inputs.filter((i) => i.node !== node);
    this.abort(node);
    for (const h of this.handles.values()) if (h.node === node && !h.done) h.lost = true;
    for (const h of [...this.handles.values()]) if (h.node === node && h.lost) this.handles.delete(h.id);
    for (const vol of this.prLedger) for (const h of vol) if (h.node === node && !h.done) h.lost = true;
    // apply-al: every hot extent may hold writes the persisted bitmap does not know about.
    n.persisted.forEach((p, vol) => {
      const bm = Bitmap.fromBytes(p.bits, this.blocks);
      for (const e of n.hot[vol]!) bm.setBlocks(e * this.opts.alExtentBlocks, Math.min(this.opts.alExtentBlocks, this.blocks - e * this.opts.alExtentBlocks));
      p.bits = bm.toBytes();
      if (p.meta.primary) {
        p.meta.primary = false;
        p.meta.crashedPrimary = true;
      }
    });
    n.hot = n.hot.map(() => []);
    n.linkWanted = false;
    n.replies.clear();
    n.engine = this.engineFromPersisted(n);
    if (opts.connect ?? true) this.ok(node, { cmd: 'connect', discardMyData: false });
  }

  /** Graceful restart: `down`, let this node's I/O finish, come back from metadata, connect. */
  restart(node: NodeId, opts: { connect?: boolean } = {}): void {
    const n = this.nodes[node];
    this.ok(node, { cmd: 'down' });
    for (;;) {
      const i = this.completions.findIndex((c) => c.node === node);
      if (i < 0) break;
      const [c] = this.completions.splice(i, 1);
      this.complete(c!);
    }
    this.closeSide(node);
    n.hot = n.hot.map(() => []); // a clean shutdown leaves the activity log clean
    n.linkWanted = false;
    n.engine = this.engineFromPersisted(n);
    if (opts.connect ?? true) this.ok(node, { cmd: 'connect', discardMyData: false });
  }

  /**
   * Replace the node's disk with a blank one and fresh metadata (wipe, create-md, attach),
   * then connect. The ledger is unchanged: the data must come back from the peer.
   */
  replaceDisk(node: NodeId, opts: { connect?: boolean } = {}): void {
    const n = this.nodes[node];
    this.completions = this.completions.filter((c) => c.node !== node);
    this.inputs = this.inputs.filter((i) => i.node !== node);
    this.abort(node);
    n.disks = n.disks.map((d) => Buffer.alloc(d.length));
    n.persisted = n.persisted.map(() => ({ meta: freshMeta(), bits: new Bitmap(this.blocks).toBytes() }));
    n.hot = n.hot.map(() => []);
    n.linkWanted = false;
    n.replies.clear();
    n.engine = this.engineFromPersisted(n);
    if (opts.connect ?? true) this.ok(node, { cmd: 'connect', discardMyData: false });
  }

  /** Process events in a seeded random order until nothing is eligible. Returns how many ran. */
  runUntilIdle(maxEvents = 1_000_000): number {
    const ran = this.runEvents(maxEvents + 1);
    if (ran > maxEvents) throw new Error(`runUntilIdle: more than ${maxEvents} events (livelock?)`);
    return ran;
  }

  /** Process at most `n` events (seeded random order); returns how many ran. */
  runEvents(n: number): number {
    let ran = 0;
    while (ran < n) {
      const cands: Array<() => void> = [];
      for (const c of this.completions) if (!this.nodes[c.node].diskStalled) cands.push(() => this.runCompletion(c));
      if (this.conn) for (const from of [0, 1] as const) if (this.conn.q[from].length > 0 && !this.netStalled[from]) cands.push(() => this.deliver(from));
      if (cands.length === 0) break;
      cands[this.prng.int(cands.length)]!();
      ran++;
      this.events++;
    }
    return ran;
  }

  /** Run events and ticks until no resync runs and no wanted connection is pending (or the limit). */
  settle(opts: { tickMs?: number; maxTicks?: number } = {}): void {
    const tickMs = opts.tickMs ?? 100;
    for (let i = 0; ; i++) {
      this.runUntilIdle();
      const syncing = this.nodes.some((n) => n.engine.volumes.some((v) => v.sync));
      const wantsLink = this.cableUp && this.nodes[0].linkWanted && this.nodes[1].linkWanted && !this.conn;
      if (!syncing && !wantsLink) return;
      if (i >= (opts.maxTicks ?? 10_000)) throw new Error('settle: still busy after maxTicks');
      this.tick(tickMs);
    }
  }

  // ------------------------------------------------------------ plumbing

  /** Random order of the two nodes, so that neither side always goes first. */
  private order(): NodeId[] {
    return this.prng.int(2) === 0 ? [0, 1] : [1, 0];
  }

  private feed(node: NodeId, input: Input): void {
    this.inputs.push({ node, input });
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inputs.length > 0) {
        const { node: n, input: i } = this.inputs.shift()!;
        const actions = step(this.nodes[n].engine, i);
        for (const a of actions) this.act(n, a);
      }
    } finally {
      this.draining = false;
    }
  }

  private act(node: NodeId, a: Action): void {
    const n = this.nodes[node];
    switch (a.a) {
      case 'send':
        if (this.conn?.open[node]) this.conn.q[node].push({ kind: 'msg', msg: cloneMsg(a.msg) });
        return;
      case 'disk-write':
        this.touchAl(n, a.volume, a.offset, a.data.length);
        this.completions.push({ node, kind: 'disk-write', token: a.token, volume: a.volume, offset: a.offset, data: bytesOf(a.data) });
        return;
      case 'disk-read':
        this.completions.push({ node, kind: 'disk-read', token: a.token, volume: a.volume, offset: a.offset, length: a.length });
        return;
      case 'disk-flush':
        this.completions.push({ node, kind: 'disk-flush', token: a.token });
        return;
      case 'persist-meta':
        this.completions.push({ node, kind: 'persist-meta', token: a.token, volume: a.volume });
        return;
      case 'write-done': {
        const h = this.handles.get(a.id);
        if (!h) return;
        h.done = true;
        if (a.error !== undefined) h.error = a.error;
        else h.acked = true;
        this.handles.delete(a.id);
        return;
      }
      case 'pr-done': {
        const h = this.prLedger.flat().find((x) => x.id === a.id && x.node === node && !x.lost);
        if (!h) return;
        h.done = true;
        if (a.error !== undefined) h.error = a.error;
        else h.acked = true;
        return;
      }
      case 'flush-done': {
        const f = this.flushes.get(a.id);
        if (f) f.done = true;
        if (f && a.error !== undefined) f.error = a.error;
        this.flushes.delete(a.id);
        return;
      }
      case 'reply':
        n.replies.set(a.req, a.error === undefined ? { ok: true } : { ok: false, error: a.error });
        return;
      case 'link':
        if (a.op === 'start') {
          n.linkWanted = true;
          this.tryConnect();
        } else {
          if (a.op === 'stop') n.linkWanted = false;
          this.closeSide(node);
        }
        return;
      case 'log':
        n.logs.push({ level: a.level, text: a.text });
        return;
      case 'sb-copy':
        // The runtime holds every input meanwhile: the answer is the very next input.
        if (n.sbCopyRefusal === undefined) {
          for (const v of a.volumes) n.sbCopies.push({ volume: v.volume, ranges: v.ranges.map((r) => ({ ...r, data: Buffer.from(n.disks[v.volume]!.subarray(r.offset, r.offset + r.length)) })) });
        }
        this.feed(node, { t: 'sb-copied', ...(n.sbCopyRefusal !== undefined ? { error: n.sbCopyRefusal } : {}) });
        return;
    }
  }

  private tryConnect(): void {
    if (this.conn || !this.cableUp || !this.nodes[0].linkWanted || !this.nodes[1].linkWanted) return;
    this.conn = { open: [true, true], q: [[], []] };
    for (const n of this.order()) this.feed(n, { t: 'link-up' });
  }

  /** Node closes its socket: what it sent still arrives, then the peer sees the close. */
  private closeSide(node: NodeId): void {
    const c = this.conn;
    if (!c || !c.open[node]) return;
    c.open[node] = false;
    c.q[1 - node] = [];
    if (c.open[1 - node]) c.q[node].push({ kind: 'fin' });
    else this.conn = undefined;
  }

  /** The node's process is gone: the kernel resets its connection, nothing more arrives. */
  private abort(node: NodeId): void {
    const c = this.conn;
    if (!c) return;
    this.conn = undefined;
    const other = (1 - node) as NodeId;
    if (c.open[other]) this.feed(other, { t: 'link-down', reason: 'broken-pipe' });
  }

  private deliver(from: NodeId): void {
    const c = this.conn!;
    const w = c.q[from].shift()!;
    const to = (1 - from) as NodeId;
    if (!c.open[to]) return;
    if (w.kind === 'fin') {
      c.open[to] = false;
      c.q[to] = [];
      if (!c.open[from]) this.conn = undefined;
      this.feed(to, { t: 'link-down', reason: 'closed-by-peer' });
      return;
    }
    if (this.losing.delete(w.msg.type)) {
      this.cutLink();
      this.cableUp = true;
      return;
    }
    this.feed(to, { t: 'peer', msg: w.msg });
  }

  private runCompletion(c: Completion): void {
    const i = this.completions.indexOf(c);
    this.completions.splice(i, 1);
    this.complete(c);
  }

  private complete(c: Completion): void {
    const n = this.nodes[c.node];
    switch (c.kind) {
      case 'disk-write':
        if (n.diskFailing) return this.feed(c.node, { t: 'disk-done', token: c.token, error: SIM_IO_ERROR });
        c.data.copy(n.disks[c.volume]!, c.offset);
        this.feed(c.node, { t: 'disk-done', token: c.token });
        return;
      case 'disk-read':
        this.feed(c.node, { t: 'disk-read-done', token: c.token, data: Buffer.from(n.disks[c.volume]!.subarray(c.offset, c.offset + c.length)) });
        return;
      case 'disk-flush':
        this.feed(c.node, { t: 'disk-flush-done', token: c.token, ...(n.flushFailing ? { error: SIM_IO_ERROR } : {}) });
        return;
      case 'persist-meta': {
        if (n.metaFailing) return this.feed(c.node, { t: 'meta-done', token: c.token, error: SIM_IO_ERROR });
        const v = n.engine.volumes[c.volume]!;
        n.persisted[c.volume] = { meta: cloneMeta(v.meta), bits: Buffer.from(v.bitmap.toBytes()) };
        this.feed(c.node, { t: 'meta-done', token: c.token });
        return;
      }
    }
  }

  /**
   * Activity-log model: before a write into a cold extent, the extent becomes hot (the AL
   * transaction is taken as instantly durable). Evicting an extent flushes its bitmap bits,
   * as the runtime must; extents with writes in progress are never evicted.
   */
  private touchAl(n: SimNode, volume: number, offset: number, length: number): void {
    const hot = n.hot[volume]!;
    const eb = this.opts.alExtentBlocks;
    const first = Math.floor(offset / BLOCK / eb);
    const last = Math.floor((offset + length - 1) / BLOCK / eb);
    for (let e = first; e <= last; e++) {
      const at = hot.indexOf(e);
      if (at >= 0) hot.splice(at, 1);
      hot.unshift(e);
    }
    while (hot.length > this.opts.alExtents) {
      let victim = -1;
      for (let i = hot.length - 1; i >= 0; i--) {
        if (!this.extentBusy(n, volume, hot[i]!)) {
          victim = i;
          break;
        }
      }
      if (victim < 0) return;
      const [e] = hot.splice(victim, 1);
      const p = n.persisted[volume]!;
      const bm = Bitmap.fromBytes(p.bits, this.blocks);
      const mem = n.engine.volumes[volume]!.bitmap;
      const end = Math.min((e! + 1) * eb, this.blocks);
      for (let b = e! * eb; b < end; b++) {
        if (mem.test(b)) bm.setBlocks(b, 1);
        else bm.clearBlocks(b, 1);
      }
      p.bits = bm.toBytes();
    }
  }

  private extentBusy(n: SimNode, volume: number, e: number): boolean {
    const eb = this.opts.alExtentBlocks * BLOCK;
    const lo = e * eb;
    const hi = lo + eb;
    const hit = (off: number, len: number): boolean => off < hi && lo < off + len;
    if (this.completions.some((c) => c.node === n.id && c.kind === 'disk-write' && c.volume === volume && hit(c.offset, c.data.length))) return true;
    if (n.engine.diskQueue.some((q) => q.volume === volume && hit(q.offset, q.length))) return true;
    for (const w of n.engine.writes.values()) if (w.volume === volume && hit(w.offset, w.length)) return true;
    return n.engine.waitingForGen.some((w) => w.volume === volume && hit(w.offset, w.data.length));
  }

  // ------------------------------------------------------------ invariants

  /** At most one Primary while the two are connected. */
  checkSinglePrimary(): string | undefined {
    const [a, b] = this.nodes;
    if (a.engine.conn === 'Connected' && b.engine.conn === 'Connected' && a.engine.role === 'Primary' && b.engine.role === 'Primary')
      return 'both nodes are Primary while connected';
    return undefined;
  }

  /** Blocks that may be changing right now (any write not yet settled on either side). */
  inFlightBlocks(volume: number): Set<number> {
    const out = new Set<number>();
    const add = (off: number, len: number): void => {
      for (let b = Math.floor(off / BLOCK); b < Math.ceil((off + len) / BLOCK); b++) out.add(b);
    };
    for (const c of this.completions) if (c.kind === 'disk-write' && c.volume === volume) add(c.offset, c.data.length);
    for (const n of this.nodes) {
      for (const q of n.engine.diskQueue) if (q.volume === volume) add(q.offset, q.length);
      for (const q of n.engine.diskInflight.values()) if (q.volume === volume) add(q.offset, q.length);
      for (const w of n.engine.writes.values()) if (w.volume === volume) add(w.offset, w.length);
      for (const w of n.engine.waitingForGen) if (w.volume === volume) add(w.offset, w.data.length);
      // Sent but not confirmed on the peer's disk (protocol A/B): marked out of sync if the link drops.
      for (const t of n.engine.transferLog.values()) if (t.volume === volume) add(t.offset, t.length);
    }
    for (const h of this.handles.values()) if (!h.done && h.volume === volume) add(h.offset, h.data.length);
    if (this.conn)
      for (const q of this.conn.q)
        for (const w of q)
          if (w.kind === 'msg' && (w.msg.type === 'data' || w.msg.type === 'rs-reply') && w.msg.volume === volume) add(w.msg.offset, w.msg.payload.length);
    return out;
  }

  /** Blocks that differ between the disks and are neither in a bitmap nor in flight. */
  untrackedDifferences(volume = 0): number[] {
    const bad: number[] = [];
    const [a, b] = [this.disk(0, volume), this.disk(1, volume)];
    const moving = this.inFlightBlocks(volume);
    const bmA = this.nodes[0].engine.volumes[volume]!.bitmap;
    const bmB = this.nodes[1].engine.volumes[volume]!.bitmap;
    for (let blk = 0; blk < this.blocks; blk++) {
      const o = blk * BLOCK;
      if (a.compare(b, o, o + BLOCK, o, o + BLOCK) === 0) continue;
      if (bmA.test(blk) || bmB.test(blk) || moving.has(blk)) continue;
      bad.push(blk);
    }
    return bad;
  }

  /**
   * Blocks of `node`'s disk that hold neither the newest acknowledged write nor a later write
   * that may or may not have landed (in flight, or lost in a crash). Discarded writes do not count.
   */
  ledgerMismatches(node: NodeId, volume = 0): number[] {
    const bad: number[] = [];
    const disk = this.disk(node, volume);
    for (let blk = 0; blk < this.blocks; blk++) {
      const got = disk.subarray(blk * BLOCK, (blk + 1) * BLOCK);
      const ok = this.acceptable(volume, blk).some((x) => x === null ? isZero(got) : x.equals(got));
      if (!ok) bad.push(blk);
    }
    return bad;
  }

  /**
   * Whether `node` holds acceptable reservation state for the volume: the newest acknowledged
   * save, or a later one that may or may not have completed (in flight, or lost in a crash).
   */
  prAcceptable(node: NodeId, volume = 0): boolean {
    const got = this.nodes[node].engine.volumes[volume]!.meta.pr;
    const entries = this.prLedger[volume]!.filter((h) => !h.discarded && !(h.done && !h.acked));
    let lastAcked = -1;
    entries.forEach((h, i) => {
      if (h.acked) lastAcked = i;
    });
    const ok: Array<Buffer | undefined> = lastAcked < 0 ? [undefined] : [];
    for (let i = Math.max(0, lastAcked); i < entries.length; i++) ok.push(entries[i]!.blob);
    return ok.some((b) => (b === undefined ? got === undefined : got !== undefined && b.equals(got)));
  }

  /** Whether any write to the volume was acknowledged (and not discarded). */
  hasAckedWrites(volume = 0): boolean {
    return this.ledger[volume]!.some((blk) => blk.some((e) => e.write.acked && !e.discarded));
  }

  /** The newest acknowledged data of a block, or null if none was acknowledged. */
  expectedData(volume: number, blk: number): Buffer | null {
    const entries = this.ledger[volume]![blk]!.filter((e) => !e.discarded && e.write.acked);
    return entries.length > 0 ? entries[entries.length - 1]!.data : null;
  }

  private acceptable(volume: number, blk: number): Array<Buffer | null> {
    // A write that failed on a disk may have landed anyway, on the other node (SCSI leaves the
    // blocks indeterminate), like one still in flight; one the engine refused must not.
    const entries = this.ledger[volume]![blk]!.filter((e) => !e.discarded && !(e.write.done && !e.write.acked && e.write.error !== SIM_IO_ERROR));
    let lastAcked = -1;
    entries.forEach((e, i) => {
      if (e.write.acked) lastAcked = i;
    });
    const out: Array<Buffer | null> = lastAcked < 0 ? [null] : [];
    for (let i = Math.max(0, lastAcked); i < entries.length; i++) out.push(entries[i]!.data);
    return out;
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Both fresh, connected, initial sync skipped (new-current-uuid --clear-bitmap); ha-a Primary.
 * `setup` runs on the fresh pair before it connects (e.g. to set split-brain policies).
 */
export function inSyncPair(options: SimOptions, setup?: (sim: EngineSim) => void): EngineSim {
  const sim = new EngineSim(options);
  setup?.(sim);
  sim.connect();
  sim.runUntilIdle();
  sim.ok(0, { cmd: 'new-current-uuid', clearBitmap: true });
  sim.runUntilIdle();
  sim.ok(0, { cmd: 'primary', force: false });
  sim.runUntilIdle();
  return sim;
}

/** A recognisable 4 KiB-multiple payload. */
export function pattern(prng: Prng, blocks = 1): Buffer {
  const b = Buffer.alloc(blocks * BLOCK);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(prng.next(), i);
  return b;
}
