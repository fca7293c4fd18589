// The kernel's `drbdsetup events2 --full --statistics --timestamps` folded into the AgentSnapshot
// the builtin engine produces, so that status, events and the console read one shape whichever
// engine serves a resource. Pure: lines in, a new state out; events2-stream.ts owns the process.
//
// Lines are parsed by agent/events2.ts (the one events2 codec) and DRBD's keys are decoded with
// its field tables. Beyond them, what only the kernel says:
//   resource suspended:REASON  → suspended, and suspendedReason (user, no-data, fencing, quorum, …)
//   device backing_dev:none → backingDev '' ; device path /dev/drbdMINOR
//   peer-device eta computed from out-of-sync and dbdt1 when DRBD sends none
//   call/response helper       → the resource's helpers (last run of each handler per object);
//                                a split-brain helper marks the connection splitBrain until it connects
//   any other key              → kernelExtra on its object, as sent
//   lines that do not parse, and objects we do not know → snapshot.kernelUnknown (the latest 50)
// What events2 does not carry stays at the console's defaults: the local node-id (-1), protocol,
// config hash and generation UUIDs come from the config loader and `drbdsetup show`/`get-gi`.
import type {
  AgentSnapshot,
  KernelHelperRun,
  KernelUnknownLine,
  PeerDeviceSnapshot,
  ResourceSnapshot,
  StateEvent,
} from '../protocol/messages.js';
import {
  applyFields,
  CONNECTION_FIELDS,
  DEVICE_FIELDS,
  Events2SyntaxError,
  formatEvent,
  parseEventLine,
  PEER_DEVICE_FIELDS,
  prop,
  RESOURCE_FIELDS,
  SYNCING,
  type FieldSpec,
} from '../protocol/events2.js';
import { destroyObject, emptyResource, ensureConnection, ensureDevice, ensurePeerDevice, eventNumber, findConnection, foldPath } from '../protocol/snapshot-objects.js';

export interface KernelFoldState {
  snapshot: AgentSnapshot;
  /** `exists -` ended the initial dump: the snapshot is the whole state. */
  ready: boolean;
  lastEventTime?: string;
}

/** How many unmapped lines a snapshot keeps: enough to show a pattern, bounded against a stream of them. */
export const UNKNOWN_KEPT = 50;

export function emptyKernelState(node: string, agentVersion: string): KernelFoldState {
  return { snapshot: { node, agentVersion, resources: [], configErrors: [] }, ready: false };
}

const IDENTITY = new Set(['name', 'volume', 'minor', 'peer-node-id', 'conn-name', 'local', 'peer']);
/** Keys each object's own code below maps (besides its field table). */
const SPECIAL: Record<string, ReadonlySet<string>> = { path: new Set(['established']) };
const TABLES: Record<string, FieldSpec[]> = { resource: RESOURCE_FIELDS, device: DEVICE_FIELDS, connection: CONNECTION_FIELDS, 'peer-device': PEER_DEVICE_FIELDS, path: [] };
const RESYNC_SUSPENDED: ReadonlySet<string> = new Set(['no', 'user', 'peer', 'dependency']);
const SPLIT_BRAIN_HELPERS: ReadonlySet<string> = new Set(['split-brain', 'initial-split-brain']);

/** One line of the stream (blank lines and `#` comments change nothing). */
export function foldKernelLine(s: KernelFoldState, line: string): KernelFoldState {
  let e: StateEvent | undefined;
  try {
    e = parseEventLine(line);
  } catch (err) {
    if (!(err instanceof Events2SyntaxError)) throw err;
    return withUnknown(s, { line: line.trim(), problem: err.message });
  }
  return e ? foldKernelEvent(s, e) : s;
}

export function foldKernelText(s: KernelFoldState, text: string): KernelFoldState {
  for (const line of text.split('\n')) s = foldKernelLine(s, line);
  return s;
}

function withUnknown(s: KernelFoldState, u: KernelUnknownLine): KernelFoldState {
  const kept = [...(s.snapshot.kernelUnknown ?? []), u].slice(-UNKNOWN_KEPT);
  return { ...s, snapshot: { ...s.snapshot, kernelUnknown: kept } };
}

/** Applies one event; the input state is not modified (resources it does not touch are shared). */
export function foldKernelEvent(s: KernelFoldState, e: StateEvent): KernelFoldState {
  // An `exists` after a finished dump starts a new dump (a restarted drbdsetup): start over, or
  // objects destroyed meanwhile would linger.
  if (e.verb === 'exists' && s.ready) s = restarted(s);
  const next: KernelFoldState = { ...s, lastEventTime: e.time || s.lastEventTime };
  if (e.object === '-') return { ...next, ready: true };
  if (!Object.hasOwn(TABLES, e.object) && e.object !== 'helper') return withUnknown(next, { line: formatEvent(e), problem: `object '${e.object}' is not one the kernel sends` });
  const name = prop(e, 'name');
  if (name === undefined) return withUnknown(next, { line: formatEvent(e), problem: 'no name: key' });
  const resources = next.snapshot.resources;
  const idx = resources.findIndex((r) => r.name === name);
  if (e.object === 'resource' && e.verb === 'destroy') {
    return idx < 0 ? next : { ...next, snapshot: { ...next.snapshot, resources: resources.filter((_, i) => i !== idx) } };
  }
  if (idx < 0 && e.verb === 'destroy') return next;
  const r = idx >= 0 ? structuredClone(resources[idx]!) : newKernelResource(name, next.snapshot.node);
  foldIntoResource(r, e);
  const out = [...resources];
  if (idx >= 0) out[idx] = r;
  else {
    out.push(r);
    out.sort((a, b) => a.name.localeCompare(b.name));
  }
  return { ...next, snapshot: { ...next.snapshot, resources: out } };
}

/** A new dump begins: no object survives it; the unmapped lines seen so far stay on show. */
export function restarted(s: KernelFoldState): KernelFoldState {
  const fresh = emptyKernelState(s.snapshot.node, s.snapshot.agentVersion);
  if (s.snapshot.kernelUnknown) fresh.snapshot.kernelUnknown = s.snapshot.kernelUnknown;
  return fresh;
}

export function newKernelResource(name: string, node: string): ResourceSnapshot {
  return { ...emptyResource(name, node), engine: 'kernel' };
}

/** Keys of the line that nothing above maps, merged into the object's list (a newer value replaces an older). */
function keepExtra(o: { kernelExtra?: Array<[string, string]> }, e: StateEvent): void {
  const table = TABLES[e.object] ?? [];
  const special = SPECIAL[e.object] ?? new Set<string>();
  const extra = e.props.filter(([k]) => !IDENTITY.has(k) && !special.has(k) && !table.some((f) => f.key === k));
  if (extra.length === 0) return;
  const merged = new Map(o.kernelExtra ?? []);
  for (const [k, v] of extra) merged.set(k, v);
  o.kernelExtra = [...merged];
}

/** Mutates `r` (a private copy) with one event about it or one of its children. */
function foldIntoResource(r: ResourceSnapshot, e: StateEvent): void {
  const destroy = e.verb === 'destroy';
  switch (e.object) {
    case 'resource': {
      applyFields(r, RESOURCE_FIELDS, e.props);
      const suspended = prop(e, 'suspended');
      if (suspended !== undefined) {
        if (suspended === 'no') delete r.suspendedReason;
        else r.suspendedReason = suspended;
      }
      keepExtra(r, e);
      return;
    }
    case 'device': {
      if (destroy) return destroyObject(r, e);
      const d = ensureDevice(r, e);
      d.device = `/dev/drbd${d.minor}`;
      applyFields(d, DEVICE_FIELDS, e.props);
      // DRBD says `none` for a diskless device; the snapshot says no backing device with ''.
      if (d.backingDev === 'none') d.backingDev = '';
      keepExtra(d, e);
      return;
    }
    case 'connection': {
      if (destroy) return destroyObject(r, e);
      const c = ensureConnection(r, e);
      applyFields(c, CONNECTION_FIELDS, e.props);
      // A connection that is up again has left its split brain and its reason behind.
      if (c.connection === 'Connected') {
        c.splitBrain = false;
        delete c.lastError;
      }
      keepExtra(c, e);
      return;
    }
    case 'peer-device': {
      if (destroy) return destroyObject(r, e);
      const p = ensurePeerDevice(r, e);
      applyFields(p, PEER_DEVICE_FIELDS, e.props);
      // DRBD joins several reasons with commas (user,peer); the snapshot holds one word, the first.
      if (!RESYNC_SUSPENDED.has(p.resyncSuspended)) {
        const first = String(p.resyncSuspended).split(',').find((w) => RESYNC_SUSPENDED.has(w));
        if (first) p.resyncSuspended = first as PeerDeviceSnapshot['resyncSuspended'];
      }
      if (!SYNCING.has(p.replication)) {
        // DRBD stops sending `done` when a resync ends; a stale figure must not linger.
        delete p.done;
        delete p.dbdt1;
        delete p.eta;
      } else if (prop(e, 'eta') === undefined && p.dbdt1 !== undefined) {
        const eta = etaSeconds(p.outOfSync, p.dbdt1);
        if (eta === undefined) delete p.eta;
        else p.eta = eta;
      }
      keepExtra(p, e);
      return;
    }
    case 'path': {
      const c = foldPath(r, e);
      if (c && !destroy) keepExtra(c, e);
      return;
    }
    case 'helper':
      foldHelper(r, e);
      return;
    default:
      return;
  }
}

/** Seconds left at the current rate: out-of-sync KiB over dbdt1 MiB/s; none while nothing moves. */
export function etaSeconds(outOfSyncKiB: number, dbdt1MiBs: number): number | undefined {
  if (!(dbdt1MiBs > 0)) return undefined;
  return Math.round(outOfSyncKiB / (dbdt1MiBs * 1024));
}

function foldHelper(r: ResourceSnapshot, e: StateEvent): void {
  const helper = prop(e, 'helper') ?? '';
  const peerNodeId = eventNumber(e, 'peer-node-id');
  const connName = prop(e, 'conn-name');
  const volume = eventNumber(e, 'volume');
  const same = (h: KernelHelperRun) => h.helper === helper && h.peerNodeId === peerNodeId && h.volume === volume;
  const runs = r.helpers ?? [];
  const prev = runs.find(same);
  if (e.verb === 'call') {
    const run: KernelHelperRun = { helper, called: e.time };
    if (peerNodeId !== undefined) run.peerNodeId = peerNodeId;
    if (connName !== undefined) run.connName = connName;
    if (volume !== undefined) run.volume = volume;
    r.helpers = [...runs.filter((h) => !same(h)), run];
    if (SPLIT_BRAIN_HELPERS.has(helper)) {
      const c = findConnection(r, e);
      if (c) {
        c.splitBrain = true;
        c.lastError = `split brain detected (DRBD called the ${helper} handler)`;
      }
    }
    return;
  }
  if (e.verb === 'response') {
    const status = eventNumber(e, 'status');
    const run: KernelHelperRun = prev ? { ...prev } : { helper, called: '', ...(peerNodeId !== undefined ? { peerNodeId } : {}), ...(connName !== undefined ? { connName } : {}), ...(volume !== undefined ? { volume } : {}) };
    if (status !== undefined) run.status = status;
    r.helpers = [...runs.filter((h) => !same(h)), run];
  }
}
