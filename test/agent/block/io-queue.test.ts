import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adjacentRuns, IoQueue } from '../../../agent/block/io-queue.js';

const req = (pos: number, len: number) => ({ pos, buf: Buffer.alloc(len) });
const shape = (runs: Array<Array<{ pos: number; buf: Buffer }>>) => runs.map((r) => r.map((x) => `${x.pos}+${x.buf.length}`).join(' '));

describe('adjacentRuns', () => {
  test('merges byte-adjacent requests in position order', () => {
    assert.deepEqual(shape(adjacentRuns([req(8192, 4096), req(0, 4096), req(4096, 4096), req(20000, 10)])), ['0+4096 4096+4096 8192+4096', '20000+10']);
  });

  test('overlapping or repeated positions never share a run, and keep their order', () => {
    const a = req(0, 4096);
    const b = req(0, 4096);
    const runs = adjacentRuns([a, req(2048, 4096), b]);
    assert.deepEqual(shape(runs), ['0+4096', '0+4096', '2048+4096']);
    assert.equal(runs[0]![0], a);
    assert.equal(runs[1]![0], b);
  });

  test('a run stops at the byte and piece limits', () => {
    const reqs = Array.from({ length: 6 }, (_, i) => req(i * 100, 100));
    assert.deepEqual(shape(adjacentRuns(reqs, 250, 10)), ['0+100 100+100', '200+100 300+100', '400+100 500+100']);
    assert.deepEqual(shape(adjacentRuns(reqs, 1 << 20, 4)), ['0+100 100+100 200+100 300+100', '400+100 500+100']);
  });
});

/** A temporary file holding `initial`, open read-write for the test, removed afterwards. */
async function withFile(initial: Buffer, fn: (fd: number, path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-ioq-'));
  try {
    const path = join(dir, 'f');
    await writeFile(path, initial);
    const fd = openSync(path, 'r+');
    try {
      await fn(fd, path);
    } finally {
      closeSync(fd);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('IoQueue on a real file', () => {
  test('writes issued together land where they belong; reads past the end return zeros', async () => {
    await withFile(Buffer.alloc(3 * 4096, 0xee), async (fd, path) => {
      const writes = new IoQueue(fd, 'write', 1);
      // One batch in flight: the later ones queue behind it and go merged (adjacentRuns).
      await Promise.all([0, 1, 2, 5].map((i) => writes.submit(Buffer.alloc(4096, i + 1), i * 4096)));
      const onDisk = readFileSync(path);
      for (const i of [0, 1, 2, 5]) assert.ok(onDisk.subarray(i * 4096, (i + 1) * 4096).every((b) => b === i + 1), `block ${i}`);
      assert.ok(onDisk.subarray(3 * 4096, 5 * 4096).every((b) => b === 0), 'the gap stays a hole');
      const reads = new IoQueue(fd, 'read', 1);
      const bufs = [0, 1, 2, 6, 7].map(() => Buffer.alloc(4096, 0x55));
      await Promise.all(bufs.map((b, k) => reads.submit(b, [0, 1, 2, 6, 7][k]! * 4096)));
      assert.ok(bufs[1]!.every((b) => b === 2));
      assert.ok(bufs[3]!.every((b) => b === 0) && bufs[4]!.every((b) => b === 0), 'past the end: zeros');
    });
  });

  test('idle() waits for every request, batched, queued behind a batch or large', async () => {
    await withFile(Buffer.alloc(0), async (fd) => {
      const writes = new IoQueue(fd, 'write', 1);
      let settled = 0;
      const all = [0, 1, 2].map((i) => writes.submit(Buffer.alloc(4096, 1), i * 4096)).concat([writes.submit(Buffer.alloc(1 << 20, 2), 1 << 20)]);
      for (const p of all) void p.then(() => settled++);
      // Nothing has started yet (the batch waits for the end of this turn): a close now would lose it.
      await writes.idle();
      assert.equal(settled, 4);
      await writes.idle();
    });
  });

  test('what one turn submits to an idle queue goes as one merged call', async () => {
    await withFile(Buffer.alloc(0), async (fd, path) => {
      const writes = new IoQueue(fd, 'write', 1);
      await Promise.all([0, 1, 2, 3].map((i) => writes.submit(Buffer.alloc(4096, i + 1), i * 4096)));
      assert.equal(writes.calls, 1, 'the first request must not leave alone ahead of the others');
      const onDisk = readFileSync(path);
      for (const i of [0, 1, 2, 3]) assert.ok(onDisk.subarray(i * 4096, (i + 1) * 4096).every((b) => b === i + 1), `block ${i}`);
    });
  });
});
