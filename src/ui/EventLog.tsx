import { Box } from 'ink';
import { Text } from './Text.js';
import type { RecentEvent } from '../cluster/model.js';
import { clockOf, truncate } from './format.js';

/** The newest `maxLines` events (minus `scroll` from the end), oldest at the top, with the host's timestamp. */
export function EventLog({ events, width, maxLines, scroll = 0, title = 'recent events' }: { events: RecentEvent[]; width: number; maxLines: number; scroll?: number; title?: string }) {
  if (maxLines <= 0) return null;
  const end = Math.max(0, events.length - scroll);
  const start = Math.max(0, end - maxLines);
  const shown = events.slice(start, end);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        {title}
        {scroll > 0 ? ` (scrolled back ${scroll})` : ''}
      </Text>
      {shown.map((e, i) => (
        <Text key={start + i} wrap="truncate">
          <Text dimColor>{clockOf(e.time)} </Text>
          <Text color="cyan">{e.host} </Text>
          {truncate(e.text, Math.max(0, width - 10 - e.host.length))}
        </Text>
      ))}
    </Box>
  );
}
