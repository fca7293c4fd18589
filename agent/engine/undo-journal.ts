// The undo journal of a consistent resync target (beyond DRBD; engine-semantics "Beyond DRBD:
// consistent resync target"): a file beside the backing disk (DISK.undo) holding the old
// content of every block the resync (or a replicated write) overwrites during the sync, so
// that the target can go back to the image it had when the sync started.
// Crash safety: an entry is fdatasync'ed before the overwrite it protects is issued, so after
// a crash every overwritten block has its old content in the journal; an entry torn by the
// crash protected an overwrite that never happened, and its checksum makes replay stop there.
// Layout: a 64-byte header (magic, capacity, crc32c), then entries of
// [offset u64, length u32, crc32c u32 of offset+length+data] + data.
import { open, rm, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32c } from '../lib/crc32c.js';
import { Serializer } from '../lib/serializer.js';
import { BLOCK } from './machine-types.js';

const MAGIC = Buffer.from('DTUNDO01');
const HEADER = 64;
const ENTRY_HEAD = 16;

/** What the journal needs of the volume: positional reads and writes of the data area. */
export interface DataArea {
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  sync(): Promise<void>;
}

export function undoPath(disk: string): string {
  return `${disk}.undo`;
}

export class UndoJournalError extends Error {}

export class UndoJournal {
  private saved = new Set<number>();
  private end = HEADER;
  private readonly saves = new Serializer();

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly capacity: number,
  ) {}

  /** Bytes in use (header and entries). */
  get used(): number {
    return this.end;
  }

  /**
   * Creates an empty journal for a sync that is about to start. Refuses (UndoJournalError) when
   * the file system has less free space than the capacity: the operator is told before the
   * resync starts, not when the disk fills up half-way.
   */
  static async create(disk: string, capacity: number): Promise<UndoJournal> {
    const path = undoPath(disk);
    const fs = await statfs(dirname(path));
    const free = fs.bavail * fs.bsize;
    if (free < capacity) throw new UndoJournalError(`not enough space for the undo journal ${path}: ${capacity} bytes needed, ${free} free`);
    const fh = await open(path, 'w+');
    try {
      const head = Buffer.alloc(HEADER);
      MAGIC.copy(head, 0);
      head.writeBigUInt64BE(BigInt(capacity), 8);
      head.writeUInt32BE(crc32c(head.subarray(0, 60)), 60);
      await fh.write(head, 0, HEADER, 0);
      await fh.datasync();
    } catch (e) {
      await fh.close();
      await rm(path, { force: true });
      throw e;
    }
    return new UndoJournal(path, fh, capacity);
  }

  /**
   * Saves the current content of the blocks in [offset, offset+length) that are not saved yet,
   * durably. Resolves once the overwrite may proceed; rejects (UndoJournalError) when the
   * journal would exceed its capacity.
   */
  save(area: DataArea, offset: number, length: number): Promise<void> {
    return this.saves.run(() => this.saveNow(area, offset, length));
  }

  private async saveNow(area: DataArea, offset: number, length: number): Promise<void> {
    const runs: Array<{ offset: number; length: number }> = [];
    for (let b = Math.floor(offset / BLOCK); b * BLOCK < offset + length; b++) {
      if (this.saved.has(b)) continue;
      const last = runs[runs.length - 1];
      if (last && last.offset + last.length === b * BLOCK) last.length += BLOCK;
      else runs.push({ offset: b * BLOCK, length: BLOCK });
    }
    if (runs.length === 0) return;
    const bytes = runs.reduce((n, r) => n + ENTRY_HEAD + r.length, 0);
    if (this.end + bytes > this.capacity) throw new UndoJournalError(`undo journal ${this.path} is full (${this.capacity} bytes)`);
    for (const r of runs) {
      const data = await area.read(r.offset, r.length);
      const head = Buffer.alloc(ENTRY_HEAD);
      head.writeBigUInt64BE(BigInt(r.offset), 0);
      head.writeUInt32BE(r.length, 8);
      head.writeUInt32BE(crc32c(data, crc32c(head.subarray(0, 12))), 12);
      await this.fh.write(Buffer.concat([head, data]), 0, ENTRY_HEAD + r.length, this.end);
      this.end += ENTRY_HEAD + r.length;
    }
    await this.fh.datasync();
    for (const r of runs) for (let b = r.offset / BLOCK; b < (r.offset + r.length) / BLOCK; b++) this.saved.add(b);
  }

  /** Puts every saved block back; returns the blocks restored (they differ from the source again). */
  async rollback(area: DataArea): Promise<number[]> {
    await this.saves.idle();
    const blocks = await replay(this.fh, area);
    await this.drop();
    return blocks;
  }

  /** The sync finished (or the journal is abandoned): the file goes. */
  async drop(): Promise<void> {
    await this.saves.idle();
    await this.fh.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  /** Releases the file without deleting it (a simulated crash, in tests). */
  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

async function replay(fh: FileHandle, area: DataArea): Promise<number[]> {
  const head = Buffer.alloc(HEADER);
  const { bytesRead } = await fh.read(head, 0, HEADER, 0);
  if (bytesRead < HEADER || !head.subarray(0, 8).equals(MAGIC) || head.readUInt32BE(60) !== crc32c(head.subarray(0, 60))) return [];
  const blocks: number[] = [];
  let pos = HEADER;
  const eh = Buffer.alloc(ENTRY_HEAD);
  for (;;) {
    const r = await fh.read(eh, 0, ENTRY_HEAD, pos);
    if (r.bytesRead < ENTRY_HEAD) break;
    const offset = Number(eh.readBigUInt64BE(0));
    const length = eh.readUInt32BE(8);
    if (length === 0 || length % BLOCK !== 0 || length > 64 * 1024 * 1024) break;
    const data = Buffer.alloc(length);
    const d = await fh.read(data, 0, length, pos + ENTRY_HEAD);
    if (d.bytesRead < length || crc32c(data, crc32c(eh.subarray(0, 12))) !== eh.readUInt32BE(12)) break; // torn: its overwrite never happened
    await area.write(offset, data);
    for (let b = offset / BLOCK; b < (offset + length) / BLOCK; b++) blocks.push(b);
    pos += ENTRY_HEAD + length;
  }
  await area.sync();
  return blocks;
}

/**
 * At attach: a journal left by a crash mid-resync is replayed (the target goes back to its
 * last consistent image) and removed. Returns the blocks restored, or undefined if there was
 * no journal. `replay` false (the sync had finished before the crash) only removes it.
 */
export async function recoverUndoJournal(disk: string, area: DataArea, opts: { replay: boolean }): Promise<number[] | undefined> {
  const path = undoPath(disk);
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    return opts.replay ? await replay(fh, area) : [];
  } finally {
    await fh.close();
    await rm(path, { force: true });
  }
}
