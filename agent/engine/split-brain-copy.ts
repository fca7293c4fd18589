// The split-brain victim's kept blocks on disk: `<state-dir>/split-brain/<resource>/<stem>.blocks`
// (the ranges' data, concatenated) and `<stem>.json` (split-brain-copy-decision.ts's manifest).
// Both are fsync'ed before the discard may go on; a copy that cannot be made whole is removed
// and the discard refused.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { SbCopyVolume } from './machine-types.js';
import { copyFailed, copyRanges, copyStem, decideCopy, rangesBytes, type SplitBrainCopyManifest } from './split-brain-copy-decision.js';

/** Reads and writes of the copy go in pieces of this, so a large range never sits in memory whole. */
const PIECE = 1024 * 1024;

export function splitBrainDir(stateDir: string, resource: string): string {
  return join(stateDir, 'split-brain', resource);
}

export interface KeepOptions {
  stateDir: string;
  resource: string;
  node: string;
  peer: string;
  capBytes: number;
  now: Date;
  /** Per volume: its number in the resource file and a read of its backing disk's data area. */
  volumes: Array<SbCopyVolume & { number: number; read(offset: number, length: number): Promise<Buffer> }>;
}

export interface KeptCopy {
  path: string;
  manifest: string;
  bytes: number;
  ranges: number;
}

export class CopyRefused extends Error {}

/** Keeps every volume's ranges durably; rejects with CopyRefused (the refusal's text) when it cannot. */
export async function keepSplitBrainCopies(o: KeepOptions): Promise<KeptCopy[]> {
  const dir = splitBrainDir(o.stateDir, o.resource);
  const withData = o.volumes.filter((v) => v.ranges.length > 0);
  const bytes = withData.reduce((n, v) => n + rangesBytes(v.ranges), 0);
  if (withData.length === 0) return [];
  const ranges = withData.reduce((n, v) => n + v.ranges.length, 0);
  const fail = (path: string, e: unknown): CopyRefused => new CopyRefused(copyFailed({ node: o.node, path, bytes, error: (e as Error).message }));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fail(dir, e);
  }
  const fs = await statfs(dir).catch((e: unknown) => Promise.reject(fail(dir, e)));
  const decision = decideCopy({ node: o.node, bytes, ranges, dir, capBytes: o.capBytes, freeBytes: fs.bavail * fs.bsize });
  if (decision.kind === 'refuse') throw new CopyRefused(decision.why);
  const kept: KeptCopy[] = [];
  const written: string[] = [];
  try {
    for (const v of withData) {
      const stem = join(dir, copyStem(o.now, v.number));
      const manifest = await writeBlocks(`${stem}.blocks`, v, written, o);
      written.push(`${stem}.json`);
      await writeFileAtomic(`${stem}.json`, JSON.stringify(manifest, null, 2) + '\n', 0o600, 0o700);
      kept.push({ path: `${stem}.blocks`, manifest: `${stem}.json`, bytes: manifest.bytes, ranges: manifest.ranges.length });
    }
  } catch (e) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw e instanceof CopyRefused ? e : fail(written[written.length - 1] ?? dir, e);
  }
  return kept;
}

async function writeBlocks(path: string, v: KeepOptions['volumes'][number], written: string[], o: KeepOptions): Promise<SplitBrainCopyManifest> {
  const fh = await open(path, 'wx', 0o600);
  written.push(path);
  const hash = createHash('sha256');
  try {
    let at = 0;
    for (const r of v.ranges) {
      for (let off = 0; off < r.length; off += PIECE) {
        const data = await v.read(r.offset + off, Math.min(PIECE, r.length - off));
        hash.update(data);
        await fh.write(data, 0, data.length, at);
        at += data.length;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const ranges = copyRanges(v.ranges);
  return {
    resource: o.resource,
    volume: v.number,
    node: o.node,
    created: o.now.toISOString(),
    generation: v.generation,
    peer: o.peer,
    ranges,
    peerChangedBlocks: v.peerChangedBlocks,
    resync: v.resync,
    bytes: rangesBytes(ranges),
    sha256: hash.digest('hex'),
  };
}

export interface ListedCopy {
  /** The file stem: `<timestamp>-vol<N>`. */
  id: string;
  path: string;
  manifestPath: string;
  manifest: SplitBrainCopyManifest;
}

/** The copies kept for one resource (or all), oldest first; manifests that do not parse are skipped. */
export async function listSplitBrainCopies(stateDir: string, resource?: string): Promise<ListedCopy[]> {
  const root = join(stateDir, 'split-brain');
  const resources = resource !== undefined ? [resource] : await readdir(root).catch(() => [] as string[]);
  const out: ListedCopy[] = [];
  for (const r of resources) {
    const dir = splitBrainDir(stateDir, r);
    for (const f of (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort()) {
      const manifestPath = join(dir, f);
      const m = parseManifest(await readFile(manifestPath, 'utf8').catch(() => ''));
      const id = f.slice(0, -'.json'.length);
      if (m) out.push({ id, path: join(dir, `${id}.blocks`), manifestPath, manifest: m });
    }
  }
  return out.sort((a, b) => a.manifest.created.localeCompare(b.manifest.created) || a.id.localeCompare(b.id));
}

function parseManifest(text: string): SplitBrainCopyManifest | undefined {
  try {
    const m = JSON.parse(text) as SplitBrainCopyManifest;
    return typeof m.resource === 'string' && typeof m.volume === 'number' && Array.isArray(m.ranges) && typeof m.sha256 === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The kept data of a copy, in pieces of at most PIECE bytes with their offsets on the volume,
 * once the whole file's sha256 was checked against the manifest: a damaged copy is never
 * written anywhere.
 */
export async function* verifiedCopyPieces(c: ListedCopy): AsyncGenerator<{ offset: number; data: Buffer }> {
  const fh = await open(c.path, 'r');
  try {
    const size = (await fh.stat()).size;
    const hash = createHash('sha256');
    for (let at = 0; at < size; at += PIECE) hash.update(await readAt(fh, at, Math.min(PIECE, size - at)));
    const sha = hash.digest('hex');
    if (size !== c.manifest.bytes || sha !== c.manifest.sha256) throw new Error(`${c.path} does not match its manifest (${size} bytes, sha256 ${sha}; expected ${c.manifest.bytes} bytes, ${c.manifest.sha256})`);
    for (const r of c.manifest.ranges) {
      for (let off = 0; off < r.length; off += PIECE) yield { offset: r.offset + off, data: await readAt(fh, r.fileOffset + off, Math.min(PIECE, r.length - off)) };
    }
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const b = Buffer.alloc(length);
  const { bytesRead } = await fh.read(b, 0, length, position);
  if (bytesRead !== length) throw new Error(`short read at ${position}: ${bytesRead} of ${length} bytes`);
  return b;
}
