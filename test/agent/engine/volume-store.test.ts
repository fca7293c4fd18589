import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetadata, getPersistentReservation, readMetadata } from '../../../agent/engine/metadata.js';
import { VolumeStore } from '../../../agent/engine/volume-store.js';
import { withDisk } from './temp-disk.js';

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
