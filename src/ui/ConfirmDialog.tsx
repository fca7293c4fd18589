import { Frame } from './Frame.js';
import { Text } from './Text.js';
import { refusal, type GuardResult } from '../cluster/guards.js';
import { ACTIONS } from '../cluster/actions.js';
import { EntryPrompt } from './EntryPrompt.js';
import { ForecastLines } from './ForecastLines.js';
import { truncate } from './format.js';
import { confirmationText } from './text-entry.js';

/** A suggestion with an action opens with f; one without is what to do first. */
export function suggestionLine(s: NonNullable<GuardResult['suggestion']>): string {
  return s.action ? `${s.text} (f)` : s.text;
}

/** The exact command, the host it runs on, every check ✓/✗, and what confirming takes (y, or a text typed). */
export function ConfirmDialog({ guard, typed, rejected, width }: { guard: GuardResult; typed: string; rejected: boolean; width: number }) {
  const expected = confirmationText(guard);
  const w = Math.min(width, 80);
  const inner = w - 4;
  const title = `${ACTIONS[guard.action].title} ${guard.resource} on ${guard.hostName}`;
  const color = !guard.allowed ? 'red' : guard.destructive ? 'red' : 'cyan';
  return (
    <Frame flexDirection="column" borderStyle={guard.destructive ? 'double' : 'round'} borderColor={color} width={w} paddingX={1}>
      <Text bold color={color} wrap="truncate">
        {truncate(title, inner)}
      </Text>
      <Text wrap="truncate">
        {truncate(`runs on ${guard.hostName}: `, inner)}
        <Text bold>{truncate(guard.command, Math.max(0, inner - guard.hostName.length - 10))}</Text>
      </Text>
      {guard.checks.map((c, i) => (
        <Text key={i} wrap="truncate" color={c.ok ? 'green' : 'red'}>
          {truncate(`${c.ok ? '✓' : '✗'} ${c.text}${c.reason ? ` — ${c.reason}` : ''}`, inner)}
        </Text>
      ))}
      <ForecastLines guard={guard} inner={inner} />
      {!guard.allowed ? (
        <>
          <Text bold color="red">
            refused: {refusal(guard) ?? 'precondition failed'}
          </Text>
          {guard.suggestion ? <Text color="yellow">→ {suggestionLine(guard.suggestion)}</Text> : null}
          <Text dimColor>Esc close</Text>
        </>
      ) : expected !== undefined ? (
        <EntryPrompt
          label={`${guard.destructive ? 'DESTRUCTIVE. ' : ''}Type ${expected === guard.resource ? `the resource name (${expected})` : expected} and press Enter:`}
          expected={expected}
          typed={typed}
          rejected={rejected}
          keys="Esc cancel"
          width={inner}
          color={guard.destructive ? 'red' : 'yellow'}
        />
      ) : (
        <Text bold wrap="truncate">
          y confirm · n/Esc cancel
        </Text>
      )}
    </Frame>
  );
}
