import { Box, Text } from 'ink';
import type { Problem } from '../cluster/problems.js';
import { SEVERITY_ICON, severityStyle } from './colors.js';
import { truncate } from './format.js';

export function problemsTitle(ps: Problem[]): string {
  if (ps.length === 0) return 'no problems';
  const n = (s: Problem['severity']) => ps.filter((p) => p.severity === s).length;
  const parts = [['alert', n('alert')], ['warn', n('warn')], ['info', n('info')]].filter(([, c]) => (c as number) > 0);
  return 'problems: ' + parts.map(([s, c]) => `${c} ${s}`).join(', ');
}

/** Alerts first; a split brain is a red banner line nobody can miss. */
export function ProblemsPanel({ problems, width, maxLines }: { problems: Problem[]; width: number; maxLines: number }) {
  const shown = problems.slice(0, maxLines);
  const hidden = problems.length - shown.length;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={problems.some((p) => p.severity === 'alert') ? 'red' : problems.length ? 'yellow' : 'green'} wrap="truncate">
        {problemsTitle(problems)}
        {hidden > 0 ? ` (${hidden} more in detail view)` : ''}
      </Text>
      {shown.map((p) => {
        const line = truncate(`${SEVERITY_ICON[p.severity]} ${p.text}`, width);
        if (p.id.startsWith('split-brain')) {
          return (
            <Text key={p.id} backgroundColor="red" color="white" bold wrap="truncate">
              {line.padEnd(width)}
            </Text>
          );
        }
        return (
          <Text key={p.id} {...severityStyle(p.severity)} wrap="truncate">
            {line}
          </Text>
        );
      })}
    </Box>
  );
}
