import { Box } from 'ink';
import { Text } from './Text.js';
import type { Problem } from '../cluster/problems.js';
import type { ShownProblem } from './host-trouble.js';
import { SEVERITY_ICON, severityStyle } from './colors.js';
import { truncate } from './format.js';

export function problemsTitle(ps: Problem[]): string {
  if (ps.length === 0) return 'no problems';
  const n = (s: Problem['severity']) => ps.filter((p) => p.severity === s).length;
  const parts = [['alert', n('alert')], ['warn', n('warn')], ['info', n('info')]].filter(([, c]) => (c as number) > 0);
  return 'problems: ' + parts.map(([s, c]) => `${c} ${s}`).join(', ');
}

/** The problems that fit in `maxLines`, and whether each one's advice line fits too. */
export function fitProblems(problems: ShownProblem[], maxLines: number): Array<{ p: ShownProblem; advice: boolean }> {
  const out: Array<{ p: ShownProblem; advice: boolean }> = [];
  let used = 0;
  for (const p of problems) {
    if (used >= maxLines) break;
    const advice = p.advice !== undefined && used + 2 <= maxLines;
    out.push({ p, advice });
    used += advice ? 2 : 1;
  }
  return out;
}

/** Alerts first; a split brain is a red banner line nobody can miss; host trouble says what to do. */
export function ProblemsPanel({ problems, width, maxLines }: { problems: ShownProblem[]; width: number; maxLines: number }) {
  const shown = fitProblems(problems, maxLines);
  const hidden = problems.length - shown.length;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={problems.some((p) => p.severity === 'alert') ? 'red' : problems.length ? 'yellow' : 'green'} wrap="truncate">
        {problemsTitle(problems)}
        {hidden > 0 ? ` (${hidden} more in detail view)` : ''}
      </Text>
      {shown.map(({ p, advice }) => {
        // One line per problem: multi-line texts (SSH banners, config errors) would break the layout.
        const line = truncate(`${SEVERITY_ICON[p.severity]} ${p.text.replace(/\s*\n\s*/g, ' ')}`, width);
        if (p.id.startsWith('split-brain')) {
          return (
            <Text key={p.id} backgroundColor="red" color="white" bold wrap="truncate">
              {line.padEnd(width)}
            </Text>
          );
        }
        return (
          <Box key={p.id} flexDirection="column">
            <Text {...severityStyle(p.severity)} wrap="truncate">
              {line}
            </Text>
            {advice ? (
              <Text dimColor wrap="truncate">
                {truncate(`  → ${p.advice}`, width)}
              </Text>
            ) : null}
          </Box>
        );
      })}
    </Box>
  );
}
