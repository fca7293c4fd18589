// The Secondary's received payloads come from a pool and are reused once their disk write
// settles (buffer-pool.ts): releasing one too early would write another write's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { payloadPool } from '../../../agent/lib/buffer-pool.js';
import { upToDatePair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';
import { injectFaults } from '../../support/faulty-disk.js';
import { setTimeout as sleep } from 'node:timers/promises';

const BLOCK = 4096;

function pattern(round: number, block: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i += 4) b.writeUInt32LE(((round * 65599) ^ (block * 2654435761) ^ i) >>> 0, i);
  return b;
}

for (const protocol of ['A', 'B', 'C']) {
  test(`protocol ${protocol}: pooled payloads land intact under concurrent and overlapping writes`, async () => {
    const p = await upToDatePair({ protocol, size: '80M' });
    try {
      const dev = p.a.blockDevice(0);
      const before = { ...payloadPool.stats };
      const expected = new Map<number, Buffer>();
      // A round writes the same 64 blocks, 32 writes in flight, sizes from 4 KiB to 1 MiB:
      // a round overwrites the one before while that may still be queued on the Secondary.
      const writeRound = async (round: number): Promise<void> => {
        const writes: Promise<void>[] = [];
        for (let blk = 0; blk < 64; blk++) {
          const len = blk % 16 === 0 ? 256 * BLOCK : BLOCK;
          const data = pattern(round, blk, len);
          const offset = blk * 256 * BLOCK;
          expected.set(offset, data);
          writes.push(dev.write(offset, data));
          if (writes.length >= 32) await writes.shift();
        }
        await Promise.all(writes);
      };
      const caughtUp = () => waitFor(() => p.b.state.diskInflight.size === 0 && p.b.state.diskQueue.length === 0, 'the Secondary to finish its disk writes');
      for (let round = 0; round < 8; round++) await writeRound(round);
      await caughtUp();
      // How many buffers the rounds above needed depends on how far the Secondary lagged
      // (under protocol A, by much, and a later round may lag a little further); once they are
      // back, more rounds need few new ones (a loaded machine lets protocol A's Secondary lag by
      // a few dozen more). Payloads never released would need 64 a round: 256.
      const warm = { ...payloadPool.stats };
      for (let round = 8; round < 12; round++) await writeRound(round);
      await caughtUp();
      for (const [offset, data] of expected) {
        assert.ok((await readRange(p.diskB, offset, data.length)).equals(data), `Secondary's bytes at ${offset}`);
      }
      assert.equal(payloadPool.stats.doubleReleases, before.doubleReleases);
      assert.ok(payloadPool.stats.reused - before.reused >= 64, `payloads were reused (${payloadPool.stats.reused - before.reused})`);
      assert.ok(payloadPool.stats.allocated - warm.allocated < 128, `four rounds after the pool is warm allocated ${payloadPool.stats.allocated - warm.allocated} buffers (a leak: 256)`);
    } finally {
      await p.close();
    }
  });
}

test('protocol A: afterWrites waits until the peer link has sent what completed writes queued', async () => {
  const p = await upToDatePair({ protocol: 'A', size: '80M' });
  try {
    const dev = p.a.blockDevice(0);
    const peerLink = (p.b as unknown as { link: { pauseReceive(): void; resumeReceive(): void } }).link;
    // The Secondary stops reading: the Primary's socket backs up, yet protocol A completes.
    peerLink.pauseReceive();
    const data = Buffer.alloc(1 << 20, 0x3c);
    for (let i = 0; i < 48; i++) await dev.write(i << 20, data);
    let done = false;
    dev.afterWrites!(() => (done = true));
    await sleep(200);
    assert.equal(done, false, 'the link still holds queued data');
    peerLink.resumeReceive();
    await waitFor(() => done, 'afterWrites once the link has sent it');
  } finally {
    await p.close();
  }
});

test('protocol C: afterWrites calls back at once (a completed write was received by the peer)', async () => {
  const p = await upToDatePair({ protocol: 'C', size: '16M' });
  try {
    const dev = p.a.blockDevice(0);
    await dev.write(0, Buffer.alloc(1 << 20, 1));
    let done = false;
    dev.afterWrites!(() => (done = true));
    assert.equal(done, true);
  } finally {
    await p.close();
  }
});


test('a write that fails on the Primary\'s disk keeps its pooled buffer until the peer has read the frame', async () => {
  const p = await upToDatePair({ protocol: 'C', size: '16M' });
  try {
    const faults = injectFaults(p.a.stores[0]!);
    const dev = p.a.blockDevice(0);
    const peerLink = (p.b as unknown as { link: { pauseReceive(): void; resumeReceive(): void } }).link;
    const len = 64 * BLOCK;
    faults.data = true;
    // The Secondary reads slowly: the frame of the failed write waits on the Primary's socket.
    peerLink.pauseReceive();
    const first = payloadPool.take(len).fill(0x11);
    let answered = false;
    // What the iSCSI target does: the command answers, then the buffer goes back to the pool once
    // the device no longer reads it, and the next WRITE takes it.
    const next = dev.write(0, first).then(
      () => assert.fail('the write must fail on a full disk'),
      async () => {
        answered = true;
        await new Promise<void>((r) => dev.afterWrites!(r));
        payloadPool.release(first);
        const second = payloadPool.take(len).fill(0x22);
        await dev.write(len, second).catch(() => undefined);
      },
    );
    await sleep(300);
    assert.equal(answered, false, 'no answer while the frame is still queued for the peer');
    peerLink.resumeReceive();
    await next;
    await waitFor(() => p.b.state.diskInflight.size === 0, 'the Secondary to write both frames');
    assert.equal(p.b.state.conn, 'Connected', 'the peer kept the link (no frame checksum mismatch)');
    assert.ok((await readRange(p.diskB, 0, len)).equals(Buffer.alloc(len, 0x11)), 'the peer wrote what the failed write carried');
    assert.ok((await readRange(p.diskB, len, len)).equals(Buffer.alloc(len, 0x22)));
  } finally {
    await p.close();
  }
});
