// A look at the backing disk of a resource that is not up, for status: does it exist, can it
// be read, does it hold metadata this node may attach. Reads only (two superblock slots).
import { stat } from 'node:fs/promises';
import type { DiskProbe } from '../protocol/not-up.js';
import { openBackingDisk } from '../block/backing-disk.js';
import { MetadataError, probeSuperblocks, readMetadata } from './metadata.js';

const PROBLEM_OF: Partial<Record<MetadataError['code'], 'newer-format' | 'size-mismatch'>> = {
  'unsupported-version': 'newer-format',
  'size-mismatch': 'size-mismatch',
};

export async function probeDisk(path: string, nodeId: number): Promise<DiskProbe> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) return st.code === 'ENOENT' || st.code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'failed', error: st.message };
  let disk;
  try {
    disk = await openBackingDisk(path);
  } catch (e) {
    return { kind: 'failed', error: (e as Error).message };
  }
  try {
    const md = await readMetadata(disk);
    if (md && md.nodeId !== nodeId) {
      return { kind: 'bad-metadata', problem: 'other-node', message: `metadata on ${path} belongs to node-id ${md.nodeId}, but this node is node-id ${nodeId}` };
    }
    if (md) return { kind: 'ok' };
    // Neither slot valid: a blank disk has no magic at all; a torn or overwritten one has.
    const damaged = (await probeSuperblocks(disk)).slots.find((s) => s.kind === 'invalid' && s.reason !== 'no magic');
    if (damaged?.kind === 'invalid') return { kind: 'bad-metadata', problem: 'damaged', message: `metadata on ${path} is damaged (${damaged.reason})` };
    return { kind: 'no-metadata' };
  } catch (e) {
    const problem = e instanceof MetadataError ? PROBLEM_OF[e.code] : undefined;
    if (problem) return { kind: 'bad-metadata', problem, message: (e as Error).message };
    return { kind: 'failed', error: `cannot read backing disk ${path}: ${(e as Error).message}` };
  } finally {
    await disk.close().catch(() => undefined);
  }
}
