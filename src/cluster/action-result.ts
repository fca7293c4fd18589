// What an agent's answer to a console action says, in one line for the outcome toast: most
// verbs answer only ok; adjust says what became of the resource, resize the sizes,
// discard-my-data where the victim's diverging blocks were kept.
import type { AdjustResult, ConnectResult, ResizeResult } from '../../agent/protocol/messages.js';
import { fmtKiB } from '../ui/format.js';
import type { ActionKind } from './actions.js';

export function resultText(action: ActionKind, resource: string, result: unknown): string {
  if (action === 'adjust') {
    const r = result as Partial<AdjustResult> | undefined;
    if (r?.state === 'down') return `${resource} stays down: ${r.reason ?? 'unknown reason'}`;
    if (r?.pending) return `${resource} is up with its old settings: the changed file takes effect at the next down/up`;
    return r?.broughtUp ? `${resource} brought up` : 'done';
  }
  if (action === 'resize') {
    const r = result as Partial<ResizeResult> | undefined;
    return (r?.volumes ?? []).map((v) => `${resource}/${v.volume} ${fmtKiB(v.fromKiB)} → ${fmtKiB(v.toKiB)}`).join(', ') || 'done';
  }
  if (action === 'discard-my-data') return (result as Partial<ConnectResult> | undefined)?.message ?? 'done';
  if (action === 'verify') return 'verify started: the KiB out of sync show under the resource when it ends';
  return 'done';
}
