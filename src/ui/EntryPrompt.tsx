import { Text } from './Text.js';
import { entryStatus, type EntryTone } from './text-entry.js';
import { truncate } from './format.js';

const TONE: Record<EntryTone, string | undefined> = { hint: undefined, match: 'green', mismatch: 'red' };

/**
 * Two lines of every typed confirmation: `label > typed▏` and what the text typed so far means
 * (matches, does not match, what to type), followed by `keys`.
 */
export function EntryPrompt({ label, expected, typed, rejected, keys, width, color }: { label: string; expected: string; typed: string; rejected: boolean; keys: string; width: number; color?: string }) {
  const status = entryStatus(expected, typed, rejected);
  const typedColor = expected.startsWith(typed) ? undefined : 'red';
  const room = Math.max(0, width - label.length - 4);
  return (
    <>
      <Text wrap="truncate">
        <Text bold color={color}>
          {truncate(label, width)}
        </Text>
        {room > 0 ? (
          <>
            {' > '}
            <Text bold color={typedColor}>
              {typed.length > room ? '…' + typed.slice(typed.length - room + 1) : typed}
            </Text>
            <Text inverse> </Text>
          </>
        ) : null}
      </Text>
      <Text wrap="truncate" color={TONE[status.tone]} dimColor={status.tone === 'hint'} bold={status.tone === 'mismatch'}>
        {truncate(`${status.text} · ${keys}`, width)}
      </Text>
    </>
  );
}
