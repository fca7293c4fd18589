import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError } from '../../../agent/block/block-device.js';
import { FileBlockDevice } from '../../../agent/block/file-block-device.js';

describe('FileBlockDevice', () => {
  test('reads, writes, discards and tracks mapping on a sparse file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-fbd-'));
    try {
      const dev = await FileBlockDevice.open(join(dir, 'd.img'), { create: 4 << 20 });
      assert.equal(dev.size, 4 << 20);
      assert.deepEqual(await dev.mapped(0, 4096), [{ offset: 0, length: 4096, mapped: false }]);
      await dev.write(4096, Buffer.alloc(8192, 0xab), { fua: true });
      assert.ok((await dev.read(4096, 8192)).every((b) => b === 0xab));
      assert.ok((await dev.read(0, 4096)).every((b) => b === 0));
      assert.deepEqual(await dev.mapped(0, 16384), [
        { offset: 0, length: 4096, mapped: false },
        { offset: 4096, length: 8192, mapped: true },
        { offset: 12288, length: 4096, mapped: false },
      ]);
      await dev.discard(4096, 4096);
      assert.ok((await dev.read(4096, 4096)).every((b) => b === 0));
      // A large discard punches a real hole.
      await dev.write(1 << 20, Buffer.alloc(1 << 20, 1));
      await dev.discard(1 << 20, 1 << 20);
      assert.ok((await dev.read(1 << 20, 1 << 20)).every((b) => b === 0));
      assert.deepEqual(await dev.mapped(1 << 20, 1 << 20), [{ offset: 1 << 20, length: 1 << 20, mapped: false }]);
      await assert.rejects(dev.read((4 << 20) - 512, 1024), (e: unknown) => e instanceof IoError && e.code === 'out-of-range');
      await assert.rejects(dev.write(-512, Buffer.alloc(512)), IoError);
      const release = dev.open('iscsi:x');
      assert.equal(dev.inUse, true);
      release();
      assert.equal(dev.inUse, false);
      await dev.flush();
      await dev.close();
      const again = await FileBlockDevice.open(join(dir, 'd.img'));
      assert.deepEqual(await again.mapped(0, 512), [{ offset: 0, length: 512, mapped: true }], 'an allocated file counts as mapped');
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
