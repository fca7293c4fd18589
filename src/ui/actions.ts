// What the UI asks of whoever runs it (the real controller over SSH, or the demo): the UI
// never talks to an agent itself.
import type { RunbookLogEntry, RunbookRecord } from '../../agent/protocol/messages.js';
import type { GuardResult } from '../cluster/guards.js';
import type { HostIndex } from '../cluster/model.js';

export interface ActionOutcome {
  ok: boolean;
  /** The agent's answer: its output on success, DRBD's refusal text on failure. */
  message: string;
  /** The agent refused it (DRBD's refusal, a read-only channel), as opposed to failing at it. */
  refused?: boolean;
}

export interface ConsoleActions {
  /** Runs a confirmed, guard-approved action on `guard.host`; resolves with the agent's answer. */
  run(guard: GuardResult): Promise<ActionOutcome>;
  quit(): void;
  /**
   * The C key: the resource file `host` has for `resource`, put on both hosts (diff shown and
   * confirmed by whoever runs it); absent where the console cannot (the demo).
   */
  copyConfig?(resource: string, host: HostIndex): Promise<ActionOutcome>;
  /**
   * A runbook run's progress and its audit entry, put on every reachable host's agent
   * (runbook-put); `by` and `user` are stamped with each host's login user there. Rejects when
   * no agent stored it.
   */
  recordRunbook?(record: RunbookRecord, entry?: RunbookLogEntry): Promise<void>;
  /** Both reachable agents' audit logs of `resource` (or all), merged, oldest first. */
  runbookLog?(resource?: string): Promise<RunbookLogEntry[]>;
}
