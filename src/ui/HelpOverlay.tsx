import { Box } from 'ink';
import { Text } from './Text.js';
import { truncate } from './format.js';

export const HELP_LINES: Array<[string, string]> = [
  ['↑ ↓  j k', 'select resource / volume (stable order: name, volume)'],
  ['Tab', 'switch the host actions apply to (highlighted in the header)'],
  ['⏎  Esc', 'detail view of the selected resource / back'],
  ['e', 'event log'],
  ['p', 'promote (drbd-agent primary)'],
  ['s', 'demote (drbd-agent secondary)'],
  ['c  d', 'connect / disconnect'],
  ['t', 'start / stop the iSCSI target'],
  ['u  D', 'up (attach + connect) / down (D: confirmed by name when it stops the service)'],
  ['a  x', 'attach the disk (up, not connecting) / detach it (the builtin engine: down)'],
  ['m', 'create-md (new resource: refuses valid metadata)'],
  ['v', 'online verify: the KiB out of sync, shown when it ends'],
  ['z', 'pause / resume the resync'],
  ['A', 'adjust: re-read the resource file (brings a configured resource up)'],
  ['g', 'resize: grow to what both backing disks leave (grow them first)'],
  ['C', 'copy the resource file from this host to the other (diff, confirm, adjust)'],
  ['r', 'runbooks: switchover, failover, disk replacement, split brain'],
  ['F', 'force promote (primary --force) — destructive'],
  ['X', 'connect --discard-my-data (split-brain victim) — destructive'],
  ['W', 'create-md --force (replaced disk) — destructive'],
  ['I', 'invalidate: full resync of this host from the other — destructive'],
  ['r  L', 'a runbook in progress is resumed from r; L: its audit log (who ran what)'],
  ['X  runbook', 'in a runbook: abandon the run (type abandon); Esc only closes the view'],
  ['?', 'this help'],
  ['q', 'quit (the agents and replication keep running)'],
];

export function HelpOverlay({ width, height, readOnly }: { width: number; height: number; readOnly: boolean }) {
  const lines = HELP_LINES.slice(0, Math.max(0, height - 4));
  return (
    <Box flexDirection="column" borderStyle="round" width={Math.min(width, 80)} paddingX={1}>
      <Text bold>keys</Text>
      {lines.map(([k, v]) => (
        <Text key={k} wrap="truncate">
          <Text bold color="cyan">
            {k.padEnd(10)}
          </Text>
          {truncate(v, Math.min(width, 80) - 14)}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {readOnly ? 'read-only: every action is refused' : 'every action shows its command and checks before it runs'}
      </Text>
    </Box>
  );
}
