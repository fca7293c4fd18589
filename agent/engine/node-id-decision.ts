// Which node-ids a resource runs with when its metadata and its file disagree, as a pure
// function; the daemon reads the metadata and carries the decision out at attach/up.
//
// Metadata keeps the node's own node-id, and the bitmap of changes for the peer in the slot of
// the peer's node-id: running under other ids would read the wrong slot (a full resync, or a
// sync in the wrong direction) and break split-brain and resync tie-breaks, which go by node-id.
// Before drbd-tui derived implicit node-ids as drbdadm does, a file without node-ids numbered
// its hosts in file order (first 0, second 1): metadata created then carries those. When the
// file still gives no node-ids and the metadata holds the file-order id, that numbering is kept
// for both hosts (the peer's metadata was written under it too), with a message saying so and
// how to make it drbdadm's. Any other disagreement is refused, as DRBD refuses it at attach
// ("ambiguous node id: meta-data: 2, config: 1"), naming both ids and the fixes.

export interface NodeIdHost {
  name: string;
  nodeId: number;
  /** The file gives no node-id: derived as drbdadm derives it. */
  implicit: boolean;
  /** Its position in the file (the numbering used before implicit ids were derived). */
  fileOrder: number;
}

export interface NodeIdInput {
  resource: string;
  file: string;
  local: NodeIdHost;
  peer: NodeIdHost;
  /** Each volume's backing disk and the node-id its metadata was written as; undefined: no valid metadata there. */
  metadata: ReadonlyArray<{ disk: string; nodeId: number | undefined }>;
}

export type NodeIdDecision =
  /** The file's ids hold (the metadata agrees, or there is none to disagree). */
  | { kind: 'as-configured' }
  /** Run with the metadata's numbering: `local` for this host, `peer` for the other; `message` is for the resource's log (no name in front). */
  | { kind: 'keep-metadata'; local: number; peer: number; message: string }
  | { kind: 'refuse'; message: string };

export function nodeIdDecision(i: NodeIdInput): NodeIdDecision {
  const { local, peer } = i;
  if (local.fileOrder === peer.fileOrder || local.nodeId === peer.nodeId) throw new Error('node-id decision: the two hosts must differ in position and node-id');
  const written = i.metadata.filter((m): m is { disk: string; nodeId: number } => m.nodeId !== undefined);
  const other = written.find((m) => m.nodeId !== local.nodeId);
  if (!other) return { kind: 'as-configured' };
  const agreeing = written.find((m) => m.nodeId === local.nodeId);
  if (agreeing) {
    return {
      kind: 'refuse',
      message: `${i.resource}: the metadata on ${agreeing.disk} was written as node-id ${agreeing.nodeId} and the one on ${other.disk} as node-id ${other.nodeId}: one volume's disk is not this node's; run create-md ${i.resource} on it, or put back the right disk`,
    };
  }
  const ids = new Set(written.map((m) => m.nodeId));
  const legacy = local.implicit && peer.implicit && ids.size === 1 && other.nodeId === local.fileOrder;
  if (legacy) {
    const disks = written.map((m) => m.disk).join(', ');
    return {
      kind: 'keep-metadata',
      local: local.fileOrder,
      peer: peer.fileOrder,
      message:
        `${i.file} gives no node-ids; drbdadm derives ${local.name} ${local.nodeId} and ${peer.name} ${peer.nodeId}, ` +
        `but the metadata on ${disks} was written as node-id ${local.fileOrder} (file order, as drbd-tui numbered hosts before): ` +
        `keeping that numbering (${local.name} ${local.fileOrder}, ${peer.name} ${peer.fileOrder}) so that data, roles and the resync bitmap stay as they are; ` +
        `to make it drbdadm's too, write node-id ${local.fileOrder} in on ${local.name} and node-id ${peer.fileOrder} in on ${peer.name} on both hosts`,
    };
  }
  const how = local.implicit ? ` (derived as drbdadm derives it: ${i.file} gives no node-ids)` : '';
  return {
    kind: 'refuse',
    message:
      `${i.resource}: ambiguous node id: meta-data: ${other.nodeId}, config: ${local.nodeId} — the metadata on ${other.disk} was written as node-id ${other.nodeId}, ` +
      `but ${i.file} makes ${local.name} node-id ${local.nodeId}${how}: if this disk is ${local.name}'s, give ${local.name} node-id ${other.nodeId} in the file on both hosts ` +
      `(and ${peer.name} the node-id its own metadata has); else run create-md ${i.resource} to start this disk over (its data then comes from the peer)`,
  };
}

/**
 * The node-id create-md writes: the file's, except where the file gives no node-ids and what
 * this node last knew of its peer (peer memory, kept across disk replacements) shows the pair
 * still runs the file-order numbering: then that one, or a replaced disk would take the
 * peer's node-id and the two would never connect.
 */
export function createMdNodeId(i: { resource: string; local: NodeIdHost; peer: NodeIdHost; peerLastNodeId: number | undefined }): { nodeId: number; message?: string } {
  const { local, peer } = i;
  const legacy = local.implicit && peer.implicit && i.peerLastNodeId !== undefined && i.peerLastNodeId !== peer.nodeId && i.peerLastNodeId === peer.fileOrder;
  if (!legacy) return { nodeId: local.nodeId };
  return {
    nodeId: local.fileOrder,
    message: `created as node-id ${local.fileOrder}, not drbdadm's ${local.nodeId}: ${peer.name} was last seen as node-id ${peer.fileOrder}, the file-order numbering its metadata keeps; write node-id ${local.fileOrder} in on ${local.name} and node-id ${peer.fileOrder} in on ${peer.name} on both hosts to make it drbdadm's too`,
  };
}
