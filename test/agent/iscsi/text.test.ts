import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeText, parseText, splitText, TextAccumulator, TextFormatError } from '../../../agent/iscsi/text.js';

test('parses and encodes key=value segments, keeping order and empty values', () => {
  const b = Buffer.from('InitiatorName=iqn.x\0SessionType=Normal\0X=\0', 'utf8');
  assert.deepEqual(parseText(b), [
    ['InitiatorName', 'iqn.x'],
    ['SessionType', 'Normal'],
    ['X', ''],
  ]);
  assert.deepEqual(encodeText([['A', 'b=c']]), Buffer.from('A=b=c\0'));
  assert.throws(() => parseText(Buffer.from('novalue\0')), TextFormatError);
});

test('gathers continued segments and splits long answers', () => {
  const acc = new TextAccumulator(100);
  assert.equal(acc.add(Buffer.from('A=1\0B='), true), undefined);
  assert.deepEqual(parseText(acc.add(Buffer.from('2\0'), false) as Buffer), [
    ['A', '1'],
    ['B', '2'],
  ]);
  assert.throws(() => acc.add(Buffer.alloc(101), true), TextFormatError);
  assert.deepEqual(
    splitText(Buffer.alloc(10), 4).map((c) => c.length),
    [4, 4, 2],
  );
});
