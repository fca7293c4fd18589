import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lineDiff, splitLines, unifiedDiff } from '../../../src/cluster/text-diff.js';

const show = (ops: Array<{ kind: string; text: string }>) => ops.map((o) => (o.kind === '@' ? o.text : `${o.kind}${o.text}`));

describe('lineDiff: the shortest edit script', () => {
  const cases: Array<[string, string[], string[], string[]]> = [
    ['equal', ['a', 'b'], ['a', 'b'], [' a', ' b']],
    ['both empty', [], [], []],
    ['all added', [], ['a', 'b'], ['+a', '+b']],
    ['all removed', ['a', 'b'], [], ['-a', '-b']],
    ['one changed line', ['a', 'b', 'c'], ['a', 'x', 'c'], [' a', '-b', '+x', ' c']],
    ['insert in the middle', ['a', 'c'], ['a', 'b', 'c'], [' a', '+b', ' c']],
    ['delete at the end', ['a', 'b', 'c'], ['a', 'b'], [' a', ' b', '-c']],
    ['swap: one kept', ['a', 'b'], ['b', 'a'], ['-a', ' b', '+a']],
    ['repeated lines', ['x', 'x', 'y'], ['x', 'y', 'x'], [' x', '-x', ' y', '+x']],
  ];
  for (const [name, a, b, want] of cases) {
    test(name, () => {
      const ops = lineDiff(a, b);
      assert.deepEqual(show(ops), want);
      assert.deepEqual(ops.filter((o) => o.kind !== '+').map((o) => o.text), a, 'the old side is a');
      assert.deepEqual(ops.filter((o) => o.kind !== '-').map((o) => o.text), b, 'the new side is b');
    });
  }

  test('far apart texts still give a correct script', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`);
    const ops = lineDiff(a, b);
    assert.deepEqual(ops.filter((o) => o.kind !== '+').map((o) => o.text), a);
    assert.deepEqual(ops.filter((o) => o.kind !== '-').map((o) => o.text), b);
  });
});

describe('unifiedDiff: hunks with context, as diff -u', () => {
  const ten = Array.from({ length: 10 }, (_, i) => String(i + 1)).join('\n') + '\n';
  const cases: Array<[string, string | undefined, string, number, string[]]> = [
    ['equal texts: nothing', ten, ten, 3, []],
    ['a new file: every line added', undefined, 'a\nb\n', 3, ['@@ -0,0 +1,2 @@', '+a', '+b']],
    ['a trailing newline is not a line', 'a\n', 'a', 3, []],
    ['one change, context 1', ten, ten.replace('5\n', 'five\n'), 1, ['@@ -4,3 +4,3 @@', ' 4', '-5', '+five', ' 6']],
    [
      'two changes far apart: two hunks',
      ten,
      ten.replace('2\n', 'two\n').replace('9\n', 'nine\n'),
      1,
      ['@@ -1,3 +1,3 @@', ' 1', '-2', '+two', ' 3', '@@ -8,3 +8,3 @@', ' 8', '-9', '+nine', ' 10'],
    ],
    ['two changes close together: one hunk', ten, ten.replace('4\n', 'four\n').replace('6\n', 'six\n'), 1, ['@@ -3,5 +3,5 @@', ' 3', '-4', '+four', ' 5', '-6', '+six', ' 7']],
    ['all removed', 'a\nb\n', '', 3, ['@@ -1,2 +0,0 @@', '-a', '-b']],
  ];
  for (const [name, a, b, ctx, want] of cases) {
    test(name, () => assert.deepEqual(show(unifiedDiff(a, b, ctx)), want));
  }

  test('splitLines', () => {
    assert.deepEqual(splitLines(''), []);
    assert.deepEqual(splitLines('a\n\nb'), ['a', '', 'b']);
    assert.deepEqual(splitLines('a\n'), ['a']);
  });
});
