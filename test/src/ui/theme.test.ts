import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideTheme, type Env, type ThemeFlags } from '../../../src/ui/theme.js';

test('theme: colour from NO_COLOR / FORCE_COLOR, glyphs from --no-unicode and the locale', () => {
  const cases: Array<[string, Env, ThemeFlags, { color: boolean; unicode: boolean }]> = [
    ['nothing set', {}, {}, { color: true, unicode: true }],
    ['NO_COLOR=1', { NO_COLOR: '1' }, {}, { color: false, unicode: true }],
    ['NO_COLOR present but empty: not set (no-color.org)', { NO_COLOR: '' }, {}, { color: true, unicode: true }],
    ['FORCE_COLOR=1 over NO_COLOR', { NO_COLOR: '1', FORCE_COLOR: '1' }, {}, { color: true, unicode: true }],
    ['FORCE_COLOR=0', { FORCE_COLOR: '0' }, {}, { color: false, unicode: true }],
    ['FORCE_COLOR=false', { FORCE_COLOR: 'false' }, {}, { color: false, unicode: true }],
    ['FORCE_COLOR empty: on, as chalk reads it', { FORCE_COLOR: '' }, {}, { color: true, unicode: true }],
    ['FORCE_COLOR=3', { FORCE_COLOR: '3' }, {}, { color: true, unicode: true }],
    ['--no-unicode', { LANG: 'en_US.UTF-8' }, { unicode: false }, { color: true, unicode: false }],
    ['LANG=C', { LANG: 'C' }, {}, { color: true, unicode: false }],
    ['LANG=POSIX', { LANG: 'POSIX' }, {}, { color: true, unicode: false }],
    ['LANG=C.UTF-8', { LANG: 'C.UTF-8' }, {}, { color: true, unicode: true }],
    ['LANG=de_DE.utf8', { LANG: 'de_DE.utf8' }, {}, { color: true, unicode: true }],
    ['LANG=en_US.ISO-8859-1', { LANG: 'en_US.ISO-8859-1' }, {}, { color: true, unicode: false }],
    ['LC_ALL over LANG', { LC_ALL: 'C', LANG: 'en_US.UTF-8' }, {}, { color: true, unicode: false }],
    ['LC_CTYPE over LANG', { LC_CTYPE: 'en_US.UTF-8', LANG: 'C' }, {}, { color: true, unicode: true }],
    ['LC_ALL empty: the next one counts', { LC_ALL: '', LANG: 'C' }, {}, { color: true, unicode: false }],
    ['both off', { NO_COLOR: 'x', LC_ALL: 'POSIX' }, {}, { color: false, unicode: false }],
  ];
  for (const [what, env, flags, want] of cases) assert.deepEqual(decideTheme(env, flags), want, what);
});
