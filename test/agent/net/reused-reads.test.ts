import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { adoptAccepted, DIRECT_READ_MIN, onreadInto, type ReadSink } from '../../../agent/net/reused-reads.js';

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
        {
          onChunk: (chunk) => {
            if (chunk.buffer === readBuffer.buffer) views++;
            got.push(Buffer.from(chunk));
          },
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
    const socket: Socket = connect({ port, host: '127.0.0.1', onread: onreadInto({ onChunk }, readBuffer) });
    await once(socket, 'close');
    assert.deepEqual(Buffer.concat(got), pattern(100_000));
    server.close();
  });

  test('a consumer that names a target gets the bytes there, the rest in the shared buffer, all in order', async () => {
    // A 16-byte header, then a 1 MiB body the consumer wants in place, then a trailer.
    const body = pattern(1 << 20);
    const wire = Buffer.concat([Buffer.alloc(16, 0xaa), body, Buffer.alloc(1000, 0xbb)]);
    const target = Buffer.alloc(body.length);
    let stream = 0; // bytes of `wire` consumed so far
    let placed = 0;
    let direct = 0;
    const copied: Buffer[] = [];
    const sink: ReadSink = {
      onChunk: (chunk) => {
        for (const b of chunk) {
          if (stream >= 16 && stream < 16 + body.length) target[stream - 16] = b;
          else copied.push(Buffer.from([b]));
          stream++;
        }
      },
      // Only once the header is in and while body bytes are missing, as the framers do.
      directTarget: () => (stream >= 16 && stream < 16 + body.length && 16 + body.length - stream >= DIRECT_READ_MIN ? target.subarray(stream - 16) : undefined),
      onPlaced: (n) => {
        placed += n;
        direct++;
        stream += n;
      },
    };
    const server = createServer((s) => s.end(wire));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const socket: Socket = connect({ port, host: '127.0.0.1', onread: onreadInto(sink, Buffer.alloc(8192)) });
    await once(socket, 'close');
    assert.equal(stream, wire.length);
    assert.deepEqual(target, body);
    assert.deepEqual(Buffer.concat(copied), Buffer.concat([Buffer.alloc(16, 0xaa), Buffer.alloc(1000, 0xbb)]));
    assert.ok(direct > 0 && placed > body.length / 2, `most of the body was read in place (${placed} bytes in ${direct} reads)`);
    server.close();
  });
});
