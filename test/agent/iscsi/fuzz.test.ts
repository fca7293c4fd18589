// Random and mutated PDUs over real connections: the target must not crash, must never
// address the volume outside its range, and must keep serving well-behaved initiators.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { IscsiTarget } from '../../../agent/iscsi/target.js';
import { TestInitiator } from '../../support/iscsi-initiator.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';

const IQN = 'iqn.2026-11.test:fuzz';

/** xorshift32: a seeded generator so a failure reproduces. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return { next, int: (n: number) => next() % n, bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => next() & 0xff)) };
}

const dev = new MemoryBlockDevice(4 << 20);
const target = new IscsiTarget({ iqn: IQN, host: '127.0.0.1', port: 0, luns: [dev], logoutGrace: 0 });
const open: TestInitiator[] = [];
after(async () => {
  for (const i of open) i.close();
  await target.stop();
});

function template(r: ReturnType<typeof rng>, cmdSN: number): Buffer {
  const b = Buffer.alloc(48);
  const kind = r.int(8);
  const ops = [0x01, 0x01, 0x05, 0x00, 0x02, 0x04, 0x10, 0x06];
  b[0] = ops[kind] as number;
  b[1] = 0x80 | (r.int(2) ? 0x40 : 0x20);
  b.writeUInt32BE(r.next(), 16);
  b.writeUInt32BE(r.int(4) === 0 ? r.next() : r.int(1 << 20), 20);
  b.writeUInt32BE(r.int(3) === 0 ? r.next() : cmdSN, 24);
  if (b[0] === 0x01) {
    const cdbOps = [0x28, 0x2a, 0x88, 0x8a, 0x41, 0x42, 0x89, 0x12, 0x9e, 0x5f, 0x1a, 0xa0, 0x2f];
    b[32] = cdbOps[r.int(cdbOps.length)] as number;
    r.bytes(15).copy(b, 33);
  }
  return b;
}

test('random and mutated PDUs never crash the target or reach outside the volume', { timeout: 120000 }, async () => {
  await target.start();
  const r = rng(0xc0ffee);
  for (let round = 0; round < 60; round++) {
    const isid = Buffer.from([0x80, 0, 0, 0, (round >> 8) & 0xff, round & 0xff]);
    const mode = r.int(4);
    let i: TestInitiator;
    if (mode === 0) {
      // Garbage before login.
      i = await TestInitiator.connect({ port: target.port, target: IQN });
      i.sendRaw(r.bytes(r.int(300)));
    } else {
      i = await TestInitiator.login({ port: target.port, target: IQN, isid });
      for (let k = 0; k < 20; k++) {
        const pdu = template(r, i.cmdSN);
        // Mutate a few header bytes, sometimes the length and AHS fields.
        for (let m = r.int(4); m > 0; m--) pdu[r.int(48)] = r.next() & 0xff;
        let dataLen = r.int(3) === 0 ? r.int(4096) : 0;
        if (r.int(10) === 0) dataLen = 0xffffff; // oversize segment: the stream is beyond repair
        pdu.writeUIntBE(dataLen, 5, 3);
        if (r.int(6) === 0) pdu[4] = r.int(4);
        const body = dataLen > 0 && dataLen < 0xffffff ? r.bytes(dataLen + ((4 - (dataLen & 3)) & 3)) : Buffer.alloc(0);
        i.sendRaw(Buffer.concat([pdu, r.bytes(pdu[4] as number * 4), body]));
        if (dataLen === 0xffffff) break;
      }
    }
    open.push(i);
    await new Promise((res) => setTimeout(res, 10));
    if (round % 10 === 9) {
      // A well-behaved initiator is still served, with correct data.
      const good = await TestInitiator.login({ port: target.port, target: IQN, initiatorName: 'iqn.2026-11.test:good' });
      await good.command(0, Buffer.alloc(6));
      const cdb = Buffer.from([0x2a, 0, 0, 0, 0, 7, 0, 0, 1, 0]);
      const pattern = Buffer.alloc(512, round);
      assert.equal((await good.command(0, cdb, { dataOut: pattern })).status, 0);
      cdb[0] = 0x28;
      const back = await good.command(0, cdb, { readLength: 512 });
      assert.deepEqual(back.data, pattern);
      good.close();
      for (const o of open.splice(0)) o.close();
    }
  }
  assert.equal(dev.outOfRange, 0, 'no BlockDevice call outside the volume');
});
