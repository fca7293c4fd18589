// The node-ids a resource runs with, read from its disks' metadata and decided by
// node-id-decision.ts: the config as given, the config renumbered to what the metadata was
// written under (with the message to log), or a refusal. Used at attach/up, and where the
// daemon looks at a disk of a resource that is down.
import type { HostConfig, ResourceConfig } from '../config/types.js';
import { AgentError } from '../protocol/messages.js';
import { openBackingDisk } from '../block/backing-disk.js';
import { readMetadata } from './metadata.js';
import { nodeIdDecision, type NodeIdHost } from './node-id-decision.js';

export interface Numbered {
  config: ResourceConfig;
  local: HostConfig;
  /** Said once at attach when the metadata's numbering is kept. */
  note?: string;
}

/** The node-id the metadata on `path` was written as; undefined when there is none to read (attach reports why). */
async function metadataNodeId(path: string): Promise<number | undefined> {
  const disk = await openBackingDisk(path).catch(() => undefined);
  if (!disk) return undefined;
  try {
    return (await readMetadata(disk))?.nodeId;
  } catch {
    return undefined;
  } finally {
    await disk.close().catch(() => undefined);
  }
}

function peerOf(config: ResourceConfig, local: HostConfig): HostConfig {
  const peer = config.hosts.find((h) => h.name !== local.name);
  if (!peer) throw new Error(`node-ids: ${config.resource} has no peer of ${local.name}`);
  return peer;
}

/** Both hosts as the decisions see them: ids, whether derived, and their place in the file. */
export function nodeIdHosts(config: ResourceConfig, local: HostConfig): { local: NodeIdHost; peer: NodeIdHost } {
  const host = (h: HostConfig): NodeIdHost => ({ name: h.name, nodeId: h.nodeId, implicit: h.nodeIdImplicit === true, fileOrder: config.hosts.indexOf(h) });
  return { local: host(local), peer: host(peerOf(config, local)) };
}

/** Throws AgentError('io') with the refusal when the metadata and the file disagree beyond the one case kept. */
export async function numberedByMetadata(config: ResourceConfig, local: HostConfig): Promise<Numbered> {
  const peer = peerOf(config, local);
  const metadata = [];
  for (const v of config.volumes) metadata.push({ disk: v.disk, nodeId: await metadataNodeId(v.disk) });
  const d = nodeIdDecision({ resource: config.resource, file: config.source.file, ...nodeIdHosts(config, local), metadata });
  if (d.kind === 'as-configured') return { config, local };
  if (d.kind === 'refuse') throw new AgentError('io', d.message);
  const ids = new Map([
    [local.name, d.local],
    [peer.name, d.peer],
  ]);
  // The file's meaning (its hash, compared with the peer's) is unchanged: only how this agent numbers the two.
  const hosts = config.hosts.map((h) => ({ ...h, nodeId: ids.get(h.name)! }));
  return { config: { ...config, hosts }, local: hosts.find((h) => h.name === local.name)!, note: d.message };
}
