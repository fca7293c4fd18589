// The engine's state as operators see it: EngineState (+ what the runtime knows) →
// ResourceSnapshot, from which status, status --json and events are all derived.
import { exposedSecretsMode } from '../config/file-mode.js';
import type { ResourceConfig } from '../config/types.js';
import type { ResourceSnapshot, TargetSnapshot } from '../protocol/messages.js';
import type { EngineState } from './machine-types.js';
import { syncDone, syncEta } from './machine.js';
import { verifyDone } from './online-verify.js';
import { formatUuid } from './uuid.js';
import type { PeerMemory } from './peer-memory.js';

export interface RuntimeFacts {
  node: string;
  /** Minor numbers from device names (/dev/drbd1 → 1). */
  minors: number[];
  alWrites: number[];
  bmWrites: number[];
  lowerPending: number[];
  congested: boolean;
  apInFlight: number;
  target?: TargetSnapshot;
  /** Bytes used by each volume's undo journal, when one is open. */
  undoUsed?: Array<number | undefined>;
  peerMemory?: PeerMemory;
}

const kib = (bytes: number) => Math.floor(bytes / 1024);

export function snapshotOf(cfg: ResourceConfig, s: EngineState, facts: RuntimeFacts): ResourceSnapshot {
  const me = cfg.hosts.find((h) => h.nodeId === s.nodeId)!;
  const peer = cfg.hosts.find((h) => h.nodeId === s.peerNodeId)!;
  const connected = s.conn === 'Connected';
  const mayPromote = s.role !== 'Primary' && s.volumes.every((v) => v.disk === 'UpToDate') && !(connected && s.peerRole === 'Primary');
  return {
    name: cfg.resource,
    nodeId: s.nodeId,
    node: facts.node,
    role: s.role,
    suspended: false,
    writeOrdering: 'flush',
    mayPromote,
    promotionScore: mayPromote ? 10101 : 0,
    protocol: s.protocol,
    configHash: cfg.source.hash,
    configFile: cfg.source.file,
    ...(exposedSecretsMode(cfg) ? { configExposed: exposedSecretsMode(cfg), ...(cfg.source.secretFile ? { configExposedFile: cfg.source.secretFile } : {}) } : {}),
    peerAuthenticated: cfg.net.sharedSecret !== '',
    ignored: (cfg.ignored ?? []).map(({ option, section, why, file, line, col }) => ({ option, section, why, file, line, col })),
    devices: s.volumes.map((v, i) => ({
      volume: cfg.volumes[i]?.volume ?? i,
      minor: facts.minors[i] ?? v.volume,
      device: cfg.volumes[i]?.device ?? '',
      backingDev: cfg.volumes[i]?.disk ?? '',
      disk: v.disk,
      open: s.openCount > 0,
      size: kib(v.dataBytes),
      read: kib(v.stats.read),
      written: kib(v.stats.written),
      alWrites: facts.alWrites[i] ?? 0,
      bmWrites: facts.bmWrites[i] ?? 0,
      upperPending: [...s.writes.values()].filter((w) => w.volume === v.volume).length,
      lowerPending: facts.lowerPending[i] ?? 0,
      alSuspended: false,
      blocked: s.waitingForGen.length > 0,
      ...(v.undo && (v.undo.state === 'active' || v.undo.state === 'opening' || v.undo.state === 'rolling-back')
        ? { undoJournal: { used: facts.undoUsed?.[i] ?? 0, capacity: v.undo.capacity } }
        : {}),
      uuids: {
        current: formatUuid(v.meta.gi.current),
        bitmap: { [String(s.peerNodeId)]: formatUuid(v.meta.gi.bitmap) },
        history: v.meta.gi.history.map(formatUuid),
      },
    })),
    connections: [
      {
        peerNodeId: s.peerNodeId,
        connName: peer.name,
        connection: s.conn,
        role: connected ? s.peerRole : 'Unknown',
        congested: facts.congested,
        apInFlight: facts.apInFlight,
        rsInFlight: kib(s.volumes.reduce((n, v) => n + (v.sync?.inflightBytes ?? 0), 0)),
        localAddress: me.address,
        peerAddress: peer.address,
        established: connected,
        splitBrain: s.splitBrain,
        lastError: s.lastError,
        ...(facts.peerMemory ? { peerLastSeen: facts.peerMemory.seen, peerLastRole: facts.peerMemory.role } : {}),
        peerDevices: s.volumes.map((v, i) => {
          const known = facts.peerMemory?.volumes[i];
          const done = syncDone(v) ?? verifyDone(v);
          return {
            volume: cfg.volumes[i]?.volume ?? i,
            replication: v.repl,
            peerDisk: connected || v.peerDisk === 'Outdated' ? v.peerDisk : 'DUnknown',
            resyncSuspended: v.sync?.paused && v.repl.startsWith('Paused') ? 'user' : 'no',
            received: kib(v.stats.received),
            sent: kib(v.stats.sent),
            outOfSync: v.bitmap.weight * 4,
            pending: 0,
            unacked: [...s.writes.values()].filter((w) => w.volume === v.volume && w.peerDone === false).length,
            ...(done !== undefined ? { done, dbdt1: (v.sync?.rate ?? 0) / (1024 * 1024), eta: syncEta(v) ?? 0 } : {}),
            ...(v.verifyMismatch !== undefined ? { verifyMismatch: v.verifyMismatch * 4 } : {}),
            ...(known ? { peerLastDisk: known.disk, peerLastUuid: known.current, peerLastBitmap: known.bitmap, peerLastHistory: known.history } : {}),
          };
        }),
      },
    ],
    target: facts.target,
  };
}
