// The iSCSI target's reservation store backed by the replicated metadata, with two real
// runtimes (real files, loopback TCP): what a Windows cluster's failover needs, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBackingDisk } from '../../../agent/block/backing-disk.js';
import { getPersistentReservation, readMetadata } from '../../../agent/engine/metadata.js';
import type { ResourceRuntime } from '../../../agent/engine/resource-runtime.js';
import { deserializePr } from '../../../agent/iscsi/reservations.js';
import { ScsiTarget, type ScsiResult } from '../../../agent/iscsi/scsi.js';
import { upToDatePair } from '../../support/two-runtimes.js';
import { waitFor } from '../../support/wait.js';

const HOLDER = 'iqn.1991-05.com.microsoft:node1,i,0x400001370000';
const OTHER = 'iqn.1991-05.com.microsoft:node2,i,0x400001370000';

function target(rt: ResourceRuntime): ScsiTarget {
  return new ScsiTarget([{ device: rt.blockDevice(0), reservations: rt.reservationStore(0) }], { iqn: 'iqn.2026-11.com.example:r0' });
}

function prOut(t: ScsiTarget, nexus: string, sa: number, type: number, key: bigint, saKey: bigint): Promise<ScsiResult> {
  const cdb = Buffer.from([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]);
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(key, 0);
  p.writeBigUInt64BE(saKey, 8);
  return t.execute({ lun: 0, cdb, dataOut: p, nexus });
}

const prIn = (t: ScsiTarget, nexus: string, sa: number) => t.execute({ lun: 0, cdb: Buffer.from([0x5e, sa, 0, 0, 0, 0, 0, 0x01, 0, 0]), dataOut: Buffer.alloc(0), nexus });
const write10 = (t: ScsiTarget, nexus: string) => t.execute({ lun: 0, cdb: Buffer.from([0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0]), dataOut: Buffer.alloc(512, 0x5a), nexus });

async function superblockPr(path: string): Promise<Buffer | undefined> {
  const disk = await openBackingDisk(path);
  try {
    const md = await readMetadata(disk);
    return md ? getPersistentReservation(md) : undefined;
  } finally {
    await disk.close();
  }
}

test('a reservation taken on the Primary is on the peer\'s disk when acknowledged, and served by the survivor after a crash', async () => {
  const p = await upToDatePair();
  try {
    const ta = target(p.a);
    assert.equal((await prOut(ta, HOLDER, 0, 0, 0n, 0xc1n)).status, 0, 'REGISTER');
    assert.equal((await prOut(ta, HOLDER, 1, 5, 0xc1n, 0n)).status, 0, 'RESERVE, WRITE EXCLUSIVE - REGISTRANTS ONLY');
    // Acknowledged: both superblocks hold it already.
    const onB = await superblockPr(p.diskB);
    assert.ok(onB, 'in the peer\'s superblock');
    assert.equal(deserializePr(onB).reservation?.holder, HOLDER);
    assert.deepEqual(await superblockPr(p.diskA), onB);
    assert.equal((await write10(ta, OTHER)).status, 0x18, 'RESERVATION CONFLICT for a non-registrant');

    // The Secondary's store refuses changes: only the Primary's target changes reservations.
    await assert.rejects(p.b.reservationStore(0).save(Buffer.from('{}')), /not Primary/);

    await p.a.abandon();
    await waitFor(() => p.b.state.conn !== 'Connected', 'B notices the loss');
    await p.b.admin({ cmd: 'primary', force: false });
    const tb = target(p.b);
    const keys = await prIn(tb, HOLDER, 0);
    assert.equal(keys.data?.readUInt32BE(4), 8, 'one key');
    assert.equal(keys.data?.readBigUInt64BE(8), 0xc1n);
    const res = await prIn(tb, HOLDER, 1);
    assert.equal(res.data?.readBigUInt64BE(8), 0xc1n, 'the reservation holder\'s key');
    assert.equal((res.data?.[21] ?? 0) & 0x0f, 5, 'type WRITE EXCLUSIVE - REGISTRANTS ONLY');
    assert.equal((await write10(tb, OTHER)).status, 0x18);
    assert.equal((await write10(tb, HOLDER)).status, 0, 'the holder writes on');
  } finally {
    await p.close();
  }
});
