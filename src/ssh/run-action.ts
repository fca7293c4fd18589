// A confirmed, guard-approved action sent to its host's agent over the cluster session: the
// one way the console and `drbd-tui runbook` run anything. A refusal comes back as DRBD's
// wording, unprefixed (the caller names host and command).
import { AgentError } from '../../agent/protocol/messages.js';
import { resultText } from '../cluster/action-result.js';
import type { GuardResult } from '../cluster/guards.js';
import { agentRequest } from '../cluster/actions.js';
import type { ActionOutcome } from '../ui/actions.js';
import type { ClusterSession } from './cluster-session.js';

export async function runGuarded(session: Pick<ClusterSession, 'request'>, guard: GuardResult): Promise<ActionOutcome> {
  const { method, params } = agentRequest(guard.action, guard.resource);
  try {
    const result = await session.request(guard.host, method, params);
    return { ok: true, message: resultText(guard.action, guard.resource, result) };
  } catch (e) {
    return e instanceof AgentError ? { ok: false, message: e.message, refused: e.code === 'refused' || e.code === 'read-only' } : { ok: false, message: (e as Error).message };
  }
}
