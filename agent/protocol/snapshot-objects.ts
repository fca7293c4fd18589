// Where an events2 line lands in a snapshot: the device, connection or peer device it names,
// found or made, and removed by its destroy line. Both folds of events2 into snapshots place
// objects with it, the console's (our agents' lines) and the kernel adapter's (DRBD's own), so
// the two cannot disagree on which object a line is about.
import type { ConnectionSnapshot, DeviceSnapshot, PeerDeviceSnapshot, ResourceSnapshot, StateEvent } from './messages.js';
import { fromDrbdAddress, prop } from './events2.js';

/** A numeric key of the line; absent, empty or not a number is undefined. */
export function eventNumber(e: StateEvent, key: string): number | undefined {
  const v = prop(e, key);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A resource no line has described yet: what events2 leaves unsaid stays at these. */
export function emptyResource(name: string, node = ''): ResourceSnapshot {
  return {
    name,
    nodeId: -1,
    node,
    role: 'Unknown',
    suspended: false,
    writeOrdering: 'flush',
    mayPromote: false,
    promotionScore: 0,
    protocol: 'C',
    configHash: '',
    devices: [],
    connections: [],
  };
}

function emptyDevice(volume: number, minor: number): DeviceSnapshot {
  return {
    volume,
    minor,
    device: '',
    backingDev: '',
    disk: 'DUnknown',
    open: false,
    size: 0,
    read: 0,
    written: 0,
    alWrites: 0,
    bmWrites: 0,
    upperPending: 0,
    lowerPending: 0,
    alSuspended: false,
    blocked: false,
    uuids: { current: '', bitmap: {}, history: [] },
  };
}

function emptyConnection(peerNodeId: number, connName: string): ConnectionSnapshot {
  return {
    peerNodeId,
    connName,
    connection: 'StandAlone',
    role: 'Unknown',
    congested: false,
    apInFlight: 0,
    rsInFlight: 0,
    localAddress: '',
    peerAddress: '',
    established: false,
    splitBrain: false,
    peerDevices: [],
  };
}

function emptyPeerDevice(volume: number): PeerDeviceSnapshot {
  return { volume, replication: 'Off', peerDisk: 'DUnknown', resyncSuspended: 'no', received: 0, sent: 0, outOfSync: 0, pending: 0, unacked: 0 };
}

export function findConnection(r: ResourceSnapshot, e: StateEvent): ConnectionSnapshot | undefined {
  const id = eventNumber(e, 'peer-node-id');
  const name = prop(e, 'conn-name');
  // drbd-utils before 9.0 print no peer-node-id: the connection name identifies it then.
  return r.connections.find((c) => (id !== undefined ? c.peerNodeId === id : c.connName === name));
}

export function ensureConnection(r: ResourceSnapshot, e: StateEvent): ConnectionSnapshot {
  let c = findConnection(r, e);
  if (!c) {
    c = emptyConnection(eventNumber(e, 'peer-node-id') ?? -1, prop(e, 'conn-name') ?? '');
    r.connections.push(c);
    r.connections.sort((a, b) => a.peerNodeId - b.peerNodeId);
  }
  return c;
}

/** The device of the line's volume, made when new; a minor the line gives is the device's. */
export function ensureDevice(r: ResourceSnapshot, e: StateEvent): DeviceSnapshot {
  const volume = eventNumber(e, 'volume') ?? 0;
  const minor = eventNumber(e, 'minor');
  let d = r.devices.find((x) => x.volume === volume);
  if (!d) {
    d = emptyDevice(volume, minor ?? 0);
    r.devices.push(d);
    r.devices.sort((a, b) => a.volume - b.volume);
  }
  if (minor !== undefined) d.minor = minor;
  return d;
}

export function ensurePeerDevice(r: ResourceSnapshot, e: StateEvent): PeerDeviceSnapshot {
  const c = ensureConnection(r, e);
  const volume = eventNumber(e, 'volume') ?? 0;
  let p = c.peerDevices.find((x) => x.volume === volume);
  if (!p) {
    p = emptyPeerDevice(volume);
    c.peerDevices.push(p);
    c.peerDevices.sort((a, b) => a.volume - b.volume);
  }
  return p;
}

/** A destroy line of a device, connection or peer device: the object goes (one never seen is no error). */
export function destroyObject(r: ResourceSnapshot, e: StateEvent): void {
  const volume = eventNumber(e, 'volume') ?? 0;
  if (e.object === 'device') {
    r.devices = r.devices.filter((d) => d.volume !== volume);
    return;
  }
  const c = findConnection(r, e);
  if (!c) return;
  if (e.object === 'connection') r.connections.splice(r.connections.indexOf(c), 1);
  else if (e.object === 'peer-device') c.peerDevices = c.peerDevices.filter((p) => p.volume !== volume);
}

/** A path line: its connection's addresses and whether the path is up (a destroyed path is down); the connection, when there is one. */
export function foldPath(r: ResourceSnapshot, e: StateEvent): ConnectionSnapshot | undefined {
  if (e.verb === 'destroy') {
    const c = findConnection(r, e);
    if (c) c.established = false;
    return c;
  }
  const c = ensureConnection(r, e);
  const local = prop(e, 'local');
  const peer = prop(e, 'peer');
  const est = prop(e, 'established');
  if (local !== undefined) c.localAddress = fromDrbdAddress(local);
  if (peer !== undefined) c.peerAddress = fromDrbdAddress(peer);
  if (est !== undefined) c.established = est === 'yes';
  return c;
}
