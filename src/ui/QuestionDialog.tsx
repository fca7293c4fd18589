// A question the console must ask before it can go on (an unknown host key, a key's
// passphrase, replacing an agent of another version, putting a resource file on both hosts):
// a view and its input, nothing else.
import { useReducer, useRef } from 'react';
import { useInput, type Key } from 'ink';
import { Frame } from './Frame.js';
import { Text } from './Text.js';
import type { LineTone, ToneLine } from '../cluster/config-push.js';
import { EntryPrompt } from './EntryPrompt.js';
import { truncate } from './format.js';
import { textEntry, type EntryKey } from './text-entry.js';

export interface Question {
  title: string;
  /** Lines of explanation (e.g. OpenSSH's "authenticity of host" text with the fingerprint). */
  body: string[];
  /** confirm: `y` / `n`, or the exact `expected` text typed; notice: read, then Enter. */
  kind: 'yes-no' | 'secret' | 'confirm' | 'notice';
  /** kind confirm: the text to type (a resource name) instead of `y`. */
  expected?: string;
  /** Lines shown as they are, one tone each (a diff), after the body. */
  lines?: ToneLine[];
  /** What `y` (or the typed text) does, e.g. "write on both hosts". */
  yes?: string;
}

/** Word-wraps one line to `width` columns (over-long words are cut). Pure. */
export function wrapLine(line: string, width: number): string[] {
  if (width <= 0) return [];
  const out: string[] = [];
  let cur = '';
  for (let word of line.split(' ')) {
    while (word.length > width) {
      if (cur) {
        out.push(cur);
        cur = '';
      }
      out.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!cur) cur = word;
    else if (cur.length + 1 + word.length <= width) cur += ' ' + word;
    else {
      out.push(cur);
      cur = word;
    }
  }
  out.push(cur);
  return out;
}

function bodyLines(question: Question, width: number): string[] {
  return question.body.flatMap((l) => l.split('\n')).flatMap((l) => wrapLine(l, Math.min(width, 80) - 4));
}

const footerLines = (q: Question) => (q.kind === 'confirm' && q.expected !== undefined ? 2 : 1);

/**
 * The tone lines that fit in `maxHeight` (all without it), and how many do not: a long diff is
 * cut, and the dialog says so.
 */
export function questionLines(question: Question, width: number, maxHeight?: number): { shown: ToneLine[]; hidden: number } {
  const all = question.lines ?? [];
  if (maxHeight === undefined) return { shown: all, hidden: 0 };
  const fixed = 2 + 1 + bodyLines(question, width).length + footerLines(question);
  const room = Math.max(1, maxHeight - fixed);
  if (all.length <= room) return { shown: all, hidden: 0 };
  return { shown: all.slice(0, Math.max(0, room - 1)), hidden: all.length - Math.max(0, room - 1) };
}

/** Lines the dialog takes at `width` (within `maxHeight`): the console gives the rest of the screen to the App. */
export function questionHeight(question: Question, width: number, maxHeight?: number): number {
  const { shown, hidden } = questionLines(question, width, maxHeight);
  return 2 + 1 + bodyLines(question, width).length + shown.length + (hidden > 0 ? 1 : 0) + footerLines(question);
}

export type QuestionStep = { answer: string | boolean } | { typed: string; rejected?: boolean } | undefined;

/** What a key does to an open question (pure): answers it, changes the text typed so far, or nothing. */
export function questionKey(question: Question, typed: string, input: string, key: EntryKey & Partial<Pick<Key, 'escape'>>): QuestionStep {
  if (question.kind === 'notice') return key.return || key.escape || input === 'q' || input === '\r' ? { answer: true } : undefined;
  if (question.kind === 'confirm') {
    if (key.escape) return { answer: false };
    if (question.expected === undefined) {
      if (input === 'y' || input === 'Y') return { answer: true };
      if (input === 'n' || input === 'N' || input === 'q') return { answer: false };
      return undefined;
    }
    const e = textEntry(typed, input, key);
    if (e.submit) return e.text === question.expected ? { answer: true } : { typed: e.text, rejected: true };
    return e.text === typed ? undefined : { typed: e.text, rejected: false };
  }
  if (question.kind === 'yes-no') {
    if (input === 'y' || input === 'Y') return { answer: true };
    if (input === 'n' || input === 'N' || key.escape) return { answer: false };
    return undefined;
  }
  if (key.escape) return { answer: false };
  const e = textEntry(typed, input, key);
  if (e.submit) return { answer: e.text };
  return e.text === typed ? undefined : { typed: e.text };
}

/**
 * The keys of whatever question is open; returns the secret typed so far. Mounted with the
 * console, not with the dialog: a dialog's own input hook starts listening only after its first
 * frame is on the screen, and a key pressed in between (a loaded machine, a fast typist, a test)
 * was lost. The handler reads the question from a ref set during render, never a stale one.
 */
export function useQuestionInput(asked: { question: Question; answer: (a: string | boolean) => void } | undefined): string {
  return useQuestionEntry(asked).typed;
}

/** useQuestionInput with `rejected`: Enter was pressed on a text that is not the one to type. */
export function useQuestionEntry(asked: { question: Question; answer: (a: string | boolean) => void } | undefined): { typed: string; rejected: boolean } {
  // The ref holds what the handler needs; the counter only makes the dialog show what was typed.
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const now = useRef({ asked, typed: '', rejected: false });
  // Typing belongs to one question; a new one starts empty.
  if (now.current.asked?.question !== asked?.question) now.current = { asked, typed: '', rejected: false };
  else now.current.asked = asked;
  useInput((input, key) => {
    const { asked: open, typed: sofar } = now.current;
    if (!open) return;
    const step = questionKey(open.question, sofar, input, key);
    if (!step) return;
    if ('answer' in step) {
      now.current = { asked: undefined, typed: '', rejected: false };
      redraw();
      open.answer(step.answer);
    } else {
      now.current = { asked: open, typed: step.typed, rejected: step.rejected === true };
      redraw();
    }
  });
  return { typed: now.current.typed, rejected: now.current.rejected };
}

const TONES: Record<LineTone, { color?: string; bold?: boolean; dim?: boolean }> = {
  add: { color: 'green' },
  del: { color: 'red' },
  hunk: { color: 'cyan' },
  head: { bold: true },
  plain: {},
  dim: { dim: true },
};

export function QuestionDialog({ question, width, typed, rejected = false, maxHeight }: { question: Question; width: number; typed: string; rejected?: boolean; maxHeight?: number }) {
  // Exactly questionHeight() lines: the console sizes the App below it from that.
  const inner = Math.min(width, 80) - 4;
  const { shown, hidden } = questionLines(question, width, maxHeight);
  return (
    <Frame flexDirection="column" borderStyle="double" borderColor="yellow" width={Math.min(width, 80)} paddingX={1} flexShrink={0}>
      <Text bold color="yellow" wrap="truncate">
        {question.title}
      </Text>
      {bodyLines(question, width).map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
      {shown.map((l, i) => (
        <Text key={`l${i}`} wrap="truncate" color={TONES[l.tone].color} bold={TONES[l.tone].bold} dimColor={TONES[l.tone].dim}>
          {truncate(l.text, inner)}
        </Text>
      ))}
      {hidden > 0 ? (
        <Text dimColor wrap="truncate">
          {`… ${hidden} more lines (a taller terminal shows them)`}
        </Text>
      ) : null}
      {question.kind === 'yes-no' ? (
        <Text bold wrap="truncate">
          y accept · n refuse
        </Text>
      ) : question.kind === 'notice' ? (
        <Text bold wrap="truncate">
          Enter to close
        </Text>
      ) : question.kind === 'confirm' && question.expected !== undefined ? (
        <EntryPrompt label={`type ${question.expected} to ${question.yes ?? 'confirm'}`} expected={question.expected} typed={typed} rejected={rejected} keys="Esc cancel" width={inner} color="yellow" />
      ) : question.kind === 'confirm' ? (
        <Text bold wrap="truncate">
          {`y ${question.yes ?? 'confirm'} · n cancel`}
        </Text>
      ) : (
        <Text wrap="truncate">{'> ' + '*'.repeat(typed.length)} (Enter, or Esc to skip)</Text>
      )}
    </Frame>
  );
}
