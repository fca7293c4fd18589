import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ScsiTarget, type ScsiResult } from '../../../agent/iscsi/scsi.js';
import { memoryReservationStore } from '../../../agent/block/reservation-store.js';
import { deserializePr, serializePr } from '../../../agent/iscsi/reservations.js';
import { IoError } from '../../../agent/block/block-device.js';
import { PERSISTENT_RESERVATION_MAX } from '../../../agent/engine/metadata.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';
import { setTimeout as sleep } from 'node:timers/promises';

const A = 'iqn.a,i,0x000000000001';
const B = 'iqn.b,i,0x000000000002';

function setup(blocks = 2048) {
  const dev = new MemoryBlockDevice(blocks * 512);
  const store = memoryReservationStore();
  const t = new ScsiTarget([{ device: dev, reservations: store }], { iqn: 'iqn.2026-11.test:scsi' });
  return { dev, t, store };
}

function cdb(bytes: number[], len: number): Buffer {
  const b = Buffer.alloc(len);
  Buffer.from(bytes).copy(b);
  return b;
}

const run = (t: ScsiTarget, c: Buffer, nexus = A, dataOut = Buffer.alloc(0), lun = 0): Promise<ScsiResult> => t.execute({ lun, cdb: c, dataOut, nexus });
const senseOf = (r: ScsiResult) => (r.sense ? { key: (r.sense[2] as number) & 0xf, asc: r.sense[12], ascq: r.sense[13] } : undefined);

function rw16(op: number, lba: number, blocks: number, flags = 0): Buffer {
  const c = Buffer.alloc(16);
  c[0] = op;
  c[1] = flags;
  c.writeBigUInt64BE(BigInt(lba), 2);
  c.writeUInt32BE(blocks, 10);
  return c;
}

describe('scsi command layer', () => {
  test('unit attention 29/00 after a nexus joins; INQUIRY and REPORT LUNS are exempt', async () => {
    const { t } = setup();
    t.nexusJoined(A);
    assert.equal((await run(t, cdb([0x12, 0, 0, 0, 96], 6))).status, 0);
    assert.equal((await run(t, cdb([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 12))).status, 0);
    const tur = await run(t, cdb([0x00], 6));
    assert.equal(tur.status, 2);
    assert.deepEqual(senseOf(tur), { key: 6, asc: 0x29, ascq: 0 });
    assert.equal((await run(t, cdb([0x00], 6))).status, 0);
  });

  test('INQUIRY: standard data, VPD pages, NAA designator', async () => {
    const { t } = setup();
    const std = await run(t, cdb([0x12, 0, 0, 0, 96], 6));
    assert.equal(std.data?.[7], 0x02, 'CmdQue');
    assert.equal(std.data?.subarray(8, 16).toString(), 'DRBD-TUI');
    const pages = await run(t, cdb([0x12, 1, 0x00, 0, 255], 6));
    assert.deepEqual([...(pages.data?.subarray(4) ?? [])], [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
    const id = (await run(t, cdb([0x12, 1, 0x83, 0, 255], 6))).data as Buffer;
    let off = 4;
    const types: number[] = [];
    while (off < id.length) {
      types.push((id[off + 1] as number) & 0x0f);
      if (((id[off + 1] as number) & 0x0f) === 3) assert.equal((id[off + 4] as number) >> 4, 6, 'NAA 6');
      off += 4 + (id[off + 3] as number);
    }
    assert.ok(types.includes(3));
    assert.deepEqual(senseOf(await run(t, cdb([0x12, 1, 0x55, 0, 255], 6))), { key: 5, asc: 0x24, ascq: 0 });
    const truncated = await run(t, cdb([0x12, 0, 0, 0, 5], 6));
    assert.equal(truncated.data?.length, 5);
  });

  test('READ CAPACITY 10/16 and thin provisioning bits', async () => {
    const { t } = setup(4096);
    const rc10 = await run(t, cdb([0x25], 10));
    assert.equal(rc10.data?.readUInt32BE(0), 4095);
    assert.equal(rc10.data?.readUInt32BE(4), 512);
    const rc16 = await run(t, cdb([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32], 16));
    assert.equal(rc16.data?.readBigUInt64BE(0), 4095n);
    assert.equal(rc16.data?.[14], 0xc0);
  });

  test('READ/WRITE 10/16 round-trip, FUA, out-of-range, protect fields, zero blocks', async () => {
    const { t, dev } = setup();
    const data = Buffer.alloc(1024, 0x5a);
    const w = await run(t, rw16(0x8a, 10, 2, 0x08), A, data);
    assert.equal(w.status, 0);
    assert.equal(dev.fuaWrites, 1);
    const r = await run(t, rw16(0x88, 10, 2));
    assert.deepEqual(r.data, data);
    const c10 = cdb([0x28, 0, 0, 0, 0, 10, 0, 0, 1], 10);
    assert.deepEqual((await run(t, c10)).data, data.subarray(0, 512));
    assert.deepEqual(senseOf(await run(t, rw16(0x88, 2047, 2))), { key: 5, asc: 0x21, ascq: 0 });
    assert.deepEqual(senseOf(await run(t, rw16(0x88, 0, 1, 0x20))), { key: 5, asc: 0x24, ascq: 0 });
    assert.equal((await run(t, rw16(0x88, 0, 0))).data, undefined);
    // A write whose data-out is shorter than the CDB asks writes only the whole blocks sent.
    const short = await run(t, rw16(0x8a, 100, 2), A, Buffer.alloc(512, 1));
    assert.equal(short.status, 0);
    assert.equal(short.dataOutExpected, 1024);
    assert.equal(dev.data[100 * 512], 1);
    assert.equal(dev.data[101 * 512], 0);
  });

  test('unknown opcode and unknown LUN', async () => {
    const { t } = setup();
    assert.deepEqual(senseOf(await run(t, cdb([0xee], 16))), { key: 5, asc: 0x20, ascq: 0 });
    assert.deepEqual(senseOf(await run(t, cdb([0x00], 6), A, Buffer.alloc(0), 5)), { key: 5, asc: 0x25, ascq: 0 });
    assert.equal((await run(t, cdb([0x12, 0, 0, 0, 36], 6), A, Buffer.alloc(0), 5)).data?.[0], 0x7f);
  });

  test('UNMAP and WRITE SAME with UNMAP zero the range; COMPARE AND WRITE compares then writes', async () => {
    const { t, dev } = setup();
    dev.data.fill(0xff, 0, 64 * 512);
    const p = Buffer.alloc(24);
    p.writeUInt16BE(22, 0);
    p.writeUInt16BE(16, 2);
    p.writeBigUInt64BE(4n, 8);
    p.writeUInt32BE(4, 16);
    assert.equal((await run(t, cdb([0x42, 0, 0, 0, 0, 0, 0, 0, 24], 10), A, p)).status, 0);
    assert.equal(dev.data[4 * 512], 0);
    assert.equal(dev.data[8 * 512], 0xff);
    assert.equal((await run(t, cdb([0x41, 0x08, 0, 0, 0, 16, 0, 0, 8], 10), A, Buffer.alloc(512, 0x77))).status, 0);
    assert.equal(dev.data[20 * 512], 0);
    const ws = await run(t, cdb([0x41, 0, 0, 0, 0, 32, 0, 0, 2], 10), A, Buffer.alloc(512, 0x33));
    assert.equal(ws.status, 0);
    assert.equal(dev.data[33 * 512 + 511], 0x33);
    const caw = Buffer.concat([Buffer.alloc(512, 0x33), Buffer.alloc(512, 0x44)]);
    const c = rw16(0x89, 32, 0);
    c[13] = 1;
    assert.equal((await run(t, c, A, caw)).status, 0);
    assert.equal(dev.data[32 * 512], 0x44);
    const mis = await run(t, c, A, caw);
    assert.deepEqual(senseOf(mis), { key: 0xe, asc: 0x1d, ascq: 0 });
  });

  test('persistent reservations: register, reserve, conflict, preempt, state persisted', async () => {
    const { t, store } = setup();
    const prOut = (sa: number, type: number, key: bigint, saKey: bigint, nexus: string) => {
      const p = Buffer.alloc(24);
      p.writeBigUInt64BE(key, 0);
      p.writeBigUInt64BE(saKey, 8);
      return run(t, cdb([0x5f, sa, type, 0, 0, 0, 0, 0, 24], 10), nexus, p);
    };
    assert.equal((await prOut(0, 0, 0n, 0xaan, A)).status, 0);
    assert.equal((await prOut(0, 0, 0n, 0xbbn, B)).status, 0);
    assert.equal((await prOut(1, 1, 0xaan, 0n, A)).status, 0); // WRITE EXCLUSIVE
    assert.equal((await run(t, rw16(0x8a, 0, 1), B, Buffer.alloc(512))).status, 0x18);
    assert.equal((await run(t, rw16(0x88, 0, 1), B)).status, 0);
    const keys = await run(t, cdb([0x5e, 0, 0, 0, 0, 0, 0, 0, 255], 10));
    assert.equal(keys.data?.readUInt32BE(4), 16);
    assert.equal((await prOut(4, 1, 0xbbn, 0xaan, B)).status, 0); // B preempts A
    assert.equal((await run(t, rw16(0x8a, 0, 1), A, Buffer.alloc(512))).status, 0x18);
    const res = await run(t, cdb([0x5e, 1, 0, 0, 0, 0, 0, 0, 255], 10));
    assert.equal(res.data?.readBigUInt64BE(8), 0xbbn);
    const saved = deserializePr(await store.load());
    assert.equal(saved.reservation?.holder, B);
    // A fresh target over the same store sees the reservation (what a failover needs).
    const t2 = new ScsiTarget([{ device: new MemoryBlockDevice(2048 * 512), reservations: store }], { iqn: 'iqn.2026-11.test:scsi' });
    assert.equal((await run(t2, rw16(0x8a, 0, 1), A, Buffer.alloc(512))).status, 0x18);
  });

  test('persistent reservations: a save the store refuses changes nothing; concurrent changes apply in order', async () => {
    const dev = new MemoryBlockDevice(2048 * 512);
    const inner = memoryReservationStore();
    let refuse = false;
    const saves: number[] = [];
    const store = {
      load: () => inner.load(),
      save: async (b: Buffer) => {
        await sleep(5);
        if (refuse) throw new IoError('not Primary', 'not-primary');
        saves.push(deserializePr(b).generation);
        return inner.save(b);
      },
    };
    const t = new ScsiTarget([{ device: dev, reservations: store }], { iqn: 'iqn.2026-11.test:scsi' });
    const prOut = (sa: number, type: number, key: bigint, saKey: bigint, nexus: string) => {
      const p = Buffer.alloc(24);
      p.writeBigUInt64BE(key, 0);
      p.writeBigUInt64BE(saKey, 8);
      return run(t, cdb([0x5f, sa, type, 0, 0, 0, 0, 0, 24], 10), nexus, p);
    };
    // Issued together: each sees the state the one before it saved.
    const [ra, rb] = await Promise.all([prOut(0, 0, 0n, 0xaan, A), prOut(0, 0, 0n, 0xbbn, B)]);
    assert.deepEqual([ra.status, rb.status], [0, 0]);
    assert.deepEqual(saves, [1, 2]);
    refuse = true;
    const r = await prOut(1, 5, 0xaan, 0n, A);
    assert.deepEqual(senseOf(r), { key: 2, asc: 0x04, ascq: 0x0a }, 'NOT READY, as a write on a demoted node');
    const res = await run(t, cdb([0x5e, 1, 0, 0, 0, 0, 0, 0, 255], 10));
    assert.equal(res.data?.readUInt32BE(4), 0, 'no reservation is served that the store does not have');
  });

  test('persistent reservations: past the store\'s capacity REGISTER fails with INSUFFICIENT REGISTRATION RESOURCES', async () => {
    const inner = memoryReservationStore();
    const store = { ...inner, capacity: PERSISTENT_RESERVATION_MAX };
    const t = new ScsiTarget([{ device: new MemoryBlockDevice(2048 * 512), reservations: store }], { iqn: 'iqn.2026-11.test:scsi' });
    const register = (i: number) => {
      const p = Buffer.alloc(24);
      p.writeBigUInt64BE(BigInt(0x1000 + i), 8);
      return run(t, cdb([0x5f, 0, 0, 0, 0, 0, 0, 0, 24], 10), `iqn.1991-05.com.microsoft:cluster-node${i}.corp.example.com,i,0x40000137000${i % 10}`, p);
    };
    let n = 0;
    for (; n < 200; n++) if ((await register(n)).status !== 0) break;
    // Two paths from each node of a sixteen-node cluster fit in the 1 KiB a superblock keeps.
    assert.ok(n >= 32, `only ${n} registrations fit`);
    assert.deepEqual(senseOf(await register(n)), { key: 5, asc: 0x55, ascq: 0x04 });
    const kept = deserializePr(await store.load());
    assert.equal(Object.keys(kept.registrations).length, n, 'the refused one changed nothing');
    assert.ok(serializePr(kept).length <= PERSISTENT_RESERVATION_MAX);
  });

  test('persistent reservations: the first nexus to join reads the store again', async () => {
    const { t, store } = setup();
    t.nexusJoined(A);
    assert.equal((await run(t, cdb([0x5e, 0, 0, 0, 0, 0, 0, 0, 255], 10), A)).status, 2, 'unit attention first');
    assert.equal((await run(t, cdb([0x5e, 0, 0, 0, 0, 0, 0, 0, 255], 10), A)).data?.readUInt32BE(4), 0);
    // Meanwhile the peer, Primary for a while, changed the replicated state.
    await store.save(Buffer.from(JSON.stringify({ generation: 5, registrations: { [B]: '00000000000000bb' }, reservation: null })));
    t.nexusJoined(B);
    assert.equal((await run(t, cdb([0x5e, 0, 0, 0, 0, 0, 0, 0, 255], 10), A)).data?.readUInt32BE(4), 0, 'A is still logged in: its view stands');
    t.nexusLost(A);
    t.nexusLost(B);
    t.nexusJoined(A);
    await run(t, cdb([0x00], 6), A);
    const keys = await run(t, cdb([0x5e, 0, 0, 0, 0, 0, 0, 0, 255], 10), A);
    assert.equal(keys.data?.readUInt32BE(0), 5);
    assert.equal(keys.data?.readBigUInt64BE(8), 0xbbn);
  });

  test('PREEMPT AND ABORT asks the transport to abort the preempted nexus\'s tasks', async () => {
    const { t } = setup();
    const aborted: Array<[number, string[]]> = [];
    t.onPreemptAbort = (lun, nexuses) => aborted.push([lun, nexuses]);
    const prOut = (sa: number, type: number, key: bigint, saKey: bigint, nexus: string) => {
      const p = Buffer.alloc(24);
      p.writeBigUInt64BE(key, 0);
      p.writeBigUInt64BE(saKey, 8);
      return run(t, cdb([0x5f, sa, type, 0, 0, 0, 0, 0, 24], 10), nexus, p);
    };
    await prOut(0, 0, 0n, 1n, A);
    await prOut(0, 0, 0n, 2n, B);
    await prOut(1, 3, 1n, 0n, A);
    assert.equal((await prOut(5, 3, 2n, 1n, B)).status, 0);
    assert.deepEqual(aborted, [[0, [A]]]);
    assert.equal((await run(t, rw16(0x88, 0, 1), A)).status, 0x18, 'B now holds EXCLUSIVE ACCESS');
  });

  test('RESERVE(6) conflicts for other nexuses until RELEASE or reset', async () => {
    const { t } = setup();
    assert.equal((await run(t, cdb([0x16], 6), A)).status, 0);
    assert.equal((await run(t, rw16(0x88, 0, 1), B)).status, 0x18);
    t.reset(0);
    assert.equal((await run(t, rw16(0x88, 0, 1), B)).status, 0);
  });

  test('MODE SENSE 6 returns caching and control pages', async () => {
    const { t } = setup();
    const all = await run(t, cdb([0x1a, 0, 0x3f, 0, 255], 6));
    const d = all.data as Buffer;
    assert.equal(d[0], d.length - 1);
    assert.equal(d[3], 8);
    const caching = await run(t, cdb([0x1a, 0x08, 0x08, 0, 255], 6));
    assert.equal(caching.data?.[4], 0x08);
    assert.deepEqual(senseOf(await run(t, cdb([0x1a, 0, 0xc8, 0, 255], 6))), { key: 5, asc: 0x39, ascq: 0 });
  });
});
