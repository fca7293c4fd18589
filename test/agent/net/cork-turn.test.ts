import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CORK_BATCH_BYTES, corkForTurn } from '../../../agent/net/cork-turn.js';

test('writes of one turn leave in one writev, the next turn in another', async () => {
  const calls: number[] = [];
  const sink = new Writable({
    writev(chunks, cb) {
      calls.push(chunks.length);
      cb();
    },
    write(_chunk, _enc, cb) {
      calls.push(1);
      cb();
    },
  });
  for (let i = 0; i < 5; i++) {
    corkForTurn(sink);
    sink.write(Buffer.from([i]));
  }
  assert.deepEqual(calls, [], 'nothing leaves within the turn');
  await new Promise((r) => setImmediate(r));
  corkForTurn(sink);
  sink.write(Buffer.from([9]));
  sink.write(Buffer.from([10]));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, [5, 2]);
});

test('a turn of more than CORK_BATCH_BYTES leaves in batches of at most that (one bigger message alone)', async () => {
  const sizes: number[] = [];
  const sink = new Writable({
    writev(chunks, cb) {
      sizes.push(chunks.reduce((n, c) => n + (c.chunk as Buffer).length, 0));
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      sizes.push(chunk.length);
      cb();
    },
  });
  const quarter = CORK_BATCH_BYTES / 4;
  for (let i = 0; i < 10; i++) {
    corkForTurn(sink, quarter);
    sink.write(Buffer.alloc(quarter));
  }
  corkForTurn(sink, 2 * CORK_BATCH_BYTES);
  sink.write(Buffer.alloc(2 * CORK_BATCH_BYTES));
  corkForTurn(sink, quarter);
  sink.write(Buffer.alloc(quarter));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sizes, [4 * quarter, 4 * quarter, 2 * quarter, 2 * CORK_BATCH_BYTES, quarter]);
});
