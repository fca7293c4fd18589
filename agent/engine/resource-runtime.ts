// One resource at run time: the state machine (machine.ts) wired to its volumes' disks
// (volume-store.ts), the peer link (peer-link.ts) and timers. Every input goes through
// dispatch(); every action the machine returns is carried out here and nowhere else.
import { EventEmitter } from 'node:events';
import type { HostConfig, ResourceConfig } from '../config/types.js';
import type { ReservationStore } from '../block/reservation-store.js';
import { AgentError, type ResourceSnapshot, type TargetSnapshot } from '../protocol/messages.js';
import type { BlockDevice } from '../block/block-device.js';
import { IoError } from '../block/block-device.js';
import { createEngine, step } from './machine.js';
import { EXTENT_BYTES } from './activity-log.js';
import { Zeroes, type Action, type AdminCommand, type EngineState, type Input, type PeerMsg, type WriteData } from './machine-types.js';
import { toWire, WireReader } from './peer-codec.js';
import { PeerLink } from './peer-link.js';
import { numberedByMetadata } from './node-ids.js';
import { unauthenticatedText } from '../protocol/resource-notes.js';
import { PERSISTENT_RESERVATION_MAX } from './metadata.js';
import { MAX_DATA_BYTES } from './peer-wire.js';
import { snapshotOf } from './snapshot.js';
import { payloadPool } from '../lib/buffer-pool.js';
import type { SbPolicies } from './split-brain-policy.js';
import { defaultUndoMax } from './undo-decision.js';
import { recoverUndoJournal, UndoJournal, type DataArea } from './undo-journal.js';
import { systemRng } from './uuid.js';
import { VolumeStore } from './volume-store.js';
import { IdMap } from '../lib/id-map.js';
import { observePeer, type PeerMemory } from './peer-memory.js';
import { takeLinkFault } from './link-faults.js';
import { growRefusal, peerGrowRefusal } from './resize.js';
import { CopyRefused, keepSplitBrainCopies } from './split-brain-copy.js';
import { DEFAULT_COPY_CAP, keptText, NO_BACKUP_FIX } from './split-brain-copy-decision.js';

const TICK_MS = 250;
/** A discard goes as extent-aligned pieces of at most this (16 AL extents; al-extents is 1237). */
const DISCARD_PIECE_BYTES = 16 * EXTENT_BYTES;
const DISCARDS_IN_FLIGHT = 4;

/** Inputs of the data path: they never change what is known of the peer's data, and are too many to look. */
const DATA_PATH_INPUTS: ReadonlySet<Input['t']> = new Set(['app-write', 'app-flush', 'disk-done', 'disk-read-done', 'disk-flush-done']);
const DATA_PATH_MESSAGES: ReadonlySet<PeerMsg['type']> = new Set<PeerMsg['type']>(['data', 'write-ack', 'neg-ack', 'rs-request', 'rs-reply', 'rs-ack', 'flush', 'flush-ack', 'ov-request', 'ov-reply', 'ov-result']);

export interface RuntimeEvents {
  /** Something operators can see changed (coalesced to at most one per turn of the event loop). */
  change: [];
  /** What this node knows of its peer's data changed, or the peer was just lost: to be stored. */
  'peer-memory': [PeerMemory];
  log: [{ level: 'info' | 'warn' | 'alert'; text: string }];
  /** A split-brain victim's copy of its diverging blocks was kept (message) or refused (error). */
  'split-brain-copy': [{ message?: string; error?: string }];
}

/** Where a split-brain victim keeps its diverging blocks (split-brain-copy.ts). */
export interface CopyPlace {
  stateDir: string;
  /** Default DEFAULT_COPY_CAP. */
  capBytes?: number;
}

function dataArea(store: VolumeStore): DataArea {
  return { read: (o, l) => store.read(o, l), write: (o, d) => store.write(o, d, false, false), sync: () => store.flush() };
}

/**
 * At attach: a journal left by a crash while this node was a journaling SyncTarget. If the sync
 * had not finished (metadata still Inconsistent), the pre-sync image is restored: Outdated,
 * the restored blocks out of sync. Returns a line for the log, if there was a journal.
 */
async function recoverUndo(disk: string, store: VolumeStore): Promise<string | undefined> {
  const meta = store.meta();
  const replay = meta.disk === 'Inconsistent';
  const blocks = await recoverUndoJournal(disk, dataArea(store), { replay });
  if (!blocks) return undefined;
  if (!replay) return `removed the undo journal of ${disk}: its resync had finished`;
  for (const b of blocks) store.bitmap.setRange(b * 4096, 4096);
  await store.persist({ ...meta, disk: 'Outdated' });
  return `${disk}: crashed during a resync; undo journal replayed (${blocks.length} blocks): back to the last consistent image, Outdated`;
}

function minorOf(device: string, fallback: number): number {
  const m = /(\d+)$/.exec(device);
  return m ? Number(m[1]) : fallback;
}

/** The resource file's after-sb policies for the engine, discard-node-NAME resolved to a node-id. */
export function sbPolicies(config: ResourceConfig): SbPolicies {
  const { afterSb0Pri: pri0, afterSb1Pri: pri1, afterSb2Pri: pri2 } = config.net;
  const named = pri0.startsWith('discard-node-') ? config.hosts.find((h) => `discard-node-${h.name}` === pri0) : undefined;
  return { pri0, pri1, pri2, ...(named ? { discardNodeId: named.nodeId } : {}) };
}

export class ResourceRuntime extends EventEmitter<RuntimeEvents> {
  readonly state: EngineState;
  private readonly link: PeerLink;
  private readonly reader = new WireReader();
  private nextId = 1;
  private readonly writeWaiters = new IdMap<{ resolve: () => void; reject: (e: Error) => void }>();
  private readonly flushWaiters = new IdMap<{ resolve: () => void; reject: (e: Error) => void }>();
  private readonly prWaiters = new IdMap<{ resolve: () => void; reject: (e: Error) => void }>();
  private readonly adminWaiters = new IdMap<{ resolve: () => void; reject: (e: Error) => void }>();
  private readonly timer: NodeJS.Timeout;
  private changePending = false;
  private closed = false;
  target?: TargetSnapshot;
  /** The peer's data as last known (loaded from the state dir by the daemon, kept current here). */
  peerMemory?: PeerMemory;

  private constructor(
    readonly config: ResourceConfig,
    readonly local: HostConfig,
    readonly peer: HostConfig,
    readonly node: string,
    readonly stores: VolumeStore[],
    private readonly linkFaults?: Set<PeerMsg['type']>,
    private readonly copyPlace?: CopyPlace,
  ) {
    super();
    this.state = createEngine({
      resource: config.resource,
      nodeId: local.nodeId,
      peerNodeId: peer.nodeId,
      protocol: config.protocol,
      maxRate: config.net.maxRate,
      afterSb: sbPolicies(config),
      undoJournalMax: stores.map((st) => config.net.undoJournalMax ?? defaultUndoMax(st.dataBytes)),
      ackTimeout: Math.max(config.net.pingTimeout * 2, 6),
      volumes: stores.map((st, i) => ({ volume: i, dataBytes: st.dataBytes, meta: st.meta(), bitmap: st.bitmap })),
      now: Date.now(),
      rng: systemRng,
    });
    this.link = new PeerLink({
      resource: config.resource,
      localNodeId: local.nodeId,
      peerNodeId: peer.nodeId,
      listen: { host: local.host, port: local.port },
      peer: { host: peer.host, port: peer.port },
      secret: config.net.sharedSecret,
      configHash: config.source.hash,
      pingInterval: Math.max(1, Math.min(10, config.net.pingTimeout / 2)),
      pingTimeout: config.net.pingTimeout,
      dataIntegrity: config.net.dataIntegrity === true,
      ...(config.net.tls ? { tls: config.net.tls } : {}),
      peerName: peer.name,
    });
    this.link.on('connected', (info) => {
      if (!info.configHashMatches) this.log('warn', `resource file differs from the peer's (config hash ${config.source.hash} here, ${info.peerConfigHash} there)`);
      this.dispatch({ t: 'link-up' });
    });
    this.link.on('disconnected', (info) => this.dispatch({ t: 'link-down', reason: info.reason }));
    this.link.on('problem', (text) => this.dispatch({ t: 'link-problem', text }));
    this.link.on('message', (w) => {
      const msg = this.reader.read(w);
      if (msg) this.dispatch({ t: 'peer', msg });
    });
    this.timer = setInterval(() => this.dispatch({ t: 'tick', now: Date.now() }), TICK_MS);
    this.timer.unref();
  }

  /** Attaches every volume (crash recovery included); the resource starts StandAlone, Secondary. */
  /** linkFaults: the daemon's test hook for this resource (link-faults.ts), used up as it fires. */
  /** copyPlace: where a split-brain victim keeps its diverging blocks; without one, such a discard is refused. */
  /** The metadata's node-ids win over a file that gives none (node-ids.ts): the runtime's config is then renumbered. */
  static async attach(file: ResourceConfig, fileLocal: HostConfig, node: string, linkFaults?: Set<PeerMsg['type']>, copyPlace?: CopyPlace): Promise<ResourceRuntime> {
    const { config, local, note } = await numberedByMetadata(file, fileLocal);
    const peer = config.hosts.find((h) => h.nodeId !== local.nodeId)!;
    const stores: VolumeStore[] = [];
    try {
      for (const v of config.volumes) stores.push(await VolumeStore.attach(v.disk, local.nodeId, peer.nodeId));
      const notes: string[] = note ? [note] : [];
      if (config.net.sharedSecret === '') notes.push(unauthenticatedText(config.source.file));
      for (const [i, st] of stores.entries()) {
        const note = await recoverUndo(config.volumes[i]!.disk, st);
        if (note) notes.push(note);
      }
      const rt = new ResourceRuntime(config, local, peer, node, stores, linkFaults, copyPlace);
      setImmediate(() => notes.forEach((n) => rt.log('warn', n)));
      return rt;
    } catch (e) {
      await Promise.all(stores.map((s) => s.abandon()));
      throw e;
    }
  }

  // ---------------------------------------------------------------- undo journal (consistent resync target)

  private readonly journals = new Map<number, UndoJournal>();
  private readonly rollingBack = new Set<number>();
  /**
   * Inputs held while a rollback rewrites the disk, the split-brain copy is kept or the disks
   * grow: nothing may start a new sync or reach a disk meanwhile. `released` settles when the
   * held inputs have gone on.
   */
  private holding?: { inputs: Input[]; released: Promise<void>; release: () => void };

  /** Starts holding inputs (one hold covers every task that asks for one while it lasts). */
  private hold(): void {
    if (this.holding) return;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.holding = { inputs: [], released, release };
  }

  /** Ends the hold: `answer` is dispatched first, then `then`, then the held inputs in order. */
  private endHold(answer: Input, then?: () => void): void {
    const h = this.holding;
    this.holding = undefined;
    this.dispatch(answer);
    then?.();
    for (const input of h?.inputs ?? []) this.dispatch(input);
    h?.release();
  }

  /** The undo journal in use by a volume, for status. */
  undoUsed(volume: number): number | undefined {
    return this.journals.get(volume)?.used;
  }

  private undoAction(a: Extract<Action, { a: 'undo-open' | 'undo-rollback' | 'undo-drop' }>): void {
    const disk = this.config.volumes[a.volume]!.disk;
    if (a.a === 'undo-open') {
      UndoJournal.create(disk, a.capacity).then(
        (j) => {
          this.journals.set(a.volume, j);
          this.dispatch({ t: 'undo-opened', volume: a.volume });
        },
        (e: Error) => this.dispatch({ t: 'undo-opened', volume: a.volume, error: e.message }),
      );
    } else if (a.a === 'undo-drop') {
      const j = this.journals.get(a.volume);
      this.journals.delete(a.volume);
      void j?.drop().catch((e: Error) => this.log('warn', `cannot remove undo journal ${j.path}: ${e.message}`));
    } else {
      const j = this.journals.get(a.volume);
      this.journals.delete(a.volume);
      this.rollingBack.add(a.volume);
      this.hold();
      const store = this.stores[a.volume]!;
      void (async () => {
        let blocks: number[] = [];
        let error: string | undefined;
        try {
          // Writes already past the journal land first; later ones are refused (see disk-write).
          await store.drained();
          blocks = j ? await j.rollback(dataArea(store)) : [];
          if (!j) error = 'no undo journal open';
        } catch (e) {
          error = (e as Error).message;
        }
        this.rollingBack.delete(a.volume);
        this.endHold({ t: 'undo-rolled-back', volume: a.volume, blocks, error });
      })();
    }
  }

  /** Resync and replicated writes on a journaling SyncTarget: old content saved durably first. */
  private async journaledWrite(volume: number, offset: number, data: WriteData, fua: boolean, viaAl: boolean): Promise<void> {
    const store = this.stores[volume]!;
    const j = this.journals.get(volume);
    if (this.rollingBack.has(volume)) throw new Error('the resync target is rolling back');
    if (j) {
      try {
        await j.save(dataArea(store), offset, data.length);
      } catch (e) {
        // The journal no longer covers every overwrite: it must be gone before this write lands,
        // or a crash would replay it into a mixed image and call that consistent.
        if (this.closed) throw e; // a crash (abandon): the journal stays for the next attach
        const current = this.journals.get(volume) === j;
        if (current) this.journals.delete(volume);
        await j.drop().catch(() => undefined);
        if (current) this.dispatch({ t: 'undo-lost', volume, reason: (e as Error).message });
        if (this.journals.has(volume)) throw new Error('undo journal replaced during the write', { cause: e });
      }
      if (this.rollingBack.has(volume)) throw new Error('the resync target is rolling back');
      if (this.closed) throw new Error('resource closed');
    }
    await store.write(offset, data, fua, viaAl);
  }

  // ---------------------------------------------------------------- inputs

  dispatch(input: Input): void {
    if (this.closed) return;
    if (this.holding && input.t !== 'undo-rolled-back') {
      if (input.t !== 'tick') this.holding.inputs.push(input);
      return;
    }
    const actions = step(this.state, input);
    for (const a of actions) this.perform(a);
    // A tick that did nothing changed nothing: four times a second per resource, not worth a look.
    const idle = input.t === 'tick' && actions.length === 0;
    if (!idle && !DATA_PATH_INPUTS.has(input.t) && !(input.t === 'peer' && DATA_PATH_MESSAGES.has(input.msg.type))) this.observePeer(input);
    if (!idle) this.changed();
  }

  private observePeer(input: Input): void {
    const hello = input.t === 'peer' && input.msg.type === 'hello-state' ? input.msg.state : undefined;
    const next = observePeer(this.peerMemory, this.state, this.peer.name, new Date().toISOString(), hello);
    if (next === this.peerMemory || next === undefined) return;
    this.peerMemory = next;
    this.emit('peer-memory', next);
  }

  /** The operator said the peer is gone for good: nothing is known of its data any more. */
  forgetPeer(): void {
    this.peerMemory = undefined;
    this.changed();
  }

  private changed(): void {
    if (this.changePending) return;
    this.changePending = true;
    setImmediate(() => {
      this.changePending = false;
      this.emit('change');
    });
  }

  private log(level: 'info' | 'warn' | 'alert', text: string): void {
    this.emit('log', { level, text });
  }

  /**
   * `connect --discard-my-data`: the answer waits for the handshake, so that it can say where
   * the diverging blocks were kept (or throw the refusal of the discard): up to `peerMs` for
   * the peer to answer at all, then up to `maxMs` in all while a handshake (and its copy) runs.
   * A peer not connecting yet gets an answer that says the copy comes first.
   */
  async connectDiscarding(skipBackup: boolean, wait: { peerMs: number; maxMs: number }): Promise<string> {
    let onCopy: (o: { message?: string; error?: string }) => void = () => undefined;
    let onChange: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const start = Date.now();
    const outcome = new Promise<{ message?: string; error?: string } | undefined>((resolve) => {
      onCopy = resolve;
      onChange = () => {
        if (this.state.conn === 'Connected' || (this.state.conn === 'StandAlone' && this.state.lastError !== undefined)) resolve(undefined);
      };
      timer = setInterval(() => {
        const waited = Date.now() - start;
        if ((waited >= wait.peerMs && !this.state.handshake) || waited >= wait.maxMs) resolve(undefined);
      }, 50);
    });
    this.on('split-brain-copy', onCopy);
    this.on('change', onChange);
    try {
      await this.admin({ cmd: 'connect', discardMyData: true, skipBackup });
      onChange();
      const o = await outcome;
      if (o?.error !== undefined) throw new AgentError('refused', o.error);
      if (o?.message !== undefined) return o.message;
      if (this.state.conn === 'Connected') return skipBackup ? `${this.node}'s diverging blocks discarded without a copy (--no-backup)` : 'no split brain: nothing discarded';
      if (this.state.conn === 'StandAlone') return `StandAlone: ${this.state.lastError ?? 'the connection was refused'}`;
      return skipBackup
        ? `waiting for the peer: ${this.node}'s diverging blocks will be discarded without a copy (--no-backup)`
        : `waiting for the peer: ${this.node}'s diverging blocks will be kept first (split-brain-copies ${this.config.resource})`;
    } finally {
      clearInterval(timer);
      this.off('split-brain-copy', onCopy);
      this.off('change', onChange);
    }
  }

  admin(command: AdminCommand): Promise<void> {
    const req = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.adminWaiters.set(req, { resolve, reject });
      this.dispatch({ t: 'admin', req, command });
    });
  }

  // ---------------------------------------------------------------- actions

  private perform(a: Action): void {
    switch (a.a) {
      case 'send':
        if (takeLinkFault(this.linkFaults, a.msg.type)) {
          this.log('warn', `test hook: the peer link breaks before ${a.msg.type}`);
          this.restartLink();
          return;
        }
        for (const w of toWire(a.msg)) this.link.send(w);
        return;
      case 'disk-write': {
        const store = this.stores[a.volume]!;
        // Resync writes are covered by the bitmap, not the activity log.
        const origin = this.state.diskInflight.get(a.token)?.origin.kind;
        const viaAl = origin !== 'resync';
        const io = origin !== 'app' && (this.journals.has(a.volume) || this.rollingBack.has(a.volume)) ? this.journaledWrite(a.volume, a.offset, a.data, a.fua, viaAl) : store.write(a.offset, a.data, a.fua, viaAl);
        const settled = (error?: string): void => {
          // A peer's payload came from the pool (peer-link); the disk write was its only reader.
          if (origin === 'peer' || origin === 'resync') releasePayload(a.data);
          this.dispatch({ t: 'disk-done', token: a.token, error });
        };
        io.then(
          () => settled(),
          (e: Error) => settled(e.message),
        );
        return;
      }
      case 'disk-read':
        this.stores[a.volume]!.read(a.offset, a.length).then(
          (data) => this.dispatch({ t: 'disk-read-done', token: a.token, data }),
          (e: Error) => this.dispatch({ t: 'disk-read-done', token: a.token, data: Buffer.alloc(0), error: e.message }),
        );
        return;
      case 'disk-flush':
        // Every store, even after one failed: the machine marks what each flush covered.
        Promise.allSettled(this.stores.map((s) => s.flush())).then((results) => {
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          this.dispatch({ t: 'disk-flush-done', token: a.token, ...(failed ? { error: (failed.reason as Error).message } : {}) });
        });
        return;
      case 'persist-meta': {
        const v = this.state.volumes[a.volume]!;
        this.stores[a.volume]!.persist({ ...v.meta, gi: { ...v.meta.gi, history: [...v.meta.gi.history] } }).then(
          () => this.dispatch({ t: 'meta-done', token: a.token }),
          (e: Error) => this.dispatch({ t: 'meta-done', token: a.token, error: `${this.config.volumes[a.volume]?.disk}: ${e.message}` }),
        );
        return;
      }
      case 'write-done':
      case 'pr-done': {
        const waiters = a.a === 'write-done' ? this.writeWaiters : this.prWaiters;
        const w = waiters.get(a.id);
        waiters.delete(a.id);
        if (a.error) w?.reject(new IoError(a.error, a.error === 'not Primary' ? 'not-primary' : 'io'));
        else w?.resolve();
        return;
      }
      case 'flush-done': {
        const f = this.flushWaiters.get(a.id);
        this.flushWaiters.delete(a.id);
        if (a.error) f?.reject(new IoError(a.error, 'io'));
        else f?.resolve();
        return;
      }
      case 'reply': {
        const w = this.adminWaiters.get(a.req);
        this.adminWaiters.delete(a.req);
        if (a.error) w?.reject(new AgentError('refused', a.error));
        else w?.resolve();
        return;
      }
      case 'link':
        if (a.op === 'start') void this.link.start().catch((e: Error) => this.log('alert', `cannot listen on ${this.local.address}: ${e.message}`));
        else if (a.op === 'stop') void this.link.stop();
        else this.restartLink();
        return;
      case 'log':
        this.log(a.level, a.text);
        return;
      case 'undo-open':
      case 'undo-rollback':
      case 'undo-drop':
        this.undoAction(a);
        return;
      case 'grow':
        this.grow(a);
        return;
      case 'sb-copy':
        this.keepCopy(a);
        return;
    }
  }

  /**
   * The split-brain victim's diverging blocks, kept before the handshake may go on: every input
   * is held meanwhile (the peer's resync data and replicated writes among them), so nothing
   * overwrites a block before its copy is on disk.
   */
  private keepCopy(a: Extract<Action, { a: 'sb-copy' }>): void {
    this.hold();
    void (async () => {
      let error: string | undefined;
      let message: string | undefined;
      try {
        if (!this.copyPlace) throw new CopyRefused(`Refusing to discard my data: no state dir to keep a copy of ${this.node}'s diverging blocks in; ${NO_BACKUP_FIX} discards them without a copy`);
        const kept = await keepSplitBrainCopies({
          stateDir: this.copyPlace.stateDir,
          resource: this.config.resource,
          node: this.node,
          peer: this.peer.name,
          capBytes: this.copyPlace.capBytes ?? DEFAULT_COPY_CAP,
          now: new Date(),
          volumes: a.volumes.map((v) => ({ ...v, number: this.config.volumes[v.volume]!.volume, read: (o: number, l: number) => this.stores[v.volume]!.read(o, l) })),
        });
        message = keptText(this.node, kept);
        this.log('alert', `split brain: ${message}`);
      } catch (e) {
        error = e instanceof CopyRefused ? e.message : `Refusing to discard my data: cannot keep a copy of ${this.node}'s diverging blocks (${(e as Error).message}); ${NO_BACKUP_FIX} discards them without a copy`;
      }
      this.endHold({ t: 'sb-copied', ...(error !== undefined ? { error } : {}) }, () => this.emit('split-brain-copy', error !== undefined ? { error } : { message }));
    })();
  }

  /**
   * resize, for the machine (resize.ts): grows every volume's disk with all input held, so no
   * write reaches a disk whose metadata moves; the peer's request is checked against what this
   * node's disks leave first. The held inputs follow the answer.
   */
  private grow(a: Extract<Action, { a: 'grow' }>): void {
    this.hold();
    void (async () => {
      let error: string | undefined;
      let volumes: Array<{ dataBytes: number; bitmap: VolumeStore['bitmap'] }> | undefined;
      try {
        const possible = await Promise.all(this.stores.map((st) => st.possibleDataBytes()));
        error = a.origin === 'peer' ? peerGrowRefusal(this.node, possible, a.dataBytes) : undefined;
        if (!error) {
          for (const [i, st] of this.stores.entries()) {
            if (st.dataBytes !== a.dataBytes[i]) await st.grow(this.state.volumes[i]!.meta, a.dataBytes[i]!);
          }
          volumes = this.stores.map((st) => ({ dataBytes: st.dataBytes, bitmap: st.bitmap }));
        }
      } catch (e) {
        error = `resize failed on ${this.node}: ${(e as Error).message}`;
        volumes = this.stores.map((st) => ({ dataBytes: st.dataBytes, bitmap: st.bitmap }));
        this.log('alert', error);
      }
      this.endHold({ t: 'grown', id: a.id, origin: a.origin, ...(volumes ? { volumes } : {}), ...(error ? { error } : {}) });
    })();
  }

  /** `drbdadm resize`: grow to what this node's backing disks leave now, the peer's the same. */
  async resize(): Promise<Array<{ volume: number; fromKiB: number; toKiB: number }>> {
    const from = this.stores.map((st) => st.dataBytes);
    const possible = await Promise.all(this.stores.map((st) => st.possibleDataBytes()));
    const why = growRefusal(from, possible);
    if (why) throw new AgentError('refused', why);
    await this.admin({ cmd: 'resize', dataBytes: possible });
    return this.stores.map((st, i) => ({ volume: this.config.volumes[i]!.volume, fromKiB: from[i]! / 1024, toKiB: st.dataBytes / 1024 }));
  }

  /** Drops the connection now (nothing more goes out on it) and dials again if still wanted. */
  private restartLink(): void {
    void this.link.stop().then(async () => {
      if (this.state.wantConnect) await this.link.start();
    });
  }

  // ---------------------------------------------------------------- block I/O

  /** The volume (by position in the resource file) as a block device; reads and writes only while Primary. */
  blockDevice(volume: number): BlockDevice {
    const store = this.stores[volume]!;
    const checkIo = (offset: number, length: number): void => {
      if (this.state.role !== 'Primary') throw new IoError('not Primary', 'not-primary');
      if (offset < 0 || offset + length > store.dataBytes) throw new IoError('beyond the end of the device', 'out-of-range');
    };
    const writeOne = (offset: number, data: WriteData, fua: boolean) => {
      const id = this.nextId++;
      return new Promise<void>((resolve, reject) => {
        this.writeWaiters.set(id, { resolve, reject });
        this.dispatch({ t: 'app-write', write: { id, volume, offset, data, fua } });
      });
    };
    // One peer message carries at most MAX_DATA_BYTES; larger writes go as several.
    const write = (offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> => (data.length <= MAX_DATA_BYTES ? writeOne(offset, data, opts?.fua ?? false) : writeParts(offset, data, opts));
    const writeParts = async (offset: number, data: Buffer, opts?: { fua?: boolean }) => {
      const parts: Promise<void>[] = [];
      for (let off = 0; off < data.length; off += MAX_DATA_BYTES) parts.push(writeOne(offset + off, data.subarray(off, off + MAX_DATA_BYTES), opts?.fua ?? false));
      // Settles once every part has: the caller may reuse the buffer then (afterWrites).
      const failed = (await Promise.allSettled(parts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    return {
      // A getter: resize grows the volume under a running target.
      get size() {
        return store.dataBytes;
      },
      blockSize: 512,
      read: async (offset, length) => {
        checkIo(offset, length);
        const data = await store.read(offset, length);
        this.state.volumes[volume]!.stats.read += length;
        return data;
      },
      write,
      afterWrites: (done) => (this.state.protocol === 'A' ? this.link.afterQueued(done) : done()),
      flush: () => {
        const id = this.nextId++;
        return new Promise<void>((resolve, reject) => {
          this.flushWaiters.set(id, { resolve, reject });
          this.dispatch({ t: 'app-flush', id });
        });
      },
      // Replicated as lengths (Zeroes), so both disks deallocate. Each piece must fit the
      // activity log, and a few at a time keep a volume-sized UNMAP from flooding either side.
      discard: async (offset, length) => {
        // After a failure no further piece starts, and the command answers only once every piece
        // in flight has settled: an initiator that reuses the blocks on the error must not have
        // a late piece zero its new data.
        const end = offset + length;
        let at = offset;
        let failed: unknown;
        const worker = async (): Promise<void> => {
          while (at < end && failed === undefined) {
            const from = at;
            at = Math.min(end, (Math.floor(from / DISCARD_PIECE_BYTES) + 1) * DISCARD_PIECE_BYTES);
            try {
              await writeOne(from, new Zeroes(at - from), false);
            } catch (e) {
              failed ??= e;
            }
          }
        };
        await Promise.all(Array.from({ length: DISCARDS_IN_FLIGHT }, worker));
        if (failed !== undefined) throw failed;
      },
      mapped: async (offset, length) => {
        checkIo(offset, length);
        return store.mapped(offset, length);
      },
      open: () => {
        this.dispatch({ t: 'open', delta: 1 });
        let open = true;
        return () => {
          if (!open) return;
          open = false;
          this.dispatch({ t: 'open', delta: -1 });
        };
      },
    };
  }

  /**
   * The iSCSI target's persistent reservations of a volume, kept in the replicated metadata:
   * load reads what the machine holds now (replicated or adopted at connect), save resolves once
   * the state is durable here and, while connected, on the peer.
   */
  reservationStore(volume: number): ReservationStore {
    return {
      capacity: PERSISTENT_RESERVATION_MAX,
      load: () => Promise.resolve(this.state.volumes[volume]?.meta.pr ?? null),
      save: (state) => {
        if (this.closed) return Promise.reject(new IoError('resource is down', 'not-primary'));
        const id = this.nextId++;
        return new Promise<void>((resolve, reject) => {
          this.prWaiters.set(id, { resolve, reject });
          this.dispatch({ t: 'pr-save', id, volume, blob: Buffer.from(state) });
        });
      },
    };
  }

  snapshot(): ResourceSnapshot {
    return snapshotOf(this.config, this.state, {
      node: this.node,
      minors: this.config.volumes.map((v, i) => v.minor ?? minorOf(v.device, i)),
      alWrites: this.stores.map((s) => s.alWrites),
      bmWrites: this.stores.map((s) => s.bmWrites),
      lowerPending: this.stores.map((s) => s.lowerPending),
      congested: this.link.congested,
      apInFlight: Math.floor(this.link.bufferedBytes / 1024),
      target: this.target,
      undoUsed: this.stores.map((_, i) => this.undoUsed(i)),
      peerMemory: this.peerMemory,
    });
  }

  /** `down`: refuses while in use; otherwise parts gracefully and closes the disks cleanly. */
  async down(): Promise<void> {
    if (this.closed) return;
    await this.admin({ cmd: 'down' });
    // Going down mid-resync rolls a journaling target back: let that finish before the disks close.
    while (this.holding) await this.holding.released;
    await this.settle();
    await this.link.stop();
    this.closed = true;
    clearInterval(this.timer);
    for (const [i, s] of this.stores.entries()) await s.close(this.state.volumes[i]!.meta);
  }

  /**
   * A crash, for tests: timers, the link and the files are dropped with nothing written on the
   * way out (no graceful parting, no clean metadata, undo journals left as they are).
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.link.stop();
    // Disks first: a write waiting for its journal entry must not land after the journal is gone.
    for (const s of this.stores) await s.abandon();
    for (const j of this.journals.values()) await j.abandon();
  }

  /** Waits until no disk I/O or metadata write is outstanding. */
  private async settle(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (this.state.diskInflight.size === 0 && this.state.diskQueue.length === 0 && this.state.metaWaits.size === 0 && this.state.rsReads.size === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function releasePayload(data: WriteData): void {
  if (!(data instanceof Zeroes)) payloadPool.release(data);
}
