import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refreshOption } from '../../src/refresh-option.js';

test('--refresh / --slow-link: milliseconds between update frames, or what is wrong', () => {
  const cases: Array<[string | undefined, boolean, { ms?: number } | 'error']> = [
    [undefined, false, {}],
    ['0.5', false, { ms: 500 }],
    ['2', false, { ms: 2000 }],
    ['1.25', false, { ms: 1250 }],
    [undefined, true, { ms: 2000 }],
    ['0.1', false, 'error'],
    ['0', false, 'error'],
    ['-1', false, 'error'],
    ['fast', false, 'error'],
    ['', false, 'error'],
    ['1', true, 'error'],
  ];
  for (const [v, slow, want] of cases) {
    const r = refreshOption(v, slow);
    if (want === 'error') assert.ok('error' in r && /--refresh/.test(r.error), `${v} ${slow}`);
    else assert.deepEqual(r, want, `${v} ${slow}`);
  }
});
