// Typed text in every dialog that takes it (a destructive confirmation, a runbook step, a
// passphrase), as one pure function of what Ink 6 delivers. Ink splits each read from the
// terminal at escape sequences only: a run of plain characters — pasted, fast-typed, or sent
// by tmux in one burst — arrives as ONE input with no key flags set, carrying its CR, DEL and
// other control bytes inside (`r0\r`, `\x7f\x7f`). A lone key arrives parsed instead: CR as
// key.return, DEL (the Backspace key of most terminals) and ESC[3~ as key.delete, BS as
// key.backspace, Ctrl+letter as key.ctrl with the letter as input, Alt+letter as key.meta.
import type { Key } from 'ink';

export type EntryKey = Partial<Pick<Key, 'return' | 'backspace' | 'delete' | 'ctrl' | 'meta'>>;

export interface Entry {
  text: string;
  /** Enter was pressed: `text` is what it was pressed on (input after it in the same read is not typing). */
  submit: boolean;
}

const eraseChar = (t: string): string => [...t].slice(0, -1).join('');
const eraseWord = (t: string): string => t.replace(/\S*\s*$/u, '');

// C0 controls, DEL and C1 controls: never part of a name or a passphrase, and invisible on screen.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * The text after one input from Ink. There is no cursor: Backspace and Delete both erase the
 * last character, Ctrl+U the whole line, Ctrl+W the last word; Enter (CR or LF) submits; any
 * other control character or key (arrows, Tab, Alt+letter) changes nothing.
 */
export function textEntry(text: string, input: string, key: EntryKey): Entry {
  if (key.return) return { text, submit: true };
  if (key.backspace || key.delete) return { text: eraseChar(text), submit: false };
  if (key.ctrl) return { text: input === 'u' ? '' : input === 'w' ? eraseWord(text) : text, submit: false };
  if (key.meta) return { text, submit: false };
  let out = text;
  for (const c of input) {
    if (c === '\r' || c === '\n') return { text: out, submit: true };
    if (c === '\x7f' || c === '\b') out = eraseChar(out);
    else if (c === '\x15') out = '';
    else if (c === '\x17') out = eraseWord(out);
    else if (!CONTROL.test(c)) out += c;
  }
  return { text: out, submit: false };
}

/**
 * The exact text a confirmation needs typed: the guard's own `typeToConfirm` (a host name, for
 * steps and overrides that hinge on a host), else the resource name when the action is
 * destructive; undefined when `y` (or Enter, for a runbook step) is enough.
 */
export function confirmationText(c: { typeToConfirm?: string; destructive?: boolean; resource?: string }): string | undefined {
  return c.typeToConfirm ?? (c.destructive ? c.resource : undefined);
}

export type EntryTone = 'hint' | 'match' | 'mismatch';

/**
 * What the prompt says under the text typed so far: a mismatch as soon as the text cannot become
 * `expected`, and after Enter on anything but `expected` (a prefix included), so that Enter is never
 * silently ignored.
 */
export function entryStatus(expected: string, typed: string, rejected: boolean): { tone: EntryTone; text: string } {
  if (typed === expected) return { tone: 'match', text: `✓ ${expected}: Enter to confirm` };
  if (rejected) return { tone: 'mismatch', text: typed === '' ? `✗ nothing typed: type ${expected}` : `✗ "${typed}" does not match ${expected}: type ${expected} exactly` };
  if (!expected.startsWith(typed)) return { tone: 'mismatch', text: `✗ does not match ${expected}` };
  return { tone: 'hint', text: `type ${expected}, then Enter` };
}
