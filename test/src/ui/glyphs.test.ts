import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASCII_GLYPHS, ASCII_WORDS, asciiGlyphs, asciiText, borderStyle, keyLabel } from '../../../src/ui/glyphs.js';

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

test('glyphs: every ASCII stand-in is one printable ASCII column, as wide as its glyph', () => {
  for (const [g, a] of Object.entries(ASCII_GLYPHS)) {
    assert.equal([...g].length, 1, g);
    assert.match(a, /^[\x20-\x7e]$/, `${g} → ${a}`);
  }
});

test('glyphs: the swaps', () => {
  const cases: Array<[string, string, string]> = [
    // text, one-column swap, for text measured after
    ['[███░░]', '[###..]', '[###..]'],
    ['  ↳ ha-a→ha-b', '  > ha-a>ha-b', '  > ha-a>ha-b'],
    ['✖ r0 split brain…', '! r0 split brain~', '! r0 split brain~'],
    ['↑↓ choose · ⏎ open', '^v choose - ⏎ open', 'Up/Dn choose - Enter open'],
    ['ünïcode from a host', 'ünïcode from a host', 'ünïcode from a host'],
  ];
  for (const [s, cols, words] of cases) {
    assert.equal(asciiText(s), words, s);
    if (!s.includes('⏎')) assert.equal(asciiGlyphs(s), cols, s);
  }
  assert.equal(keyLabel('⏎', true), '⏎');
  assert.equal(keyLabel('⏎', false), 'Enter');
  assert.equal(borderStyle('double', true), 'double');
  assert.equal(borderStyle('double', false), 'classic');
});

test('glyphs: every non-ASCII character the console draws has an ASCII stand-in', () => {
  const dir = join(import.meta.dirname, '../../../src/ui');
  const missing = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => /\.tsx?$/.test(n))) {
    // Code only: comments may say what they like.
    const code = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(\/\/|\*|\/\*\*)/.test(l))
      .join('\n');
    for (const c of code) if (!ASCII.test(c) && !(c in ASCII_GLYPHS) && !ASCII_WORDS.some(([g]) => g === c) && f !== 'glyphs.ts') missing.add(`${c} (${f})`);
  }
  assert.deepEqual([...missing], []);
});
