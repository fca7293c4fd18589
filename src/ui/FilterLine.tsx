import { Text } from './Text.js';
import { truncate } from './format.js';

/** `/ r1▏ · 3 hidden by filter`: the filter, while typed (with its cursor) or kept, and what it hides. */
export function FilterLine({ text, typing, hidden, width }: { text: string; typing: boolean; hidden: string; width: number }) {
  const tail = hidden ? ` · ${hidden}` : text ? ' · all shown' : '';
  const room = Math.max(0, width - 3 - tail.length);
  return (
    <Text wrap="truncate">
      <Text bold>/ </Text>
      <Text bold>{text.length > room ? '…' + text.slice(text.length - room + 1) : text}</Text>
      {typing ? <Text inverse> </Text> : null}
      <Text dimColor>{truncate(tail, Math.max(0, width - 3 - Math.min(text.length, room)))}</Text>
    </Text>
  );
}
