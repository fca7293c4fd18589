import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { confirmationText, entryStatus, textEntry, type EntryKey } from '../../../src/ui/text-entry.js';

// Inputs as Ink 6 hands them to useInput (read in node_modules/ink/build: input-parser.js splits
// a read at escape sequences only, use-input.js names a lone key): a run of plain characters
// is one input without flags; a lone key comes with its flag and, for controls, no text.
const ENTER: EntryKey = { return: true };
const DEL: EntryKey = { delete: true }; // a lone \x7f (Backspace on most terminals) or ESC[3~
const BS: EntryKey = { backspace: true }; // a lone \b (Ctrl+H)
const CTRL: EntryKey = { ctrl: true };
const META: EntryKey = { meta: true };

describe('textEntry', () => {
  const cases: Array<[name: string, before: string, input: string, key: EntryKey, text: string, submit: boolean]> = [
    ['a key', 'r', '0', {}, 'r0', false],
    ['a lone Enter (\\r with key.return)', 'r0', '\r', ENTER, 'r0', true],
    ['a paste or a fast typist: name and Enter in one read', '', 'r0\r', {}, 'r0', true],
    ['LF submits as CR does (a lone \\n has no flag)', '', 'r0\n', {}, 'r0', true],
    ['what follows Enter in the same read is not typed', '', 'r0\rxyz', {}, 'r0', true],
    ['several Backspaces in one read', 'r0xx', '\x7f\x7f', {}, 'r0', false],
    ['typing, Backspaces and more typing in one read', '', 'rx\x7f0', {}, 'r0', false],
    ['Ctrl+H bytes in one read', 'abc', '\b\b', {}, 'a', false],
    ['Backspaces past the start', 'a', '\x7f\x7f\x7f', {}, '', false],
    ['a lone Backspace (key.delete)', 'r0', '', DEL, 'r', false],
    ['a lone Ctrl+H (key.backspace)', 'r0', '', BS, 'r', false],
    ['Backspace erases a whole character, not half a surrogate pair', 'a😀', '', DEL, 'a', false],
    ['Ctrl+U (lone: the letter with key.ctrl) clears', 'r0', 'u', CTRL, '', false],
    ['Ctrl+U inside a read clears what was before it', 'xx', 'ab\x15r0', {}, 'r0', false],
    ['Ctrl+W erases the last word', 'ha a ', 'w', CTRL, 'ha ', false],
    ['another Ctrl+letter is not typed', 'r', 'c', CTRL, 'r', false],
    ['control characters inside a read are not inserted', '', 'r\x07\x1b\t0\x00', {}, 'r0', false],
    ['C1 controls are not inserted', '', 'r\u009b0', {}, 'r0', false],
    ['Alt+letter (ESC then a letter) is not typed', 'r', '0', META, 'r', false],
    ['an arrow key or Tab (no text) changes nothing', 'r0', '', {}, 'r0', false],
    ['spaces and non-ASCII text are typed', 'ha', ' b é', {}, 'ha b é', false],
  ];
  for (const [name, before, input, key, text, submit] of cases) {
    test(name, () => assert.deepEqual(textEntry(before, input, key), { text, submit }));
  }
});

describe('confirmationText', () => {
  test('the guard or step says what to type; else a destructive action takes the resource name; else nothing', () => {
    assert.equal(confirmationText({ resource: 'r0', destructive: true }), 'r0');
    assert.equal(confirmationText({ resource: 'r0', destructive: false }), undefined);
    assert.equal(confirmationText({ resource: 'r0', destructive: true, typeToConfirm: 'ha-b' }), 'ha-b');
    assert.equal(confirmationText({ resource: 'r0', destructive: false, typeToConfirm: 'ha-b' }), 'ha-b');
    assert.equal(confirmationText({ typeToConfirm: 'ha-a' }), 'ha-a');
    assert.equal(confirmationText({}), undefined);
  });
});

describe('entryStatus', () => {
  const cases: Array<[typed: string, rejected: boolean, tone: string, text: RegExp]> = [
    ['', false, 'hint', /^type r0, then Enter$/],
    ['r', false, 'hint', /^type r0/],
    ['r1', false, 'mismatch', /^✗ does not match r0$/],
    ['r0', false, 'match', /^✓ r0: Enter to confirm$/],
    ['r', true, 'mismatch', /^✗ "r" does not match r0: type r0 exactly$/],
    ['', true, 'mismatch', /^✗ nothing typed: type r0$/],
    ['r0', true, 'match', /^✓/],
  ];
  for (const [typed, rejected, tone, text] of cases) {
    test(`"${typed}"${rejected ? ' after Enter' : ''}: ${tone}`, () => {
      const s = entryStatus('r0', typed, rejected);
      assert.equal(s.tone, tone);
      assert.match(s.text, text);
    });
  }
});
