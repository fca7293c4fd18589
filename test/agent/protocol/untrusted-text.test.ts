// What untrusted text looks like once it is safe to show, one row per kind of hostile input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DISPLAY_LIMIT, hasUnsafeText, untrustedText } from '../../../agent/protocol/untrusted-text.js';

const ROWS: Array<[what: string, input: string, shown: string]> = [
  ['an ordinary name is untouched', 'iqn.2026-11.com.example:r0', 'iqn.2026-11.com.example:r0'],
  ['non-ASCII letters are untouched', 'Zürich-节点', 'Zürich-节点'],
  ['an emoji (a surrogate pair) is untouched', 'disk 💾', 'disk 💾'],
  ['backslashes are untouched', 'C:\\disks', 'C:\\disks'],
  ['an OSC title sequence and a screen clear', '\x1b]2;pwned\x07\x1b[2J', '\\x1b]2;pwned\\x07\\x1b[2J'],
  ['a newline that would forge a log line', 'r0\nSplit-Brain detected', 'r0\\nSplit-Brain detected'],
  ['carriage return and tab', 'a\rb\tc', 'a\\rb\\tc'],
  ['NUL and DEL', 'a\x00b\x7f', 'a\\x00b\\x7f'],
  ['C1 controls (CSI 0x9b, NEL 0x85)', 'a\x9b2Jb\x85', 'a\\x9b2Jb\\x85'],
  ['bidi override and isolate', 'abc\u202edcb\u2066x\u2069', 'abc\\u202edcb\\u2066x\\u2069'],
  ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
  ['a lone surrogate', 'a\ud800b', 'a\\ud800b'],
  ['the empty string', '', ''],
];

describe('untrustedText', () => {
  for (const [what, input, shown] of ROWS) {
    test(what, () => {
      assert.equal(untrustedText(input), shown);
      assert.equal(hasUnsafeText(input), input !== shown);
    });
  }

  test('a long string is cut with an ellipsis and its original length', () => {
    assert.equal(untrustedText('x'.repeat(300)), `${'x'.repeat(DISPLAY_LIMIT)}…(300 chars)`);
    assert.equal(untrustedText('abcdef', 3), 'abc…(6 chars)');
    assert.equal(untrustedText('abc', 3), 'abc');
  });

  test('the limit counts the escaped form, and a cut never splits an escape or a surrogate pair', () => {
    assert.equal(untrustedText('\x1b\x1b', 6), '\\x1b…(2 chars)');
    assert.equal(untrustedText('ab\u202e', 5), 'ab…(3 chars)');
    assert.equal(untrustedText('a💾b', 2), 'a…(4 chars)');
  });

  test('a megabyte of escapes costs no more than the limit', () => {
    const out = untrustedText('\x1b'.repeat(1 << 20));
    assert.ok(out.length < DISPLAY_LIMIT + 20, `${out.length} chars`);
    assert.ok(!hasUnsafeText(out));
  });

  test('a limit below 1 is a programming error', () => {
    assert.throws(() => untrustedText('x', 0), /max must be at least 1/);
  });
});
