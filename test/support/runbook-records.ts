// Runbook runs as the agents keep them, for tests of the store, the journal and the keys.
import type { RunbookLogEntry, RunbookRecord } from '../../agent/protocol/messages.js';

export const RUN_STARTED = '2026-12-07T12:40:00.000Z';

/** An active switchover of r0 about ha-a (5 steps), nothing done yet, put once by root@laptop. */
export function runbookRecord(over: Partial<RunbookRecord> = {}): RunbookRecord {
  return { resource: 'r0', runbook: 'switchover', subject: 'ha-a', state: 'active', completed: [], steps: 5, started: RUN_STARTED, updated: RUN_STARTED, seq: 1, by: 'root@laptop', ...over };
}

/** A step that ran: ha-a demoted. */
export function runbookEntry(over: Partial<RunbookLogEntry> = {}): RunbookLogEntry {
  return { time: '2026-12-07T12:41:00.000Z', resource: 'r0', runbook: 'switchover', subject: 'ha-a', step: 'demote', title: 'demote ha-a to Secondary', host: 'ha-a', command: 'drbd-agent secondary r0', result: 'ran', user: 'root@laptop', ...over };
}
