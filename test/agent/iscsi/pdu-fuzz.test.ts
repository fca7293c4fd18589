// A seeded random-PDU fuzzer, run for a bounded time against a real target on loopback:
// mutated login PDUs, random bytes, and PDUs cut off in the middle (before and after login),
// from many source addresses at once. The target must not crash, must serve a good initiator
// afterwards, and no connection may outlive its deadline. The seed is printed; replay with
// DRBD_TUI_FUZZ_SEED=N, run longer with DRBD_TUI_FUZZ_SECONDS=S.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createPrng, type Prng } from '../../support/prng.js';
import { IscsiTarget } from '../../../agent/iscsi/target.js';
import { TestInitiator } from '../../support/iscsi-initiator.js';
import { MemoryBlockDevice } from '../../support/memory-block-device.js';
import { waitFor } from '../../support/wait.js';

const IQN = 'iqn.2026-11.test:pdu-fuzz';
const SEED = Number(process.env.DRBD_TUI_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const SECONDS = Number(process.env.DRBD_TUI_FUZZ_SECONDS ?? 8);
const DEADLINE_MS = 400;

const dev = new MemoryBlockDevice(4 << 20);
const target = new IscsiTarget({ iqn: IQN, host: '127.0.0.1', port: 0, luns: [dev], logoutGrace: 0, loginLimits: { loginTimeoutMs: DEADLINE_MS, stalledPduTimeoutMs: DEADLINE_MS } });
after(() => target.stop());

const bytes = (r: Prng, n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256)));

/** A valid first Login Request (security → operational, no auth). */
function loginPdu(r: Prng): Buffer {
  const text = Buffer.from(`InitiatorName=iqn.2026-11.test:fuzz${r.int(4)}\0TargetName=${r.int(4) ? IQN : 'iqn.2026-11.test:other'}\0SessionType=${r.int(5) ? 'Normal' : 'Discovery'}\0AuthMethod=None\0`);
  const padded = Buffer.concat([text, Buffer.alloc((4 - (text.length & 3)) & 3)]);
  const b = Buffer.alloc(48);
  b[0] = 0x43;
  b[1] = 0x81; // T, CSG 0, NSG 1
  b.writeUIntBE(text.length, 5, 3);
  Buffer.from([0x80, 0, 0, 0, r.int(256), r.int(256)]).copy(b, 8);
  b.writeUInt32BE(r.next(), 16);
  return Buffer.concat([b, padded]);
}

function mutate(r: Prng, pdu: Buffer): Buffer {
  const out = Buffer.from(pdu);
  for (let m = 1 + r.int(6); m > 0; m--) out[r.int(out.length)] = r.int(256);
  if (r.int(5) === 0) out.writeUIntBE(r.int(8) === 0 ? 0xffffff : r.int(70_000), 5, 3);
  return out;
}

function open(from: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: target.port, localAddress: from });
    s.on('error', () => resolve(undefined));
    s.on('connect', () => resolve(s));
    s.on('data', () => undefined);
  });
}

test(`seeded random PDUs for a bounded time: no crash, a good initiator served after, no connection past its deadline`, { timeout: (SECONDS + 60) * 1000 }, async () => {
  await target.start();
  console.log(`# pdu fuzz seed ${SEED} (replay: DRBD_TUI_FUZZ_SEED=${SEED}), ${SECONDS} s`);
  const r = createPrng(SEED);
  const left: Socket[] = [];
  const stalledAfterLogin: TestInitiator[] = [];
  const logins: Array<Promise<void>> = [];
  const end = Date.now() + SECONDS * 1000;
  let iterations = 0;
  while (Date.now() < end) {
    iterations++;
    const from = `127.0.0.${2 + r.int(24)}`;
    // A login takes round trips; the rest are fire-and-forget: logins stay a small share.
    const mode = r.int(64) === 0 ? 7 : r.int(7);
    if (mode === 7) {
      // Logged in (from an address of its own, below the caps), then a PDU cut off in the
      // middle: the stalled-PDU timeout must end it. Not awaited: a login takes round trips.
      const isid = Buffer.from([0x80, 0, 0, 1, r.int(256), r.int(256)]);
      const cut = mutate(r, Buffer.concat([Buffer.from([0x01, 0x80]), Buffer.alloc(46)]));
      const at = 1 + r.int(47);
      logins.push(
        TestInitiator.login({ port: target.port, localAddress: '127.0.0.200', target: IQN, isid }).then(
          (i) => {
            i.sendRaw(cut.subarray(0, at));
            stalledAfterLogin.push(i);
          },
          () => undefined, // refused, or closed by a cap: an outcome, not a failure
        ),
      );
    } else {
      const s = await open(from);
      if (!s) continue;
      const base = mode === 0 ? bytes(r, r.int(400)) : mode === 1 ? loginPdu(r) : mutate(r, loginPdu(r));
      // Sometimes cut short, so that the connection waits mid-PDU.
      s.write(mode >= 5 ? base.subarray(0, r.int(base.length)) : base);
      left.push(s);
    }
    if (iterations % 50 === 0) await new Promise((res) => setTimeout(res, 5));
  }
  await Promise.all(logins);
  console.log(`# pdu fuzz: ${iterations} iterations, ${stalledAfterLogin.length} sessions stalled mid-PDU after login`);

  // Nothing the fuzzer left open stays in the login phase past the login deadline.
  await waitFor(() => target.loggingIn === 0, `login-phase connections gone within the deadline (left: ${target.loggingIn})`, DEADLINE_MS * 4 + 2000);
  for (const i of stalledAfterLogin) assert.ok(await i.waitClosed(DEADLINE_MS * 4 + 2000), 'a session stalled mid-PDU is closed');

  const good = await TestInitiator.login({ port: target.port, target: IQN, initiatorName: 'iqn.2026-11.test:good' });
  await good.command(0, Buffer.alloc(6));
  const cdb = Buffer.from([0x2a, 0, 0, 0, 0, 9, 0, 0, 1, 0]);
  const pattern = Buffer.alloc(512, 0x5a);
  assert.equal((await good.command(0, cdb, { dataOut: pattern })).status, 0);
  cdb[0] = 0x28;
  assert.deepEqual((await good.command(0, cdb, { readLength: 512 })).data, pattern);
  good.close();
  for (const s of left) s.destroy();
  for (const i of stalledAfterLogin) i.close();
  assert.equal(dev.outOfRange, 0, 'no BlockDevice call outside the volume');
});
