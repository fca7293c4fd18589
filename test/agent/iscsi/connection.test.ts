// The target over real loopback sockets with the project's own initiator: digests, mutual
// CHAP, task management, NOP timing, the CmdSN window, reinstatement and planned shutdown.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { payloadPool } from '../../../agent/lib/buffer-pool.js';
import { Op } from '../../../agent/iscsi/pdu.js';
import { IscsiTarget, type IscsiTargetOptions } from '../../../agent/iscsi/target.js';
import { LoginError, TestInitiator, type InitiatorOptions } from '../../support/iscsi-initiator.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';
import { setTimeout as sleep } from 'node:timers/promises';

const IQN = 'iqn.2026-11.test:conn';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function serve(over: Partial<IscsiTargetOptions> = {}) {
  const dev = new MemoryBlockDevice(8 << 20);
  const target = new IscsiTarget({ iqn: IQN, host: '127.0.0.1', port: 0, luns: [dev], logoutGrace: 1, ...over });
  await target.start();
  cleanups.push(() => target.stop());
  return { dev, target };
}

async function login(port: number, over: Partial<InitiatorOptions> = {}) {
  const i = await TestInitiator.login({ port, target: IQN, ...over });
  cleanups.push(() => i.close());
  // Clear the power-on unit attention.
  await i.command(0, Buffer.alloc(6));
  return i;
}

function rw10(op: number, lba: number, blocks: number): Buffer {
  const c = Buffer.alloc(10);
  c[0] = op;
  c.writeUInt32BE(lba, 2);
  c.writeUInt16BE(blocks, 7);
  return c;
}

describe('connection and session behaviour', () => {
  test('CRC32C header and data digests on a write that needs R2Ts and a multi-PDU read', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port, { headerDigest: true, dataDigest: true, maxRecv: 16384 });
    assert.equal(i.targetKeys.HeaderDigest, 'CRC32C');
    assert.equal(i.targetKeys.DataDigest, 'CRC32C');
    const data = Buffer.alloc(400 * 512);
    for (let k = 0; k < data.length; k++) data[k] = (k * 7 + 3) & 0xff;
    const w = await i.command(0, rw10(0x2a, 8, 400), { dataOut: data });
    assert.equal(w.status, 0);
    assert.deepEqual(dev.data.subarray(8 * 512, 408 * 512), data);
    const r = await i.command(0, rw10(0x28, 8, 400), { readLength: data.length });
    assert.equal(r.status, 0);
    assert.ok(r.dataInPdus > 1, 'split into several Data-In PDUs');
    assert.deepEqual(r.data, data);
  });

  test('a corrupted data digest is rejected, not written', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port, { dataDigest: true });
    // Build a NOP-Out with data and flip one byte of its data digest.
    const b = Buffer.alloc(48);
    b[0] = 0x40;
    b[1] = 0x80;
    b.writeUIntBE(4, 5, 3);
    b.writeUInt32BE(0x999, 16);
    b.writeUInt32BE(0xffffffff, 20);
    b.writeUInt32BE(i.cmdSN, 24);
    i.sendRaw(Buffer.concat([b, Buffer.from('ping'), Buffer.from([1, 2, 3, 4])]));
    await sleep(100);
    assert.equal(i.rejects.length, 1);
    assert.equal(i.rejects[0]?.bhs[2], 0x02);
    assert.equal(dev.writes, 0);
  });

  test('a Data-Out with a bad data digest is rejected and ends the connection; its command never writes', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port, { dataDigest: true, maxRecv: 16384 });
    i.corruptNextDataOutDigest = true;
    // Larger than the first burst: the rest goes in Data-Outs, the first of them corrupted.
    const data = Buffer.alloc(400 * 512, 0x5a);
    const w = i.command(0, rw10(0x2a, 0, 400), { dataOut: data }).catch((e: Error) => e);
    await sleep(300);
    assert.equal(i.rejects.length, 1);
    assert.equal(i.rejects[0]?.bhs[2], 0x02);
    assert.equal(dev.writes, 0);
    assert.ok((await w) instanceof Error, 'the connection ends; the command gets no response');
    assert.equal(dev.writes, 0);
  });

  test('what follows a Logout in the same read is never executed', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port);
    const logout = i.header(Op.LogoutRequest, 0x80, 0, 0x7001, true);
    const write = i.header(Op.ScsiCommand, 0x80 | 0x20 | 0x01, 4096, 0x7002);
    write.writeUInt32BE(4096, 20);
    for (const b of [logout, write]) {
      b.writeUInt32BE(i.cmdSN, 24);
      b.writeUInt32BE(i.expStatSN, 28);
    }
    rw10(0x2a, 0, 8).copy(write, 32);
    i.sendRaw(Buffer.concat([logout, write, Buffer.alloc(4096, 0xee)]));
    assert.ok(await i.waitClosed(3000), 'the target closes after the logout');
    assert.equal(dev.writes, 0, 'the WRITE behind the Logout ran');
  });

  test('WRITE buffers are reused from the pool once their command settled; every write lands intact', async () => {
    const { target, dev } = await serve();
    dev.writeDelayMs = 1;
    const i = await login(target.port, { maxRecv: 16384 });
    const before = { ...payloadPool.stats };
    const expected = new Map<number, Buffer>();
    const inFlight: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 32; k++) {
        // 4 KiB writes go as immediate data; 200 KiB ones also need R2Ts and Data-Outs.
        const blocks = k % 4 === 0 ? 400 : 8;
        const lba = k * 512;
        const data = Buffer.alloc(blocks * 512);
        for (let b = 0; b < data.length; b += 4) data.writeUInt32LE((round * 1_000_003 + k * 7919 + b) >>> 0, b);
        expected.set(lba, data);
        inFlight.push(i.command(0, rw10(0x2a, lba, blocks), { dataOut: data }));
        if (inFlight.length >= 16) assert.equal(((await inFlight.shift()) as { status: number }).status, 0);
      }
      for (const w of inFlight.splice(0)) assert.equal(((await w) as { status: number }).status, 0);
    }
    for (const [lba, data] of expected) assert.ok(dev.data.subarray(lba * 512, lba * 512 + data.length).equals(data), `LBA ${lba}`);
    assert.ok(payloadPool.stats.reused - before.reused > 100, `buffers were reused (${payloadPool.stats.reused - before.reused})`);
    assert.equal(payloadPool.stats.doubleReleases, before.doubleReleases);
  });

  test('mutual CHAP: both sides prove themselves; a wrong secret gets 0x0201', async () => {
    const chap = { user: 'alice', secret: 'alice-secret-1', targetUser: 'tgt', targetSecret: 'target-secret-2' };
    const { target } = await serve({ chap });
    const i = await login(target.port, { chap });
    assert.equal((await i.command(0, Buffer.alloc(6))).status, 0);
    await assert.rejects(
      TestInitiator.login({ port: target.port, target: IQN, chap: { ...chap, secret: 'wrong-secret-9' } }),
      (e: unknown) => e instanceof LoginError && e.status === 0x0201,
    );
    await assert.rejects(TestInitiator.login({ port: target.port, target: IQN }), (e: unknown) => e instanceof LoginError && e.status === 0x0201);
  });

  test('NOP-Out is answered promptly while a slow volume stalls a read', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port);
    dev.readDelayMs = 1500;
    const slow = i.command(0, rw10(0x28, 0, 8), { readLength: 4096 });
    await sleep(50);
    const ping = await i.nop(Buffer.from('are you there'));
    assert.ok(ping.ms < 200, `NOP-In took ${ping.ms} ms`);
    assert.equal(ping.data.toString(), 'are you there');
    assert.equal((await slow).status, 0);
  });

  test('ABORT TASK suppresses the response; LUN RESET raises a unit attention', async () => {
    const { target, dev } = await serve();
    const i = await login(target.port);
    dev.readDelayMs = 300;
    const itt = i.nextTaskTag;
    const cmdSN = i.cmdSN;
    const aborted = i.command(0, rw10(0x28, 0, 1), { readLength: 512, timeoutMs: 1000 });
    await sleep(30);
    assert.equal(await i.tmf(1, { lun: 0, refItt: itt, refCmdSN: cmdSN }), 0);
    await assert.rejects(aborted, /no response/);
    dev.readDelayMs = 0;
    assert.equal(await i.tmf(1, { lun: 0, refItt: 0x7777, refCmdSN: (i.cmdSN + 50) >>> 0 }), 1, 'task does not exist');
    assert.equal(await i.tmf(5, { lun: 0 }), 0);
    const ua = await i.command(0, Buffer.alloc(6));
    assert.equal(ua.status, 2);
    assert.equal(ua.sense?.[12], 0x29);
    assert.equal(await i.tmf(5, { lun: 9 }), 2, 'LUN does not exist');
    assert.equal(await i.tmf(6), 0, 'TARGET WARM RESET');
    assert.equal(await i.tmf(14), 5, 'unknown function not supported');
  });

  test('volume N is LUN N: REPORT LUNS lists both and I/O lands on the right device', async () => {
    const second = new MemoryBlockDevice(1 << 20);
    const { target } = await serve({ luns: [new MemoryBlockDevice(1 << 20), second] });
    const i = await login(target.port);
    const rl = Buffer.alloc(12);
    rl[0] = 0xa0;
    rl.writeUInt32BE(64, 6);
    const luns = await i.command(0, rl, { readLength: 64 });
    assert.equal(luns.data.readUInt32BE(0), 16);
    assert.equal(luns.data[8 + 8 + 1], 1);
    await i.command(1, Buffer.alloc(6)); // LUN 1's own power-on unit attention
    const w = await i.command(1, rw10(0x2a, 3, 1), { dataOut: Buffer.alloc(512, 0xee) });
    assert.equal(w.status, 0);
    assert.equal(second.data[3 * 512], 0xee);
  });

  test('commands outside the CmdSN window are dropped; the session carries on', async () => {
    const { target } = await serve();
    const i = await login(target.port);
    const itt = i.sendCommandWithCmdSN(0, Buffer.alloc(6), (i.cmdSN + 1000) >>> 0);
    await assert.rejects(i.waitFor(itt, 300), /no response/);
    assert.equal((await i.command(0, Buffer.alloc(6))).status, 0);
  });

  test('a second login with the same ISID reinstates the session; sessions() tracks it', async () => {
    const { target, dev } = await serve();
    const a = await login(target.port);
    assert.equal(target.sessions().length, 1);
    assert.equal(dev.holderCount, 1);
    const b = await login(target.port);
    assert.ok(await a.waitClosed(1000), 'old connection closed');
    assert.equal((await b.command(0, Buffer.alloc(6))).status, 0);
    assert.equal(target.sessions().length, 1);
    assert.equal(target.sessions()[0]?.initiator, 'iqn.2026-11.test:initiator');
    assert.equal(await b.logout(), 0);
    assert.ok(await b.waitClosed(1000));
    await sleep(20);
    assert.equal(target.sessions().length, 0);
    assert.equal(dev.holderCount, 0, 'device released on logout');
  });

  test('stop() sends an Async Message asking for logout before closing', async () => {
    const { target } = await serve();
    const i = await login(target.port);
    await target.stop();
    const asyncMsg = i.unsolicited.find((p) => ((p.bhs[0] as number) & 0x3f) === 0x32);
    assert.ok(asyncMsg, 'Async Message received');
    assert.equal(asyncMsg?.bhs[36], 1, 'AsyncEvent = logout request');
    assert.ok(await i.waitClosed(2000));
  });

  test('target NOP-In keepalive: answered pings keep the session, silence closes it', async () => {
    const { target } = await serve({ nopInterval: 100, nopTimeout: 300 });
    const alive = await login(target.port);
    await sleep(700);
    assert.ok(alive.unsolicited.some((p) => ((p.bhs[0] as number) & 0x3f) === 0x20), 'pinged');
    assert.equal(alive.closed, false);
    const mute = await login(target.port, { isid: Buffer.from([0x80, 0, 0, 0, 0, 2]) });
    mute.answerPings = false;
    assert.ok(await mute.waitClosed(3000), 'unanswered pings close the connection');
    assert.equal(alive.closed, false);
  });
});
