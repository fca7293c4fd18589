import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatements, tokenize } from '../../../agent/config/res-syntax.js';
import type { Statement, Token } from '../../../agent/config/res-syntax.js';

const tokens = (text: string): Token[] => {
  const r = tokenize(text);
  if ('error' in r) throw new Error(r.error.message);
  return r.tokens;
};
const shape = (ss: Statement[]): unknown => ss.map((s) => [s.key.text, ...s.args.map((a) => a.text), ...(s.block ? [shape(s.block)] : [])]);
const parse = (text: string) => parseStatements(tokens(text), { line: 99, col: 1 });

describe('tokenize', () => {
  test('words, strings, punctuation and comments, with 1-based line:col', () => {
    const t = tokens('resource r0 { # comment { ;\n  net { shared-secret "a b;#{"; }\n}');
    assert.deepEqual(
      t.map((x) => `${x.kind}:${x.text}@${x.line}:${x.col}`),
      ['word:resource@1:1', 'word:r0@1:10', '{:{@1:13', 'word:net@2:3', '{:{@2:7', 'word:shared-secret@2:9', 'string:a b;#{@2:23', ';:;@2:31', '}:}@2:33', '}:}@3:1'],
    );
  });
  test('a backslash escapes the next character inside a string', () => {
    assert.equal(tokens('"say \\"hi\\""')[0]!.text, 'say "hi"');
  });
  test('a word ends at punctuation without spaces', () => {
    assert.deepEqual(tokens('device/dev/drbd1;}').map((x) => x.text), ['device/dev/drbd1', ';', '}']);
  });
  test('an unterminated string is an error at its start that never shows its content', () => {
    const r = tokenize('net {\n  shared-secret "TopSecret;\n}');
    assert.ok('error' in r);
    assert.deepEqual(r.error, { line: 2, col: 17, message: 'this string has no closing double quote (strings must end on the line they start)' });
    assert.doesNotMatch(r.error.message, /TopSecret/);
  });
});

describe('parseStatements', () => {
  test('nested blocks, parameters, flags and stray semicolons', () => {
    const r = parse('resource r0 { protocol C; net { allow-two-primaries; }; on a { address 1.2.3.4:5; } }');
    assert.ok('statements' in r);
    assert.deepEqual(shape(r.statements), [['resource', 'r0', [['protocol', 'C'], ['net', [['allow-two-primaries']]], ['on', 'a', [['address', '1.2.3.4:5']]]]]]);
  });
  test('an unclosed block is reported at the end, naming where it opened', () => {
    assert.deepEqual(parse('resource r0 {\n  net { }\n'), {
      error: { line: 99, col: 1, message: 'the resource block opened at 1:13 is never closed: a } is missing, at the end or inside that block' },
    });
  });
  test('a } with nothing to close', () => {
    assert.deepEqual(parse('net { }\n}'), { error: { line: 2, col: 1, message: 'this } closes nothing: remove it or add the { it belongs to' } });
  });
  test('a parameter ended by } lost its ;', () => {
    assert.deepEqual(parse('on a {\n  node-id 1 }'), { error: { line: 2, col: 13, message: 'missing ; after "node-id" (line 2) before this }' } });
  });
  test('an unfinished parameter at the end of the file', () => {
    assert.deepEqual(parse('protocol C'), { error: { line: 99, col: 1, message: '"protocol" at 1:1 is not finished: end it with ; (or a { ... } block)' } });
  });
  test('skip { } holds anything to its matching brace, as drbdadm skips it', () => {
    const cases: Array<[string, unknown]> = [
      ['skip { a b } x;', [['skip', []], ['x']]],
      ['skip resource old { on a { x } y; } x;', [['skip', 'resource', 'old', []], ['x']]],
      ['skip { "}" } x;', [['skip', []], ['x']]],
      ['r { skip { { } } on a { } }', [['r', [['skip', []], ['on', 'a', []]]]]],
    ];
    for (const [text, want] of cases) {
      const r = parse(text);
      assert.ok('statements' in r, text);
      assert.deepEqual(shape(r.statements), want, text);
    }
    assert.deepEqual(parse('skip {\n { }'), { error: { line: 99, col: 1, message: 'the skip block opened at 1:6 is never closed: a } is missing, at the end or inside that block' } });
  });
  test('a block or string where a keyword belongs', () => {
    assert.deepEqual(parse('{ }'), { error: { line: 1, col: 1, message: 'expected a keyword here, got a {' } });
    assert.deepEqual(parse('"x";'), { error: { line: 1, col: 1, message: 'expected a keyword here, got a quoted string' } });
  });
});
