import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkQueue } from '../../../agent/net/chunk-queue.js';

test('ChunkQueue: bytes come out in order across chunks; leftovers survive reuse of their memory', () => {
  const q = new ChunkQueue();
  const read = Buffer.from('abcdef');
  q.append(read);
  const two = Buffer.alloc(2);
  assert.equal(q.copyInto(two, 0), 2);
  assert.equal(two.toString(), 'ab');
  assert.equal(q.length, 4);
  // Not consumed to the end before the next append: the rest is copied, not kept as a view.
  q.append(Buffer.from('gh'));
  read.fill(0x2e);
  const rest = Buffer.alloc(10);
  assert.equal(q.copyInto(rest, 1), 6);
  assert.equal(rest.subarray(1, 7).toString(), 'cdefgh');
  assert.equal(q.length, 0);
  assert.equal(q.copyInto(rest, 0), 0);
  q.append(Buffer.from('xyz'));
  q.clear();
  assert.equal(q.length, 0);
});
