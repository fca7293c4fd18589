// The merged two-host model the console shows: both hosts' folded views, their
// reachability, and a bounded log of what happened. Updates are pure (model in, new model
// out); `resourceRows` derives the per-resource/volume rows every view and guard reads.
import type {
  AgentSnapshot,
  ConnState,
  ConnectionSnapshot,
  DeviceSnapshot,
  DiskState,
  GenerationIds,
  NotUpResource,
  PeerDeviceSnapshot,
  ReplState,
  ResourceSnapshot,
  Role,
  StateEvent,
  TargetSnapshot,
} from '../../agent/protocol/messages.js';
import { applyEvent, emptyHostView, hostViewFromSnapshot, type HostView } from './host-view.js';
import { SYNCING } from '../../agent/protocol/events2.js';

export type Reachability =
  | { state: 'connecting' }
  | { state: 'up' }
  | { state: 'unreachable'; error: string }
  | { state: 'agent-not-running'; error?: string };

export interface HostState {
  /** The name the operator typed (ssh alias); the agent's node name is in view.node. */
  name: string;
  reach: Reachability;
  latencyMs?: number;
  agentVersion?: string;
  /** When the host last sent anything (an event, a snapshot, a ping's answer), epoch ms; kept while it is unreachable. */
  lastHeard?: number;
  view: HostView;
}

export type HostIndex = 0 | 1;

export interface RecentEvent {
  time: string;
  host: string;
  resource?: string;
  text: string;
}

/** What the config-drift check found for one resource (config-drift.ts). */
export interface DriftInfo {
  /** The config hashes (as each host reported them) this was found for: stale once they change. */
  hashes: [string, string];
  files: [string, string];
  /** Differing settings; undefined when a file could not be read or does not load. */
  fields?: string[];
  /** Why the fields are unknown. */
  unknown?: string;
}

export interface ClusterModel {
  hosts: [HostState, HostState];
  readOnly: boolean;
  /** Oldest first, at most MAX_RECENT. */
  recent: RecentEvent[];
  /** Last resync rates (MiB/s) per `host:resource/volume`, oldest first, at most MAX_RATES. */
  rates: Record<string, number[]>;
  /** Per resource: what the console found comparing both hosts' files while their config hashes differ. */
  drift?: Record<string, DriftInfo>;
}

export const MAX_RECENT = 200;
export const MAX_RATES = 24;

export function createModel(hostA: string, hostB: string, opts: { readOnly?: boolean } = {}): ClusterModel {
  const host = (name: string): HostState => ({ name, reach: { state: 'connecting' }, view: emptyHostView() });
  return { hosts: [host(hostA), host(hostB)], readOnly: opts.readOnly ?? false, recent: [], rates: {} };
}

function withHost(m: ClusterModel, i: HostIndex, h: HostState): [HostState, HostState] {
  return i === 0 ? [h, m.hosts[1]] : [m.hosts[0], h];
}

function pushRecent(recent: RecentEvent[], e: RecentEvent): RecentEvent[] {
  const out = [...recent, e];
  return out.length > MAX_RECENT ? out.slice(out.length - MAX_RECENT) : out;
}

export function reachText(r: Reachability): string {
  switch (r.state) {
    case 'up':
      return 'up';
    case 'connecting':
      return 'connecting';
    case 'unreachable':
      return `unreachable: ${r.error}`;
    case 'agent-not-running':
      return r.error ? `agent not running: ${r.error}` : 'agent not running';
  }
}

export function setReachability(
  m: ClusterModel,
  i: HostIndex,
  reach: Reachability,
  opts: { time?: string; latencyMs?: number; agentVersion?: string } = {},
): ClusterModel {
  const h = m.hosts[i];
  const next: HostState = {
    ...h,
    reach,
    latencyMs: reach.state === 'up' ? (opts.latencyMs ?? h.latencyMs) : undefined,
    agentVersion: opts.agentVersion ?? h.agentVersion,
  };
  const changed = reachText(h.reach) !== reachText(reach);
  return {
    ...m,
    hosts: withHost(m, i, next),
    recent: changed ? pushRecent(m.recent, { time: opts.time ?? '', host: h.name, text: `host ${reachText(reach)}` }) : m.recent,
  };
}

export function setDrift(m: ClusterModel, resource: string, info: DriftInfo | undefined): ClusterModel {
  const drift = { ...m.drift };
  if (info) drift[resource] = info;
  else delete drift[resource];
  return { ...m, drift };
}

export function setLatency(m: ClusterModel, i: HostIndex, latencyMs: number): ClusterModel {
  if (m.hosts[i].latencyMs === latencyMs) return m;
  return { ...m, hosts: withHost(m, i, { ...m.hosts[i], latencyMs }) };
}

/** The links ping each host this often while it is up: a host heard from less often has gone quiet. */
export const KEEPALIVE_MS = 5000;

export function setHeard(m: ClusterModel, i: HostIndex, at: number): ClusterModel {
  if (m.hosts[i].lastHeard === at) return m;
  return { ...m, hosts: withHost(m, i, { ...m.hosts[i], lastHeard: at }) };
}

/**
 * From when an up host counts as gone quiet: one keepalive after it was last heard from, plus
 * half an interval's grace for the ping's own round trip. The link itself notices a dead
 * connection only after several missed SSH keepalives, and says "up" until then.
 */
export function quietFrom(h: HostState, keepaliveMs = KEEPALIVE_MS): number | undefined {
  return h.reach.state === 'up' && h.lastHeard !== undefined ? h.lastHeard + keepaliveMs * 1.5 : undefined;
}

/** Milliseconds since an up host was last heard from, once it has gone quiet (quietFrom); else undefined. */
export function silentFor(h: HostState, now: number, keepaliveMs = KEEPALIVE_MS): number | undefined {
  const from = quietFrom(h, keepaliveMs);
  return from !== undefined && now > from ? now - h.lastHeard! : undefined;
}

export function applyHostSnapshot(m: ClusterModel, i: HostIndex, s: AgentSnapshot): ClusterModel {
  const h = m.hosts[i];
  return { ...m, hosts: withHost(m, i, { ...h, agentVersion: s.agentVersion || h.agentVersion, view: hostViewFromSnapshot(s) }) };
}

// Fields that tick with I/O or time: logging their changes would drown the state changes
// (the detail view shows their current values).
const NOISY = new Set([
  'undo-used',
  'undo-capacity',
  'verify-mismatch',
  'peer-last-seen',
  'received',
  'sent',
  'out-of-sync',
  'pending',
  'unacked',
  'dbdt1',
  'eta',
  'done',
  'size',
  'read',
  'written',
  'al-writes',
  'bm-writes',
  'upper-pending',
  'lower-pending',
  'ap-in-flight',
  'rs-in-flight',
  'congested',
  'promotion_score',
  'may_promote',
]);
const IDENTITY = new Set(['name', 'peer-node-id', 'conn-name', 'volume', 'minor']);

/** A log line for an event, or undefined when it only moves counters. */
export function describeEvent(e: StateEvent): string | undefined {
  if (e.verb === 'exists') return undefined;
  const fields = e.props.filter(([k]) => !IDENTITY.has(k));
  if (e.verb === 'change' && fields.every(([k]) => NOISY.has(k))) return undefined;
  const name = e.props.find(([k]) => k === 'name')?.[1];
  const vol = e.props.find(([k]) => k === 'volume')?.[1];
  const subject = name === undefined ? '' : vol === undefined ? name : `${name}/${vol}`;
  const shown = e.verb === 'change' ? fields.filter(([k]) => !NOISY.has(k)) : fields;
  return [e.verb, e.object, subject, ...shown.map(([k, v]) => `${k}:${v}`)].filter((s) => s !== '').join(' ');
}

export function applyHostEvent(m: ClusterModel, i: HostIndex, e: StateEvent): ClusterModel {
  const h = m.hosts[i];
  const view = applyEvent(h.view, e);
  let rates = m.rates;
  if (e.object === 'peer-device') {
    const rate = e.props.find(([k]) => k === 'dbdt1')?.[1];
    if (rate !== undefined) {
      const key = `${i}:${e.props.find(([k]) => k === 'name')?.[1]}/${e.props.find(([k]) => k === 'volume')?.[1] ?? 0}`;
      const series = [...(rates[key] ?? []), Number(rate)];
      rates = { ...rates, [key]: series.slice(-MAX_RATES) };
    }
  }
  const text = describeEvent(e);
  const resource = e.props.find(([k]) => k === 'name')?.[1];
  const recent = text ? pushRecent(m.recent, { time: e.time, host: h.name, resource, text }) : m.recent;
  return { ...m, hosts: withHost(m, i, { ...h, view }), rates, recent };
}

/** Folds a batch (a recorded transcript, or events queued during a frame) in order. */
export function applyHostEvents(m: ClusterModel, i: HostIndex, events: Iterable<StateEvent>): ClusterModel {
  let out = m;
  for (const e of events) out = applyHostEvent(out, i, e);
  return out;
}

// ---- derived rows ----

export interface HostSide {
  /** The resource is known on this host (configured and up). */
  present: boolean;
  /** Not up, but its file is on this host: why, and the next step (agents with capability `not-up`). */
  notUp?: NotUpResource;
  /** The host answers; when false the other fields are the last known values. */
  reachable: boolean;
  role: Role;
  disk: DiskState;
  connection: ConnState;
  replication: ReplState;
  peerRole: Role;
  peerDisk: DiskState;
  splitBrain: boolean;
  lastError?: string;
  open: boolean;
  target?: TargetSnapshot;
  configHash: string;
  gi?: GenerationIds;
  resource?: ResourceSnapshot;
  device?: DeviceSnapshot;
  conn?: ConnectionSnapshot;
  peerDevice?: PeerDeviceSnapshot;
}

export interface SyncProgress {
  /** Host index of the source and target, when known. */
  source?: HostIndex;
  target?: HostIndex;
  replication: ReplState;
  /** The engine's own figure; never recomputed from out-of-sync (drbdtop's bug). */
  done?: number;
  outOfSyncKiB: number;
  rateMiBs?: number;
  etaS?: number;
  paused: boolean;
  verify: boolean;
  rateHistory: number[];
}

export interface ResourceRow {
  /** `name/volume`, stable across updates. */
  key: string;
  resource: string;
  volume: number;
  device: string;
  sides: [HostSide, HostSide];
  sync?: SyncProgress;
}

function pickConnection(r: ResourceSnapshot, otherNode: string, otherName: string): ConnectionSnapshot | undefined {
  return r.connections.find((c) => c.connName === otherNode || c.connName === otherName) ?? r.connections[0];
}

function side(m: ClusterModel, i: HostIndex, name: string, volume: number): HostSide {
  const h = m.hosts[i];
  const other = m.hosts[i === 0 ? 1 : 0];
  const r = h.view.resources.find((x) => x.name === name);
  const reachable = h.reach.state === 'up';
  if (!r) {
    const notUp = h.view.notUp.find((n) => n.name === name);
    return {
      present: false,
      ...(notUp ? { notUp } : {}),
      reachable,
      role: 'Unknown',
      disk: 'DUnknown',
      connection: 'StandAlone',
      replication: 'Off',
      peerRole: 'Unknown',
      peerDisk: 'DUnknown',
      splitBrain: false,
      open: false,
      configHash: '',
    };
  }
  const device = r.devices.find((d) => d.volume === volume);
  const conn = pickConnection(r, other.view.node, other.name);
  const peerDevice = conn?.peerDevices.find((p) => p.volume === volume);
  return {
    present: true,
    reachable,
    role: r.role,
    disk: device?.disk ?? 'Diskless',
    connection: conn?.connection ?? 'StandAlone',
    replication: peerDevice?.replication ?? 'Off',
    peerRole: conn?.role ?? 'Unknown',
    peerDisk: peerDevice?.peerDisk ?? 'DUnknown',
    splitBrain: conn?.splitBrain ?? false,
    lastError: conn?.lastError,
    open: device?.open ?? false,
    target: r.target,
    configHash: r.configHash,
    gi: device?.uuids,
    resource: r,
    device,
    conn,
    peerDevice,
  };
}

function syncOf(m: ClusterModel, name: string, volume: number, sides: [HostSide, HostSide]): SyncProgress | undefined {
  const syncing = ([0, 1] as const).filter((i) => sides[i].present && SYNCING.has(sides[i].replication));
  if (syncing.length === 0) return undefined;
  // Prefer the source's figures (it drives the resync), then any reachable side.
  const srcSide = syncing.find((i) => /S$|Source/.test(sides[i].replication));
  const i = srcSide ?? syncing[0]!;
  const s = sides[i];
  const pd = s.peerDevice!;
  const isSource = /Source|SyncS$|VerifyS$/.test(s.replication);
  const other = (i === 0 ? 1 : 0) as HostIndex;
  return {
    source: isSource ? i : other,
    target: isSource ? other : i,
    replication: s.replication,
    done: pd.done,
    outOfSyncKiB: pd.outOfSync,
    rateMiBs: pd.dbdt1,
    etaS: pd.eta,
    paused: s.replication.startsWith('Paused'),
    verify: s.replication.startsWith('Verify'),
    rateHistory: m.rates[`${i}:${name}/${volume}`] ?? (pd.dbdt1 !== undefined ? [pd.dbdt1] : []),
  };
}

export interface KnownDisk {
  disk: DiskState;
  /** Not the host's word now: what its peer's agent last knew of it (DESIGN.md, rule of safety). */
  stale: boolean;
  /** When it was last true (ISO time), for stale knowledge. */
  seen?: string;
}

/** Where the best knowledge of host i comes from: its own word, its peer's agent, or the console's last view of it. */
export type KnownFrom = 'own' | 'peer' | 'last-view';

/**
 * A host out of sight is not a host without data: while it answers, its own word; else its
 * reachable peer's agent (live while connected to it, remembered otherwise); else what the
 * console last saw of it. Undefined only when nobody knows anything.
 */
export function knownFrom(row: ResourceRow, i: HostIndex): KnownFrom | undefined {
  const s = row.sides[i];
  const o = row.sides[i === 0 ? 1 : 0];
  if (s.reachable && s.present) return 'own';
  if (o.reachable && o.present && (o.connection === 'Connected' || o.peerDevice?.peerLastDisk !== undefined)) return 'peer';
  return s.present ? 'last-view' : undefined;
}

/** The initiators logged in to this side's target (none while it is not running). */
export function sessionInitiators(s: HostSide | undefined): string[] {
  return s?.target?.state === 'running' ? s.target.sessions.map((x) => x.initiator) : [];
}

/** Host i's data as best known (knownFrom). */
export function knownDisk(row: ResourceRow, i: HostIndex): KnownDisk | undefined {
  const s = row.sides[i];
  const o = row.sides[i === 0 ? 1 : 0];
  switch (knownFrom(row, i)) {
    case 'own':
      return { disk: s.disk, stale: false };
    case 'peer':
      return o.connection === 'Connected' ? { disk: o.peerDisk, stale: false } : { disk: o.peerDevice!.peerLastDisk!, stale: true, seen: o.conn?.peerLastSeen };
    case 'last-view':
      return { disk: s.disk, stale: true };
    case undefined:
      return undefined;
  }
}

/** One row per resource and volume, by name then volume number: the order never reshuffles. */
/**
 * Models are replaced, never changed, on every update: the rows of one model are built once
 * however many guards, runbook steps and views ask for them in a frame.
 */
const ROWS = new WeakMap<ClusterModel, ResourceRow[]>();

export function resourceRows(m: ClusterModel): ResourceRow[] {
  let rows = ROWS.get(m);
  if (!rows) ROWS.set(m, (rows = buildRows(m)));
  return rows;
}

function buildRows(m: ClusterModel): ResourceRow[] {
  const keys = new Map<string, { name: string; volume: number; device: string }>();
  for (const h of m.hosts) {
    for (const r of h.view.resources) {
      const vols = r.devices.length > 0 ? r.devices : [{ volume: 0, device: '' }];
      for (const d of vols) {
        const k = `${r.name}/${d.volume}`;
        const prev = keys.get(k);
        if (!prev || !prev.device) keys.set(k, { name: r.name, volume: d.volume, device: d.device });
      }
    }
  }
  // Every resource a host knows is a row, up or not: a configured but down one is not invisible.
  for (const n of m.hosts.flatMap((h) => h.view.notUp)) {
    const known = [...keys.values()].some((k) => k.name === n.name);
    for (const volume of n.volumes.length > 0 ? n.volumes : known ? [] : [0]) {
      const k = `${n.name}/${volume}`;
      if (!keys.has(k)) keys.set(k, { name: n.name, volume, device: '' });
    }
  }
  const sorted = [...keys.values()].sort((a, b) => a.name.localeCompare(b.name) || a.volume - b.volume);
  return sorted.map(({ name, volume, device }) => {
    const sides: [HostSide, HostSide] = [side(m, 0, name, volume), side(m, 1, name, volume)];
    return { key: `${name}/${volume}`, resource: name, volume, device, sides, sync: syncOf(m, name, volume, sides) };
  });
}
