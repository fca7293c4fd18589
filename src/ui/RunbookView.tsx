import { Frame } from './Frame.js';
import { Text } from './Text.js';
import type { ClusterModel } from '../cluster/model.js';
import { refusal } from '../cluster/guards.js';
import { stepConsequence, variantHint, waitClock, type Runbook, type RunbookChoice, type RunbookProgress, type RunbookStep, type StepStatus } from '../runbooks/runbooks.js';
import { standing } from '../runbooks/wait-blocker.js';
import type { Overlay } from './state.js';
import { EntryPrompt } from './EntryPrompt.js';
import { ForecastLines, forecastHeight } from './ForecastLines.js';
import { fmtEta, truncate } from './format.js';
import { confirmationText } from './text-entry.js';

/** `r`: the runbooks that apply to the resource now; the model decides which. */
export function RunbookMenu({ resource, choices, cursor, width }: { resource: string; choices: RunbookChoice[]; cursor: number; width: number }) {
  const w = Math.min(width, 80);
  const inner = w - 4;
  return (
    <Frame flexDirection="column" borderStyle="round" borderColor="cyan" width={w} paddingX={1}>
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
    </Frame>
  );
}

const MARK: Record<StepStatus, string> = { done: '✓', next: '▶', pending: '·' };
const MARK_COLOR: Record<StepStatus, string | undefined> = { done: 'green', next: 'cyan', pending: undefined };

export interface RunbookViewProps {
  overlay: Extract<Overlay, { kind: 'runbook' }>;
  model: ClusterModel;
  runbook: Runbook;
  progress: RunbookProgress;
  /** The screen's time (epoch ms): what a wait's clock reads. */
  now: number;
  width: number;
  height: number;
}

/**
 * The step lines that fit in `room`: all of them when they fit, else the next step with as
 * many neighbours as fit, the steps cut off before and after summed up in one line each.
 */
export function stepLines(status: readonly StepStatus[], room: number): Array<{ step: number } | { summary: string }> {
  const all = status.map((_, i) => ({ step: i }));
  if (status.length <= room) return all;
  const next = Math.max(0, status.indexOf('next'));
  const keep = Math.max(1, room - 2);
  const from = Math.max(0, Math.min(next - 1, status.length - keep));
  const to = Math.min(status.length, from + keep);
  return [
    ...(from > 0 ? [{ summary: `✓ steps 1–${from} done` }] : []),
    ...all.slice(from, to),
    ...(to < status.length ? [{ summary: `· ${status.length - to} more step${status.length - to === 1 ? '' : 's'}` }] : []),
  ];
}

/** Lines the view takes besides its checks: border, title, steps, blank, why, command, blocker or timeout (2), consequence, prompt (2). */
export function runbookViewHeight(rb: Runbook, p: RunbookProgress, inner: number): number {
  const step = p.next === undefined ? undefined : rb.steps[p.next];
  if (!step) return 2 + 1 + rb.steps.length + 1 + 2;
  return 2 + 1 + rb.steps.length + 1 + 2 + p.checks.length + forecastHeight(p.guard, inner) + 1 + 2 + 2;
}

/** The chosen runbook: every step's status, then the next step: why it exists, its exact command or what it waits for, its checks. */
export function RunbookView({ overlay, model, runbook: rb, progress: p, now, width, height }: RunbookViewProps) {
  const w = Math.min(width, 80);
  const inner = w - 4;
  const step = p.next === undefined ? undefined : rb.steps[p.next];
  const g = p.guard;
  const expected = step && p.ready && !overlay.busy ? confirmationText(g ?? step) : undefined;
  const consequence = step ? stepConsequence(step, overlay.force) : undefined;
  const clock = step ? waitClock(step, overlay.since?.step === step.id ? overlay.since.at : undefined, now) : undefined;
  const blocked = step?.kind === 'wait' && (p.blocker !== undefined || clock?.timedOut === true);
  // Border (2), title, blank, why, command, consequence, blocker (2), refusal/prompt (2); the steps and checks share the rest.
  const fixed = 2 + 1 + 1 + 2 + (consequence ? 1 : 0) + forecastHeight(g, inner) + (blocked ? 2 : 0) + 2;
  const shown = stepLines(p.status, Math.max(3, height - fixed - Math.min(p.checks.length, 3)));
  const checkRoom = Math.max(1, height - fixed - shown.length);
  const checks = p.checks.length > checkRoom ? [...p.checks.filter((c) => !c.ok), ...p.checks.filter((c) => c.ok)].slice(0, checkRoom) : p.checks;
  const refusedReason = p.checks.find((c) => !c.ok)?.reason;
  const finish = p.finishable ? 'F finish here (the rest is optional) · ' : '';
  const host = step ? model.hosts[step.host].name : '';
  return (
    <Frame flexDirection="column" borderStyle={g?.destructive ? 'double' : 'round'} borderColor={g?.destructive ? 'red' : 'cyan'} width={w} paddingX={1}>
      <Text bold color="cyan" wrap="truncate">
        {truncate(rb.title, inner)}
      </Text>
      {shown.map((l) => {
        if ('summary' in l)
          return (
            <Text key={l.summary} dimColor wrap="truncate">
              {truncate(l.summary, inner)}
            </Text>
          );
        const s = rb.steps[l.step]!;
        const st = p.status[l.step]!;
        return (
          <Text key={s.id} wrap="truncate" color={MARK_COLOR[st]} bold={st === 'next'} dimColor={st === 'pending' && s.optional}>
            {truncate(`${MARK[st]} ${l.step + 1}. ${s.title}`, inner)}
          </Text>
        );
      })}
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
          <Text dimColor wrap="truncate">
            {truncate(`why: ${step.why}`, inner)}
          </Text>
          <Text wrap="truncate">
            {truncate(
              g
                ? `runs on ${g.hostName}: ${g.command}`
                : step.kind === 'wait'
                  ? `waiting ${fmtEta(clock!.elapsedS) || '0s'} for ${step.doneText} on ${host}${step.timeoutMs !== undefined ? ` (gives up after ${fmtEta(step.timeoutMs / 1000)})` : ''}`
                  : `on ${host}: no command; ${step.typeToConfirm !== undefined ? `typing ${step.typeToConfirm} confirms` : '⏎ confirms'}`,
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
            <WaitFooter step={step} progress={p} timedOut={clock!.timedOut} model={model} resource={rb.resource} busy={overlay.busy} finish={finish} inner={inner} />
          ) : !p.ready ? (
            <>
              <Text bold color="red" wrap="truncate">
                {truncate(`refused: ${refusedReason ?? 'precondition failed'}`, inner)}
              </Text>
              <Text dimColor wrap="truncate">
                {truncate(`${variantHint(step, overlay.force)}${finish}Esc close`, inner)}
              </Text>
            </>
          ) : expected !== undefined ? (
            <EntryPrompt
              label={`${g?.destructive ? 'DESTRUCTIVE. ' : ''}Type ${expected} and press Enter:`}
              expected={expected}
              typed={overlay.typed}
              rejected={overlay.rejected}
              keys={`${variantHint(step, overlay.force)}${finish}Esc close`}
              width={inner}
              color={g?.destructive ? 'red' : 'yellow'}
            />
          ) : (
            <Text bold wrap="truncate">
              {truncate(`${overlay.busy ? 'running…' : '⏎ run this step'} · ${variantHint(step, overlay.force)}${finish}Esc close`, inner)}
            </Text>
          )}
        </>
      )}
    </Frame>
  );
}

/** A wait's last lines: what holds it up and the step that unblocks it, or that it ran out of time, or that the live state will finish it. */
function WaitFooter({ step, progress: p, timedOut, model, resource, busy, finish, inner }: { step: RunbookStep; progress: RunbookProgress; timedOut: boolean; model: ClusterModel; resource: string; busy: boolean; finish: string; inner: number }) {
  const u = p.unblock;
  const keys = `${finish}Esc close (the runbook stays open)`;
  if (p.blocker) {
    const action = u ? (u.allowed ? `${busy ? 'running…' : '⏎ run'} on ${u.hostName}: ${u.command} · ` : `${u.command} on ${u.hostName} refused: ${refusal(u) ?? ''} · `) : '';
    return (
      <>
        <Text bold color="red" wrap="truncate">
          {truncate(`✗ cannot finish: ${p.blocker.reason}`, inner)}
        </Text>
        <Text bold={u?.allowed} dimColor={!u?.allowed} wrap="truncate">
          {truncate(`${action}${keys}`, inner)}
        </Text>
      </>
    );
  }
  if (timedOut) {
    return (
      <>
        <Text bold color="red" wrap="truncate">
          {truncate(`✗ gave up after ${fmtEta((step.timeoutMs ?? 0) / 1000)} waiting for ${step.doneText}: ${standing(model, resource)}`, inner)}
        </Text>
        <Text dimColor wrap="truncate">
          {truncate(`w keep waiting · ${keys}`, inner)}
        </Text>
      </>
    );
  }
  return (
    <Text dimColor wrap="truncate">
      {truncate(`${keys} · the next step appears when the live state gets there`, inner)}
    </Text>
  );
}
