import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { corkForTurn } from '../../../agent/net/cork-turn.js';

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
