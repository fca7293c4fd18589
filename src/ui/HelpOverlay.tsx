import { Frame } from './Frame.js';
import { Text } from './Text.js';
import { truncate } from './format.js';
import { keyLabel } from './glyphs.js';
import { useTheme } from './theme-context.js';

export const HELP_LINES: Array<[string, string]> = [
  ['↑ ↓  j k', 'select resource / volume (stable order: name, volume)'],
  ['Tab', 'switch the host actions apply to (highlighted in the header)'],
  ['⏎  Esc', 'detail view of the selected resource / back'],
  ['e', 'event log'],
  ['p  s', 'promote (drbd-agent primary) / demote (drbd-agent secondary)'],
  ['c  d', 'connect / disconnect'],
  ['t', 'start / stop the iSCSI target'],
  ['u  D', 'up (attach + connect) / down (the name typed if it stops service)'],
  ['a  x', 'attach the disk (up, not connecting) / detach (builtin: down)'],
  ['m', 'create-md (new resource: refuses valid metadata)'],
  ['v  z', 'online verify (KiB out of sync at the end) / pause, resume resync'],
  ['A', 'adjust: re-read the resource file (a configured one comes up)'],
  ['g', 'resize: grow to what both backing disks leave (grow them first)'],
  ['C', 'copy the resource file to the other host (diff, confirm, adjust)'],
  ['r  L', 'runbooks (resumes the active one; X abandons it) / L: audit log'],
  ['F', 'force promote (primary --force) — destructive'],
  ['X', 'connect --discard-my-data (split-brain victim) — destructive'],
  ['W', 'create-md --force (replaced disk) — destructive'],
  ['I', 'invalidate: full resync of this host from the other — destructive'],
  ['/  H', 'filter resources (Enter keeps, Esc clears) / hide the key bar'],
  ['q', 'quit (the agents and replication keep running)'],
];

/** What fits in `rows`: the first lines, then how many are left out, and quitting always last. */
export function helpLines(rows: number): Array<[string, string]> {
  if (HELP_LINES.length <= rows) return HELP_LINES;
  const quit = HELP_LINES.at(-1)!;
  const shown = HELP_LINES.slice(0, Math.max(0, rows - 2));
  return [...shown, ['…', `${HELP_LINES.length - 1 - shown.length} more: a taller terminal shows them`], quit];
}

/** The key column: the widest label (ASCII `Up Dn  j k`) and a blank. */
const KEY_COLUMN = 11;

export function HelpOverlay({ width, height, readOnly }: { width: number; height: number; readOnly: boolean }) {
  const { unicode } = useTheme();
  const lines = helpLines(Math.max(2, height - 4));
  return (
    <Frame flexDirection="column" borderStyle="round" width={Math.min(width, 80)} paddingX={1}>
      <Text bold>keys</Text>
      {lines.map(([k, v]) => (
        <Text key={k} wrap="truncate">
          <Text bold color="cyan">
            {keyLabel(k, unicode).padEnd(KEY_COLUMN)}
          </Text>
          {truncate(v, Math.min(width, 80) - 4 - KEY_COLUMN)}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {readOnly ? 'read-only: every action is refused' : 'every action shows its command and checks before it runs'}
      </Text>
    </Frame>
  );
}
