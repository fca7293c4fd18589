// A question the console must ask before it can go on (an unknown host key, a key's
// passphrase, replacing an agent of another version): a view and its input, nothing else.
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';

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

export function QuestionDialog({ question, width, onAnswer }: { question: Question; width: number; onAnswer: (answer: string | boolean) => void }) {
  const [typed, setTyped] = useState('');
  useInput((input, key) => {
    if (question.kind === 'yes-no') {
      if (input === 'y' || input === 'Y') onAnswer(true);
      else if (input === 'n' || input === 'N' || key.escape) onAnswer(false);
      return;
    }
    if (key.return) onAnswer(typed);
    else if (key.escape) onAnswer(false);
    else if (key.backspace || key.delete) setTyped((t) => t.slice(0, -1));
    else if (input) setTyped((t) => t + input);
  });
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
