// A question the console must ask before it can go on (an unknown host key, a key's
// passphrase, replacing an agent of another version): a view and its input, nothing else.
import { useRef, useState } from 'react';
import { Box, Text, useInput, type Key } from 'ink';
import { textEntry, type EntryKey } from './text-entry.js';

export interface Question {
  title: string;
  /** Lines of explanation (e.g. OpenSSH's "authenticity of host" text with the fingerprint). */
  body: string[];
  kind: 'yes-no' | 'secret';
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

/** Lines the dialog takes at `width`: the console gives the rest of the screen to the App. */
export function questionHeight(question: Question, width: number): number {
  return 2 + 1 + bodyLines(question, width).length + 1;
}

/** What a key does to an open question (pure): answers it, changes the secret typed so far, or nothing. */
export function questionKey(question: Question, typed: string, input: string, key: EntryKey & Partial<Pick<Key, 'escape'>>): { answer: string | boolean } | { typed: string } | undefined {
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
  // The ref holds what the handler needs; the state only makes the dialog show what was typed.
  const [, setTyped] = useState('');
  const now = useRef({ asked, typed: '' });
  // Typing belongs to one question; a new one starts empty.
  if (now.current.asked?.question !== asked?.question) now.current = { asked, typed: '' };
  else now.current.asked = asked;
  useInput((input, key) => {
    const { asked: open, typed: sofar } = now.current;
    if (!open) return;
    const step = questionKey(open.question, sofar, input, key);
    if (!step) return;
    if ('answer' in step) {
      now.current = { asked: undefined, typed: '' };
      setTyped('');
      open.answer(step.answer);
    } else {
      now.current = { asked: open, typed: step.typed };
      setTyped(step.typed);
    }
  });
  return now.current.typed;
}

export function QuestionDialog({ question, width, typed }: { question: Question; width: number; typed: string }) {
  // Exactly questionHeight() lines: the console sizes the App below it from that.
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="yellow" width={Math.min(width, 80)} paddingX={1} flexShrink={0}>
      <Text bold color="yellow" wrap="truncate">
        {question.title}
      </Text>
      {bodyLines(question, width).map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
      {question.kind === 'yes-no' ? (
        <Text bold wrap="truncate">
          y accept · n refuse
        </Text>
      ) : (
        <Text wrap="truncate">{'> ' + '*'.repeat(typed.length)} (Enter, or Esc to skip)</Text>
      )}
    </Box>
  );
}
