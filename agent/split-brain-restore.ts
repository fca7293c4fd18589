// `split-brain-copies` and `split-brain-restore` for the daemon: the copies a split-brain
// victim kept (engine/split-brain-copy.ts), listed, and written back through the replicated
// device of the Primary, so that the peer gets the blocks too.
import { formatSize } from './engine/metadata.js';
import type { ResourceRuntime } from './engine/resource-runtime.js';
import { listSplitBrainCopies, verifiedCopyPieces, type ListedCopy } from './engine/split-brain-copy.js';
import { restorePlanLines, restoreRefusal } from './engine/split-brain-copy-decision.js';
import { AgentError, type SplitBrainCopyInfo, type SplitBrainRestoreResult } from './protocol/messages.js';

export function copyInfo(c: ListedCopy): SplitBrainCopyInfo {
  const m = c.manifest;
  return {
    id: c.id,
    resource: m.resource,
    volume: m.volume,
    node: m.node,
    peer: m.peer,
    created: m.created,
    generation: m.generation,
    bytes: m.bytes,
    ranges: m.ranges.length,
    path: c.path,
    manifest: c.manifestPath,
  };
}

export async function splitBrainCopies(stateDir: string, resource?: string): Promise<SplitBrainCopyInfo[]> {
  return (await listSplitBrainCopies(stateDir, resource)).map(copyInfo);
}

/** The copies `copy` names: an id (`<timestamp>-vol<N>`) or a timestamp (every volume kept then), narrowed by `volume`. */
export function selectCopies(copies: readonly ListedCopy[], copy: string, volume?: number): ListedCopy[] {
  return copies.filter((c) => (c.id === copy || c.id.startsWith(`${copy}-vol`)) && (volume === undefined || c.manifest.volume === volume));
}

export async function restoreSplitBrainCopy(rt: ResourceRuntime, stateDir: string, p: { copy: string; volume?: number; yes: boolean }): Promise<SplitBrainRestoreResult> {
  const name = rt.config.resource;
  const chosen = selectCopies(await listSplitBrainCopies(stateDir, name), p.copy, p.volume);
  if (chosen.length === 0) throw new AgentError('not-found', `${name}: no kept split-brain copy ${p.copy}${p.volume !== undefined ? ` of volume ${p.volume}` : ''} (see drbd-agent split-brain-copies ${name})`);
  const targets = chosen.map((c) => {
    const index = rt.config.volumes.findIndex((v) => v.volume === c.manifest.volume);
    if (index < 0) throw new AgentError('not-found', `${name}: the copy ${c.id} is of volume ${c.manifest.volume}, which the resource file no longer has`);
    const v = rt.state.volumes[index]!;
    const why = restoreRefusal({ role: rt.state.role, disk: v.disk, dataBytes: v.dataBytes, manifest: c.manifest });
    if (why) throw new AgentError('refused', why);
    return { c, index };
  });
  const lines = targets.flatMap(({ c }) => restorePlanLines(c.manifest));
  if (!p.yes) return { ok: true, restored: false, lines: [...lines, 'nothing written: add --yes to write these blocks back (both nodes get them)'] };
  for (const { c, index } of targets) {
    const dev = rt.blockDevice(index);
    let written = 0;
    try {
      for await (const piece of verifiedCopyPieces(c)) {
        await dev.write(piece.offset, piece.data);
        written += piece.data.length;
      }
    } catch (e) {
      throw new AgentError('io', `${c.id}: ${(e as Error).message}${written > 0 ? ` (after ${formatSize(written)} of ${formatSize(c.manifest.bytes)} were written back)` : '; nothing written'}`);
    }
    await dev.flush();
  }
  const bytes = targets.reduce((n, t) => n + t.c.manifest.bytes, 0);
  return { ok: true, restored: true, lines: [`${name}: wrote back ${formatSize(bytes)} from ${targets.map((t) => t.c.id).join(', ')} (replicated to the peer while connected)`] };
}
