// Throughput smoke: 256 MiB of 1 MiB Data frames through two PeerLinks on loopback, next to a
// raw socket pipe moving the same bytes. Prints MB/s; asserts only a generous floor, so that
// a regression to per-byte copying or quadratic buffering shows up without flaky limits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PeerLink } from '../../../agent/engine/peer-link.js';
import { MAX_DATA_BYTES } from '../../../agent/engine/peer-wire.js';
import { HOST_A, HOST_B, once, pairOptions } from './fixtures/peer-link-support.js';

const TOTAL = 256 * MAX_DATA_BYTES;
const results: Record<string, number> = {};
const cleanup: Array<() => Promise<void> | void> = [];

after(async () => {
  for (const c of cleanup.splice(0)) await c();
  if (results.link && results.raw) console.log(`peer link / raw socket: ${(results.link / results.raw).toFixed(2)}`);
});

function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

test('raw socket pipe (anchor)', { timeout: 60000 }, async () => {
  const server: Server = createServer();
  const accepted: Socket[] = [];
  // Sockets first: server.close() waits for every accepted connection to end.
  cleanup.push(() => accepted.forEach((s) => s.destroy()));
  cleanup.push(() => new Promise((r) => server.close(() => r())));
  await new Promise<void>((r) => server.listen({ host: HOST_B, port: 0 }, () => r()));
  const port = (server.address() as { port: number }).port;
  let received = 0;
  const done = new Promise<void>((resolve) =>
    server.on('connection', (s: Socket) => {
      accepted.push(s);
      s.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= TOTAL) resolve();
      });
    }),
  );
  const client = connect({ host: HOST_B, port, localAddress: HOST_A });
  cleanup.unshift(() => void client.destroy());
  await once(client, 'connect');
  const chunk = Buffer.alloc(MAX_DATA_BYTES, 7);
  const t0 = performance.now();
  let sent = 0;
  const pump = (): void => {
    while (sent < TOTAL) {
      sent += chunk.length;
      if (!client.write(chunk)) return void client.once('drain', pump);
    }
  };
  pump();
  await done;
  const ms = performance.now() - t0;
  results.raw = mbps(TOTAL, ms);
  console.log(`raw socket: ${TOTAL / 2 ** 20} MiB in ${ms.toFixed(0)} ms = ${results.raw.toFixed(0)} MB/s`);
});

test('PeerLink: 256 MiB of 1 MiB Data frames', { timeout: 120000 }, async () => {
  const [oa, ob] = await pairOptions({ pingInterval: 5, pingTimeout: 5 });
  const a = new PeerLink(oa);
  const b = new PeerLink(ob);
  cleanup.push(() => a.stop(), () => b.stop());
  const connected = Promise.all([once(a, 'connected'), once(b, 'connected')]);
  await Promise.all([a.start(), b.start()]);
  await connected;

  const payload = Buffer.alloc(MAX_DATA_BYTES);
  for (let i = 0; i < payload.length; i += 4) payload.writeUInt32BE(i, i);
  const frames = TOTAL / MAX_DATA_BYTES;
  let received = 0;
  let lastSeq = 0;
  const done = new Promise<void>((resolve, reject) => {
    b.on('message', (m) => {
      if (m.type !== 'Data') return;
      if (m.seq !== lastSeq + 1) reject(new Error(`seq ${m.seq} after ${lastSeq}`));
      lastSeq = m.seq;
      received += m.payload.length;
      if (m.seq % 64 === 0 && !m.payload.equals(payload)) reject(new Error(`payload ${m.seq} differs`));
      if (m.seq === frames) resolve();
    });
  });
  const t0 = performance.now();
  let seq = 0;
  const pump = (): void => {
    while (seq < frames) {
      if (!a.send({ type: 'Data', volume: 0, seq: ++seq, offset: seq * MAX_DATA_BYTES, flags: 0, payload })) return void a.once('drain', pump);
    }
  };
  pump();
  await done;
  const ms = performance.now() - t0;
  results.link = mbps(TOTAL, ms);
  console.log(`peer link: ${TOTAL / 2 ** 20} MiB in ${ms.toFixed(0)} ms = ${results.link.toFixed(0)} MB/s (CRC32C on both ends, one thread)`);
  assert.equal(received, TOTAL);
  assert.ok(results.link > 20, `only ${results.link.toFixed(0)} MB/s`);
});
