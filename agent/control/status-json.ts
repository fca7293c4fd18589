// `status --json`: drbdsetup's JSON schema (drbd-utils 9), so existing exporters and scripts
// read it unchanged. Extensions are additive keys documented in the README: node, config-hash,
// generation identifiers per device, split-brain and last-error per connection, iscsi-target,
// peer-authenticated and ignored per resource.
import type { AgentSnapshot, ResourceSnapshot } from '../protocol/messages.js';

export function resourceJson(r: ResourceSnapshot) {
  return {
    name: r.name,
    'node-id': r.nodeId,
    node: r.node,
    role: r.role,
    suspended: r.suspended,
    'write-ordering': r.writeOrdering,
    'config-hash': r.configHash,
    ...(r.peerAuthenticated !== undefined ? { 'peer-authenticated': r.peerAuthenticated } : {}),
    ...(r.ignored ? { ignored: r.ignored.map((o) => ({ option: o.option, section: o.section, why: o.why, file: o.file, line: o.line, col: o.col })) } : {}),
    devices: r.devices.map((d) => ({
      volume: d.volume,
      minor: d.minor,
      'disk-state': d.disk,
      client: false,
      quorum: true,
      open: d.open,
      size: d.size,
      read: d.read,
      written: d.written,
      'al-writes': d.alWrites,
      'bm-writes': d.bmWrites,
      'upper-pending': d.upperPending,
      'lower-pending': d.lowerPending,
      'al-suspended': d.alSuspended,
      blocked: d.blocked ? 'upper' : 'no',
      uuids: d.uuids,
      ...(d.undoJournal ? { 'undo-journal': { used: d.undoJournal.used, capacity: d.undoJournal.capacity } } : {}),
    })),
    connections: r.connections.map((c) => ({
      'peer-node-id': c.peerNodeId,
      name: c.connName,
      'connection-state': c.connection,
      congested: c.congested,
      'peer-role': c.role,
      'ap-in-flight': c.apInFlight,
      'rs-in-flight': c.rsInFlight,
      'split-brain': c.splitBrain,
      ...(c.lastError ? { 'last-error': c.lastError } : {}),
      peer_devices: c.peerDevices.map((p) => ({
        volume: p.volume,
        'replication-state': p.replication,
        'peer-disk-state': p.peerDisk,
        'peer-client': false,
        'resync-suspended': p.resyncSuspended,
        received: p.received,
        sent: p.sent,
        'out-of-sync': p.outOfSync,
        pending: p.pending,
        unacked: p.unacked,
        'has-sync-details': p.done !== undefined,
        'has-online-verify-details': p.verifyMismatch !== undefined,
        ...(p.verifyMismatch !== undefined ? { 'verify-mismatch': p.verifyMismatch } : {}),
        'percent-in-sync': percentInSync(r, p.volume, p.outOfSync),
        ...(p.done !== undefined ? { 'sync-done': Number(p.done.toFixed(2)), 'dbdt1': Number((p.dbdt1 ?? 0).toFixed(2)), eta: p.eta ?? 0 } : {}),
      })),
    })),
    ...(r.target ? { 'iscsi-target': r.target } : {}),
  };
}

function percentInSync(r: ResourceSnapshot, volume: number, outOfSyncKiB: number): number {
  const size = r.devices.find((d) => d.volume === volume)?.size ?? 0;
  if (size === 0) return 100;
  return Number((100 * (1 - outOfSyncKiB / size)).toFixed(2));
}

export function statusJson(snap: AgentSnapshot, resource?: string): unknown[] {
  return snap.resources.filter((r) => !resource || r.name === resource).map(resourceJson);
}
