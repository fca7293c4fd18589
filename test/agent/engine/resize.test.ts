import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate } from 'node:fs/promises';
import { growRefusal, peerGrowRefusal } from '../../../agent/engine/resize.js';
import { computeLayout } from '../../../agent/engine/md-layout.js';
import { openBackingDisk } from '../../../agent/block/backing-disk.js';
import { readMetadata } from '../../../agent/engine/metadata.js';
import { upToDatePair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';
import { readRange } from '../../support/files.js';
import { Bitmap } from '../../../agent/engine/bitmap.js';
import { createEngine, step } from '../../../agent/engine/machine.js';
import { BLOCK, type Action } from '../../../agent/engine/machine-types.js';
import { createPrng } from '../../support/prng.js';

const MiB = 1 << 20;

test('growRefusal: shrink and no room refused, one volume growing is enough', () => {
  const cases: Array<[number[], number[], RegExp | undefined]> = [
    [[16 * MiB], [32 * MiB], undefined],
    [[16 * MiB], [8 * MiB], /Refusing to shrink volume 0: its backing disk leaves 8 MiB for data, the device is 16 MiB/],
    [[16 * MiB], [16 * MiB], /no more room: grow both backing disks first/],
    [[16 * MiB, 16 * MiB], [16 * MiB, 20 * MiB], undefined],
  ];
  for (const [current, possible, want] of cases) {
    const r = growRefusal(current, possible);
    if (want) assert.match(r ?? '', want, JSON.stringify([current, possible]));
    else assert.equal(r, undefined);
  }
});

test('peerGrowRefusal: the peer must leave exactly the size asked', () => {
  assert.equal(peerGrowRefusal('ha-b', [32 * MiB], [32 * MiB]), undefined);
  assert.match(peerGrowRefusal('ha-b', [16 * MiB], [32 * MiB])!, /^The peer's disk is smaller: ha-b's backing disk of volume 0 leaves 16 MiB for data, 32 MiB asked; grow it first/);
  assert.match(peerGrowRefusal('ha-b', [40 * MiB], [32 * MiB])!, /^The peer's disk is larger/);
  assert.match(peerGrowRefusal('ha-b', [], [32 * MiB])!, /no volume 0/);
});

test('resize over the real wire: refused while the peer is smaller, then both grow; data before reads back, the new area is usable', async () => {
  const p = await upToDatePair({ size: '16MiB' });
  try {
    await p.a.admin({ cmd: 'primary', force: false });
    const dev = p.a.blockDevice(0);
    const before = Buffer.alloc(64 * 1024, 0x5a);
    await dev.write(3 * MiB, before);
    const oldBytes = p.a.state.volumes[0]!.dataBytes;
    await assert.rejects(p.a.resize(), /no more room/);

    await truncate(p.diskA, 32 * MiB);
    await assert.rejects(p.a.resize(), /The peer's disk is smaller: .* grow it first/);
    assert.equal(p.a.state.volumes[0]!.dataBytes, oldBytes, 'nothing grew');
    assert.equal(p.b.state.volumes[0]!.dataBytes, oldBytes);

    await truncate(p.diskB, 32 * MiB);
    const r = await p.a.resize();
    const want = computeLayout(32 * MiB).dataBytes;
    assert.deepEqual(r, [{ volume: 0, fromKiB: oldBytes / 1024, toKiB: want / 1024 }]);
    assert.equal(p.a.state.volumes[0]!.dataBytes, want);
    assert.equal(p.b.state.volumes[0]!.dataBytes, want);
    assert.equal(dev.size, want, 'the block device shows the new size');
    assert.equal(p.a.snapshot().devices[0]!.size, want / 1024);

    assert.deepEqual(await dev.read(3 * MiB, before.length), before, 'data written before reads back');
    const after = Buffer.alloc(64 * 1024, 0xc3);
    await dev.write(want - after.length, after);
    assert.deepEqual(await readRange(p.diskB, want - after.length, after.length), after, 'the new area replicates');
    await waitFor(() => p.a.state.volumes[0]!.repl === 'Established', 'still Established');
    assert.equal(p.a.state.volumes[0]!.bitmap.weight, 0, 'nothing out of sync');
    await dev.flush();
    await p.a.down();
    await p.b.down();
    // Both disks carry metadata for the new size at their new end.
    for (const path of [p.diskA, p.diskB]) {
      const d = await openBackingDisk(path);
      const md = await readMetadata(d).finally(() => d.close());
      assert.equal(md?.dataBytes, want, path);
    }
  } finally {
    await p.close();
  }
});

test('a handshake between unequal data areas is refused, naming both sizes (after a resize that failed half-way)', () => {
  const node = (nodeId: number, dataBytes: number) => {
    const s = createEngine({
      resource: 'r0',
      nodeId,
      peerNodeId: 1 - nodeId,
      protocol: 'C',
      maxRate: 100 * MiB,
      ackTimeout: 5,
      now: 0,
      rng: createPrng(7 + nodeId),
      volumes: [{ volume: 0, dataBytes, meta: { gi: { current: 0x1234n, bitmap: 0n, history: [] }, disk: 'UpToDate', primary: false, crashedPrimary: false, peerOutdated: false }, bitmap: new Bitmap(dataBytes / BLOCK) }],
    });
    step(s, { t: 'admin', req: 1, command: { cmd: 'connect', discardMyData: false } });
    return { s, hello: step(s, { t: 'link-up' }).find((a): a is Extract<Action, { a: 'send' }> => a.a === 'send' && a.msg.type === 'hello-state')!.msg };
  };
  const a = node(0, 16 * MiB);
  const b = node(1, 32 * MiB);
  step(a.s, { t: 'peer', msg: b.hello });
  assert.equal(a.s.conn, 'StandAlone');
  assert.equal(a.s.lastError, 'volume 0 is 16 MiB of data here and 32 MiB on the peer: both backing disks must leave the same; grow the smaller one, then resize');
});
