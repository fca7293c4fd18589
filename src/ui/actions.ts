// What the UI asks of whoever runs it (the real controller over SSH, or the demo): the UI
// never talks to an agent itself.
import type { RunbookLogEntry, RunbookRecord } from '../../agent/protocol.js';
import type { ActionKind, GuardResult } from '../cluster/guards.js';
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

export const ACTION_TITLES: Record<ActionKind, string> = {
  promote: 'Promote',
  demote: 'Demote',
  connect: 'Connect',
  disconnect: 'Disconnect',
  'target-start': 'Start iSCSI target',
  'target-stop': 'Stop iSCSI target',
  'force-primary': 'FORCE promote',
  'force-primary-forget-peer': 'FORCE promote, FORGETTING the peer',
  'discard-my-data': 'Connect, DISCARDING this node\'s data',
  'create-md-force': 'Re-create metadata (WIPES the replication state)',
  'create-md-force-forget-peer': 'Re-create metadata, FORGETTING the peer (WIPES this node\'s data)',
  'create-md': 'Create metadata',
  down: 'Take down',
  up: 'Bring up',
  'skip-initial-sync': 'Skip the initial sync (declares both disks UpToDate unread)',
  attach: 'Attach the disk (up, not connecting)',
  detach: 'Detach the disk',
  verify: 'Online verify',
  invalidate: 'Invalidate this node\'s data (full resync from the peer)',
  'pause-sync': 'Pause the resync',
  'resume-sync': 'Resume the resync',
  adjust: 'Adjust (re-read the resource file)',
  resize: 'Grow to the backing disks\' size',
};
