import { Text } from './Text.js';
import type { GuardResult } from '../cluster/guards.js';
import { truncate } from './format.js';

/** Never truncated: the operator must read all of what is lost. */
const lossLine = (l: string) => `LOST: ${l}`;

/** Lines the forecast takes at `inner` columns, for the layouts that share the screen with it. */
export function forecastHeight(g: Pick<GuardResult, 'forecast' | 'loss' | 'warnings'> | undefined, inner: number): number {
  if (!g) return 0;
  return (g.forecast?.length ?? 0) + (g.warnings?.length ?? 0) + (g.loss ?? []).reduce((n, l) => n + Math.max(1, Math.ceil(lossLine(l).length / inner)), 0);
}

/** What the action will do to the data (one dim line per volume), what else it takes away, in yellow, then what it loses, in red. */
export function ForecastLines({ guard, inner }: { guard: Pick<GuardResult, 'forecast' | 'loss' | 'warnings'> | undefined; inner: number }) {
  return (
    <>
      {(guard?.warnings ?? []).map((w, i) => (
        <Text key={`w${i}`} wrap="truncate" color="yellow">
          {truncate(`⚠ ${w}`, inner)}
        </Text>
      ))}
      {(guard?.forecast ?? []).map((f, i) => (
        <Text key={`f${i}`} wrap="truncate" dimColor>
          {truncate(`⇄ ${f}`, inner)}
        </Text>
      ))}
      {(guard?.loss ?? []).map((l, i) => (
        <Text key={`l${i}`} bold color="red">
          {lossLine(l)}
        </Text>
      ))}
    </>
  );
}
