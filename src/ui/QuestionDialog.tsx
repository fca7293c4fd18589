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
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="yellow" width={Math.min(width, 80)} paddingX={1}>
      <Text bold color="yellow">
        {question.title}
      </Text>
      {question.body.map((l, i) => (
        <Text key={i} wrap="wrap">
          {l}
        </Text>
      ))}
      {question.kind === 'yes-no' ? <Text bold>y accept · n refuse</Text> : <Text>{'> ' + '*'.repeat(typed.length)} (Enter, or Esc to skip)</Text>}
    </Box>
  );
}
