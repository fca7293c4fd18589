import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { accessOf, cdbLength, hasPooledDataOut, OPCODES, ScsiOp, ServiceAction, SUPPORTED } from '../../../agent/iscsi/opcodes.js';
import { ScsiTarget } from '../../../agent/iscsi/scsi.js';
import { memoryReservationStore } from '../../../agent/block/reservation-store.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';

const cdbOf = (op: number, sa?: number): Buffer => {
  const c = Buffer.alloc(cdbLength(op));
  c[0] = op;
  if (sa !== undefined) c[1] = sa;
  return c;
};

describe('SCSI opcode table', () => {
  const rows: Array<[string, number, number]> = [
    ['TEST UNIT READY', ScsiOp.TestUnitReady, 6],
    ['READ(6)', ScsiOp.Read6, 6],
    ['READ(10)', ScsiOp.Read10, 10],
    ['PERSISTENT RESERVE OUT', ScsiOp.PersistentReserveOut, 10],
    ['READ(12)', ScsiOp.Read12, 12],
    ['REPORT LUNS', ScsiOp.ReportLuns, 12],
    ['WRITE(16)', ScsiOp.Write16, 16],
    ['SERVICE ACTION IN(16)', ScsiOp.ServiceActionIn16, 16],
    ['group 3 (reserved)', 0x7e, 16],
    ['group 6 (vendor)', 0xc0, 16],
  ];
  for (const [name, op, len] of rows) test(`CDB length of ${name} is ${len}`, () => assert.equal(cdbLength(op), len));

  test('every name is the table row of its code', () => {
    for (const [key, op] of Object.entries(ScsiOp)) assert.ok(OPCODES.has(op), `${key} (0x${op.toString(16)}) has a row`);
    assert.equal(OPCODES.size, Object.keys(ScsiOp).length);
  });

  const access: Array<[string, Buffer, string]> = [
    ['READ(10) reads', cdbOf(ScsiOp.Read10), 'read'],
    ['VERIFY(16) reads', cdbOf(ScsiOp.Verify16), 'read'],
    ['WRITE SAME(16) writes', cdbOf(ScsiOp.WriteSame16), 'write'],
    ['UNMAP writes', cdbOf(ScsiOp.Unmap), 'write'],
    ['SYNCHRONIZE CACHE writes', cdbOf(ScsiOp.SynchronizeCache10), 'write'],
    ['GET LBA STATUS reads', cdbOf(ScsiOp.ServiceActionIn16, ServiceAction.GetLbaStatus), 'read'],
    ['READ CAPACITY(16) neither', cdbOf(ScsiOp.ServiceActionIn16, ServiceAction.ReadCapacity16), 'other'],
    ['INQUIRY neither', cdbOf(ScsiOp.Inquiry), 'other'],
    ['an unknown opcode neither', cdbOf(0xc0), 'other'],
  ];
  for (const [name, cdb, want] of access) test(`access: ${name}`, () => assert.equal(accessOf(cdb[0] as number, cdb), want));

  test('pooled data-out only for the plain WRITEs, whose only reader is the device write', () => {
    const pooled = [...OPCODES.keys()].filter(hasPooledDataOut).sort((a, b) => a - b);
    assert.deepEqual(pooled, [ScsiOp.Write10, ScsiOp.Write16, ScsiOp.Write12]);
  });

  test('standard read/write layout only where the CDB has one of SBC\'s four lengths', () => {
    for (const [op, info] of OPCODES) if (info.rw) assert.ok([6, 10, 12, 16].includes(cdbLength(op)), info.name);
  });

  test('what a unit attention lets through, a RESERVE(6) also lets through', () => {
    for (const info of OPCODES.values()) if (info.uaExempt) assert.ok(info.allowedUnderReserve6, info.name);
  });

  test('REPORT SUPPORTED OPERATION CODES lists every row, by code, one entry per service action', () => {
    const ops = SUPPORTED.map(([op]) => op);
    assert.deepEqual(ops, [...ops].sort((a, b) => a - b));
    assert.deepEqual(
      SUPPORTED.filter(([op]) => op === ScsiOp.PersistentReserveOut).map(([, sa]) => sa),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(new Set(ops).size, OPCODES.size);
  });

  test('the target serves every row: none answers INVALID OPERATION CODE', async () => {
    const t = new ScsiTarget([{ device: new MemoryBlockDevice(2048 * 512), reservations: memoryReservationStore() }], { iqn: 'iqn.2026-11.test:opcodes' });
    const nexus = 'iqn.a,i,0x000000000001';
    for (const [op, sa] of SUPPORTED) {
      const r = await t.execute({ lun: 0, cdb: cdbOf(op, sa), dataOut: Buffer.alloc(0), nexus });
      const sense = r.sense ? [(r.sense[2] as number) & 0xf, r.sense[12]] : undefined;
      assert.notDeepEqual(sense, [0x5, 0x20], `${OPCODES.get(op)?.name} sa=${sa ?? '-'}`);
    }
  });
});
