// Consistent resync target end to end with two real runtimes on real files: the SyncTarget's
// undo journal brings it back to its pre-sync image when the source vanishes mid-resync, and
// after its own crash mid-resync (runtime abandoned, then attached again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { undoPath } from '../../../agent/engine/undo-journal.js';
import { createPair, type Pair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';

const BLOCK = 4096;
const CHUNK = 64 * 1024;
/** Chunks written while B is away: 3 MiB in 48 scattered 64 KiB writes (fits the 4 MiB journal maximum of a 16 MiB volume). */
const CHUNKS = Array.from({ length: 48 }, (_, i) => i * 2 * CHUNK);


const connected = (p: Pair) => p.a.state.conn === 'Connected' && p.b.state.conn === 'Connected';

/** A and B hold X everywhere; B leaves; A writes Y over CHUNKS; B comes back as a slow SyncTarget with a journal. */
async function midResync(): Promise<Pair> {
  const p = await createPair();
  await p.a.admin({ cmd: 'connect', discardMyData: false });
  await p.b.admin({ cmd: 'connect', discardMyData: false });
  await waitFor(() => connected(p), 'both Connected');
  await p.a.admin({ cmd: 'new-current-uuid', clearBitmap: true });
  await waitFor(() => p.b.state.volumes[0]!.disk === 'UpToDate', 'B UpToDate');
  await p.a.admin({ cmd: 'primary', force: false });
  const dev = p.a.blockDevice(0);
  for (const off of CHUNKS) await dev.write(off, Buffer.alloc(CHUNK, 0x58)); // X, replicated
  await p.b.admin({ cmd: 'disconnect' });
  await waitFor(() => p.a.state.conn === 'Connecting', 'A notices');
  for (const off of CHUNKS) await dev.write(off, Buffer.alloc(CHUNK, 0x59)); // Y, B misses it
  p.b.state.maxRate = 512 * 1024; // slow enough to interrupt
  await p.b.admin({ cmd: 'connect', discardMyData: false });
  await waitFor(() => p.b.state.volumes[0]!.repl === 'SyncTarget' && p.b.state.volumes[0]!.undo?.state === 'active', 'B SyncTarget with an undo journal');
  await waitFor(() => p.b.state.volumes[0]!.bitmap.weight < (CHUNKS.length * CHUNK) / BLOCK - 64, 'some resync data written');
  const snap = p.b.snapshot().devices[0]!;
  assert.ok(snap.undoJournal && snap.undoJournal.used > 64 * BLOCK && snap.undoJournal.capacity >= snap.undoJournal.used, `undo journal reported: ${JSON.stringify(snap.undoJournal)}`);
  assert.equal(p.b.state.volumes[0]!.disk, 'Inconsistent');
  return p;
}

async function assertImage(path: string, fill: number): Promise<void> {
  for (const off of CHUNKS) assert.deepEqual(await readRange(path, off, CHUNK), Buffer.alloc(CHUNK, fill), `chunk at ${off}`);
}

test('the source vanishes mid-resync → the target rolls back to its consistent image, Outdated, promotable with --force', async () => {
  const p = await midResync();
  try {
    await p.a.abandon(); // the source dies
    await waitFor(() => p.b.state.volumes[0]!.disk === 'Outdated', 'B rolled back to Outdated', 15000);
    await assertImage(p.diskB, 0x58);
    await assert.rejects(stat(undoPath(p.diskB)), /ENOENT/, 'the journal is gone');
    assert.ok(p.b.state.volumes[0]!.bitmap.weight >= (CHUNKS.length * CHUNK) / BLOCK, 'every differing block is out of sync again');
    await assert.rejects(p.b.admin({ cmd: 'primary', force: false }), /Need access to UpToDate data/);
    await p.b.admin({ cmd: 'primary', force: true });
    assert.deepEqual(await p.b.blockDevice(0).read(CHUNKS[3]!, CHUNK), Buffer.alloc(CHUNK, 0x58));
  } finally {
    await p.close();
  }
});

test('the target crashes mid-resync → attach replays the journal (Outdated, X); reconnecting resyncs with a new journal (Y)', async () => {
  const p = await midResync();
  try {
    await p.b.abandon(); // kill -9 of the target
    const st = await stat(undoPath(p.diskB));
    assert.ok(st.size > 0, 'the journal survived the crash');
    const b = await p.reattach('b');
    assert.equal(b.state.volumes[0]!.disk, 'Outdated');
    await assertImage(p.diskB, 0x58);
    await assert.rejects(stat(undoPath(p.diskB)), /ENOENT/);
    await b.admin({ cmd: 'connect', discardMyData: false });
    // The crash also put B's hot activity-log extents into its bitmap (4 MiB each); the default
    // journal maximum covers the whole volume, so recovery needs no operator.
    await waitFor(() => connected(p) && b.state.volumes[0]!.disk === 'UpToDate' && b.state.volumes[0]!.repl === 'Established', 'resync completes', 20000);
    await assertImage(p.diskB, 0x59);
    await assert.rejects(stat(undoPath(p.diskB)), /ENOENT/, 'dropped when the sync finished');
  } finally {
    await p.close();
  }
});
