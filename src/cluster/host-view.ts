// One host's state as the console knows it: the agent's snapshot shape, rebuilt from the
// events2 stream (exists / create / change with only the changed fields / destroy). A full
// AgentSnapshot yields the same view, so the console can start from either.
// Immutable: every event returns a new view sharing untouched resources, which lets the UI
// re-render only on change.
import type {
  AgentSnapshot,
  ConfigProblem,
  DeviceSnapshot,
  IgnoredOptionSnapshot,
  NotUpResource,
  ResourceSnapshot,
  RunbookRecord,
  StateEvent,
} from '../../agent/protocol/messages.js';
import {
  applyFields,
  CONFIG_ERROR_FIELDS,
  CONNECTION_FIELDS,
  DEVICE_FIELDS,
  decodeField,
  NOT_UP_FIELDS,
  PEER_DEVICE_FIELDS,
  prop,
  RESOURCE_FIELDS,
  RUNBOOK_FIELDS,
  SESSION_FIELDS,
  TARGET_FIELDS,
  applyServiceAddress,
  SYNCING,
} from '../../agent/protocol/events2.js';
import { destroyObject, emptyResource, ensureConnection, ensureDevice, ensurePeerDevice, eventNumber, foldPath } from '../../agent/protocol/snapshot-objects.js';

export interface HostView {
  node: string;
  agentVersion: string;
  /** Sorted by name; devices by volume, connections by peer node-id. */
  resources: ResourceSnapshot[];
  configErrors: ConfigProblem[];
  /** Resources with a file on this host that are not up, by name (agents without capability `not-up` send none). */
  notUp: NotUpResource[];
  /** Each resource's runbook run as this host's agent keeps it, by resource (agents without capability `runbooks` send none). */
  runbooks: RunbookRecord[];
  /** The initial dump is complete (`exists -` seen, or built from a snapshot). */
  ready: boolean;
  lastEventTime?: string;
}

export function emptyHostView(node = '', agentVersion = ''): HostView {
  return { node, agentVersion, resources: [], configErrors: [], notUp: [], runbooks: [], ready: false };
}

export function hostViewFromSnapshot(s: AgentSnapshot): HostView {
  const resources = structuredClone(s.resources).map(normalizeResource);
  resources.sort((a, b) => a.name.localeCompare(b.name));
  const notUp = structuredClone(s.notUp ?? []).sort((a, b) => a.name.localeCompare(b.name));
  const runbooks = structuredClone(s.runbooks ?? []).sort((a, b) => a.resource.localeCompare(b.resource));
  return { node: s.node, agentVersion: s.agentVersion, resources, configErrors: [...s.configErrors], notUp, runbooks, ready: true };
}

function normalizeResource(r: ResourceSnapshot): ResourceSnapshot {
  r.devices.sort((a, b) => a.volume - b.volume);
  r.connections.sort((a, b) => a.peerNodeId - b.peerNodeId);
  for (const c of r.connections) c.peerDevices.sort((a, b) => a.volume - b.volume);
  return r;
}


/** Applies one event to a copy of the view (the input is not modified). */
export function applyEvent(view: HostView, e: StateEvent): HostView {
  // An `exists` after a finished dump is a new subscription's dump (reconnect): start over,
  // or objects destroyed while we were away would linger.
  if (e.verb === 'exists' && view.ready) view = emptyHostView(view.node, view.agentVersion);
  const next: HostView = { ...view, lastEventTime: e.time || view.lastEventTime };
  if (e.object === '-') return { ...next, ready: true };
  if (e.verb === 'call' || e.verb === 'response' || e.object === 'helper') return next;
  if (e.object === 'config-error') return { ...next, configErrors: foldConfigError(view.configErrors, e) };
  if (e.object === 'not-up') return { ...next, notUp: foldNotUp(view.notUp, e) };
  if (e.object === 'runbook') return { ...next, runbooks: foldRunbook(view.runbooks, e) };

  const name = prop(e, 'name');
  if (name === undefined) return next;
  const idx = view.resources.findIndex((r) => r.name === name);
  if (e.object === 'resource' && e.verb === 'destroy') {
    return idx < 0 ? next : { ...next, resources: view.resources.filter((_, i) => i !== idx) };
  }
  const r = idx >= 0 ? structuredClone(view.resources[idx]!) : emptyResource(name);
  foldIntoResource(r, e);
  const resources = [...view.resources];
  if (idx >= 0) resources[idx] = r;
  else {
    resources.push(r);
    resources.sort((a, b) => a.name.localeCompare(b.name));
  }
  return { ...next, resources };
}

export function foldEvents(events: Iterable<StateEvent>, initial: HostView = emptyHostView()): HostView {
  let v = initial;
  for (const e of events) v = applyEvent(v, e);
  return v;
}

function foldConfigError(list: ConfigProblem[], e: StateEvent): ConfigProblem[] {
  const file = prop(e, 'file') ?? '';
  const line = eventNumber(e, 'line');
  const col = eventNumber(e, 'col');
  const same = (p: ConfigProblem) => p.file === file && (line === undefined || p.line === line) && (col === undefined || p.col === col);
  const rest = list.filter((p) => !same(p));
  if (e.verb === 'destroy') return rest;
  const prev = list.find(same);
  const p: ConfigProblem = prev ? { ...prev } : { file, line: line ?? 0, col: col ?? 0, message: '' };
  applyFields(p, CONFIG_ERROR_FIELDS, e.props);
  return [...rest, p].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

function foldNotUp(list: NotUpResource[], e: StateEvent): NotUpResource[] {
  const name = prop(e, 'name') ?? '';
  const rest = list.filter((n) => n.name !== name);
  if (e.verb === 'destroy') return rest;
  const n: NotUpResource = { ...(list.find((x) => x.name === name) ?? { name, file: '', cause: 'down', reason: '', next: '', volumes: [] }) };
  applyFields(n, NOT_UP_FIELDS, e.props);
  if (n.upError === '') delete n.upError;
  return [...rest, n].sort((a, b) => a.name.localeCompare(b.name));
}

function foldRunbook(list: RunbookRecord[], e: StateEvent): RunbookRecord[] {
  const resource = prop(e, 'name') ?? '';
  const rest = list.filter((r) => r.resource !== resource);
  if (e.verb === 'destroy') return rest;
  const prev = list.find((r) => r.resource === resource);
  const r: RunbookRecord = prev ? { ...prev } : { resource, runbook: '', subject: '', state: 'active', completed: [], started: '', updated: '', seq: 0, by: '' };
  applyFields(r, RUNBOOK_FIELDS, e.props);
  return [...rest, r].sort((a, b) => a.resource.localeCompare(b.resource));
}

/** Mutates `r` (a private copy) with one event about it or one of its children. */
function foldIntoResource(r: ResourceSnapshot, e: StateEvent): void {
  const destroy = e.verb === 'destroy';
  switch (e.object) {
    case 'resource':
      applyFields(r, RESOURCE_FIELDS, e.props);
      if (r.ignored !== undefined) r.ignored = ignoredOptions(r.ignored);
      return;
    case 'device': {
      if (destroy) return destroyObject(r, e);
      const d = ensureDevice(r, e);
      applyFields(d, DEVICE_FIELDS, e.props);
      foldGi(d, e);
      return;
    }
    case 'connection': {
      if (destroy) return destroyObject(r, e);
      const c = ensureConnection(r, e);
      applyFields(c, CONNECTION_FIELDS, e.props);
      // An empty last-error withdraws the reason; a connection that is up again has none left.
      if (c.lastError === '' || (c.connection === 'Connected' && prop(e, 'last-error') === undefined)) delete c.lastError;
      return;
    }
    case 'peer-device': {
      if (destroy) return destroyObject(r, e);
      const p = ensurePeerDevice(r, e);
      applyFields(p, PEER_DEVICE_FIELDS, e.props);
      // DRBD stops sending `done` when a resync ends; a stale figure must not linger.
      if (!SYNCING.has(p.replication)) {
        delete p.done;
        delete p.dbdt1;
        delete p.eta;
      }
      return;
    }
    case 'path':
      foldPath(r, e);
      return;
    case 'target': {
      if (destroy) {
        delete r.target;
        return;
      }
      r.target ??= { state: 'stopped', iqn: '', portal: '', sessions: [] };
      applyFields(r.target, TARGET_FIELDS, e.props);
      applyServiceAddress(r.target, e.props);
      return;
    }
    case 'session': {
      const id = prop(e, 'id') ?? '';
      r.target ??= { state: 'running', iqn: '', portal: '', sessions: [] };
      const t = r.target;
      const i = t.sessions.findIndex((s) => s.id === id);
      if (destroy) {
        if (i >= 0) t.sessions.splice(i, 1);
        return;
      }
      const s = i >= 0 ? t.sessions[i]! : { id, initiator: '', address: '', since: '' };
      applyFields(s, SESSION_FIELDS, e.props);
      if (i < 0) t.sessions.push(s);
      return;
    }
    default:
      return;
  }
}

function foldGi(d: DeviceSnapshot, e: StateEvent): void {
  for (const [k, v] of e.props) {
    if (k === 'current-uuid') d.uuids.current = v;
    else if (k === 'bitmap-uuids') d.uuids.bitmap = decodeField('bitmap-uuids', v) as Record<string, string>;
    else if (k === 'history-uuids') d.uuids.history = decodeField('list', v) as string[];
    else if (k === 'undo-used') d.undoJournal = { capacity: d.undoJournal?.capacity ?? 0, used: Number(v) };
    else if (k === 'undo-capacity') d.undoJournal = { used: d.undoJournal?.used ?? 0, capacity: Number(v) };
  }
}

/** The `ignored` list as an agent sent it, keeping only entries of the documented shape (protocol/events2.ts). */
export function ignoredOptions(v: unknown): IgnoredOptionSnapshot[] {
  if (!Array.isArray(v)) return [];
  const str = (o: Record<string, unknown>, k: string) => typeof o[k] === 'string';
  const int = (o: Record<string, unknown>, k: string) => Number.isInteger(o[k]);
  return v
    .filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null)
    .filter((o) => str(o, 'option') && str(o, 'section') && str(o, 'why') && str(o, 'file') && int(o, 'line') && int(o, 'col'))
    .map((o) => ({ option: o['option'] as string, section: o['section'] as string, why: o['why'] as string, file: o['file'] as string, line: o['line'] as number, col: o['col'] as number }));
}
