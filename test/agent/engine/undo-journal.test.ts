// The undo journal file (DISK.undo) on real files: saves each block's old content once and
// durably, rolls back, survives a torn last entry, refuses more than its capacity, and is
// replayed (or just removed) at attach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { undoBytesFor } from '../../../agent/engine/undo-decision.js';
import { recoverUndoJournal, UndoJournal, UndoJournalError, undoPath, type DataArea } from '../../../agent/engine/undo-journal.js';

const BLOCK = 4096;

/** A data area over a plain file. */
async function fileArea(path: string): Promise<DataArea & { close(): Promise<void> }> {
  const fh = await open(path, 'r+');
  return {
    read: async (o, l) => {
      const b = Buffer.alloc(l);
      await fh.read(b, 0, l, o);
      return b;
    },
    write: async (o, d) => void (await fh.write(d, 0, d.length, o)),
    sync: () => fh.datasync(),
    close: () => fh.close(),
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-undo-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function image(fill: number, blocks = 64): Buffer {
  const b = Buffer.alloc(blocks * BLOCK);
  for (let i = 0; i < blocks; i++) b.fill((fill + i) & 0xff, i * BLOCK, (i + 1) * BLOCK);
  return b;
}

test('save then overwrite, rollback → the original image; the file is removed', async () => {
  await withDir(async (dir) => {
    const disk = join(dir, 'd.img');
    const original = image(1);
    await writeFile(disk, original);
    const area = await fileArea(disk);
    const j = await UndoJournal.create(disk, undoBytesFor(64));
    for (const [off, len] of [[0, 3 * BLOCK], [2 * BLOCK, 2 * BLOCK], [40 * BLOCK, BLOCK]] as const) {
      await j.save(area, off, len);
      await area.write(off, Buffer.alloc(len, 0xee));
    }
    assert.equal(j.used, undoBytesFor(0) + (16 + 3 * BLOCK) + (16 + BLOCK) + (16 + BLOCK), 'each block saved once (block 2 not twice)');
    const blocks = await j.rollback(area);
    assert.deepEqual(blocks.sort((a, b) => a - b), [0, 1, 2, 3, 40]);
    assert.ok((await readFile(disk)).equals(original));
    await assert.rejects(stat(undoPath(disk)), /ENOENT/);
    await area.close();
  });
});

test('a save that would exceed the capacity is refused before anything is overwritten', async () => {
  await withDir(async (dir) => {
    const disk = join(dir, 'd.img');
    await writeFile(disk, image(1));
    const area = await fileArea(disk);
    const j = await UndoJournal.create(disk, undoBytesFor(2));
    await j.save(area, 0, 2 * BLOCK);
    await assert.rejects(j.save(area, 10 * BLOCK, BLOCK), UndoJournalError);
    await j.drop();
    await area.close();
  });
});

test('a file system without room for the journal is refused up front', async () => {
  await withDir(async (dir) => {
    const disk = join(dir, 'd.img');
    await writeFile(disk, image(1, 1));
    await assert.rejects(UndoJournal.create(disk, 2 ** 60), /not enough space for the undo journal/);
    await assert.rejects(stat(undoPath(disk)), /ENOENT/);
  });
});

test('after a crash: attach replays the journal; a torn last entry is ignored (its overwrite never happened)', async () => {
  await withDir(async (dir) => {
    const disk = join(dir, 'd.img');
    const original = image(7);
    await writeFile(disk, original);
    const area = await fileArea(disk);
    const j = await UndoJournal.create(disk, undoBytesFor(64));
    await j.save(area, 5 * BLOCK, 2 * BLOCK);
    await area.write(5 * BLOCK, Buffer.alloc(2 * BLOCK, 0xcc));
    await j.save(area, 30 * BLOCK, BLOCK); // saved, then the crash: the overwrite never came
    await j.abandon();
    // Tear the last entry.
    const size = (await stat(undoPath(disk))).size;
    await truncate(undoPath(disk), size - 100);
    const blocks = await recoverUndoJournal(disk, area, { replay: true });
    assert.deepEqual(blocks, [5, 6]);
    assert.ok((await readFile(disk)).equals(original));
    await assert.rejects(stat(undoPath(disk)), /ENOENT/);
    assert.equal(await recoverUndoJournal(disk, area, { replay: true }), undefined, 'no journal, nothing to do');
    await area.close();
  });
});

test('a journal whose sync had finished is removed at attach, not replayed', async () => {
  await withDir(async (dir) => {
    const disk = join(dir, 'd.img');
    await writeFile(disk, image(1));
    const area = await fileArea(disk);
    const j = await UndoJournal.create(disk, undoBytesFor(64));
    await j.save(area, 0, BLOCK);
    await area.write(0, Buffer.alloc(BLOCK, 0x99));
    await j.abandon();
    assert.deepEqual(await recoverUndoJournal(disk, area, { replay: false }), []);
    assert.ok((await area.read(0, BLOCK)).equals(Buffer.alloc(BLOCK, 0x99)), 'the finished sync\'s data stays');
    await assert.rejects(stat(undoPath(disk)), /ENOENT/);
    await area.close();
  });
});
