import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPair, type Pair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';


const connected = (p: Pair) => p.a.state.conn === 'Connected' && p.b.state.conn === 'Connected';
const established = (p: Pair) => p.a.state.volumes[0]!.repl === 'Established' && p.b.state.volumes[0]!.repl === 'Established';

test('initial sync after primary --force, then protocol C writes land on both disks', async () => {
  const p = await createPair();
  try {
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => connected(p), 'both Connected');
    assert.equal(p.a.state.volumes[0]!.disk, 'Inconsistent');
    await assert.rejects(p.a.admin({ cmd: 'primary', force: false }), /Need access to UpToDate data/);
    await p.a.admin({ cmd: 'primary', force: true });
    await waitFor(() => established(p) && p.b.state.volumes[0]!.disk === 'UpToDate', 'initial sync to finish');
    const va = p.a.state.volumes[0]!;
    const vb = p.b.state.volumes[0]!;
    assert.equal(va.meta.gi.current >> 1n, vb.meta.gi.current >> 1n, 'equal current UUIDs');
    await waitFor(() => va.meta.gi.bitmap === 0n, 'the source to clear its bitmap UUID once the target confirms the end');

    const dev = p.a.blockDevice(0);
    const data = Buffer.alloc(256 * 1024, 0xa5);
    await dev.write(1 << 20, data);
    // Protocol C: once the write completed, the peer's disk has it.
    assert.deepEqual(await readRange(p.diskB, 1 << 20, data.length), data);
    assert.deepEqual(await dev.read(1 << 20, data.length), data);
    await dev.flush();
  } finally {
    await p.close();
  }
});

test('secondary outage: writes while disconnected move by bitmap only', async () => {
  const p = await createPair();
  try {
    await p.a.admin({ cmd: 'connect', discardMyData: false });
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => connected(p), 'both Connected');
    await p.a.admin({ cmd: 'new-current-uuid', clearBitmap: true });
    await waitFor(() => p.b.state.volumes[0]!.disk === 'UpToDate', 'B UpToDate without sync');
    await p.a.admin({ cmd: 'primary', force: false });
    await p.b.admin({ cmd: 'disconnect' });
    await waitFor(() => p.a.state.conn === 'Connecting', 'A notices');
    const dev = p.a.blockDevice(0);
    const blocks = [3, 100, 2000];
    for (const b of blocks) await dev.write(b * 4096, Buffer.alloc(4096, b & 0xff));
    assert.equal(p.a.state.volumes[0]!.bitmap.weight, blocks.length);
    const oldC = p.a.state.volumes[0]!.meta.gi.bitmap;
    assert.notEqual(oldC, 0n, 'a new generation started at the first write');
    const before = p.b.state.volumes[0]!.stats.received;
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => connected(p) && established(p), 'bitmap resync to finish');
    assert.equal(p.b.state.volumes[0]!.stats.received - before, blocks.length * 4096, 'exactly the written blocks moved');
    await waitFor(() => p.a.state.volumes[0]!.meta.gi.bitmap === 0n, 'the target to confirm the end');
    assert.ok(p.a.state.volumes[0]!.meta.gi.history.some((h) => h >> 1n === oldC >> 1n), 'old bitmap UUID in history');
    for (const b of blocks) assert.deepEqual(await readRange(p.diskB, b * 4096, 4096), Buffer.alloc(4096, b & 0xff));
  } finally {
    await p.close();
  }
});
