import { Box, Text } from 'ink';
import type { ClusterModel } from '../cluster/model.js';
import { buildRunbook, runbookProgress, stepConsequence, variantHint, type RunbookChoice, type StepStatus } from '../runbooks/runbooks.js';
import type { Overlay } from './state.js';
import { EntryPrompt } from './EntryPrompt.js';
import { ForecastLines, forecastHeight } from './ForecastLines.js';
import { truncate } from './format.js';
import { confirmationText } from './text-entry.js';

/** `r`: the runbooks that apply to the resource now; the model decides which. */
export function RunbookMenu({ resource, choices, cursor, width }: { resource: string; choices: RunbookChoice[]; cursor: number; width: number }) {
  const w = Math.min(width, 80);
  const inner = w - 4;
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" width={w} paddingX={1}>
      <Text bold color="cyan" wrap="truncate">
        {truncate(`Runbooks for ${resource}`, inner)}
      </Text>
      {choices.length === 0 ? <Text dimColor>no runbook applies to {resource} in its current state</Text> : null}
      {choices.map((c, i) => (
        <Text key={`${c.id}@${c.host}`} inverse={i === cursor} wrap="truncate">
          {truncate(`${i === cursor ? '▶' : ' '} ${c.label}`, inner)}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {choices.length > 0 ? '↑↓ choose · ⏎ open · Esc close' : 'Esc close'}
      </Text>
    </Box>
  );
}

const MARK: Record<StepStatus, string> = { done: '✓', next: '▶', pending: '·' };
const MARK_COLOR: Record<StepStatus, string | undefined> = { done: 'green', next: 'cyan', pending: undefined };

/** The chosen runbook: every step's status, then the next step's exact command, host and checks. */
export function RunbookView({ overlay, model, width, height }: { overlay: Extract<Overlay, { kind: 'runbook' }>; model: ClusterModel; width: number; height: number }) {
  const w = Math.min(width, 80);
  const inner = w - 4;
  const rb = buildRunbook(model, overlay.choice.id, overlay.resource, overlay.choice.host);
  const p = runbookProgress(rb, model, overlay.completed, overlay.force);
  const step = p.next === undefined ? undefined : rb.steps[p.next];
  const g = p.guard;
  const expected = step && p.ready && !overlay.busy ? confirmationText(g ?? step) : undefined;
  const consequence = step ? stepConsequence(step, overlay.force) : undefined;
  // Border (2), title, steps, blank, step header, command, consequence, refusal/prompt (2), hint.
  const checkRoom = Math.max(1, height - 2 - 1 - rb.steps.length - 1 - 2 - (consequence ? 1 : 0) - forecastHeight(g, inner) - 2 - 1);
  const checks = p.checks.length > checkRoom ? [...p.checks.filter((c) => !c.ok), ...p.checks.filter((c) => c.ok)].slice(0, checkRoom) : p.checks;
  const refusedReason = p.checks.find((c) => !c.ok)?.reason;
  return (
    <Box flexDirection="column" borderStyle={g?.destructive ? 'double' : 'round'} borderColor={g?.destructive ? 'red' : 'cyan'} width={w} paddingX={1}>
      <Text bold color="cyan" wrap="truncate">
        {truncate(rb.title, inner)}
      </Text>
      {rb.steps.map((s, i) => (
        <Text key={s.id} wrap="truncate" color={MARK_COLOR[p.status[i]!]} bold={p.status[i] === 'next'}>
          {truncate(`${MARK[p.status[i]!]} ${i + 1}. ${s.title}`, inner)}
        </Text>
      ))}
      <Text> </Text>
      {!step ? (
        <>
          <Text bold color="green">
            ✓ runbook complete
          </Text>
          <Text dimColor>⏎/Esc close</Text>
        </>
      ) : (
        <>
          <Text wrap="truncate">
            {truncate(
              g
                ? `runs on ${g.hostName}: ${g.command}`
                : step.kind === 'wait'
                  ? `waiting for ${step.doneText} on ${model.hosts[step.host].name}`
                  : `on ${model.hosts[step.host].name}: no command; ${step.typeToConfirm !== undefined ? `typing ${step.typeToConfirm} confirms` : '⏎ confirms'}`,
              inner,
            )}
          </Text>
          {checks.map((c, i) => (
            <Text key={i} wrap="truncate" color={c.ok ? 'green' : 'red'}>
              {truncate(`${c.ok ? '✓' : '✗'} ${c.text}${c.reason ? ` — ${c.reason}` : ''}`, inner)}
            </Text>
          ))}
          <ForecastLines guard={g} inner={inner} />
          {consequence ? (
            <Text bold color="yellow" wrap="truncate">
              {truncate(`⚠ ${consequence}`, inner)}
            </Text>
          ) : null}
          {step.kind === 'wait' ? (
            <Text dimColor wrap="truncate">
              {truncate('the next step appears when the live state gets there · Esc close', inner)}
            </Text>
          ) : !p.ready ? (
            <>
              <Text bold color="red" wrap="truncate">
                {truncate(`refused: ${refusedReason ?? 'precondition failed'}`, inner)}
              </Text>
              <Text dimColor wrap="truncate">
                {truncate(`${variantHint(step, overlay.force)}Esc close`, inner)}
              </Text>
            </>
          ) : expected !== undefined ? (
            <EntryPrompt
              label={`${g?.destructive ? 'DESTRUCTIVE. ' : ''}Type ${expected} and press Enter:`}
              expected={expected}
              typed={overlay.typed}
              rejected={overlay.rejected}
              keys={`${variantHint(step, overlay.force)}Esc close`}
              width={inner}
              color={g?.destructive ? 'red' : 'yellow'}
            />
          ) : (
            <Text bold wrap="truncate">
              {truncate(`${overlay.busy ? 'running…' : '⏎ run this step'} · ${variantHint(step, overlay.force)}Esc close`, inner)}
            </Text>
          )}
        </>
      )}
    </Box>
  );
}
