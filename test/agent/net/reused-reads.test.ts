import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { adoptAccepted, onreadInto } from '../../../agent/net/reused-reads.js';

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

describe('reused reads', () => {
  test('an accepted socket reads into the one buffer, every byte in order; the server still closes', async () => {
    const readBuffer = Buffer.alloc(4096);
    const got: Buffer[] = [];
    let views = 0;
    let adopted: Socket | undefined;
    const server = createServer({ pauseOnConnect: true }, (s) => {
      adopted = adoptAccepted(
        s,
        (chunk) => {
          if (chunk.buffer === readBuffer.buffer) views++;
          got.push(Buffer.from(chunk));
        },
        readBuffer,
      );
      adopted.on('end', () => adopted!.end('bye'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const data = pattern(300_000);
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.end(data);
    const reply: Buffer[] = [];
    c.on('data', (b: Buffer) => reply.push(b));
    await once(c, 'close');
    assert.deepEqual(Buffer.concat(got), data);
    assert.equal(views, got.length, 'every chunk was a view of the reused buffer');
    assert.ok(got.length >= 300_000 / 4096);
    assert.equal(Buffer.concat(reply).toString(), 'bye');
    server.close();
    await once(server, 'close');
  });

  test('a dialed socket reads into its buffer, and pause() holds reads back', async () => {
    const server = createServer((s) => s.end(pattern(100_000)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const got: Buffer[] = [];
    const readBuffer = Buffer.alloc(8192);
    let pausedAt = -1;
    const onChunk = (chunk: Buffer): void => {
      assert.equal(chunk.buffer, readBuffer.buffer);
      got.push(Buffer.from(chunk));
      if (got.length === 2) {
        socket.pause();
        pausedAt = got.length;
        setTimeout(() => {
          assert.equal(got.length, pausedAt, 'no reads while paused');
          socket.resume();
        }, 50);
      }
    };
    const socket: Socket = connect({ port, host: '127.0.0.1', onread: onreadInto(onChunk, readBuffer) });
    await once(socket, 'close');
    assert.deepEqual(Buffer.concat(got), pattern(100_000));
    server.close();
  });
});
