import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetadata, getPersistentReservation, readMetadata } from '../../../agent/engine/metadata.js';
import { VolumeStore } from '../../../agent/engine/volume-store.js';
import { withDisk } from './temp-disk.js';
import { setTimeout as sleep } from 'node:timers/promises';

test('the reservation blob goes to the superblock and comes back at the next attach, after a crash too', async () => {
  await withDisk(16 << 20, async (disk) => {
    await createMetadata(disk, { nodeId: 0 });
    await disk.close();
    const blob = Buffer.from('{"generation":4,"registrations":{"iqn.x,i,0x01":"00000000000000aa"},"reservation":{"holder":"iqn.x,i,0x01","type":5}}');
    const st = await VolumeStore.attach(disk.path, 0, 1);
    assert.equal(st.meta().pr, undefined, 'fresh metadata has none');
    await st.persist({ ...st.meta(), disk: 'UpToDate', pr: blob });
    await st.abandon();

    const again = await VolumeStore.attach(disk.path, 0, 1);
    assert.deepEqual(again.meta().pr, blob);
    // Other persists keep it; clearing it removes the extra.
    await again.persist({ ...again.meta(), peerOutdated: true });
    assert.deepEqual(again.meta().pr, blob);
    await again.close({ ...again.meta(), pr: undefined });
    const st2 = await VolumeStore.attach(disk.path, 0, 1);
    assert.equal(st2.meta().pr, undefined);
    const md = await readMetadata(st2.disk);
    assert.equal(md && getPersistentReservation(md), undefined);
    await st2.close(st2.meta());
  });
});

test('rule 1: a write into an extent whose AL transaction is still being written waits for it', async () => {
  await withDisk(16 << 20, async (disk) => {
    await createMetadata(disk, { nodeId: 0 });
    await disk.close();
    const st = await VolumeStore.attach(disk.path, 0, 1);
    const events: string[] = [];
    const real = st.disk.write.bind(st.disk);
    st.disk.write = async (buf, pos, opts) => {
      if (opts?.durable) {
        await sleep(30);
        await real(buf, pos, opts);
        events.push('transaction durable');
        return;
      }
      events.push(`data at ${pos}`);
      return real(buf, pos, opts);
    };
    const first = st.write(0, Buffer.alloc(4096, 1), false); // cold extent: a transaction
    const second = st.write(4096, Buffer.alloc(4096, 2), false); // hot in memory only
    await Promise.all([first, second]);
    assert.deepEqual(events, ['transaction durable', 'data at 0', 'data at 4096']);
    await st.close(st.meta());
  });
});

test('drained: at once when no write is on its way to the disk, else when the last one has landed', async () => {
  await withDisk(16 << 20, async (disk) => {
    await createMetadata(disk, { nodeId: 0 });
    await disk.close();
    const st = await VolumeStore.attach(disk.path, 0, 1);
    await st.drained();
    const real = st.disk.write.bind(st.disk);
    const landed: number[] = [];
    st.disk.write = async (buf, pos, opts) => {
      if (!opts?.durable) await sleep(20);
      await real(buf, pos, opts);
      if (!opts?.durable) landed.push(pos);
    };
    const writes = [st.write(0, Buffer.alloc(4096, 1), false), st.write(8192, Buffer.alloc(4096, 2), true)];
    assert.equal(st.lowerPending, 2);
    await st.drained();
    assert.equal(st.lowerPending, 0);
    assert.equal(landed.length, 2, 'both writes landed before drained resolved');
    await Promise.all(writes);
    await st.close(st.meta());
  });
});
