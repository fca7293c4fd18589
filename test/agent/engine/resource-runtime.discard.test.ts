// Discards (UNMAP, WRITE SAME with UNMAP) on a replicated volume, with two real runtimes (real
// files, loopback TCP): both backing files give the blocks back, both read zeros, and the
// survivor of a failover reports the range deallocated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScsiTarget, type ScsiResult } from '../../../agent/iscsi/scsi.js';
import type { ResourceRuntime } from '../../../agent/engine/resource-runtime.js';
import { allocatedBytes, readRange } from '../../support/files.js';
import { upToDatePair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';

const MiB = 1 << 20;
const NEXUS = 'iqn.1994-05.com.redhat:client,i,0x1';

function target(rt: ResourceRuntime): ScsiTarget {
  return new ScsiTarget([{ device: rt.blockDevice(0) }], { iqn: 'iqn.2026-11.com.example:r0' });
}

function write16(t: ScsiTarget, lba: number, data: Buffer): Promise<ScsiResult> {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x8a;
  cdb.writeBigUInt64BE(BigInt(lba), 2);
  cdb.writeUInt32BE(data.length / 512, 10);
  return t.execute({ lun: 0, cdb, dataOut: data, nexus: NEXUS });
}

function unmap(t: ScsiTarget, ranges: Array<[lba: number, blocks: number]>): Promise<ScsiResult> {
  const p = Buffer.alloc(8 + 16 * ranges.length);
  p.writeUInt16BE(6 + 16 * ranges.length, 0);
  p.writeUInt16BE(16 * ranges.length, 2);
  ranges.forEach(([lba, n], i) => {
    p.writeBigUInt64BE(BigInt(lba), 8 + 16 * i);
    p.writeUInt32BE(n, 16 + 16 * i);
  });
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x42;
  cdb.writeUInt16BE(p.length, 7);
  return t.execute({ lun: 0, cdb, dataOut: p, nexus: NEXUS });
}

/** GET LBA STATUS at lba: [first lba, blocks, deallocated] of the first descriptor. */
async function lbaStatus(t: ScsiTarget, lba: number): Promise<[number, number, boolean]> {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x9e;
  cdb[1] = 0x12;
  cdb.writeBigUInt64BE(BigInt(lba), 2);
  cdb.writeUInt32BE(64, 10);
  const r = await t.execute({ lun: 0, cdb, dataOut: Buffer.alloc(0), nexus: NEXUS });
  assert.equal(r.status, 0, 'GET LBA STATUS');
  const d = r.data!;
  return [Number(d.readBigUInt64BE(8)), d.readUInt32BE(16), (d[20]! & 0x0f) === 1];
}

test('a discard on the Primary deallocates the range on both disks, and the survivor reports it deallocated', async () => {
  const p = await upToDatePair({ size: '64MiB' });
  try {
    const ta = target(p.a);
    const data = Buffer.alloc(16 * MiB, 0xa5);
    assert.equal((await write16(ta, (8 * MiB) / 512, data)).status, 0);
    const before = [await allocatedBytes(p.diskA), await allocatedBytes(p.diskB)];
    assert.ok(before.every((b) => b >= 16 * MiB), `written on both: ${before}`);

    // 16 MiB and a few unaligned blocks beyond: the tail is zero-filled, not punched.
    assert.equal((await unmap(ta, [[(8 * MiB) / 512, (16 * MiB) / 512 + 3]])).status, 0, 'UNMAP');
    for (const [i, disk] of [p.diskA, p.diskB].entries()) {
      assert.ok((await allocatedBytes(disk)) <= before[i]! - 15 * MiB, `${disk}: blocks given back`);
      assert.ok((await readRange(disk, 8 * MiB, 16 * MiB + 1536)).every((b) => b === 0), `${disk}: zeros`);
    }
    assert.deepEqual(await lbaStatus(ta, (8 * MiB) / 512), [(8 * MiB) / 512, (16 * MiB) / 512 + 3, true]);
    assert.equal((await lbaStatus(ta, 0))[2], false, 'never discarded: mapped');
    assert.equal(p.a.state.volumes[0]!.bitmap.weight, 0, 'replicated: nothing out of sync');

    await p.a.abandon();
    await waitFor(() => p.b.state.conn !== 'Connected', 'B notices the loss');
    await p.b.admin({ cmd: 'primary', force: false });
    const tb = target(p.b);
    assert.deepEqual(await lbaStatus(tb, (8 * MiB) / 512), [(8 * MiB) / 512, (16 * MiB) / 512 + 3, true], 'the survivor knows what was discarded');
  } finally {
    await p.close();
  }
});

test('a discard while the peer is away is out of sync, and the resync brings the zeros', async () => {
  const p = await upToDatePair({ size: '64MiB' });
  try {
    const ta = target(p.a);
    assert.equal((await write16(ta, 0, Buffer.alloc(4 * MiB, 0x3c))).status, 0);
    await p.b.admin({ cmd: 'disconnect' });
    await waitFor(() => p.a.state.conn !== 'Connected', 'A sees the peer leave');
    assert.equal((await unmap(ta, [[0, (4 * MiB) / 512]])).status, 0, 'UNMAP while apart');
    assert.equal(p.a.state.volumes[0]!.bitmap.weight * 4096, 4 * MiB, 'the range is out of sync');
    await p.b.admin({ cmd: 'connect', discardMyData: false });
    await waitFor(() => p.b.state.volumes[0]!.disk === 'UpToDate', 'resync done', 20000);
    assert.ok((await readRange(p.diskB, 0, 4 * MiB)).every((b) => b === 0), 'the peer reads zeros');
  } finally {
    await p.close();
  }
});

test('where fallocate(1) fails, a discard zero-fills instead of failing on one node', async () => {
  const p = await upToDatePair({ size: '64MiB' });
  const bin = join(p.dir, 'bin');
  const path = process.env.PATH;
  try {
    await mkdir(bin);
    const calls = join(p.dir, 'fallocate-calls');
    await writeFile(join(bin, 'fallocate'), `#!/bin/sh\necho x >> ${calls}\necho "fallocate: fallocate failed: Operation not supported" >&2\nexit 1\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${path ?? ''}`;
    const ta = target(p.a);
    assert.equal((await write16(ta, 0, Buffer.alloc(2 * MiB, 0x77))).status, 0);
    assert.equal((await unmap(ta, [[0, (2 * MiB) / 512]])).status, 0, 'UNMAP succeeds');
    for (const disk of [p.diskA, p.diskB]) assert.ok((await readRange(disk, 0, 2 * MiB)).every((b) => b === 0), `${disk}: zeros`);
    assert.equal(p.a.state.volumes[0]!.bitmap.weight, 0);
    assert.equal((await readFile(calls, 'utf8')).split('\n').filter(Boolean).length, 2, 'the punch was tried, and failed, on both nodes');
  } finally {
    if (path === undefined) delete process.env.PATH;
    else process.env.PATH = path;
    await p.close();
  }
});
